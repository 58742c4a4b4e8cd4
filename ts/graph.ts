/**
 * The traced program: a flat list of nodes in SSA order (a Wengert list). Node `i` reads only nodes
 * with smaller ids, so the graph is acyclic by construction and every pass is one loop.
 */
import type { DataArray, DType } from './dtype.js';
import { sameShape, type Shape } from './shape.js';
import type { OpName } from './generated/ops.js';
import { WengertError } from './errors.js';
import { arrayType } from './dtype.js';
import { captureSite, siteText, type CapturedSite } from './callsite.js';

/** The static type of an argument: dtype and shape. Made by {@link f64} and {@link f32}. */
export interface ArgSpec {
  readonly dtype: DType;
  readonly shape: Shape;
}

/** @internal The integer attributes of an op that has none (shared: never modified). */
export const NO_IATTRS: readonly number[] = Object.freeze([]);

/** The shape of every scalar node (shared: never modified). */
const SCALAR_SHAPE: Shape = Object.freeze([]);

/**
 * The shape a new node keeps: an operand's own shape array when it is equal (nodes never modify
 * their shapes, so equal shapes can be one array), else a copy of `shape`, which may be the
 * caller's. Most nodes are elementwise, so most share: fewer arrays to allocate and for the
 * garbage collector to move while a large trace grows.
 */
function keptShape(shape: Shape, inputs: readonly Node[]): Shape {
  if (shape.length === 0) return SCALAR_SHAPE;
  for (let i = 0; i < inputs.length; i++) {
    const s = inputs[i]!.shape;
    if (s === shape || sameShape(s, shape)) return s;
  }
  return shape.slice();
}

/**
 * One entry of the Wengert list. Most nodes have one or two operands: those are fields of the node
 * itself, not an array of their own, since every node of a large trace lives until it is compiled
 * and the garbage collector copies each such object (an array of two costs as much as 64 bytes).
 * Nodes are plain objects made by one object literal ({@link Graph.add}): V8 then allocates them
 * straight in the old generation once it sees that they all survive, instead of copying each one.
 */
export interface Node {
  readonly id: number;
  readonly op: OpName;
  /** The first operand, if any ({@link inputOf}, {@link inputsOf}). */
  readonly in0: Node | undefined;
  /** The second operand, if any. */
  readonly in1: Node | undefined;
  /** All operands, for a node of more than two (else undefined). */
  readonly many: readonly Node[] | undefined;
  readonly shape: Shape;
  readonly dtype: DType;
  /** Integer attributes, as serialized (docs/FORMAT.md). */
  readonly iattrs: readonly number[];
  /** Constant data (op `constant` only). */
  readonly data: DataArray | undefined;
}

function makeNode(
  id: number,
  op: OpName,
  in0: Node | undefined,
  in1: Node | undefined,
  many: readonly Node[] | undefined,
  shape: Shape,
  dtype: DType,
  iattrs: readonly number[],
  data: DataArray | undefined,
): Node {
  return { id, op, in0, in1, many, shape, dtype, iattrs, data };
}

/** The number of operands of `node`. */
export function arity(node: Node): number {
  return node.many !== undefined ? node.many.length : node.in1 !== undefined ? 2 : node.in0 !== undefined ? 1 : 0;
}

/** Operand `k` of `node` (0 <= k < arity). */
export function inputOf(node: Node, k: number): Node {
  return (node.many !== undefined ? node.many[k] : k === 0 ? node.in0 : k === 1 ? node.in1 : undefined)!;
}

/** The operands of `node`, as a new array (hot loops use {@link arity} and {@link inputOf} instead). */
export function inputsOf(node: Node): readonly Node[] {
  if (node.many !== undefined) return node.many;
  return node.in1 !== undefined ? [node.in0!, node.in1] : node.in0 !== undefined ? [node.in0] : NO_INPUTS;
}

/** The operands of a node that has none (shared: never modified). */
const NO_INPUTS: readonly Node[] = Object.freeze([]);

/**
 * A user derivative rule (wg.customVjp / wg.customJvp, ts/transforms.ts) attached to an `identity`
 * marker node on the custom function's output. TypeScript-only metadata: never serialized; the
 * engine sees the marker as a plain copy. The closures trace the user's rule into this graph when a
 * transformation first meets the marker (once per transformation, never per evaluation).
 */
export interface CustomRule {
  /** The custom function's inputs: derivatives flow to these, not through the function's own nodes. */
  readonly inputs: readonly Node[];
  /** Reverse mode: the cotangent of each input (undefined: none) given the marker's cotangent `g`. */
  readonly vjp?: (g: Node) => (Node | undefined)[];
  /** Forward mode: the marker's tangent given each input's tangent (undefined: zero). */
  readonly jvp?: (tangents: readonly (Node | undefined)[]) => Node;
}

/** A traced program under construction. */
export class Graph {
  readonly nodes: Node[] = [];
  /** Custom derivative rules by marker node id (see {@link CustomRule}). */
  readonly customRules = new Map<number, CustomRule>();
  /** Scalar constants by dtype and value; -0 apart, since a Map does not tell it from +0. */
  private readonly scalarConstants = new Map<DType, Map<number, Node>>();
  private readonly negativeZeros = new Map<DType, Node>();
  /**
   * When true, every node recorded from now on keeps the stack it was recorded from, so an engine
   * error naming a node can name the user's line ({@link Graph.siteOf}). Off by default: capturing
   * a stack costs far more than recording an op. Tracing is deterministic, so the same function
   * traced again with this on numbers its nodes the same way.
   */
  captureSites = false;
  private readonly sites: (CapturedSite | undefined)[] = [];

  constructor(readonly args: readonly ArgSpec[]) {}

  add(op: OpName, inputs: readonly Node[], shape: Shape, dtype: DType, iattrs: readonly number[] = NO_IATTRS, data?: DataArray): Node {
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i]!;
      if (this.nodes[input.id] !== input) {
        throw new WengertError('WENGERT_TRACE', `op ${op}: an input belongs to another traced function`);
      }
    }
    const n = inputs.length;
    const node = makeNode(this.nodes.length, op, inputs[0], inputs[1], n > 2 ? inputs : undefined, keptShape(shape, inputs), dtype, iattrs, data);
    this.nodes.push(node);
    if (this.captureSites) this.sites[node.id] = captureSite();
    return node;
  }

  /**
   * {@link add} for the common case, an op of one or two operands (`b` undefined: one) whose result
   * has the shape of `a` or `b` (`shape` is one of theirs, or equal to one): no operand array to
   * allocate.
   */
  addElementwise(op: OpName, a: Node, b: Node | undefined, shape: Shape, dtype: DType): Node {
    if (this.nodes[a.id] !== a || (b !== undefined && this.nodes[b.id] !== b)) {
      throw new WengertError('WENGERT_TRACE', `op ${op}: an input belongs to another traced function`);
    }
    const kept = shape === a.shape || (b !== undefined && shape === b.shape) ? shape : keptShape(shape, b === undefined ? [a] : [a, b]);
    const node = makeNode(this.nodes.length, op, a, b, undefined, kept, dtype, NO_IATTRS, undefined);
    this.nodes.push(node);
    if (this.captureSites) this.sites[node.id] = captureSite();
    return node;
  }

  /** The user's `file:line:column` that recorded `node`, if it was recorded with {@link Graph.captureSites} on. */
  siteOf(node: Node): string | undefined {
    const site = this.nodes[node.id] === node ? this.sites[node.id] : undefined;
    return site === undefined ? undefined : siteText(site);
  }

  /** A scalar constant, shared by every use of the same value and dtype. */
  scalar(value: number, dtype: DType): Node {
    if (value === 0 && 1 / value < 0) {
      let node = this.negativeZeros.get(dtype);
      if (node === undefined) this.negativeZeros.set(dtype, (node = this.add('constant', [], [], dtype, NO_IATTRS, new (arrayType(dtype))([value]))));
      return node;
    }
    let byValue = this.scalarConstants.get(dtype);
    if (byValue === undefined) this.scalarConstants.set(dtype, (byValue = new Map<number, Node>()));
    let node = byValue.get(value);
    if (node === undefined) {
      node = this.add('constant', [], [], dtype, NO_IATTRS, new (arrayType(dtype))([value]));
      byValue.set(value, node);
    }
    return node;
  }
}

/**
 * The custom reverse-mode rule at `node`, if `node` is the marker of a wg.customVjp function. Used by
 * `gradient()` (ts/autodiff.ts): at the marker, the cotangent goes to `inputs` through `vjp`.
 */
export function customVjpRule(graph: Graph, node: Node): { readonly inputs: readonly Node[]; readonly vjp: (g: Node) => (Node | undefined)[] } | undefined {
  const rule = graph.customRules.get(node.id);
  return rule?.vjp === undefined || graph.nodes[node.id] !== node ? undefined : { inputs: rule.inputs, vjp: rule.vjp };
}

/**
 * The custom forward-mode rule at `node`, if `node` is the marker of a wg.customJvp function. For
 * `jvp()` (ts/forward.ts): at the marker, the tangent is `jvp(inputs.map(tangentOf))` (pass undefined
 * for an input without a tangent; if no input has one, the marker has none either).
 */
export function customJvpRule(graph: Graph, node: Node): { readonly inputs: readonly Node[]; readonly jvp: (tangents: readonly (Node | undefined)[]) => Node } | undefined {
  const rule = graph.customRules.get(node.id);
  return rule?.jvp === undefined || graph.nodes[node.id] !== node ? undefined : { inputs: rule.inputs, jvp: rule.jvp };
}

let active: Graph | undefined;

/** The graph being traced, or an error naming the op if none is. */
export function activeGraph(op: string): Graph {
  if (active === undefined) {
    throw new WengertError(
      'WENGERT_TRACE',
      `wg.${op} was called outside a traced function: ops build a graph and only run inside wg.compile(fn, ...)`,
    );
  }
  return active;
}

/** Run `fn` with `graph` as the active trace. */
export function withGraph<T>(graph: Graph, fn: () => T): T {
  const saved = active;
  active = graph;
  try {
    return fn();
  } finally {
    active = saved;
  }
}
