/** `compile`: trace once, serialize once, run many times. */
import { gradient } from './autodiff.js';
import { arrayType, dtypeOf, isFloat, type DataArray, type DType, type FloatArray, type FloatDType } from './dtype.js';
import { WengertError, WengertRangeError, WengertTypeError, fromNative } from './errors.js';
import { Graph, withGraph, type ArgSpec, type Node } from './graph.js';
import { nativeBinding, type NativeProgram } from './native.js';
import { serialize } from './serialize.js';
import { MAX_RANK, fmt, isShape, sizeOf, type Shape } from './shape.js';
import { Tensor } from './tensor.js';
import { userCallSite } from './callsite.js';

/** An argument spec of dtype float64 and the given shape (`[]` for a scalar). */
export function f64(shape: Shape): ArgSpec {
  return argSpec('float64', shape);
}

/** An argument spec of dtype float32 and the given shape (`[]` for a scalar). */
export function f32(shape: Shape): ArgSpec {
  return argSpec('float32', shape);
}

/** An argument spec of int32 indices of the given shape, passed as an Int32Array (never differentiated). */
export function i32(shape: Shape): ArgSpec {
  return argSpec('int32', shape);
}

function argSpec(dtype: DType, shape: Shape): ArgSpec {
  if (!isShape(shape)) {
    throw new WengertError(
      'WENGERT_INVALID_ARGUMENT',
      `wg.${dtype === 'float64' ? 'f64' : dtype === 'float32' ? 'f32' : 'i32'}: shape must be an array of at most ${MAX_RANK} non-negative integers, got ${JSON.stringify(shape)}`,
    );
  }
  return Object.freeze({ dtype, shape: Object.freeze([...shape]) });
}

/** Options of {@link compile}. */
export interface CompileOptions {
  /** One spec per argument of the traced function, made with {@link f64} or {@link f32}. */
  readonly args: readonly ArgSpec[];
  /** Indices of the arguments to differentiate with respect to (default `[0]`). */
  readonly wrt?: readonly number[];
  /** Upper bound on one run's working memory; a program that needs more fails to compile (default 4 GiB). */
  readonly maxArenaBytes?: number;
}

/** An input value: a typed array of the argument's dtype and size, or a number for a scalar argument. */
export type InputValue = Float64Array | Float32Array | Int32Array | number;

/** The result of {@link Program.valueAndGrad}. */
export interface ValueAndGrad {
  /** The function's value. */
  readonly value: number;
  /** One gradient per `wrt` argument, in order, with that argument's dtype and shape (row-major). */
  readonly grads: FloatArray[];
}

/** Memory held by a compiled program. */
export interface MemoryReport {
  /** Working memory of one value-and-gradient run (0 until that program is compiled). */
  readonly arenaBytes: number;
  /** Working memory of one forward-only run (0 until that program is compiled). */
  readonly forwardArenaBytes: number;
}

const DEFAULT_MAX_ARENA_BYTES = 4 * 1024 ** 3;

/** The traced function's signature: symbolic tensors in, a tensor (or a number) out. */
export type TracedFunction = (...args: Tensor[]) => Tensor | number;

/**
 * A compiled program. Create it with {@link compile}; run it as often as needed. It is freed when
 * garbage-collected, or at once by {@link Program.dispose}.
 */
export class Program {
  /** The argument specs. */
  readonly args: readonly ArgSpec[];
  /** The differentiated argument indices. */
  readonly wrt: readonly number[];
  /** The output's static shape. */
  readonly outputShape: Shape;
  /** The output's dtype. */
  readonly outputDtype: DType;

  private readonly graph: Graph;
  private readonly output: Node;
  private readonly inputNodes: readonly Node[];
  private readonly maxArenaBytes: number;
  private forwardProgram: NativeProgram | undefined;
  private gradProgram: NativeProgram | undefined;
  private gradNodes: Node[] | undefined;
  private disposed = false;

  /** @internal */
  constructor(graph: Graph, output: Node, inputNodes: readonly Node[], wrt: readonly number[], maxArenaBytes: number) {
    this.graph = graph;
    this.output = output;
    this.inputNodes = inputNodes;
    this.args = graph.args;
    this.wrt = wrt;
    this.outputShape = output.shape;
    this.outputDtype = output.dtype;
    this.maxArenaBytes = maxArenaBytes;
  }

  /** @internal The serialized program: forward only, or value and gradients. */
  serialized(kind: 'forward' | 'valueAndGrad'): Uint8Array {
    if (kind === 'forward') return serialize(this.graph, [this.output]);
    this.gradNodes ??= gradient(
      this.graph,
      this.output,
      this.wrt.map((i) => this.inputNodes[i]!),
    );
    return serialize(this.graph, [this.output, ...this.gradNodes]);
  }

  private native(kind: 'forward' | 'valueAndGrad'): NativeProgram {
    if (this.disposed) throw new WengertError('WENGERT_DISPOSED', 'this program was disposed');
    const cached = kind === 'forward' ? this.forwardProgram : this.gradProgram;
    if (cached !== undefined) return cached;
    const bytes = this.serialized(kind);
    let p: NativeProgram;
    try {
      p = nativeBinding().compile(bytes, this.maxArenaBytes);
    } catch (err) {
      throw fromNative(err);
    }
    if (kind === 'forward') this.forwardProgram = p;
    else this.gradProgram = p;
    return p;
  }

  /** @internal Compile the value-and-gradient program now (done by {@link compile} for a scalar output). */
  prepareGradient(): void {
    this.native('valueAndGrad');
  }

  private inputs(values: readonly unknown[]): DataArray[] {
    if (values.length !== this.args.length) {
      throw new WengertRangeError(
        'WENGERT_INPUT_COUNT',
        `expected ${this.args.length} input${this.args.length === 1 ? '' : 's'} (one per argument), got ${values.length}`,
      );
    }
    return values.map((v, i) => {
      const spec = this.args[i]!;
      const size = sizeOf(spec.shape);
      if (typeof v === 'number') {
        if (spec.shape.length !== 0) {
          throw new WengertTypeError('WENGERT_INPUT_DTYPE', `input ${i}: a number was passed for an argument of shape ${fmt(spec.shape)}; pass a ${arrayType(spec.dtype).name} of ${size} elements`);
        }
        if (spec.dtype === 'int32' && !Number.isInteger(v)) {
          throw new WengertTypeError('WENGERT_INPUT_DTYPE', `input ${i}: the int32 argument got ${v}, not an integer`);
        }
        return new (arrayType(spec.dtype))([v]);
      }
      const dtype = dtypeOf(v);
      if (dtype !== spec.dtype) {
        const got = v === null ? 'null' : typeof v === 'object' ? ((v as object).constructor?.name ?? 'an object') : typeof v;
        throw new WengertTypeError('WENGERT_INPUT_DTYPE', `input ${i}: expected a ${arrayType(spec.dtype).name} (${spec.dtype}, shape ${fmt(spec.shape)}), got ${got}`);
      }
      const arr = v as DataArray;
      if (arr.length !== size) {
        throw new WengertRangeError('WENGERT_INPUT_LENGTH', `input ${i}: expected ${size} elements (shape ${fmt(spec.shape)}), got ${arr.length}`);
      }
      return arr;
    });
  }

  private gradOutputs(): FloatArray[] {
    return [new (arrayType(this.outputDtype as FloatDType))(1), ...this.wrt.map((i) => new (arrayType(this.args[i]!.dtype as FloatDType))(sizeOf(this.args[i]!.shape)))];
  }

  /**
   * Evaluate the function (no derivatives). Returns a number for a scalar output, else a typed
   * array of the output's dtype (Float64Array, Float32Array or Int32Array) in row-major order.
   */
  run(...inputs: InputValue[]): number | DataArray {
    const args = this.inputs(inputs);
    const out = new (arrayType(this.outputDtype))(sizeOf(this.outputShape));
    try {
      this.native('forward').run(args, [out]);
    } catch (err) {
      throw fromNative(err);
    }
    return this.outputShape.length === 0 ? out[0]! : out;
  }

  /** The value and its gradient with respect to each `wrt` argument, computed by reverse mode. */
  valueAndGrad(...inputs: InputValue[]): ValueAndGrad {
    const args = this.inputs(inputs);
    const program = this.native('valueAndGrad');
    const outs = this.gradOutputs();
    try {
      program.run(args, outs);
    } catch (err) {
      throw fromNative(err);
    }
    return { value: outs[0]![0]!, grads: outs.slice(1) };
  }

  /**
   * As {@link Program.valueAndGrad}, computed off the JavaScript thread: the event loop keeps
   * running meanwhile. The input arrays are read in place, so they must not be modified until the
   * promise settles.
   */
  async valueAndGradAsync(...inputs: InputValue[]): Promise<ValueAndGrad> {
    const args = this.inputs(inputs);
    const program = this.native('valueAndGrad');
    const outs = this.gradOutputs();
    try {
      await program.runAsync(args, outs);
    } catch (err) {
      throw fromNative(err);
    }
    return { value: outs[0]![0]!, grads: outs.slice(1) };
  }

  /** Bytes of working memory per run. */
  memory(): MemoryReport {
    return {
      arenaBytes: this.gradProgram?.arenaBytes() ?? 0,
      forwardArenaBytes: this.forwardProgram?.arenaBytes() ?? 0,
    };
  }

  /** Free the native programs now; any later call throws `WENGERT_DISPOSED`. Idempotent. */
  dispose(): void {
    this.disposed = true;
    this.forwardProgram?.dispose();
    this.gradProgram?.dispose();
    this.forwardProgram = undefined;
    this.gradProgram = undefined;
  }
}

/**
 * Trace `fn` once on symbolic tensors of the given specs and compile it for the native engine.
 * Shape and dtype errors are raised here, naming the op, the shapes and the call site. A function
 * with a scalar output also gets its gradient program compiled now, so later calls only run.
 *
 * @example
 * ```ts
 * const loss = wg.compile((w, X, y) => wg.mean(wg.softplus(wg.matmul(X, w)).sub(y.mul(wg.matmul(X, w)))),
 *   { args: [wg.f64([100]), wg.f64([1000, 100]), wg.f64([1000])], wrt: [0] });
 * const { value, grads } = loss.valueAndGrad(w, X, y);
 * ```
 */
export function compile(fn: TracedFunction, options: CompileOptions): Program {
  if (typeof fn !== 'function') {
    throw new WengertError('WENGERT_INVALID_ARGUMENT', `wg.compile: the first argument must be a function, got ${typeof fn} (at ${userCallSite()})`);
  }
  const specs = options?.args;
  if (!Array.isArray(specs) || !specs.every((s) => s !== null && typeof s === 'object' && isShape((s as ArgSpec).shape) && ['float64', 'float32', 'int32'].includes((s as ArgSpec).dtype))) {
    throw new WengertError('WENGERT_INVALID_ARGUMENT', `wg.compile: options.args must be an array of specs made with wg.f64(shape), wg.f32(shape) or wg.i32(shape) (at ${userCallSite()})`);
  }
  const wrt = options.wrt ?? (specs.length > 0 ? [0] : []);
  if (!Array.isArray(wrt) || !wrt.every((i) => Number.isInteger(i) && i >= 0 && i < specs.length) || new Set(wrt).size !== wrt.length) {
    throw new WengertError('WENGERT_INVALID_ARGUMENT', `wg.compile: options.wrt must list distinct argument indices in [0, ${specs.length}), got ${JSON.stringify(wrt)} (at ${userCallSite()})`);
  }
  const intWrt = wrt.find((i) => !isFloat(specs[i]!.dtype));
  if (intWrt !== undefined) {
    throw new WengertError('WENGERT_INVALID_ARGUMENT', `wg.compile: argument ${intWrt} is int32 (indices) and cannot be differentiated; remove it from options.wrt (at ${userCallSite()})`);
  }
  const maxArenaBytes = options.maxArenaBytes ?? DEFAULT_MAX_ARENA_BYTES;
  if (!Number.isSafeInteger(maxArenaBytes) || maxArenaBytes <= 0) {
    throw new WengertError('WENGERT_INVALID_ARGUMENT', `wg.compile: options.maxArenaBytes must be a positive integer, got ${String(maxArenaBytes)}`);
  }

  const graph = new Graph(specs);
  const inputNodes = specs.map((s, i) => graph.add('input', [], s.shape, s.dtype, [i]));
  const result = withGraph(graph, () => fn(...inputNodes.map((n) => new Tensor(n, graph))));
  let output: Node;
  if (result instanceof Tensor) {
    if (result.graph !== graph) throw new WengertError('WENGERT_TRACE', 'wg.compile: the function returned a tensor from another traced function');
    output = result.node;
  } else if (typeof result === 'number') {
    output = graph.scalar(result, specs[0]?.dtype ?? 'float64');
  } else {
    throw new WengertError('WENGERT_INVALID_ARGUMENT', `wg.compile: the traced function must return a wg.Tensor or a number, got ${typeof result}`);
  }
  const program = new Program(graph, output, inputNodes, wrt, maxArenaBytes);
  if (output.shape.length === 0 && wrt.length > 0 && isFloat(output.dtype)) program.prepareGradient();
  return program;
}
