/**
 * Transforms used inside a traced function: {@link grad} (a differentiable gradient, so gradients
 * nest), {@link customVjp} and {@link customJvp} (user derivative rules). All of them only append
 * ordinary IR ops to the graph being traced; the engine never calls back into JavaScript. How they
 * fit the design, with worked examples: docs/TRANSFORMS.md.
 */
import { gradient } from './autodiff.js';
import { userCallSite } from './callsite.js';
import { isFloat } from './dtype.js';
import { WengertError } from './errors.js';
import { activeGraph, withGraph, type Graph, type Node } from './graph.js';
import { argError, describe, shapeError, unary } from './ops/core.js';
import * as ops from './ops/index.js';
import { fmt, sameShape } from './shape.js';
import { Tensor, type TensorLike } from './tensor.js';

/** A function of tensors, as {@link grad}, {@link customVjp} and {@link customJvp} take it. */
export type TensorFunction = (...args: Tensor[]) => Tensor | number;

/** Options of {@link grad}. */
export interface GradOptions {
  /**
   * The argument(s) to differentiate with respect to: an index (the default is `0`) gives one
   * gradient tensor; an array of indices gives an array of gradients, in that order.
   */
  readonly wrt?: number | readonly number[];
}

/**
 * The reverse-mode rule of a {@link customVjp} function: given its inputs, its output and the
 * output's cotangent `g` (same shape as the output), return one cotangent per input, of that input's
 * shape (a number is broadcast to it; `null`/`undefined`: no derivative through that input).
 */
export type VjpFunction = (inputs: Tensor[], output: Tensor, g: Tensor) => readonly (TensorLike | null | undefined)[];

/**
 * The forward-mode rule of a {@link customJvp} function: given its inputs, their tangents (zeros
 * for an input that carries none) and its output, return the output's tangent (of the output's
 * shape; a number is broadcast to it).
 */
export type JvpFunction = (inputs: Tensor[], tangents: Tensor[], output: Tensor) => TensorLike;

/** The graph being traced, or a WENGERT_TRACE error explaining where `wg.<name>` belongs. */
function tracingGraph(name: string, what: string): Graph {
  try {
    return activeGraph(name);
  } catch {
    throw new WengertError(
      'WENGERT_TRACE',
      `wg.${name}(f) ${what} was called outside a traced function: call it inside the function you pass to wg.compile(fn, ...) (which traces it), not on plain values (at ${userCallSite()})`,
    );
  }
}

/** The arguments of a transformed function as tensors of `graph` (numbers become constants). */
function tensorArgs(name: string, graph: Graph, args: readonly unknown[]): Tensor[] {
  const dtype = args.find((a): a is Tensor => a instanceof Tensor)?.dtype ?? 'float64';
  return args.map((a, i) => {
    if (a instanceof Tensor) {
      if (a.graph !== graph) throw new WengertError('WENGERT_TRACE', `wg.${name}: argument ${i} belongs to another traced function (at ${userCallSite()})`);
      return a;
    }
    if (typeof a === 'number') return new Tensor(graph.scalar(a, dtype), graph);
    throw argError(name, `argument ${i} must be a wg.Tensor or a number, got ${describe(a)}`);
  });
}

/** A user function's result as a tensor of `graph`. */
function resultTensor(name: string, graph: Graph, result: unknown, dtype: Tensor['dtype']): Tensor {
  if (result instanceof Tensor) {
    if (result.graph !== graph) throw new WengertError('WENGERT_TRACE', `wg.${name}: the function returned a tensor from another traced function`);
    return result;
  }
  if (typeof result === 'number') return new Tensor(graph.scalar(result, dtype), graph);
  throw argError(name, `the function must return a wg.Tensor or a number, got ${describe(result)}`);
}

/** `value` (a tensor or number) as a tensor exactly like `like`, for a derivative a rule returned. */
function conform(name: string, what: string, value: unknown, like: Tensor): Tensor {
  if (typeof value === 'number') return ops.broadcastTo(new Tensor(like.graph.scalar(value, like.dtype), like.graph), like.shape);
  if (!(value instanceof Tensor)) throw argError(name, `${what} must be a wg.Tensor or a number, got ${describe(value)}`);
  if (value.graph !== like.graph) throw new WengertError('WENGERT_TRACE', `wg.${name}: ${what} belongs to another traced function`);
  if (value.dtype !== like.dtype) {
    throw new WengertError('WENGERT_DTYPE_MISMATCH', `wg.${name}: ${what} is ${value.dtype}, expected ${like.dtype} (at ${userCallSite()})`);
  }
  if (!sameShape(value.shape, like.shape)) throw shapeError(name, `${what} has shape ${fmt(value.shape)}, expected ${fmt(like.shape)}`);
  return value;
}

/**
 * The gradient of `f` as a function of tensors, for use inside a traced function: `wg.grad(f)(x)`
 * traces `f(x)` inline (f must return a float scalar) and returns ∂f/∂x as ordinary graph ops, so
 * the result can be differentiated again: `wg.grad(wg.grad(f))` is the second derivative of a
 * scalar function, and a compiled program's valueAndGrad/hvp/jvp differentiate through it.
 *
 * Each call differentiates with respect to fresh copies of the chosen arguments, so the result is
 * the partial derivative in those arguments: other arguments, and tensors `f` captures from the
 * enclosing trace, are held constant (no perturbation confusion between nesting levels), while the
 * outer derivatives still flow through everything.
 *
 * @param f The function to differentiate; its output must be a float scalar.
 * @param options `wrt`: the argument index (default 0), or an array of indices (the result is then
 *   an array of gradients in that order).
 * @throws WENGERT_TRACE when the returned function is called outside a traced function.
 *
 * @example
 * ```ts
 * // f(x) = x³: f''(x) = 6x
 * const d2 = wg.compile((x) => wg.grad(wg.grad((t) => t.mul(t).mul(t)))(x), { args: [wg.f64([])] });
 * d2.run(2); // 12
 * ```
 */
export function grad(f: TensorFunction, options?: { readonly wrt?: number }): (...args: TensorLike[]) => Tensor;
export function grad(f: TensorFunction, options: { readonly wrt: readonly number[] }): (...args: TensorLike[]) => Tensor[];
export function grad(f: TensorFunction, options?: GradOptions): (...args: TensorLike[]) => Tensor | Tensor[];
export function grad(f: TensorFunction, options: GradOptions = {}): (...args: TensorLike[]) => Tensor | Tensor[] {
  if (typeof f !== 'function') throw argError('grad', `the first argument must be a function, got ${describe(f)}`);
  const wrtOption = options?.wrt ?? 0;
  const many = Array.isArray(wrtOption);
  const wrt: readonly number[] = many ? (wrtOption as readonly number[]) : [wrtOption as number];
  if (!wrt.every((i) => Number.isInteger(i) && i >= 0) || new Set(wrt).size !== wrt.length) {
    throw argError('grad', `options.wrt must be an argument index or an array of distinct indices, got ${JSON.stringify(options?.wrt)}`);
  }
  return (...rawArgs: TensorLike[]): Tensor | Tensor[] => {
    const graph = tracingGraph('grad', '(...)');
    const args = tensorArgs('grad', graph, rawArgs);
    for (const i of wrt) {
      if (i >= args.length) throw argError('grad', `options.wrt names argument ${i}, but the function got ${args.length} argument${args.length === 1 ? '' : 's'}`);
      if (!isFloat(args[i]!.dtype)) throw argError('grad', `argument ${i} is ${args[i]!.dtype} (indices) and cannot be differentiated`);
    }
    // Fresh variables: the sweep stops at them, so only f's dependence on them is differentiated.
    const fresh = args.map((a, i) => (wrt.includes(i) ? unary('identity', a) : a));
    const out = resultTensor('grad', graph, withGraph(graph, () => f(...fresh)), fresh[wrt[0] ?? 0]?.dtype ?? 'float64');
    if (out.rank !== 0 || !isFloat(out.dtype)) {
      throw new WengertError(
        'WENGERT_NOT_SCALAR',
        `wg.grad: the function must return a float scalar, got ${out.dtype} ${fmt(out.shape)}; reduce it (wg.sum, wg.mean) (at ${userCallSite()})`,
      );
    }
    const grads = withGraph(graph, () => gradient(graph, out.node, wrt.map((i) => fresh[i]!.node))).map((n) => new Tensor(n, graph));
    return many ? grads : grads[0]!;
  };
}

/** Trace `fn` on `args` and put an identity marker on its output, for a custom rule to attach to. */
function markedCall(name: string, fn: TensorFunction, rawArgs: readonly unknown[]): { graph: Graph; inputs: Tensor[]; output: Tensor; marker: Tensor } {
  const graph = tracingGraph(name, '(...)');
  const inputs = tensorArgs(name, graph, rawArgs);
  const output = resultTensor(name, graph, withGraph(graph, () => fn(...inputs)), inputs[0]?.dtype ?? 'float64');
  if (!isFloat(output.dtype)) throw argError(name, `the function must return a float tensor, got ${output.dtype}`);
  return { graph, inputs, output, marker: unary('identity', output) };
}

/**
 * A function with a user-supplied reverse-mode (vector-Jacobian) rule. Calling the result inside a
 * traced function evaluates `fn` as usual; reverse mode (valueAndGrad, vjp, wg.grad, and the
 * reverse half of hvp/hessian) then sends the output's cotangent through `vjpFn` to the inputs
 * instead of through `fn`'s own ops. `vjpFn` is traced into the graph once, when a gradient program
 * is built (never per evaluation), so it must be written with wg ops; its ops are differentiated
 * like any others (second derivatives differentiate the rule). Forward mode (jvp) through the
 * function differentiates `fn`'s own ops. Derivatives reach only the arguments: pass every tensor
 * that needs one as an argument rather than capturing it in `fn`.
 *
 * @param fn The function; it returns one float tensor.
 * @param vjpFn `(inputs, output, g) => cotangents`, one per input (see {@link VjpFunction}).
 *
 * @example
 * ```ts
 * // softplus log(1 + eˣ) with the derivative σ(x): finite at x = 1000, where log(1 + exp(x)) overflows
 * const softplus = wg.customVjp((x) => wg.log(wg.add(1, wg.exp(x))), ([x], _out, g) => [g.mul(wg.sigmoid(x!))]);
 * ```
 */
export function customVjp(fn: TensorFunction, vjpFn: VjpFunction): (...args: TensorLike[]) => Tensor {
  if (typeof fn !== 'function' || typeof vjpFn !== 'function') {
    throw argError('customVjp', `expects (fn, vjpFn), two functions; got ${describe(fn)} and ${describe(vjpFn)}`);
  }
  return (...rawArgs: TensorLike[]): Tensor => {
    const { graph, inputs, marker } = markedCall('customVjp', fn, rawArgs);
    graph.customRules.set(marker.node.id, {
      inputs: inputs.map((t) => t.node),
      vjp: (g: Node): (Node | undefined)[] =>
        withGraph(graph, () => {
          const cts = vjpFn([...inputs], marker, new Tensor(g, graph));
          if (!Array.isArray(cts) || cts.length !== inputs.length) {
            throw argError('customVjp', `the VJP rule must return an array of ${inputs.length} cotangent${inputs.length === 1 ? '' : 's'} (one per input; null for none), got ${Array.isArray(cts) ? `${cts.length}` : describe(cts)}`);
          }
          return cts.map((c, k) => (c === null || c === undefined || !isFloat(inputs[k]!.dtype) ? undefined : conform('customVjp', `cotangent ${k}`, c, inputs[k]!).node));
        }),
    });
    return marker;
  };
}

/**
 * A function with a user-supplied forward-mode (Jacobian-vector) rule. Calling the result inside a
 * traced function evaluates `fn` as usual; forward mode (jvp, jacobian in forward mode, the forward
 * half of hvp/hessian) then computes the output's tangent with `jvpFn` instead of through `fn`'s own
 * ops. `jvpFn` is traced into the graph once per forward-mode program (never per evaluation), with wg
 * ops, and must be linear in the tangents. Reverse mode through the function differentiates `fn`'s
 * own ops. Derivatives reach only the arguments.
 *
 * @param fn The function; it returns one float tensor.
 * @param jvpFn `(inputs, tangents, output) => tangent` (see {@link JvpFunction}).
 *
 * @example
 * ```ts
 * const softplus = wg.customJvp((x) => wg.log(wg.add(1, wg.exp(x))), ([x], [tx]) => tx!.mul(wg.sigmoid(x!)));
 * ```
 */
export function customJvp(fn: TensorFunction, jvpFn: JvpFunction): (...args: TensorLike[]) => Tensor {
  if (typeof fn !== 'function' || typeof jvpFn !== 'function') {
    throw argError('customJvp', `expects (fn, jvpFn), two functions; got ${describe(fn)} and ${describe(jvpFn)}`);
  }
  return (...rawArgs: TensorLike[]): Tensor => {
    const { graph, inputs, marker } = markedCall('customJvp', fn, rawArgs);
    graph.customRules.set(marker.node.id, {
      inputs: inputs.map((t) => t.node),
      jvp: (tangents: readonly (Node | undefined)[]): Node =>
        withGraph(graph, () => {
          const ts = inputs.map((x, k) => {
            const t = tangents[k];
            return t === undefined ? ops.broadcastTo(new Tensor(graph.scalar(0, x.dtype), graph), x.shape) : new Tensor(t, graph);
          });
          return conform('customJvp', 'the JVP rule’s tangent', jvpFn([...inputs], ts, marker), marker).node;
        }),
    });
    return marker;
  };
}
