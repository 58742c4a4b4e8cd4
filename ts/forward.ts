/**
 * Forward mode as a program transformation: the directional derivative (tangent) of every node is
 * appended to the same Wengert list as ordinary IR ops, in one forward walk — no reverse sweep.
 *
 * Only nodes that depend on a `wrt` node get a tangent; every other tangent is a symbolic zero and
 * costs nothing. Elementwise ops take their rule from ops.json's partials `d` (the same ones reverse
 * mode applies): tangent = Σ_k safe_mul(t_k, ∂_k), a broadcast operand's tangent broadcasting with
 * it (never summed). Every other op has a rule in {@link JVP_RULES}, written with ops and linear in
 * the tangents. Ops with grad "none" give no tangent. Because tangents are ordinary ops, the JVP of
 * a gradient program is a Hessian-vector product (forward over reverse).
 */
import { WengertError } from './errors.js';
import { customJvpRule, inputsOf, type Graph, type Node } from './graph.js';
import { OPS, type OpName } from './generated/ops.js';
import { applyPartial, elementwisePartials } from './autodiff.js';
import * as ops from './ops/index.js';
import { emit } from './ops/core.js';
import { fmt, sameShape } from './shape.js';
import { Tensor } from './tensor.js';

/**
 * The tangent of a node's output given its operands' tangents (`undefined`: a symbolic zero; at
 * least one is defined), or undefined when it is zero. The result may have a shape that broadcasts
 * to the node's; the caller broadcasts it.
 */
export type JvpRule = (tangents: readonly (Tensor | undefined)[], node: Node, inputs: readonly Tensor[], out: Tensor) => Tensor | undefined;

const zeros = (like: Tensor): Tensor => ops.broadcastTo(new Tensor(like.graph.scalar(0, like.dtype), like.graph), like.shape);

/** The same op, with the same attributes and output shape and dtype, applied to other operands. */
const reapply = (node: Node, out: Tensor, inputs: readonly Tensor[]): Tensor => emit(out.graph, node.op, inputs, node.shape, node.dtype, node.iattrs);

/** A linear op with one differentiable operand (the first) applies itself to the tangent. */
const linearInFirst: JvpRule = ([t], node, inputs, out) => reapply(node, out, [t!, ...inputs.slice(1)]);

/** A linear op in all its operands: missing tangents become explicit zeros of the operand's shape. */
const linearInAll =
  (differentiable: readonly number[]): JvpRule =>
  (ts, node, inputs, out) =>
    reapply(
      node,
      out,
      inputs.map((x, k) => (differentiable.includes(k) ? (ts[k] ?? zeros(x)) : x)),
    );

/** Sum of defined terms, undefined if none. */
function sumOf(terms: readonly (Tensor | undefined)[]): Tensor | undefined {
  let acc: Tensor | undefined;
  for (const t of terms) if (t !== undefined) acc = acc === undefined ? t : ops.add(acc, t);
  return acc;
}

/** A [n, n] mask keeping the triangle triangular_solve reads (diagonal included). */
function triangleMask(a: Tensor, lower: boolean): Tensor {
  const n = a.shape[a.rank - 1]!;
  return ops.matrixConstant(a.graph, a.dtype, n, n, (i, j) => ((lower ? i >= j : i <= j) ? 1 : 0));
}

/** Rules of the ops that are not elementwise (those come from ops.json's partials `d`). */
export const JVP_RULES: Partial<Record<OpName, JvpRule>> = {
  reduce_sum: linearInFirst,
  reshape: linearInFirst,
  broadcast_to: linearInFirst,
  transpose: linearInFirst,
  slice: linearInFirst,
  // The indices are int32 and have no tangent.
  gather: linearInFirst,
  concat: linearInAll([0, 1]),
  pad: linearInAll([0, 1]),
  scatter_add: linearInAll([0, 2]),
  // Between float dtypes a cast is linear; to or from int32 it has no derivative.
  cast: ([t], node, [x], out) => (x!.dtype === 'int32' || out.dtype === 'int32' ? undefined : reapply(node, out, [t!])),
  // Each element follows the branch cond selects; cond itself has no derivative. `where` masks,
  // so an inf or NaN tangent of the unselected branch never leaks into the result.
  where: ([, ta, tb], _node, [cond]) => (ta === undefined && tb === undefined ? undefined : ops.where(cond!, ta ?? 0, tb ?? 0)),
  reduce_max: (ts, node, inputs, out) => extremumJvp(ts[0]!, node, inputs[0]!, out, true),
  reduce_min: (ts, node, inputs, out) => extremumJvp(ts[0]!, node, inputs[0]!, out, false),
  reduce_prod: ([t], node, [x], out) => {
    // Σ_i (∏_{j≠i} x_j)·t_i, with the products of the others from the reverse rule (finite at zeros).
    const others = ops.prodVjp(ops.broadcastTo(new Tensor(out.graph.scalar(1, out.dtype), out.graph), out.shape), node.iattrs, x!);
    return ops.reduceSum(ops.mul(others, t!), node.iattrs.slice(1), node.iattrs[0] === 1);
  },
  matmul: ([ta, tb], node, [a, b]) => {
    // Bilinear: d(op(a)·op(b)) = op(ta)·op(b) + op(a)·op(tb).
    const transA = node.iattrs[0] === 1;
    const transB = node.iattrs[1] === 1;
    return sumOf([ta && ops.matmulIR(ta, b!, transA, transB), tb && ops.matmulIR(a!, tb, transA, transB)]);
  },
  cholesky: ([t], _node, _inputs, l) => {
    // A = L·Lᵀ with A read from its lower triangle, so the perturbation is the symmetric matrix
    // that triangle stands for: tS = tril(tA) + tril(tA, -1)ᵀ. Then L⁻¹·tS·L⁻ᵀ = L⁻¹·tL + tLᵀ·L⁻ᵀ
    // with L⁻¹·tL lower triangular, so tL = L·Φ(L⁻¹·tS·L⁻ᵀ), Φ = lower triangle, diagonal halved.
    const n = l.shape[l.rank - 1]!;
    const lowerMask = ops.matrixConstant(l.graph, l.dtype, n, n, (i, j) => (i >= j ? 1 : 0));
    const strictMask = ops.matrixConstant(l.graph, l.dtype, n, n, (i, j) => (i > j ? 1 : 0));
    const phi = ops.matrixConstant(l.graph, l.dtype, n, n, (i, j) => (i > j ? 1 : i === j ? 0.5 : 0));
    const ts = ops.add(ops.mul(t!, lowerMask), ops.transposeLast(ops.mul(t!, strictMask)));
    const y = ops.triangularSolveIR(l, ts, true, false); // L⁻¹·tS
    const m = ops.triangularSolveIR(l, ops.transposeLast(y), true, false); // L⁻¹·(L⁻¹·tS)ᵀ = L⁻¹·tS·L⁻ᵀ (tS symmetric)
    return ops.matmulIR(l, ops.mul(m, phi), false, false);
  },
  triangular_solve: ([ta, tb], node, [a], x) => {
    // op(A)·X = B: op(A)·tX = tB − op(tA)·X, with tA restricted to the triangle the op reads.
    const lower = node.iattrs[0] === 1;
    const trans = node.iattrs[1] === 1;
    const rhs = rhsTangent(ta === undefined ? undefined : ops.mul(ta, triangleMask(a!, lower)), tb, x, trans);
    return ops.triangularSolveIR(a!, rhs, lower, trans);
  },
  lu_solve: ([ta, , tb], node, [a, factor], x) => {
    // op(A)·X = B: tX = op(A)⁻¹·(tB − op(tA)·X), solved with the same factor. The factor's own
    // tangent is never used: lu has no rule, A's tangent reaches X through operand 0.
    const trans = node.iattrs[0] === 1;
    if (ta === undefined && tb === undefined) return undefined;
    return ops.luSolveIR(a!, factor!, rhsTangent(ta, tb, x, trans), trans);
  },
};

/** tB − op(tA)·X, for the solves (at least one tangent defined). */
function rhsTangent(ta: Tensor | undefined, tb: Tensor | undefined, x: Tensor, trans: boolean): Tensor {
  const ax = ta === undefined ? undefined : ops.matmulIR(ta, x, trans, false);
  if (ax === undefined) return tb!;
  return tb === undefined ? ops.neg(ax) : ops.sub(tb, ax);
}

/**
 * Tangent of reduce_max / reduce_min, consistent with the reverse rule: the mean of the tangents of
 * the elements equal to the extremum (at ties the derivative is split evenly among them).
 */
function extremumJvp(t: Tensor, node: Node, x: Tensor, out: Tensor, isMax: boolean): Tensor {
  const axes = node.iattrs.slice(1);
  const keep = node.iattrs[0] === 1;
  const z = ops.keptCotangent(out, x, node.iattrs);
  const mask = ops.sub(1, isMax ? ops.greater(z, x) : ops.greater(x, z));
  return ops.div(ops.reduceSum(ops.mul(mask, t), axes, keep), ops.reduceSum(mask, axes, keep));
}

const elementwiseRules = new Map<OpName, JvpRule>();

function elementwiseRule(op: OpName): JvpRule | undefined {
  const cached = elementwiseRules.get(op);
  if (cached !== undefined) return cached;
  const partials = elementwisePartials(op);
  if (partials === undefined) return undefined;
  const rule: JvpRule = (ts, _node, inputs, out) => sumOf(partials.map((d, k) => (ts[k] === undefined ? undefined : applyPartial(ts[k]!, d(inputs, out)))));
  elementwiseRules.set(op, rule);
  return rule;
}

/** The forward-mode rule of an op, or undefined if it has no derivative. */
export function jvpRule(op: OpName): JvpRule | undefined {
  if (OPS[op].grad === 'none') return undefined;
  return JVP_RULES[op] ?? elementwiseRule(op);
}

/** The ops that have a derivative but no forward-mode rule (must be empty; a test asserts it). */
export function opsMissingJvpRules(): OpName[] {
  return (Object.keys(OPS) as OpName[]).filter((op) => OPS[op].grad === 'rule' && op !== 'input' && jvpRule(op) === undefined);
}

/**
 * Append the tangents of `outputs` to `graph`, given the tangent node of each of `wrt` (same shape
 * and dtype), and return one tangent node per output: the derivative of each output in the
 * direction `tangents`. An output that does not depend on `wrt` (or an int32 output) gets a zero
 * tangent.
 */
export function jvp(graph: Graph, outputs: readonly Node[], wrt: readonly Node[], tangents: readonly Node[]): Node[] {
  if (tangents.length !== wrt.length) {
    throw new WengertError('WENGERT_INVALID_ARGUMENT', `jvp: ${wrt.length} wrt nodes but ${tangents.length} tangents`);
  }
  const n = outputs.reduce((m, o) => Math.max(m, o.id + 1), 0);
  const tan: (Tensor | undefined)[] = new Array<Tensor | undefined>(n);
  const tensor = (node: Node): Tensor => new Tensor(node, graph);
  wrt.forEach((w, k) => {
    const t = tangents[k]!;
    if (!sameShape(t.shape, w.shape) || t.dtype !== w.dtype) {
      throw new WengertError('WENGERT_SHAPE_MISMATCH', `jvp: tangent ${k} is ${t.dtype} ${fmt(t.shape)}, but its wrt node is ${w.dtype} ${fmt(w.shape)}`);
    }
    if (w.id >= n || w.dtype === 'int32') return;
    const prev = tan[w.id];
    tan[w.id] = prev === undefined ? tensor(t) : ops.add(prev, tensor(t));
  });

  for (let i = 0; i < n; i++) {
    const node = graph.nodes[i]!;
    if (tan[i] !== undefined || node.op === 'input') continue;
    // At a wg.customJvp marker the tangent comes from the user's traced rule over the custom
    // function's inputs (ts/transforms.ts), not from the function's own nodes.
    const custom = customJvpRule(graph, node);
    if (custom !== undefined) {
      const cts = custom.inputs.map((x) => tan[x.id]?.node);
      if (cts.some((t) => t !== undefined)) tan[i] = tensor(custom.jvp(cts));
      continue;
    }
    const operands = inputsOf(node);
    const ts = operands.map((x) => tan[x.id]);
    if (ts.every((t) => t === undefined)) continue;
    const rule = jvpRule(node.op);
    if (rule === undefined) continue;
    let t = rule(ts, node, operands.map(tensor), tensor(node));
    if (t === undefined) continue;
    if (!sameShape(t.shape, node.shape)) t = ops.broadcastTo(t, node.shape);
    tan[i] = t;
  }

  return outputs.map((o) => tan[o.id]?.node ?? zeros(tensor(o)).node);
}
