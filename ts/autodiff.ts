/**
 * Reverse mode as a program transformation: the gradient of a traced scalar is appended to the same
 * Wengert list as ordinary IR ops, so the engine only ever runs programs, and a gradient program
 * can itself be transformed again (forward-over-reverse, gradient of a gradient).
 *
 * The sweep visits nodes once, in reverse order, and only those that both depend on a `wrt` input
 * and reach the output; every other cotangent is a symbolic zero and costs nothing. Contributions
 * to a node's cotangent are added in a fixed order (reverse node order, then operand order), so
 * the result is deterministic. Cotangents of broadcast operands are summed back to their shape here,
 * once, not in each rule. Elementwise ops declare only their partial derivatives (ops.json `d`);
 * the same partials will give their forward-mode rule.
 */
import { WengertError } from './errors.js';
import { arity, customVjpRule, inputOf, inputsOf, type Graph, type Node } from './graph.js';
import { OPS, type OpName } from './generated/ops.js';
import { compileRule } from './expr.js';
import * as ops from './ops/index.js';
// The sweep's hot calls import from the defining modules: a call through the ops/index.js
// re-export is a property getter each time.
import { binary } from './ops/core.js';
import { add, mul, neg } from './ops/elementwise.js';
import { slicesVjp, sumToShape } from './ops/shape.js';
import { sameShape, fmt } from './shape.js';
import { Tensor, type TensorLike } from './tensor.js';

/** The cotangents of a node's operands (undefined: no contribution), given its output cotangent `g`. */
type VjpRule = (g: Tensor, node: Node, inputs: readonly Tensor[], out: Tensor) => (Tensor | undefined)[];

function inversePerm(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

/** Rules of the ops that are not elementwise (those are compiled from ops.json's `vjp`). */
const STRUCTURAL_RULES: Partial<Record<OpName, VjpRule>> = {
  reduce_sum: (g, node, [x]) => {
    const keepDims = node.iattrs[0] === 1;
    const axes = node.iattrs.slice(1);
    const kept = keepDims ? g : ops.reshape(g, x!.shape.map((d, i) => (axes.includes(i) ? 1 : d)));
    return [ops.broadcastTo(kept, x!.shape)];
  },
  reduce_max: (g, node, [x], out) => [ops.extremumVjp(g, node.iattrs, x!, out, true)],
  reduce_min: (g, node, [x], out) => [ops.extremumVjp(g, node.iattrs, x!, out, false)],
  reduce_prod: (g, node, [x]) => [ops.prodVjp(g, node.iattrs, x!)],
  // The cotangent goes to the selected operand; `where` itself masks it, so an inf or NaN
  // cotangent in the other branch's positions never reaches it (as g·mask would make NaN).
  where: (g, _node, [cond]) => [undefined, ops.where(cond!, g, 0), ops.where(cond!, 0, g)],
  reshape: (g, _node, [x]) => [ops.reshape(g, x!.shape)],
  broadcast_to: (g, _node, [x]) => [ops.sumToShape(g, x!.shape)],
  transpose: (g, node) => [ops.transpose(g, inversePerm(node.iattrs))],
  slice: (g, node, [x]) => [ops.sliceVjp(g, node.iattrs, x!)],
  concat: (g, node, [a]) => ops.concatVjp(g, node.iattrs[0]!, a!),
  pad: (g, node, [x]) => ops.padVjp(g, node.iattrs, x!),
  gather: (g, node, [x, indices]) => [ops.gatherVjp(g, node.iattrs[0]!, x!, indices!), undefined],
  scatter_add: (g, node, [, indices, updates]) => [g, undefined, ops.scatterAddVjp(g, node.iattrs[0]!, indices!, updates!)],
  cast: (g, _node, [x], out) => [ops.castVjp(g, x!, out)],
  matmul: (g, node, [a, b]) => {
    // out = op(a)·op(b) with op = identity or transpose of the last two axes.
    const ta = node.iattrs[0] === 1;
    const tb = node.iattrs[1] === 1;
    const ga = ta ? ops.matmulIR(b!, g, tb, true) : ops.matmulIR(g, b!, false, !tb);
    const gb = tb ? ops.matmulIR(g, a!, true, ta) : ops.matmulIR(a!, g, !ta, false);
    return [ga, gb];
  },
  cholesky: (g, _node, _inputs, l) => {
    // A = L·Lᵀ read from A's lower triangle. With Φ(X) = the lower triangle of X, diagonal halved,
    // and S = L⁻ᵀ·Φ(Lᵀ·L̄)·L⁻¹ (two triangular solves): Ā = Φ(S + Sᵀ), since a lower entry A_ij
    // (i > j) stands for both A_ij and A_ji of the symmetric matrix.
    const n = l.shape[l.rank - 1]!;
    const phi = ops.matrixConstant(l.graph, l.dtype, n, n, (i, j) => (i > j ? 1 : i === j ? 0.5 : 0));
    const p = ops.mul(ops.matmulIR(l, g, true, false), phi);
    const y = ops.triangularSolveIR(l, p, true, true); // L⁻ᵀ·P
    const st = ops.triangularSolveIR(l, ops.transposeLast(y), true, true); // L⁻ᵀ·Yᵀ = (Y·L⁻¹)ᵀ = Sᵀ
    return [ops.mul(ops.add(st, ops.transposeLast(st)), phi)];
  },
  triangular_solve: (g, node, [a], x) => {
    // X = op(A)⁻¹·B: B̄ = op(A)⁻ᵀ·X̄; op(A)‾ = −B̄·Xᵀ, so Ā = −B̄·Xᵀ (−X·B̄ᵀ when transposed),
    // kept on the triangle the op reads.
    const lower = node.iattrs[0] === 1;
    const trans = node.iattrs[1] === 1;
    const gb = ops.triangularSolveIR(a!, g, lower, !trans);
    const n = a!.shape[a!.rank - 1]!;
    const mask = ops.matrixConstant(a!.graph, a!.dtype, n, n, (i, j) => ((lower ? i >= j : i <= j) ? -1 : 0));
    const ga = trans ? ops.matmulIR(x, gb, false, true) : ops.matmulIR(gb, x, false, true);
    return [ops.mul(ga, mask), gb];
  },
  lu_solve: (g, node, [a, factor], x) => {
    // X = op(A)⁻¹·B with factor = lu(A): B̄ = op(A)⁻ᵀ·X̄ from the same factor, Ā = −B̄·Xᵀ
    // (−X·B̄ᵀ when transposed). The factor gets no cotangent: lu has no rule of its own.
    const trans = node.iattrs[0] === 1;
    const gb = ops.luSolveIR(a!, factor!, g, !trans);
    const ga = trans ? ops.matmulIR(x, gb, false, true) : ops.matmulIR(gb, x, false, true);
    return [ops.neg(ga), undefined, gb];
  },
};

const elementwiseRules = new Map<OpName, VjpRule>();

/**
 * `g · ∂`, the contribution of a cotangent (or, in forward mode, a tangent) through one partial derivative. A numeric partial
 * needs no multiply (±1) or no contribution (0); a tensor partial is applied with safe_mul, which
 * keeps a zero cotangent zero even where the partial is infinite (sqrt at 0, log at 0).
 */
export function applyPartial(g: Tensor, partial: TensorLike): Tensor | undefined {
  if (typeof partial === 'number') {
    if (partial === 0) return undefined;
    if (partial === 1) return g;
    if (partial === -1) return neg(g);
    return mul(g, partial);
  }
  return binary('safe_mul', g, partial);
}

/** A partial derivative of an elementwise op, recorded from the op's inputs and output. */
export type PartialFn = (inputs: readonly Tensor[], out: Tensor) => TensorLike;

const partialsCache = new Map<OpName, readonly PartialFn[]>();

/**
 * The partial derivatives of an elementwise op (ops.json `d`, compiled once), one per operand, or
 * undefined for an op without them. Reverse mode applies them to cotangents, forward mode
 * (ts/forward.ts) to tangents, both with {@link applyPartial}.
 */
export function elementwisePartials(op: OpName): readonly PartialFn[] | undefined {
  const cached = partialsCache.get(op);
  if (cached !== undefined) return cached;
  const src = (OPS[op] as { d?: readonly string[] }).d;
  if (src === undefined) return undefined;
  const partials = src.map((text): PartialFn => {
    const d = compileRule(text);
    // One object shape for every call (y is undefined for a unary op: the rule then names no y).
    return (inputs, out) => d({ z: out, x: inputs[0]!, y: inputs[1] } as Record<string, Tensor>);
  });
  partialsCache.set(op, partials);
  return partials;
}

function elementwiseRule(op: OpName): VjpRule | undefined {
  const cached = elementwiseRules.get(op);
  if (cached !== undefined) return cached;
  const src = (OPS[op] as { d?: readonly string[] }).d;
  if (src === undefined) return undefined;
  // The rules read one environment per node (what elementwisePartials' functions build per partial).
  const partials = src.map(compileRule);
  const rule: VjpRule = (g, _node, inputs, out) => {
    const env = { z: out, x: inputs[0]!, y: inputs[1] } as Record<string, Tensor>;
    const contributions = new Array<Tensor | undefined>(partials.length);
    for (let k = 0; k < partials.length; k++) contributions[k] = applyPartial(g, partials[k]!(env));
    return contributions;
  };
  elementwiseRules.set(op, rule);
  return rule;
}

/** The reverse-mode rule of an op, or undefined if it has no derivative. */
export function vjpRule(op: OpName): VjpRule | undefined {
  let rule = vjpRules.get(op);
  if (rule === undefined) vjpRules.set(op, (rule = (OPS[op].grad === 'none' ? undefined : (STRUCTURAL_RULES[op] ?? elementwiseRule(op))) ?? null));
  return rule ?? undefined;
}

/** {@link vjpRule} by op (null: none): the sweep looks one up per node, and a Map lookup is cheaper than OPS's keyed loads. */
const vjpRules = new Map<OpName, VjpRule | null>();

/** Whether each op has a derivative rule (ops.json `grad` is "rule"). */
const HAS_RULE = new Map<string, boolean>(Object.entries(OPS).map(([name, info]) => [name, info.grad === 'rule']));

/** The ops that have a derivative but no rule (must be empty; a test asserts it). */
export function opsMissingRules(): OpName[] {
  return (Object.keys(OPS) as OpName[]).filter((op) => OPS[op].grad === 'rule' && op !== 'input' && vjpRule(op) === undefined);
}

/**
 * Spans [start, end) of node ids the reverse sweep appended for one traced node, in increasing id
 * order, as three parallel lists (one entry per differentiated node: no object each).
 */
interface OriginSpans {
  readonly starts: number[];
  readonly ends: number[];
  readonly nodes: Node[];
}
const origins = new WeakMap<Graph, OriginSpans>();

function originSpans(graph: Graph): OriginSpans {
  let spans = origins.get(graph);
  if (spans === undefined) origins.set(graph, (spans = { starts: [], ends: [], nodes: [] }));
  return spans;
}

/**
 * The node whose reverse-mode rule appended node `id` to `graph` (for error messages: "in the
 * gradient of log"), or undefined if the reverse sweep did not make it.
 */
export function gradientOrigin(graph: Graph, id: number): Node | undefined {
  const spans = origins.get(graph);
  if (spans === undefined) return undefined;
  const { starts, ends, nodes } = spans;
  let lo = 0;
  let hi = ends.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ends[mid]! <= id) lo = mid + 1;
    else hi = mid;
  }
  // Spans end in increasing order; a nested sweep's spans lie inside the span that made them.
  for (let k = lo; k < ends.length; k++) {
    if (starts[k]! <= id) return nodes[k]!;
  }
  return undefined;
}

/**
 * Append the gradient of the scalar `output` with respect to each of `wrt` to `graph`, and return
 * the gradient nodes in order. An input the output does not depend on gets a zero gradient.
 *
 * With `seed`, a cotangent node of `output`'s shape and dtype, `output` may have any shape and the
 * result is the vector-Jacobian product seedᵀ·J (the gradient of Σ seed ⊙ output).
 */
export function gradient(graph: Graph, output: Node, wrt: readonly Node[], seed?: Node): Node[] {
  if (seed !== undefined && (!sameShape(seed.shape, output.shape) || seed.dtype !== output.dtype)) {
    throw new WengertError(
      'WENGERT_SHAPE_MISMATCH',
      `the cotangent seed is ${seed.dtype} ${fmt(seed.shape)}, but the output is ${output.dtype} ${fmt(output.shape)}`,
    );
  }
  if (seed === undefined && output.shape.length !== 0) {
    throw new WengertError(
      'WENGERT_NOT_SCALAR',
      `the gradient needs a scalar output, but the traced function returned shape ${fmt(output.shape)}; reduce it (wg.sum, wg.mean) or use run()`,
    );
  }
  if (output.dtype === 'int32') {
    throw new WengertError(
      'WENGERT_DTYPE_MISMATCH',
      'the gradient needs a float output, but the traced function returned int32 (indices have no derivative); use run(), or cast to a float dtype',
    );
  }
  const n = output.id + 1;
  const needs = new Uint8Array(n);
  for (const w of wrt) needs[w.id] = 1;
  // The wrt nodes' cotangents are the result: kept when the sweep passes them (wg.grad's are identities).
  const kept = new Uint8Array(n);
  for (const w of wrt) kept[w.id] = 1;
  const anyCustom = graph.customRules.size > 0;
  for (let i = 0; i < n; i++) {
    if (needs[i] === 1) continue;
    const node = graph.nodes[i]!;
    const count = arity(node);
    let reached = false;
    for (let k = 0; k < count && !reached; k++) reached = needs[inputOf(node, k).id] === 1;
    if (reached && HAS_RULE.get(node.op) === true) needs[i] = 1;
    else if (anyCustom && customVjpRule(graph, node)?.inputs.some((x) => needs[x.id] === 1)) needs[i] = 1;
  }

  const spans = originSpans(graph);
  // Cotangents as nodes, each read once (when the sweep reaches its node) and dropped then: the
  // Tensors that ops return die young instead of living through the sweep.
  const ct: (Node | undefined)[] = new Array<Node | undefined>(n);
  const tensor = (node: Node): Tensor => new Tensor(node, graph);
  ct[output.id] = seed ?? graph.scalar(1, output.dtype);

  // Cotangents of slices, kept per sliced node and summed in one step when the sweep reaches it
  // (ops.slicesVjp): a pad per slice would make n slices of one vector cost n².
  const sliced: (ops.SliceCotangent[] | undefined)[] = new Array<ops.SliceCotangent[] | undefined>(n);

  for (let i = output.id; i >= 0; i--) {
    const node = graph.nodes[i]!;
    const pieces = sliced[i];
    if (pieces !== undefined) {
      const s = slicesVjp(tensor(node), pieces);
      const prev = ct[i];
      ct[i] = prev === undefined ? s.node : add(tensor(prev), s).node;
      sliced[i] = undefined;
    }
    const gNode = ct[i];
    if (gNode === undefined || needs[i] === 0 || node.op === 'input') continue;
    if (kept[i] === 0) ct[i] = undefined; // contributions go to earlier nodes only
    const g = tensor(gNode);
    const first = graph.nodes.length;
    // At a wg.customVjp marker the cotangent goes to the custom function's inputs through the
    // user's traced rule, not through the function's own nodes (they get no cotangent from here).
    const custom = anyCustom ? customVjpRule(graph, node) : undefined;
    if (custom === undefined && node.op === 'slice') {
      const x = node.in0!;
      if (needs[x.id] === 1) (sliced[x.id] ??= []).push({ g, iattrs: node.iattrs });
      continue;
    }
    const rule = custom === undefined ? vjpRule(node.op) : undefined;
    const inputs = inputsOf(node);
    let contributions: (Tensor | undefined)[];
    if (custom !== undefined) contributions = custom.vjp(gNode).map((c) => (c === undefined ? undefined : tensor(c)));
    else if (rule !== undefined) contributions = rule(g, node, inputs.map(tensor), tensor(node));
    else continue;
    const targets = custom?.inputs ?? inputs;
    for (let k = 0; k < targets.length; k++) {
      const x = targets[k]!;
      let c = contributions[k];
      if (c === undefined || needs[x.id] === 0) continue;
      if (!sameShape(c.shape, x.shape)) c = sumToShape(c, x.shape);
      const prev = ct[x.id];
      ct[x.id] = prev === undefined ? c.node : add(tensor(prev), c).node;
    }
    if (graph.nodes.length > first) {
      spans.starts.push(first);
      spans.ends.push(graph.nodes.length);
      spans.nodes.push(node);
    }
  }

  return wrt.map((w) => {
    const g = ct[w.id];
    if (g !== undefined) return g;
    return ops.broadcastTo(tensor(graph.scalar(0, w.dtype)), w.shape).node;
  });
}
