/** Linear algebra. */
import { context, emit, shapeError, tensorArg } from './core.js';
import { broadcastTo, reshape } from './shape.js';
import { broadcastShapes, fmt } from '../shape.js';
import type { Tensor } from '../tensor.js';

/** @internal The IR matmul: `[...B, m, k] × [...B, k, n]`, operands optionally read transposed. */
export function matmulIR(a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean): Tensor {
  const ra = a.rank;
  const rb = b.rank;
  const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  return emit(a.graph, 'matmul', [a, b], [...a.shape.slice(0, ra - 2), m, n], a.dtype, [transposeA ? 1 : 0, transposeB ? 1 : 0]);
}

/**
 * Matrix product. `[m,k] × [k,n] → [m,n]`; a vector operand is a row (`[k] × [k,n] → [n]`) or a
 * column (`[m,k] × [k] → [m]`), and two vectors give their dot product. Operands of rank > 2 are
 * stacks of matrices whose leading (batch) axes broadcast. Derivatives: `g·bᵀ` and `aᵀ·g`.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  context('matmul', [a, b]);
  const ta = tensorArg('matmul', a, 'a');
  const tb = tensorArg('matmul', b, 'b');
  if (ta.rank === 0 || tb.rank === 0) {
    throw shapeError('matmul', `operands must have rank >= 1, got shapes ${fmt(ta.shape)} and ${fmt(tb.shape)}`);
  }
  const am = ta.rank === 1 ? reshape(ta, [1, ta.shape[0]!]) : ta;
  const bm = tb.rank === 1 ? reshape(tb, [tb.shape[0]!, 1]) : tb;
  const k1 = am.shape[am.rank - 1]!;
  const k2 = bm.shape[bm.rank - 2]!;
  if (k1 !== k2) {
    throw shapeError('matmul', `inner dimensions differ: shapes ${fmt(ta.shape)} and ${fmt(tb.shape)} (${k1} vs ${k2})`);
  }
  const batchA = am.shape.slice(0, -2);
  const batchB = bm.shape.slice(0, -2);
  const batch = broadcastShapes(batchA, batchB);
  if (batch === undefined) {
    throw shapeError('matmul', `batch dimensions of shapes ${fmt(ta.shape)} and ${fmt(tb.shape)} do not broadcast`);
  }
  const a2 = broadcastTo(am, [...batch, ...am.shape.slice(-2)]);
  const b2 = broadcastTo(bm, [...batch, ...bm.shape.slice(-2)]);
  let out = matmulIR(a2, b2, false, false);
  if (ta.rank === 1 || tb.rank === 1) {
    const shape = [...batch];
    if (ta.rank !== 1) shape.push(am.shape[am.rank - 2]!);
    if (tb.rank !== 1) shape.push(bm.shape[bm.rank - 1]!);
    out = reshape(out, shape);
  }
  return out;
}
