/**
 * Losses, written from primitives in their numerically stable forms. They need no derivative
 * rules of their own: reverse mode differentiates the primitives.
 */
import { argError, context, shapeError, tensorArg, tensors } from './core.js';
import { abs, div, log, minimum, mul, softplus, square, sub } from './elementwise.js';
import { logSoftmax, mean, sum } from './reduce.js';
import { oneHot, transpose } from './shape.js';
import { broadcastShapes, fmt } from '../shape.js';
import type { Tensor, TensorLike } from '../tensor.js';

function sameShapes(op: string, a: Tensor, b: Tensor): void {
  if (broadcastShapes(a.shape, b.shape) === undefined) {
    throw shapeError(op, `prediction shape ${fmt(a.shape)} and target shape ${fmt(b.shape)} do not broadcast`);
  }
}

/**
 * Mean squared error: mean((prediction − target)²) over all elements (a scalar). Shapes broadcast.
 * Derivative 2(prediction − target)/n.
 */
export function mse(prediction: TensorLike, target: TensorLike): Tensor {
  const [p, t] = tensors('mse', [prediction, target]) as [Tensor, Tensor];
  sameShapes('mse', p, t);
  return mean(square(sub(p, t)));
}

/**
 * Huber loss, the mean over all elements of h(r), r = prediction − target:
 * h(r) = r²/2 for |r| ≤ δ and δ(|r| − δ/2) beyond, computed as a(|r| − a/2) with a = min(|r|, δ).
 * Continuously differentiable: h'(r) = r inside, δ·sign(r) outside, 0 at r = 0. `delta` > 0.
 */
export function huber(prediction: TensorLike, target: TensorLike, delta = 1): Tensor {
  if (!(typeof delta === 'number' && delta > 0 && Number.isFinite(delta))) {
    throw argError('huber', `delta must be a positive finite number, got ${String(delta)}`);
  }
  const [p, t] = tensors('huber', [prediction, target]) as [Tensor, Tensor];
  sameShapes('huber', p, t);
  const r = abs(sub(p, t));
  const a = minimum(r, delta);
  return mean(mul(a, sub(r, mul(a, 0.5))));
}

/**
 * Mean binary cross-entropy of labels y ∈ [0, 1] against logits z: mean(softplus(z) − y·z), the
 * stable form of −[y log σ(z) + (1 − y) log(1 − σ(z))]: finite for any z. Derivative σ(z) − y (/n).
 */
export function binaryCrossEntropyWithLogits(logits: TensorLike, labels: TensorLike): Tensor {
  const [z, y] = tensors('binaryCrossEntropyWithLogits', [logits, labels]) as [Tensor, Tensor];
  sameShapes('binaryCrossEntropyWithLogits', z, y);
  return mean(sub(softplus(z), mul(y, z)));
}

/**
 * Softmax cross-entropy along `axis` (default the last), averaged over the other axes:
 * mean(−Σ_axis labels · logSoftmax(logits)). `labels` are probabilities of the logits' shape
 * (one-hot or soft), or int32 class indices of the logits' shape without `axis`. Stable for any
 * logits. Derivative (softmax(logits) − labels)/n.
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor, axis = -1): Tensor {
  const z = tensorArg('softmaxCrossEntropy', logits, 'logits');
  const rank = z.rank;
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw shapeError('softmaxCrossEntropy', `axis ${String(axis)} is out of range for logits of shape ${fmt(z.shape)}`);
  }
  const ax = axis < 0 ? axis + rank : axis;
  let y = tensorArg('softmaxCrossEntropy', labels, 'labels');
  if (y.dtype === 'int32') {
    const want = z.shape.filter((_, i) => i !== ax);
    if (y.shape.length !== want.length || y.shape.some((d, i) => d !== want[i])) {
      throw shapeError('softmaxCrossEntropy', `class indices of shape ${fmt(y.shape)} do not fit logits of shape ${fmt(z.shape)} (expected ${fmt(want)})`);
    }
    // oneHot puts the classes last; move them to `axis`.
    y = oneHot(y, z.shape[ax]!, z.dtype);
    if (ax !== rank - 1) {
      const perm = Array.from({ length: rank }, (_, i) => (i < ax ? i : i === ax ? rank - 1 : i - 1));
      y = transpose(y, perm);
    }
  } else {
    context('softmaxCrossEntropy', [z, y]);
    if (y.shape.length !== z.shape.length || y.shape.some((d, i) => d !== z.shape[i])) {
      throw shapeError('softmaxCrossEntropy', `label shape ${fmt(y.shape)} differs from logit shape ${fmt(z.shape)}`);
    }
  }
  return mean(mul(sum(mul(y, logSoftmax(z, ax)), ax), -1));
}

/**
 * The Gaussian log density log N(x; μ, σ) = −((x − μ)/σ)²/2 − log σ − log(2π)/2, elementwise with
 * broadcasting (sum it for a log-likelihood). Domain σ > 0.
 */
export function logNormalPdf(x: TensorLike, mu: TensorLike, sigma: TensorLike): Tensor {
  context('logNormalPdf', [x, mu, sigma]);
  const zscore = div(sub(x, mu), sigma);
  return sub(sub(mul(square(zscore), -0.5), log(sigma)), 0.5 * Math.log(2 * Math.PI));
}
