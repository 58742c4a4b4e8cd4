/**
 * Vector mode as a program transformation: `batch` re-emits a computation with a leading batch axis
 * of size K on every node that depends on a batched node, so K independent evaluations (K tangent
 * or cotangent directions of a Jacobian, K rows of a Hessian) run as one program through the same
 * kernels. Nodes that do not depend on a batched node are shared, unbatched, by all K lanes.
 *
 * Each op has a batching rule (`BATCH_RULES`) written with ordinary IR ops: elementwise ops pad a
 * batched operand to `[K, 1.., ...shape]` and let broadcasting do the rest, reductions and axis
 * attributes shift by one, matmul and the linear-algebra ops use their own stack (batch) axes. An
 * op without a rule falls back to slicing each lane, applying the op and stacking the K results:
 * correct for every op, only slower, so no op is ever unsupported.
 */
import { gradient } from './autodiff.js';
import { arrayType, type DType, type FloatDType } from './dtype.js';
import { WengertError } from './errors.js';
import { jvp } from './forward.js';
import { inputsOf, withGraph, type Graph, type Node } from './graph.js';
import { OPS, type OpName } from './generated/ops.js';
import { emit } from './ops/core.js';
import * as ops from './ops/index.js';
import { fmt, sameShape } from './shape.js';
import { Tensor } from './tensor.js';

/**
 * A batching rule: given the node, its operands (each either its original unbatched tensor, or its
 * batched tensor with a leading axis of size `k`), which of them are batched, and `k`, return the
 * node's batched value, of shape `[k, ...node.shape]`; or undefined to use the generic fallback.
 */
export type BatchRule = (node: Node, inputs: readonly Tensor[], batched: readonly boolean[], k: number) => Tensor | undefined;

/** A batched operand `[K, ...s]` reshaped to `[K, 1.., ...s]` of rank `rank + 1` (unbatched: as is). */
function padBatched(t: Tensor, isBatched: boolean, rank: number): Tensor {
  if (!isBatched || t.rank === rank + 1) return t;
  return ops.reshape(t, [t.shape[0]!, ...new Array<number>(rank + 1 - t.rank).fill(1), ...t.shape.slice(1)]);
}

/** An unbatched operand repeated across the batch: `[K, ...shape]` (a broadcast, no copy in the IR). */
function broadcastBatch(t: Tensor, isBatched: boolean, k: number): Tensor {
  return isBatched ? t : ops.broadcastTo(t, [k, ...t.shape]);
}

/** Elementwise ops (unary, binary, ternary, cast): operands broadcast against the batch axis. */
const elementwise: BatchRule = (node, inputs, batched, k) =>
  emit(
    inputs[0]!.graph,
    node.op,
    inputs.map((t, i) => padBatched(t, batched[i]!, node.shape.length)),
    [k, ...node.shape],
    node.dtype,
    node.iattrs,
  );

/** Reductions: the reduced axes shift by one; the batch axis is kept. */
const reduce: BatchRule = (node, [x], _batched, k) => {
  const [keep, ...axes] = node.iattrs;
  return emit(x!.graph, node.op, [x!], [k, ...node.shape], node.dtype, [keep!, ...axes.map((a) => a + 1)]);
};

/** The ops whose batching rule is not the fallback, derived from the op list by kind. */
const BATCH_RULES: Partial<Record<OpName, BatchRule>> = {};

const KIND_RULES: Partial<Record<string, BatchRule>> = {
  unary: elementwise,
  binary: elementwise,
  ternary: elementwise,
  cast: elementwise,
  reduce,
  arg_reduce: (node, [x], _batched, k) => {
    const [from, keep, axis] = node.iattrs;
    return emit(x!.graph, node.op, [x!], [k, ...node.shape], node.dtype, [from!, keep!, axis! + 1]);
  },
  reshape: (node, [x], _batched, k) => ops.reshape(x!, [k, ...node.shape]),
  broadcast: (node, [x], batched, k) => ops.broadcastTo(padBatched(x!, batched[0]!, node.shape.length), [k, ...node.shape]),
  transpose: (node, [x], _batched, k) =>
    emit(x!.graph, 'transpose', [x!], [k, ...node.shape], node.dtype, [0, ...node.iattrs.map((a) => a + 1)]),
  slice: (node, [x], _batched, k) => {
    const r = node.shape.length;
    return emit(x!.graph, 'slice', [x!], [k, ...node.shape], node.dtype, [0, ...node.iattrs.slice(0, r), 1, ...node.iattrs.slice(r)]);
  },
  concat: (node, inputs, batched, k) =>
    emit(
      inputs[0]!.graph,
      'concat',
      inputs.map((t, i) => broadcastBatch(t, batched[i]!, k)),
      [k, ...node.shape],
      node.dtype,
      [node.iattrs[0]! + 1],
    ),
  pad: (node, [x, value], batched, k) => {
    // A batched pad value (one per lane) has no single-op form: use the fallback.
    if (batched[1]) return undefined;
    const r = node.shape.length;
    const [lo, hi, interior] = [0, 1, 2].map((p) => [0, ...node.iattrs.slice(p * r, (p + 1) * r)]);
    return emit(x!.graph, 'pad', [x!, value!], [k, ...node.shape], node.dtype, [...lo!, ...hi!, ...interior!]);
  },
  gather: (node, [x, idx], batched, k) => {
    if (batched[1]) return undefined; // per-lane indices: the fallback
    return emit(x!.graph, 'gather', [x!, idx!], [k, ...node.shape], node.dtype, [node.iattrs[0]! + 1]);
  },
  scatter: (node, [x, idx, updates], batched, k) => {
    if (batched[1]) return undefined;
    return emit(x!.graph, node.op, [broadcastBatch(x!, batched[0]!, k), idx!, broadcastBatch(updates!, batched[2]!, k)], [k, ...node.shape], node.dtype, [
      node.iattrs[0]! + 1,
    ]);
  },
  one_hot: (node, [x], _batched, k) => emit(x!.graph, node.op, [x!], [k, ...node.shape], node.dtype, node.iattrs),
  matmul: (node, [a, b], batched, k) => {
    const ta = node.iattrs[0];
    // A plain batched left matrix [K, m, k'] times an unbatched right one: fold K into the rows,
    // one matrix product of [K·m, k'] × [k', n] instead of K small ones.
    if (batched[0] && !batched[1] && a!.rank === 3 && ta === 0) {
      const [m, n] = [node.shape[0]!, node.shape[1]!];
      const rows = ops.reshape(a!, [k * m, a!.shape[2]!]);
      return ops.reshape(emit(a!.graph, 'matmul', [rows, b!], [k * m, n], node.dtype, node.iattrs), [k, m, n]);
    }
    return emit(a!.graph, 'matmul', [broadcastBatch(a!, batched[0]!, k), broadcastBatch(b!, batched[1]!, k)], [k, ...node.shape], node.dtype, node.iattrs);
  },
  // The linear-algebra ops act on stacks [...B, n, n] with identical batch axes: the lane axis is
  // one more stack axis, and unbatched operands are broadcast along it.
  linalg: (node, inputs, batched, k) =>
    emit(
      inputs[0]!.graph,
      node.op,
      inputs.map((t, i) => broadcastBatch(t, batched[i]!, k)),
      [k, ...node.shape],
      node.dtype,
      node.iattrs,
    ),
};

for (const op of Object.keys(OPS) as OpName[]) {
  const rule = KIND_RULES[OPS[op].kind];
  if (rule !== undefined) BATCH_RULES[op] = rule;
}

export { BATCH_RULES };

/** The generic rule: slice out each lane, apply the op to unbatched operands, stack the results. */
function fallback(node: Node, inputs: readonly Tensor[], batched: readonly boolean[], k: number): Tensor {
  const graph = inputs[0]!.graph;
  const lanes: Tensor[] = [];
  for (let lane = 0; lane < k; lane++) {
    const operands = inputs.map((t, i) => {
      if (!batched[i]) return t;
      const one = ops.slice(t, [lane, ...t.shape.slice(1).map(() => 0)], [1, ...t.shape.slice(1)]);
      return ops.reshape(one, t.shape.slice(1));
    });
    lanes.push(emit(graph, node.op, operands, node.shape, node.dtype, node.iattrs));
  }
  return ops.stack(lanes, 0);
}

/**
 * Re-emit the computation of `outputs` with each key of `batched` replaced by its value, a node of
 * the key's shape with an extra leading axis of size `size`. Returns, per output, its batched node
 * `[size, ...shape]` if it depends on a batched node, else the output itself (unbatched; the
 * caller broadcasts it if it needs the batch axis). `rules` replaces `BATCH_RULES` (tests use `{}`
 * to run every op through the fallback).
 */
export function batch(
  graph: Graph,
  outputs: readonly Node[],
  batched: ReadonlyMap<Node, Node>,
  size: number,
  rules: Partial<Record<OpName, BatchRule>> = BATCH_RULES,
): Node[] {
  if (!Number.isSafeInteger(size) || size < 1) {
    throw new WengertError('WENGERT_INVALID_ARGUMENT', `batch: size must be a positive integer, got ${String(size)}`);
  }
  for (const [from, to] of batched) {
    if (to.shape[0] !== size || !sameShape(to.shape.slice(1), from.shape) || to.dtype !== from.dtype) {
      throw new WengertError(
        'WENGERT_SHAPE_MISMATCH',
        `batch: node ${from.id} of shape ${fmt(from.shape)} (${from.dtype}) cannot be replaced by shape ${fmt(to.shape)} (${to.dtype}); expected [${size}, ...${fmt(from.shape)}]`,
      );
    }
  }
  const last = Math.max(-1, ...outputs.map((o) => o.id));
  // Only the nodes the outputs depend on are re-emitted.
  const needed = new Uint8Array(last + 1);
  for (const o of outputs) needed[o.id] = 1;
  for (let i = last; i >= 0; i--) {
    if (needed[i] === 1) for (const x of inputsOf(graph.nodes[i]!)) needed[x.id] = 1;
  }
  const out = new Map<number, Tensor>();
  for (const [from, to] of batched) out.set(from.id, new Tensor(to, graph));
  for (let i = 0; i <= last; i++) {
    const node = graph.nodes[i]!;
    const operands = inputsOf(node);
    if (needed[i] === 0 || out.has(i) || !operands.some((x) => out.has(x.id))) continue;
    const isBatched = operands.map((x) => out.has(x.id));
    const inputs = operands.map((x) => out.get(x.id) ?? new Tensor(x, graph));
    const result = rules[node.op]?.(node, inputs, isBatched, size) ?? fallback(node, inputs, isBatched, size);
    out.set(i, result);
  }
  return outputs.map((o) => out.get(o.id)?.node ?? o);
}

// ---------------------------------------------------------------------------------------------
// Jacobians and Hessians: one transform of the program (JVP, VJP or HVP) batched over identity
// seeds, so every direction is evaluated in one run.

/** How a Jacobian is computed: `forward` batches the JVP over n tangents, `reverse` the VJP over m cotangents. */
export type JacobianMode = 'forward' | 'reverse';

/** The mode that needs fewer directions: forward when the inputs are no more than the outputs. */
export function chooseJacobianMode(inputSize: number, outputSize: number): JacobianMode {
  return inputSize <= outputSize ? 'forward' : 'reverse';
}

/**
 * The rows `offset .. offset + size(shape)` of an `n × n` identity, as `[n, ...shape]`: the seed
 * directions of one argument when all arguments' elements are numbered consecutively. Built from
 * two small index constants and `equal`, so the program holds no n² constant.
 */
function identitySeed(graph: Graph, n: number, offset: number, shape: readonly number[], dtype: DType): Tensor {
  const cols = shape.reduce((a, b) => a * b, 1);
  const type = arrayType(dtype as FloatDType);
  const rows = new type(n);
  for (let i = 0; i < n; i++) rows[i] = i;
  const colsData = new type(cols);
  for (let j = 0; j < cols; j++) colsData[j] = offset + j;
  const rowIndex = new Tensor(graph.add('constant', [], [n, 1], dtype, [], rows), graph);
  const colIndex = new Tensor(graph.add('constant', [], [1, cols], dtype, [], colsData), graph);
  return ops.reshape(ops.equal(rowIndex, colIndex), [n, ...shape]);
}

/** `t`, batched (`[k, ...shape]`) or not (`shape`, broadcast across the lanes), as a `[k, size]` matrix of `dtype`. */
function lanes(t: Node, batchedNode: boolean, graph: Graph, k: number, dtype: DType): Tensor {
  let x = new Tensor(t, graph);
  if (!batchedNode) x = ops.broadcastTo(x, [k, ...x.shape]);
  x = ops.reshape(x, [k, x.shape.slice(1).reduce((a, b) => a * b, 1)]);
  return x.dtype === dtype ? x : ops.cast(x, dtype);
}

/**
 * The dense Jacobian of `output` with respect to `wrt` (elements numbered consecutively across the
 * arguments), as an `[m, n]` node of the output's dtype, m = size(output), n = Σ size(wrt).
 * Forward: the JVP batched over the n identity tangents gives [n, m], transposed. Reverse: the VJP
 * batched over the m identity cotangents gives one [m, size] block per argument, joined.
 */
export function jacobianNode(graph: Graph, output: Node, wrt: readonly Node[], mode: JacobianMode): Node {
  const m = output.shape.reduce((a, b) => a * b, 1);
  const sizes = wrt.map((w) => w.shape.reduce((a, b) => a * b, 1));
  const n = sizes.reduce((a, b) => a + b, 0);
  return withGraph(graph, () => {
    if (mode === 'forward') {
      const placeholders = wrt.map((w) => graph.add('input', [], w.shape, w.dtype, [-1]));
      const [tangent] = jvp(graph, [output], wrt, placeholders);
      let offset = 0;
      const seeds = new Map<Node, Node>();
      placeholders.forEach((p, i) => {
        seeds.set(p, identitySeed(graph, n, offset, p.shape, p.dtype).node);
        offset += sizes[i]!;
      });
      const [t] = batch(graph, [tangent!], seeds, n);
      return ops.transpose(lanes(t!, t !== tangent, graph, n, output.dtype), [1, 0]).node;
    }
    const placeholder = graph.add('input', [], output.shape, output.dtype, [-1]);
    const grads = gradient(graph, output, wrt, placeholder);
    const seed = identitySeed(graph, m, 0, output.shape, output.dtype).node;
    const batched = batch(graph, grads, new Map([[placeholder, seed]]), m);
    const blocks = batched.map((g, i) => lanes(g, g !== grads[i], graph, m, output.dtype));
    return (blocks.length === 1 ? blocks[0]! : ops.concat(blocks, 1)).node;
  });
}

/**
 * The gradient nodes (one per `wrt` argument) and the dense Hessian `[n, n]` (output dtype) of the
 * scalar `output`: the HVP (the JVP of the gradient, forward over reverse) batched over the n
 * identity directions; row d is H·e_d.
 */
export function hessianNodes(graph: Graph, output: Node, wrt: readonly Node[]): { grads: Node[]; hessian: Node } {
  const sizes = wrt.map((w) => w.shape.reduce((a, b) => a * b, 1));
  const n = sizes.reduce((a, b) => a + b, 0);
  return withGraph(graph, () => {
    const grads = gradient(graph, output, wrt);
    const placeholders = wrt.map((w) => graph.add('input', [], w.shape, w.dtype, [-1]));
    const hvps = jvp(graph, grads, wrt, placeholders);
    let offset = 0;
    const seeds = new Map<Node, Node>();
    placeholders.forEach((p, i) => {
      seeds.set(p, identitySeed(graph, n, offset, p.shape, p.dtype).node);
      offset += sizes[i]!;
    });
    const batched = batch(graph, hvps, seeds, n);
    const blocks = batched.map((h, i) => lanes(h, h !== hvps[i], graph, n, output.dtype));
    return { grads, hessian: (blocks.length === 1 ? blocks[0]! : ops.concat(blocks, 1)).node };
  });
}
