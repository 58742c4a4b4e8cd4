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
import type { Graph, Node } from './graph.js';
import { OPS, type OpName } from './generated/ops.js';
import { compileRule } from './expr.js';
import * as ops from './ops/index.js';
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
  reshape: (g, _node, [x]) => [ops.reshape(g, x!.shape)],
  broadcast_to: (g, _node, [x]) => [ops.sumToShape(g, x!.shape)],
  transpose: (g, node) => [ops.transpose(g, inversePerm(node.iattrs))],
  matmul: (g, node, [a, b]) => {
    // out = op(a)·op(b) with op = identity or transpose of the last two axes.
    const ta = node.iattrs[0] === 1;
    const tb = node.iattrs[1] === 1;
    const ga = ta ? ops.matmulIR(b!, g, tb, true) : ops.matmulIR(g, b!, false, !tb);
    const gb = tb ? ops.matmulIR(g, a!, true, ta) : ops.matmulIR(a!, g, !ta, false);
    return [ga, gb];
  },
};

const elementwiseRules = new Map<OpName, VjpRule>();

/**
 * `g · ∂`, the contribution of a cotangent through one partial derivative. A numeric partial
 * needs no multiply (±1) or no contribution (0); a tensor partial is applied with safe_mul, which
 * keeps a zero cotangent zero even where the partial is infinite (sqrt at 0, log at 0).
 */
function applyPartial(g: Tensor, partial: TensorLike): Tensor | undefined {
  if (typeof partial === 'number') {
    if (partial === 0) return undefined;
    if (partial === 1) return g;
    if (partial === -1) return ops.neg(g);
    return ops.mul(g, partial);
  }
  return ops.binary('safe_mul', g, partial);
}

function elementwiseRule(op: OpName): VjpRule | undefined {
  const cached = elementwiseRules.get(op);
  if (cached !== undefined) return cached;
  const src = (OPS[op] as { d?: readonly string[] }).d;
  if (src === undefined) return undefined;
  const partials = src.map(compileRule);
  const rule: VjpRule = (g, _node, inputs, out) => {
    const env: Record<string, Tensor> = { z: out, x: inputs[0]! };
    if (inputs[1] !== undefined) env['y'] = inputs[1];
    return partials.map((d) => applyPartial(g, d(env)));
  };
  elementwiseRules.set(op, rule);
  return rule;
}

/** The reverse-mode rule of an op, or undefined if it has no derivative. */
export function vjpRule(op: OpName): VjpRule | undefined {
  if (OPS[op].grad === 'none') return undefined;
  return STRUCTURAL_RULES[op] ?? elementwiseRule(op);
}

/** The ops that have a derivative but no rule (must be empty; a test asserts it). */
export function opsMissingRules(): OpName[] {
  return (Object.keys(OPS) as OpName[]).filter((op) => OPS[op].grad === 'rule' && op !== 'input' && vjpRule(op) === undefined);
}

/**
 * Append the gradient of the scalar `output` with respect to each of `wrt` to `graph`, and return
 * the gradient nodes in order. An input the output does not depend on gets a zero gradient.
 */
export function gradient(graph: Graph, output: Node, wrt: readonly Node[]): Node[] {
  if (output.shape.length !== 0) {
    throw new WengertError(
      'WENGERT_NOT_SCALAR',
      `the gradient needs a scalar output, but the traced function returned shape ${fmt(output.shape)}; reduce it (wg.sum, wg.mean) or use run()`,
    );
  }
  const n = output.id + 1;
  const needs = new Uint8Array(n);
  for (const w of wrt) needs[w.id] = 1;
  for (let i = 0; i < n; i++) {
    const node = graph.nodes[i]!;
    if (needs[i] === 0 && node.inputs.some((x) => needs[x.id] === 1) && OPS[node.op].grad === 'rule') needs[i] = 1;
  }

  const ct: (Tensor | undefined)[] = new Array<Tensor | undefined>(n);
  const tensor = (node: Node): Tensor => new Tensor(node, graph);
  ct[output.id] = tensor(graph.scalar(1, output.dtype));

  for (let i = output.id; i >= 0; i--) {
    const g = ct[i];
    const node = graph.nodes[i]!;
    if (g === undefined || needs[i] === 0 || node.op === 'input') continue;
    const rule = vjpRule(node.op);
    if (rule === undefined) continue;
    const inputs = node.inputs.map(tensor);
    const contributions = rule(g, node, inputs, tensor(node));
    node.inputs.forEach((x, k) => {
      let c = contributions[k];
      if (c === undefined || needs[x.id] === 0) return;
      if (!sameShape(c.shape, x.shape)) c = ops.sumToShape(c, x.shape);
      const prev = ct[x.id];
      ct[x.id] = prev === undefined ? c : ops.add(prev, c);
    });
  }

  return wrt.map((w) => {
    const g = ct[w.id];
    if (g !== undefined) return g.node;
    return ops.broadcastTo(tensor(graph.scalar(0, w.dtype)), w.shape).node;
  });
}
