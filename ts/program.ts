/** `compile`: trace once, serialize once, run many times. */
import { gradient, gradientOrigin } from './autodiff.js';
import { jvp } from './forward.js';
import { chooseJacobianMode, hessianNodes, jacobianNode, type JacobianMode } from './batch.js';
import { arrayType, dtypeOf, isFloat, resultArray, type DataArray, type DType, type FloatArray, type FloatDType } from './dtype.js';
import { WengertError, WengertRangeError, WengertTypeError, fromNative } from './errors.js';
import { Graph, withGraph, type ArgSpec, type Node } from './graph.js';
import { nativeBinding, type NativeProgram, type NativeRunOptions } from './native.js';
import { defaultMaxArenaBytes } from './config.js';
import { liveNodes, serialize } from './serialize.js';
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
  /** Upper bound on one run's working memory; a program that needs more fails to compile (default 4 GiB, or as set by {@link configure}). */
  readonly maxArenaBytes?: number;
  /**
   * Check every run of this program for NaN and infinities (default false): a run fails with
   * `WENGERT_NON_FINITE` at the first non-finite input or computed value, naming the op, whether it
   * is in the gradient of a traced op, and the call site where that op was traced. See
   * {@link RunCheckOptions} to check a single call.
   */
  readonly checkFinite?: boolean;
}

/**
 * Per-call options of every run method: a trailing object of {@link Program.run},
 * {@link Program.valueAndGrad}, {@link Program.hessian} and the `…Async` methods, or the last
 * argument of {@link Program.jvp}, {@link Program.vjp} and {@link Program.hvp}.
 */
export interface RunCheckOptions {
  /** Check this call for NaN and infinities (see {@link CompileOptions.checkFinite}); default: the program's setting. */
  readonly checkFinite?: boolean;
}

const CHECK_FINITE: NativeRunOptions = Object.freeze({ checkFinite: true });

/** A traced graph that records the user's call site of the node with id `target` (for error messages). */
class SiteGraph extends Graph {
  site: string | undefined;
  constructor(
    args: readonly ArgSpec[],
    private readonly target: number,
  ) {
    super(args);
  }
  override add(...params: Parameters<Graph['add']>): Node {
    if (this.site === undefined && this.nodes.length === this.target) this.site = userCallSite();
    return super.add(...params);
  }
  override addElementwise(...params: Parameters<Graph['addElementwise']>): Node {
    if (this.site === undefined && this.nodes.length === this.target) this.site = userCallSite();
    return super.addElementwise(...params);
  }
}

/** Options of a synchronous {@link Program.run}, passed as its last argument. */
export interface RunOptions extends RunCheckOptions {
  /**
   * Write the output into this typed array (in a one-element list) instead of a new one: the
   * output's dtype and size (1 for a scalar output), sharing no memory with an input. A wrong
   * count, dtype or length throws `WENGERT_OUTPUT_SPEC`; shared memory `WENGERT_INVALID_ARGUMENT`.
   * The engine computes into it as it goes, so after a run that throws its contents are unspecified.
   */
  readonly out?: readonly DataArray[];
}

/** Options of a synchronous {@link Program.valueAndGrad}, passed as its last argument. */
export interface ValueAndGradOptions extends RunCheckOptions {
  /**
   * Write the gradients into these typed arrays instead of new ones: one per `wrt` argument, in
   * order, of that argument's dtype and size, sharing no memory with an input or with each other.
   * A wrong count, dtype or length throws `WENGERT_OUTPUT_SPEC`; shared memory
   * `WENGERT_INVALID_ARGUMENT`. The engine computes into them as it goes, so after a run that
   * throws their contents are unspecified.
   */
  readonly out?: readonly FloatArray[];
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

/** The result of {@link Program.jvp}. */
export interface JvpResult {
  /** The function's value: a number for a scalar output, else a typed array of the output's dtype. */
  readonly value: number | FloatArray;
  /** The directional derivative J·t of the output, shaped like the value. */
  readonly tangent: number | FloatArray;
}

/** The result of {@link Program.vjp}. */
export interface VjpResult {
  /** The function's value: a number for a scalar output, else a typed array of the output's dtype. */
  readonly value: number | FloatArray;
  /** One vector-Jacobian product uᵀ·J per `wrt` argument, with that argument's dtype and shape. */
  readonly grads: FloatArray[];
}

/** The result of {@link Program.hvp}. */
export interface HvpResult {
  /** The function's (scalar) value. */
  readonly value: number;
  /** One gradient per `wrt` argument, as from {@link Program.valueAndGrad}. */
  readonly grad: FloatArray[];
  /** The Hessian-vector product H·v, split as the `wrt` arguments. */
  readonly hvp: FloatArray[];
}

/** Options of {@link Program.jacobian}, passed as its last argument. */
export interface JacobianOptions extends RunCheckOptions {
  /** `forward` (one tangent per input element) or `reverse` (one cotangent per output element); default: the one with fewer directions. */
  readonly mode?: JacobianMode;
}

/** The result of {@link Program.jacobian}. */
export interface JacobianResult {
  /** The function's value: a number for a scalar output, else a typed array of the output's dtype. */
  readonly value: number | FloatArray;
  /**
   * The Jacobian, row-major `rows × cols` in the output's dtype: entry `[i·cols + j]` is
   * ∂ output_i / ∂ input_j, outputs flattened row-major, `wrt` arguments flattened and concatenated.
   */
  readonly jacobian: FloatArray;
  /** Number of output elements. */
  readonly rows: number;
  /** Number of input elements (all `wrt` arguments). */
  readonly cols: number;
  /** The mode that computed it. */
  readonly mode: JacobianMode;
}

/** The result of {@link Program.hessian}. */
export interface HessianResult {
  /** The function's (scalar) value. */
  readonly value: number;
  /** One gradient per `wrt` argument, as from {@link Program.valueAndGrad}. */
  readonly grad: FloatArray[];
  /** The dense Hessian, row-major `n × n` in the output's dtype (n: all `wrt` elements, concatenated); symmetric to rounding. */
  readonly hessian: FloatArray;
  /** n. */
  readonly size: number;
}

/** A tangent, cotangent or direction: a typed array of the argument's (or output's) dtype and size, or a number for a scalar. */
export type DirectionValue = Float64Array | Float32Array | number;

/** The programs a {@link Program} compiles, one per kind, lazily. */
type ProgramKind = 'forward' | 'valueAndGrad' | 'jvp' | 'vjp' | 'hvp' | 'jacobianForward' | 'jacobianReverse' | 'hessian';

/** Memory held by a compiled program. */
export interface MemoryReport {
  /** Working memory of one value-and-gradient run (0 until that program is compiled). */
  readonly arenaBytes: number;
  /** Working memory of one forward-only run (0 until that program is compiled). */
  readonly forwardArenaBytes: number;
}

/**
 * Options of the asynchronous methods ({@link Program.valueAndGradAsync} and the others), passed as
 * their last argument.
 */
export interface AsyncOptions extends RunCheckOptions {
  /**
   * Aborts the call: one already aborted rejects at once; one that fires later stops the work at
   * its next safe point (between steps of the program) and rejects with an {@link AbortError}
   * (`code` `WENGERT_ABORTED`) once the run's memory is returned. The program stays usable.
   */
  readonly signal?: AbortSignal;
}

/** Options of {@link Program.jacobianAsync}: the mode and the signal. */
export interface JacobianAsyncOptions extends JacobianOptions, AsyncOptions {}

/** Whether `v` is a trailing options object (not an input value). */
function isOptions(v: unknown): v is object {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || 'length' in v) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * The trailing options object of a call: only a plain object (`{ ... }`, not array-like), so an
 * input that merely looks like an object (an ArrayBuffer, a Proxy, an array-like) is reported as
 * a wrong input, not taken for options.
 */
function trailingOptions<O extends object>(values: readonly unknown[]): O | undefined {
  const last = values[values.length - 1];
  return isOptions(last) ? (last as O) : undefined;
}

/** Splits a trailing options object off variadic inputs. */
function splitOptions<O extends object>(values: readonly unknown[]): { inputs: InputValue[]; options: O | undefined } {
  const options = trailingOptions<O>(values);
  return options !== undefined ? { inputs: values.slice(0, -1) as InputValue[], options } : { inputs: values as InputValue[], options: undefined };
}

/** Runs `program` on the engine's threads with the caller's signal; errors as wengert errors. */
async function runOnPool(program: NativeProgram, args: readonly DataArray[], outs: readonly DataArray[], options: AsyncOptions | undefined, checkFinite: boolean): Promise<void> {
  if (options !== undefined && !isOptions(options)) {
    throw new WengertError('WENGERT_INVALID_ARGUMENT', `options must be an object such as { signal }, got ${describeValue(options)}`);
  }
  const signal = options?.signal;
  await program.runAsync(args, outs, signal === undefined && !checkFinite ? undefined : { signal, checkFinite });
}

/** The traced function's signature: symbolic tensors in, a tensor (or a number) out. */
export type TracedFunction = (...args: Tensor[]) => Tensor | number;

/**
 * A compiled program. Create it with {@link compile}; run it as often as needed. It is freed when
 * garbage-collected, or at once by {@link Program.dispose}.
 *
 * Asynchronous methods (`…Async`) run on the engine's own threads (see {@link configure}), never
 * on the JavaScript thread or libuv's pool, and accept a trailing `{ signal }` ({@link AsyncOptions}).
 * Any number of calls may be in flight on one program: each run has its own working memory. Every
 * input is copied before the call returns (one copy of each input array, proportional to the
 * inputs' total size), so the caller may reuse or change its arrays at once; the result arrays are
 * new and filled when the promise settles.
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
  /** Programs of the transforms (jvp, vjp, hvp, ...), compiled on first use. */
  private readonly transformPrograms = new Map<ProgramKind, NativeProgram>();
  /** Input nodes of the tangent arguments (one per wrt argument), after the traced arguments. */
  private tangentNodes: Node[] | undefined;
  /** The nodes each transform appended to the graph: its outputs and argument specs. */
  private readonly transformGraphs = new Map<ProgramKind, { outputs: Node[]; args: ArgSpec[] }>();
  private disposed = false;
  /** Element count of each argument. */
  private readonly argSizes: readonly number[];
  /** Element count of the output. */
  private readonly outputSize: number;
  /** The output's spec, and the wrt arguments', for `{ out }` checks. */
  private readonly outputSpecs: readonly ArgSpec[];
  private wrtSpecList: readonly ArgSpec[] | undefined;
  /**
   * Argument lists of the synchronous native runs (inputs, then outputs), reused by every call and
   * emptied after it: the flat calling convention of NativeProgram.run without a new array per call.
   */
  private forwardCall: (DataArray | undefined)[] | undefined;
  private gradCall: (DataArray | undefined)[] | undefined;
  /** Where a synchronous valueAndGrad writes the value; read before the call returns. */
  private valueScratch: FloatArray | undefined;
  /** Where a synchronous run of a scalar output writes it (no `out`); read before the call returns. */
  private resultScratch: DataArray | undefined;
  /** checkFinite of runs that do not say (CompileOptions.checkFinite). */
  private readonly checkFinite: boolean;
  /** The traced function, traced again only to find an op's call site for an error message. */
  private readonly traced: TracedFunction | undefined;
  /** Nodes [0, traceLength) are the traced function's; later ones come from transforms. */
  private readonly traceLength: number;
  /** The outputs each native program was serialized with: native node ids index liveNodes(graph, outputs). */
  private readonly programOutputs = new Map<ProgramKind, readonly Node[]>();

  /** @internal */
  constructor(graph: Graph, output: Node, inputNodes: readonly Node[], wrt: readonly number[], maxArenaBytes: number, checkFinite = false, traced?: TracedFunction) {
    this.graph = graph;
    this.output = output;
    this.inputNodes = inputNodes;
    this.args = graph.args;
    this.wrt = wrt;
    this.outputShape = output.shape;
    this.outputDtype = output.dtype;
    this.maxArenaBytes = maxArenaBytes;
    this.argSizes = graph.args.map((a) => sizeOf(a.shape));
    this.outputSize = sizeOf(output.shape);
    this.outputSpecs = [{ dtype: output.dtype, shape: output.shape }];
    this.checkFinite = checkFinite;
    this.traced = traced;
    this.traceLength = graph.nodes.length;
  }

  /** Serialize the program of `kind`, remembering its outputs (see {@link Program.nonFiniteError}). */
  private write(kind: ProgramKind, outputs: readonly Node[], args?: readonly ArgSpec[]): Uint8Array {
    this.programOutputs.set(kind, outputs);
    return serialize(this.graph, outputs, args);
  }

  /** Whether a call with these options checks for non-finite values. */
  private checks(options?: RunCheckOptions): boolean {
    return options?.checkFinite ?? this.checkFinite;
  }

  /** The native options of a synchronous run; none (the cheapest call) unless it checks. */
  private runOptions(options?: RunCheckOptions): NativeRunOptions | undefined {
    return this.checks(options) ? CHECK_FINITE : undefined;
  }

  /** An error from the native run of `kind` as a wengert error; a non-finite value is described in terms of the traced program. */
  private failure(err: unknown, kind: ProgramKind): Error {
    const e = fromNative(err);
    if (!(e instanceof WengertError) || e.code !== 'WENGERT_NON_FINITE') return e;
    return new WengertError('WENGERT_NON_FINITE', this.nonFiniteError(e.message, kind));
  }

  /** Runs `program` on the engine's threads; errors as wengert errors (see {@link Program.failure}). */
  private async onPool(kind: ProgramKind, program: NativeProgram, args: readonly DataArray[], outs: readonly DataArray[], options: AsyncOptions | undefined): Promise<void> {
    try {
      await runOnPool(program, args, outs, options, this.checks(options));
    } catch (err) {
      throw this.failure(err, kind);
    }
  }

  /** The call site where traced node `id` was made, found by tracing the function again (error path only). */
  private siteOf(node: Node): string {
    const unknown = 'an unknown call site';
    if (this.traced === undefined || node.id >= this.traceLength) return unknown;
    const graph = new SiteGraph(this.args, node.id);
    try {
      const inputs = this.args.map((s, i) => graph.add('input', [], s.shape, s.dtype, [i]));
      withGraph(graph, () => this.traced!(...inputs.map((n) => new Tensor(n, graph))));
    } catch {
      return unknown;
    }
    const again = graph.nodes[node.id];
    // A function that traces differently the second time (it branches on outside state) has no reliable site.
    if (graph.site === undefined || again?.op !== node.op || again.dtype !== node.dtype || fmt(again.shape) !== fmt(node.shape)) return unknown;
    return graph.site;
  }

  /**
   * The message of a WENGERT_NON_FINITE error. The engine names an input ("input <k> (...)") or a
   * node of the serialized program ("node <id> (<op>, <dtype><shape>): element <i> is <value>");
   * this names the argument, or the traced op, whether the node is in its gradient, and its call site.
   */
  private nonFiniteError(message: string, kind: ProgramKind): string {
    const input = /^input (\d+) \(([^)]*)\): element (\d+) is (\S+)$/.exec(message);
    if (input !== null) {
      const k = Number(input[1]);
      const which = k < this.args.length ? `argument ${k}` : kind === 'vjp' ? 'the cotangent' : `the ${kind === 'jvp' ? 'tangent' : 'direction'} for argument ${this.wrt[k - this.args.length] ?? '?'}`;
      return `checkFinite: ${which} (${input[2]}) holds ${input[4]} at element ${input[3]}`;
    }
    const step = /^node (\d+) \(([^,]+), ([^)]*)\): element (\d+) is (\S+)$/.exec(message);
    const outputs = this.programOutputs.get(kind);
    if (step === null || outputs === undefined) return `checkFinite: ${message}`;
    const [, id, op, type, element, value] = step;
    const node = liveNodes(this.graph, outputs)[Number(id)];
    const what = `${op} produced ${value} at element ${element} of its ${type} value (node ${id} of the ${kind} program)`;
    if (node === undefined) return `checkFinite: ${what}`;
    // A reverse-sweep node is described by the traced op it differentiates (wg.grad inside the
    // traced function makes such nodes too; a gradient of a gradient gives a chain).
    let traced = node;
    let chain = '';
    for (let origin = gradientOrigin(this.graph, node.id); origin !== undefined; origin = gradientOrigin(this.graph, origin.id)) {
      chain = `${chain} in the gradient of ${origin.op}`;
      traced = origin;
    }
    if (traced.id >= this.traceLength) return `checkFinite: ${what}, in code added by the ${kind} transform`;
    if (chain === '') return `checkFinite: ${what}; ${op} was traced at ${this.siteOf(traced)}`;
    return `checkFinite: ${op}${chain} produced ${value} at element ${element} of its ${type} value (node ${id} of the ${kind} program); ${traced.op} was traced at ${this.siteOf(traced)}`;
  }

  /** @internal The serialized program: forward only, value and gradients, or a transform. */
  serialized(kind: ProgramKind): Uint8Array {
    if (kind === 'forward') return this.write(kind, [this.output]);
    if (kind === 'jvp' || kind === 'vjp' || kind === 'hvp') return this.serializedTransform(kind);
    if (kind === 'jacobianForward' || kind === 'jacobianReverse' || kind === 'hessian') return this.serializedDense(kind);
    this.gradNodes ??= gradient(
      this.graph,
      this.output,
      this.wrt.map((i) => this.inputNodes[i]!),
    );
    return this.write(kind, [this.output, ...this.gradNodes]);
  }

  private wrtNodes(): Node[] {
    return this.wrt.map((i) => this.inputNodes[i]!);
  }

  /** Specs of the wrt arguments: the tangents' (jvp) and directions' (hvp). */
  private wrtSpecs(): ArgSpec[] {
    return this.wrt.map((i) => this.args[i]!);
  }

  /** Input nodes for the tangent arguments, numbered after the traced arguments; made once, shared by jvp and hvp. */
  private tangentInputs(): Node[] {
    this.tangentNodes ??= this.wrtSpecs().map((s, k) => this.graph.add('input', [], s.shape, s.dtype, [this.args.length + k]));
    return this.tangentNodes;
  }

  private requireFloatOutput(what: string): void {
    if (!isFloat(this.outputDtype)) {
      throw new WengertError('WENGERT_DTYPE_MISMATCH', `${what} needs a float output, but the traced function returned int32 (indices have no derivative); use run(), or cast to a float dtype`);
    }
  }

  /**
   * jvp: [value, tangent] from [...args, ...tangents]; vjp: [value, ...grads] from
   * [...args, cotangent]; hvp: [value, ...grads, ...hvps] from [...args, ...v] (forward over reverse:
   * the JVP of the gradient nodes).
   */
  private serializedTransform(kind: 'jvp' | 'vjp' | 'hvp'): Uint8Array {
    let built = this.transformGraphs.get(kind);
    if (built === undefined) {
      built = this.buildTransform(kind);
      this.transformGraphs.set(kind, built);
    }
    return this.write(kind, built.outputs, built.args);
  }

  /** Append a transform's nodes to the graph (once per kind): its outputs and argument specs. */
  private buildTransform(kind: 'jvp' | 'vjp' | 'hvp'): { outputs: Node[]; args: ArgSpec[] } {
    const wrt = this.wrtNodes();
    if (kind === 'jvp') {
      this.requireFloatOutput('p.jvp');
      const [tangent] = jvp(this.graph, [this.output], wrt, this.tangentInputs());
      return { outputs: [this.output, tangent!], args: [...this.args, ...this.wrtSpecs()] };
    }
    if (kind === 'vjp') {
      this.requireFloatOutput('p.vjp');
      const spec = { dtype: this.outputDtype, shape: this.outputShape };
      const seed = this.graph.add('input', [], spec.shape, spec.dtype, [this.args.length]);
      return { outputs: [this.output, ...gradient(this.graph, this.output, wrt, seed)], args: [...this.args, spec] };
    }
    this.gradNodes ??= gradient(this.graph, this.output, wrt);
    const hvps = jvp(this.graph, this.gradNodes, wrt, this.tangentInputs());
    return { outputs: [this.output, ...this.gradNodes, ...hvps], args: [...this.args, ...this.wrtSpecs()] };
  }

  private native(kind: ProgramKind): NativeProgram {
    if (this.disposed) throw new WengertError('WENGERT_DISPOSED', 'this program was disposed');
    const cached = kind === 'forward' ? this.forwardProgram : kind === 'valueAndGrad' ? this.gradProgram : this.transformPrograms.get(kind);
    if (cached !== undefined) return cached;
    const bytes = this.serialized(kind);
    let p: NativeProgram;
    try {
      p = nativeBinding().compile(bytes, this.maxArenaBytes);
    } catch (err) {
      throw fromNative(err);
    }
    if (kind === 'forward') this.forwardProgram = p;
    else if (kind === 'valueAndGrad') this.gradProgram = p;
    else this.transformPrograms.set(kind, p);
    return p;
  }

  /** @internal Compile the value-and-gradient program now (done by {@link compile} for a scalar output). */
  prepareGradient(): void {
    this.native('valueAndGrad');
  }

  private inputs(values: readonly unknown[]): DataArray[] {
    const arrays = new Array<DataArray>(values.length);
    this.fillInputs(values, values.length, arrays);
    return arrays;
  }

  /**
   * Checks the first `count` of `values` against the argument specs and stores them (a number as a
   * one-element array) in `into[0..count)`.
   */
  private fillInputs(values: readonly unknown[], count: number, into: unknown[]): void {
    const specs = this.args;
    if (count !== specs.length) {
      throw new WengertRangeError(
        'WENGERT_INPUT_COUNT',
        `expected ${specs.length} input${specs.length === 1 ? '' : 's'} (one per argument), got ${count}`,
      );
    }
    for (let i = 0; i < count; i++) {
      const v = values[i];
      const spec = specs[i]!;
      const size = this.argSizes[i]!;
      if (typeof v === 'number') {
        if (spec.shape.length !== 0) {
          throw new WengertTypeError('WENGERT_INPUT_DTYPE', `input ${i}: a number was passed for an argument of shape ${fmt(spec.shape)}; pass a ${arrayType(spec.dtype).name} of ${size} elements`);
        }
        if (spec.dtype === 'int32' && !Number.isInteger(v)) {
          throw new WengertTypeError('WENGERT_INPUT_DTYPE', `input ${i}: the int32 argument got ${v}, not an integer`);
        }
        into[i] = new (arrayType(spec.dtype))([v]);
        continue;
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
      into[i] = arr;
    }
  }

  /**
   * The inputs of a synchronous flat call (see {@link Program.fillInputs}), stored in
   * `into[0..count)` with only the checks the engine does not make itself: the count, and numbers
   * (made one-element arrays). A typed array is passed as it is; the engine checks its dtype and
   * length, and when it refuses one, {@link Program.refused} repeats the checks here for the
   * message. Anything unusual takes the full checks at once: a plain array first (the engine
   * would read it as the array calling convention) or a number that does not fit its argument.
   */
  private placeInputs(values: readonly unknown[], count: number, into: unknown[]): void {
    const specs = this.args;
    if (count !== specs.length || Array.isArray(values[0])) return this.fillInputs(values, count, into);
    for (let i = 0; i < count; i++) {
      const v = values[i];
      if (typeof v !== 'number') {
        into[i] = v;
        continue;
      }
      const spec = specs[i]!;
      if (spec.shape.length !== 0 || (spec.dtype === 'int32' && !Number.isInteger(v))) return this.fillInputs(values, count, into);
      into[i] = new (arrayType(spec.dtype))([v]);
    }
  }

  /**
   * `options.out` of a synchronous flat call: its shape (an array of one array per output) is
   * checked here, each array's dtype and length by the engine ({@link Program.placeInputs}).
   */
  private quickOut(method: string, options: object, specs: readonly ArgSpec[]): readonly unknown[] | undefined {
    const out = (options as { out?: unknown }).out;
    return Array.isArray(out) && out.length === specs.length ? out : this.outArrays(method, options, specs);
  }

  /**
   * The error of a synchronous flat call the engine refused: the checks of the inputs and `out`
   * arrays are made here, in order, so a bad array is reported as before ("input 1: expected a
   * Float64Array ..."); if they pass, the engine's own error.
   */
  private refused(method: string, kind: ProgramKind, err: unknown, values: readonly unknown[], count: number, options: object | undefined, specs: readonly ArgSpec[]): Error {
    this.fillInputs(values, count, new Array<unknown>(count));
    if (options !== undefined) this.outArrays(method, options, specs);
    return this.failure(Program.rethrow(method, err, kind === 'forward' ? 0 : 1), kind);
  }

  /**
   * The `out` arrays of a synchronous call, checked against `specs` (one per output: dtype and
   * length). The engine refuses arrays that share memory with an input or with each other
   * (see {@link Program.rethrow}).
   */
  private outArrays(method: string, options: object, specs: readonly ArgSpec[]): DataArray[] | undefined {
    const out = (options as { out?: unknown }).out;
    if (out === undefined) return undefined;
    const what = specs.length === 1 ? 'one typed array' : `${specs.length} typed arrays`;
    if (!Array.isArray(out) || out.length !== specs.length) {
      throw new WengertRangeError('WENGERT_OUTPUT_SPEC', `p.${method}: options.out must be an array of ${what}, got ${Array.isArray(out) ? `${out.length}` : describeValue(out)}`);
    }
    for (let k = 0; k < specs.length; k++) {
      const spec = specs[k]!;
      const o: unknown = out[k];
      if (dtypeOf(o) !== spec.dtype) {
        throw new WengertTypeError('WENGERT_OUTPUT_SPEC', `p.${method}: options.out[${k}] must be a ${arrayType(spec.dtype).name} (${spec.dtype}, shape ${fmt(spec.shape)}), got ${describeValue(o)}`);
      }
      const size = spec.shape.length === 0 ? 1 : sizeOf(spec.shape);
      if ((o as DataArray).length !== size) {
        throw new WengertRangeError('WENGERT_OUTPUT_SPEC', `p.${method}: options.out[${k}] must have ${size} elements (shape ${fmt(spec.shape)}), got ${(o as DataArray).length}`);
      }
    }
    return out as DataArray[];
  }

  /**
   * An engine error of a synchronous call as a wengert error; the engine's "output k shares memory
   * with ..." names the caller's `options.out[k - firstOut]` instead (outputs before `firstOut`
   * are wengert's own arrays).
   */
  private static rethrow(method: string, err: unknown, firstOut: number): Error {
    const e = fromNative(err);
    const m = /^output (\d+) shares memory with (input|output) (\d+)/.exec(e.message);
    if (m === null) return e;
    const other = m[2] === 'input' ? `input ${m[3]}` : `options.out[${Number(m[3]) - firstOut}]`;
    return new WengertError('WENGERT_INVALID_ARGUMENT', `p.${method}: options.out[${Number(m[1]) - firstOut}] shares memory with ${other}; pass separate arrays`);
  }

  private gradOutputs(): FloatArray[] {
    return [new (arrayType(this.outputDtype as FloatDType))(1), ...this.wrt.map((i) => resultArray(this.args[i]!.dtype as FloatDType, sizeOf(this.args[i]!.shape)))];
  }

  /**
   * Evaluate the function (no derivatives). Returns a number for a scalar output, else a typed
   * array of the output's dtype (Float64Array, Float32Array or Int32Array) in row-major order.
   *
   * A trailing {@link RunOptions} object `{ out: [array] }` makes the output go into the caller's
   * typed array (the output's dtype and size, 1 for a scalar output) instead of a new one, so a
   * loop of calls allocates nothing; the result is then that array (the number, for a scalar output).
   *
   * @example
   * ```ts
   * const p = wg.compile((x) => wg.mul(x, 2), { args: [wg.f64([3])] });
   * const y = new Float64Array(3);
   * p.run(new Float64Array([1, 2, 3]), { out: [y] }); // y is [2, 4, 6]
   * ```
   */
  run(...inputs: InputValue[]): number | DataArray;
  run(...inputsAndOptions: [...InputValue[], RunOptions]): number | DataArray;
  run(...inputsAndOptions: (InputValue | RunOptions)[]): number | DataArray {
    const program = this.forwardProgram ?? this.native('forward');
    let n = inputsAndOptions.length;
    const options = trailingOptions<RunOptions & ValueAndGradOptions>(inputsAndOptions);
    if (options !== undefined) n--;
    const call = (this.forwardCall ??= new Array<DataArray | undefined>(this.args.length + 1));
    let result: DataArray;
    try {
      if (this.checks(options)) {
        this.fillInputs(inputsAndOptions, n, call);
        result = (options && this.outArrays('run', options, this.outputSpecs)?.[0]) ?? resultArray(this.outputDtype, this.outputSize);
        try {
          program.run(call.slice(0, n) as DataArray[], [result], CHECK_FINITE);
        } catch (err) {
          throw this.failure(Program.rethrow('run', err, 0), 'forward');
        }
      } else {
        this.placeInputs(inputsAndOptions, n, call);
        const out = options && this.quickOut('run', options, this.outputSpecs);
        // out[0] as given, even undefined: the engine refuses what is not the right typed array.
        // A scalar output is returned as a number, so its array is never handed out: reused.
        result =
          out !== undefined ? (out[0] as DataArray)
          : this.outputShape.length === 0 ? (this.resultScratch ??= new (arrayType(this.outputDtype))(1))
          : resultArray(this.outputDtype, this.outputSize);
        call[n] = result;
        try {
          runFlat(program, call);
        } catch (err) {
          throw this.refused('run', 'forward', err, inputsAndOptions, n, options, this.outputSpecs);
        }
      }
    } finally {
      for (let i = 0; i < call.length; i++) call[i] = undefined;
    }
    return this.outputShape.length === 0 ? result[0]! : result;
  }

  /**
   * The value and its gradient with respect to each `wrt` argument, computed by reverse mode.
   *
   * A trailing {@link ValueAndGradOptions} object `{ out: grads }` makes the gradients go into the
   * caller's typed arrays (one per `wrt` argument, its dtype and size) instead of new ones, so a
   * loop of calls allocates only the small result object; `grads` in the result is then `out`.
   *
   * @example
   * ```ts
   * const p = wg.compile((x) => wg.sum(wg.square(x)), { args: [wg.f64([2])] });
   * const g = new Float64Array(2);
   * const { value } = p.valueAndGrad(new Float64Array([1, 2]), { out: [g] }); // value 5, g is [2, 4]
   * ```
   */
  valueAndGrad(...inputs: InputValue[]): ValueAndGrad;
  valueAndGrad(...inputsAndOptions: [...InputValue[], ValueAndGradOptions]): ValueAndGrad;
  valueAndGrad(...inputsAndOptions: (InputValue | ValueAndGradOptions)[]): ValueAndGrad {
    const program = this.gradProgram ?? this.native('valueAndGrad');
    let n = inputsAndOptions.length;
    const options = trailingOptions<RunOptions & ValueAndGradOptions>(inputsAndOptions);
    if (options !== undefined) n--;
    const nIn = this.args.length;
    const nWrt = this.wrt.length;
    const call = (this.gradCall ??= new Array<DataArray | undefined>(nIn + 1 + nWrt));
    const value = (this.valueScratch ??= new (arrayType(this.outputDtype as FloatDType))(1));
    let grads: FloatArray[];
    try {
      const checks = this.checks(options);
      if (checks) this.fillInputs(inputsAndOptions, n, call);
      else this.placeInputs(inputsAndOptions, n, call);
      const specs = options && (this.wrtSpecList ??= this.wrtSpecs());
      grads = ((options && (checks ? this.outArrays('valueAndGrad', options, specs!) : this.quickOut('valueAndGrad', options, specs!))) as FloatArray[] | undefined) ?? this.wrtArrays();
      call[nIn] = value;
      for (let k = 0; k < nWrt; k++) call[nIn + 1 + k] = grads[k];
      try {
        if (checks) program.run(call.slice(0, nIn) as DataArray[], call.slice(nIn) as DataArray[], CHECK_FINITE);
        else runFlat(program, call);
      } catch (err) {
        if (checks) throw this.failure(Program.rethrow('valueAndGrad', err, 1), 'valueAndGrad');
        throw this.refused('valueAndGrad', 'valueAndGrad', err, inputsAndOptions, n, options, (this.wrtSpecList ??= this.wrtSpecs()));
      }
    } finally {
      for (let i = 0; i < call.length; i++) call[i] = undefined;
    }
    return { value: value[0]!, grads };
  }

  /**
   * As {@link Program.valueAndGrad}, computed on the engine's threads: the event loop keeps
   * running meanwhile. The inputs are copied before it returns; a trailing `{ signal }` aborts it.
   *
   * @example
   * ```ts
   * const ac = new AbortController();
   * const { value, grads } = await p.valueAndGradAsync(w, X, y, { signal: ac.signal });
   * ```
   */
  async valueAndGradAsync(...inputsAndOptions: [...InputValue[], AsyncOptions] | InputValue[]): Promise<ValueAndGrad> {
    const { inputs, options } = splitOptions<AsyncOptions>(inputsAndOptions);
    const args = this.inputs(inputs);
    const program = this.native('valueAndGrad');
    const outs = this.gradOutputs();
    await this.onPool('valueAndGrad', program, args, outs, options);
    return { value: outs[0]![0]!, grads: outs.slice(1) };
  }

  /**
   * As {@link Program.run}, computed on the engine's threads. The inputs are copied before it
   * returns; a trailing `{ signal }` aborts it.
   */
  async runAsync(...inputsAndOptions: [...InputValue[], AsyncOptions] | InputValue[]): Promise<number | DataArray> {
    const { inputs, options } = splitOptions<AsyncOptions>(inputsAndOptions);
    const args = this.inputs(inputs);
    const program = this.native('forward');
    const out = new (arrayType(this.outputDtype))(sizeOf(this.outputShape));
    await this.onPool('forward', program, args, [out], options);
    return this.outputShape.length === 0 ? out[0]! : out;
  }

  /**
   * Directions for a transform, checked as inputs are: one per spec, a typed array of the spec's
   * dtype and size, or a number for a scalar spec. `what` names them in messages.
   */
  private directions(values: unknown, specs: readonly ArgSpec[], what: string, names: (k: number) => string): FloatArray[] {
    if (!Array.isArray(values) || values.length !== specs.length) {
      const got = Array.isArray(values) ? `${values.length}` : describeValue(values);
      throw new WengertRangeError('WENGERT_INPUT_COUNT', `expected an array of ${specs.length} ${what}${specs.length === 1 ? '' : 's'} (${names(-1)}), got ${got}`);
    }
    return values.map((v: unknown, k) => {
      const spec = specs[k]!;
      const size = sizeOf(spec.shape);
      const type = arrayType(spec.dtype as FloatDType);
      if (typeof v === 'number') {
        if (spec.shape.length !== 0) {
          throw new WengertTypeError('WENGERT_INPUT_DTYPE', `${what} ${k} (${names(k)}): a number was passed for shape ${fmt(spec.shape)}; pass a ${type.name} of ${size} elements`);
        }
        return new type([v]);
      }
      if (dtypeOf(v) !== spec.dtype) {
        throw new WengertTypeError('WENGERT_INPUT_DTYPE', `${what} ${k} (${names(k)}): expected a ${type.name} (${spec.dtype}, shape ${fmt(spec.shape)}), got ${describeValue(v)}`);
      }
      const arr = v as FloatArray;
      if (arr.length !== size) {
        throw new WengertRangeError('WENGERT_INPUT_LENGTH', `${what} ${k} (${names(k)}): expected ${size} elements (shape ${fmt(spec.shape)}), got ${arr.length}`);
      }
      return arr;
    });
  }

  private wrtName = (k: number): string => (k < 0 ? `one per wrt argument [${this.wrt.join(', ')}]` : `of argument ${this.wrt[k]}`);

  private outputArray(): FloatArray {
    return resultArray(this.outputDtype as FloatDType, sizeOf(this.outputShape));
  }

  private wrtArrays(): FloatArray[] {
    const wrt = this.wrt;
    const arrays = new Array<FloatArray>(wrt.length);
    for (let k = 0; k < wrt.length; k++) {
      const i = wrt[k]!;
      arrays[k] = resultArray(this.args[i]!.dtype as FloatDType, this.argSizes[i]!);
    }
    return arrays;
  }

  private shaped(out: FloatArray): number | FloatArray {
    return this.outputShape.length === 0 ? out[0]! : out;
  }

  private prepareJvp(inputs: readonly InputValue[], tangents: readonly DirectionValue[]): { args: DataArray[]; program: NativeProgram; outs: FloatArray[] } {
    const args = this.inputs(inputs);
    this.requireFloatOutput('p.jvp');
    const ts = this.directions(tangents, this.wrtSpecs(), 'tangent', this.wrtName);
    return { args: [...args, ...ts], program: this.native('jvp'), outs: [this.outputArray(), this.outputArray()] };
  }

  /**
   * Forward mode: the value and the directional derivative J·t of the output, for one tangent per
   * `wrt` argument (of its dtype and shape), without a reverse sweep. The JVP program is compiled on
   * first use and cached.
   *
   * @example
   * ```ts
   * const p = wg.compile((x) => wg.sin(x), { args: [wg.f64([2])] });
   * p.jvp([new Float64Array([0, 1])], [new Float64Array([1, 0])]); // { value: [0, sin 1], tangent: [1, 0] }
   * ```
   */
  jvp(inputs: readonly InputValue[], tangents: readonly DirectionValue[], options?: RunCheckOptions): JvpResult {
    const { args, program, outs } = this.prepareJvp(inputs, tangents);
    try {
      program.run(args, outs, this.runOptions(options));
    } catch (err) {
      throw this.failure(err, 'jvp');
    }
    return { value: this.shaped(outs[0]!), tangent: this.shaped(outs[1]!) };
  }

  /** As {@link Program.jvp}, computed on the engine's threads (inputs and tangents copied before it returns; `options.signal` aborts it). */
  async jvpAsync(inputs: readonly InputValue[], tangents: readonly DirectionValue[], options?: AsyncOptions): Promise<JvpResult> {
    const { args, program, outs } = this.prepareJvp(inputs, tangents);
    await this.onPool('jvp', program, args, outs, options);
    return { value: this.shaped(outs[0]!), tangent: this.shaped(outs[1]!) };
  }

  private prepareVjp(inputs: readonly InputValue[], cotangent: DirectionValue): { args: DataArray[]; program: NativeProgram; outs: FloatArray[] } {
    const args = this.inputs(inputs);
    this.requireFloatOutput('p.vjp');
    const spec = { dtype: this.outputDtype, shape: this.outputShape };
    const [ct] = this.directions([cotangent], [spec], 'cotangent', (k) => (k < 0 ? 'one' : `of the output`));
    return { args: [...args, ct!], program: this.native('vjp'), outs: [this.outputArray(), ...this.wrtArrays()] };
  }

  /**
   * Reverse mode for any output shape: the value and the vector-Jacobian products uᵀ·J with respect
   * to each `wrt` argument, for a cotangent u of the output's dtype and shape (a number for a
   * scalar output). Compiled on first use and cached.
   *
   * @example
   * ```ts
   * const p = wg.compile((x) => wg.mul(x, x), { args: [wg.f64([2])] });
   * p.vjp([new Float64Array([1, 2])], new Float64Array([1, 1])); // { value: [1, 4], grads: [[2, 4]] }
   * ```
   */
  vjp(inputs: readonly InputValue[], cotangent: DirectionValue, options?: RunCheckOptions): VjpResult {
    const { args, program, outs } = this.prepareVjp(inputs, cotangent);
    try {
      program.run(args, outs, this.runOptions(options));
    } catch (err) {
      throw this.failure(err, 'vjp');
    }
    return { value: this.shaped(outs[0]!), grads: outs.slice(1) };
  }

  /** As {@link Program.vjp}, computed on the engine's threads (inputs and cotangent copied before it returns; `options.signal` aborts it). */
  async vjpAsync(inputs: readonly InputValue[], cotangent: DirectionValue, options?: AsyncOptions): Promise<VjpResult> {
    const { args, program, outs } = this.prepareVjp(inputs, cotangent);
    await this.onPool('vjp', program, args, outs, options);
    return { value: this.shaped(outs[0]!), grads: outs.slice(1) };
  }

  private prepareHvp(inputs: readonly InputValue[], v: readonly DirectionValue[]): { args: DataArray[]; program: NativeProgram; outs: FloatArray[] } {
    const args = this.inputs(inputs);
    if (this.outputShape.length !== 0) {
      throw new WengertError('WENGERT_NOT_SCALAR', `p.hvp needs a scalar output, but the traced function returned shape ${fmt(this.outputShape)}; reduce it (wg.sum, wg.mean)`);
    }
    this.requireFloatOutput('p.hvp');
    const vs = this.directions(v, this.wrtSpecs(), 'direction', this.wrtName);
    return { args: [...args, ...vs], program: this.native('hvp'), outs: [this.outputArray(), ...this.wrtArrays(), ...this.wrtArrays()] };
  }

  private hvpResult(outs: FloatArray[]): HvpResult {
    const n = this.wrt.length;
    return { value: outs[0]![0]!, grad: outs.slice(1, 1 + n), hvp: outs.slice(1 + n) };
  }

  /**
   * The exact Hessian-vector product H·v of a scalar function (forward over reverse: the JVP of the
   * gradient program), with the value and gradient, for `v` with one entry per `wrt` argument (its
   * dtype and shape). Costs a small multiple of {@link Program.valueAndGrad}; compiled on first use.
   *
   * @example
   * ```ts
   * const p = wg.compile((x) => wg.sum(wg.mul(x, wg.mul(x, x))), { args: [wg.f64([2])] });
   * p.hvp([new Float64Array([1, 2])], [new Float64Array([1, 1])]); // hvp: [[6, 12]] (H = diag(6x))
   * ```
   */
  hvp(inputs: readonly InputValue[], v: readonly DirectionValue[], options?: RunCheckOptions): HvpResult {
    const { args, program, outs } = this.prepareHvp(inputs, v);
    try {
      program.run(args, outs, this.runOptions(options));
    } catch (err) {
      throw this.failure(err, 'hvp');
    }
    return this.hvpResult(outs);
  }

  /** As {@link Program.hvp}, computed on the engine's threads (inputs and directions copied before it returns; `options.signal` aborts it). */
  async hvpAsync(inputs: readonly InputValue[], v: readonly DirectionValue[], options?: AsyncOptions): Promise<HvpResult> {
    const { args, program, outs } = this.prepareHvp(inputs, v);
    await this.onPool('hvp', program, args, outs, options);
    return this.hvpResult(outs);
  }

  /** Outputs of the dense transforms: jacobian* [value, J]; hessian [value, ...grads, H]. No extra arguments. */
  private serializedDense(kind: 'jacobianForward' | 'jacobianReverse' | 'hessian'): Uint8Array {
    const wrt = this.wrtNodes();
    if (kind === 'hessian') {
      const { grads, hessian } = hessianNodes(this.graph, this.output, wrt);
      return this.write(kind, [this.output, ...grads, hessian]);
    }
    return this.write(kind, [this.output, jacobianNode(this.graph, this.output, wrt, kind === 'jacobianForward' ? 'forward' : 'reverse')]);
  }

  private wrtSize(): number {
    return this.wrt.reduce((acc, i) => acc + sizeOf(this.args[i]!.shape), 0);
  }

  /** The Jacobian mode chosen when none is given: `forward` when the `wrt` elements are no more than the output elements, else `reverse`. */
  jacobianMode(): JacobianMode {
    return chooseJacobianMode(this.wrtSize(), sizeOf(this.outputShape));
  }

  private prepareJacobian(inputsAndOptions: readonly (InputValue | JacobianOptions)[]): { args: DataArray[]; program: NativeProgram; outs: FloatArray[]; mode: JacobianMode; options: JacobianOptions } {
    const given = trailingOptions<JacobianOptions>(inputsAndOptions);
    const options = given ?? {};
    const args = this.inputs(given !== undefined ? inputsAndOptions.slice(0, -1) : inputsAndOptions);
    if (options.mode !== undefined && options.mode !== 'forward' && options.mode !== 'reverse') {
      throw new WengertError('WENGERT_INVALID_ARGUMENT', `p.jacobian: options.mode must be 'forward' or 'reverse', got ${JSON.stringify(options.mode)}`);
    }
    this.requireFloatOutput('p.jacobian');
    const rows = sizeOf(this.outputShape);
    const cols = this.wrtSize();
    if (rows === 0 || cols === 0) {
      throw new WengertError('WENGERT_INVALID_ARGUMENT', `p.jacobian: the Jacobian is empty (${rows} output and ${cols} wrt elements); compile with a non-empty output and wrt`);
    }
    const mode = options.mode ?? this.jacobianMode();
    const program = this.native(mode === 'forward' ? 'jacobianForward' : 'jacobianReverse');
    return { args, program, outs: [this.outputArray(), new (arrayType(this.outputDtype as FloatDType))(rows * cols)], mode, options };
  }

  private jacobianResult(outs: FloatArray[], mode: JacobianMode): JacobianResult {
    return { value: this.shaped(outs[0]!), jacobian: outs[1]!, rows: sizeOf(this.outputShape), cols: this.wrtSize(), mode };
  }

  /**
   * The value and the dense Jacobian of the output with respect to the `wrt` arguments, all
   * directions in one run of one program (vector mode): forward mode batches the JVP over the n
   * unit tangents, reverse mode the VJP over the m unit cotangents. The mode with fewer directions
   * is chosen (see {@link Program.jacobianMode}); a trailing options object `{ mode }` overrides it.
   * Each mode's program is compiled on first use and cached.
   *
   * @example
   * ```ts
   * const p = wg.compile((x) => wg.mul(x, x), { args: [wg.f64([2])] });
   * p.jacobian(new Float64Array([1, 2]));                       // jacobian [2, 0, 0, 4], mode 'forward'
   * p.jacobian(new Float64Array([1, 2]), { mode: 'reverse' });  // the same, by reverse mode
   * ```
   */
  jacobian(...inputsAndOptions: (InputValue | JacobianOptions)[]): JacobianResult {
    const { args, program, outs, mode, options } = this.prepareJacobian(inputsAndOptions);
    try {
      program.run(args, outs, this.runOptions(options));
    } catch (err) {
      throw this.failure(err, mode === 'forward' ? 'jacobianForward' : 'jacobianReverse');
    }
    return this.jacobianResult(outs, mode);
  }

  /** As {@link Program.jacobian}, computed on the engine's threads (inputs copied before it returns; a trailing `{ mode, signal }` chooses the mode and aborts it). */
  async jacobianAsync(...inputsAndOptions: (InputValue | JacobianAsyncOptions)[]): Promise<JacobianResult> {
    const { args, program, outs, mode, options } = this.prepareJacobian(inputsAndOptions);
    await this.onPool(mode === 'forward' ? 'jacobianForward' : 'jacobianReverse', program, args, outs, { signal: (options as JacobianAsyncOptions).signal, checkFinite: options.checkFinite });
    return this.jacobianResult(outs, mode);
  }

  private prepareHessian(inputs: readonly InputValue[]): { args: DataArray[]; program: NativeProgram; outs: FloatArray[] } {
    const args = this.inputs(inputs);
    if (this.outputShape.length !== 0) {
      throw new WengertError('WENGERT_NOT_SCALAR', `p.hessian needs a scalar output, but the traced function returned shape ${fmt(this.outputShape)}; reduce it (wg.sum, wg.mean), or use p.jacobian`);
    }
    this.requireFloatOutput('p.hessian');
    const n = this.wrtSize();
    if (n === 0) throw new WengertError('WENGERT_INVALID_ARGUMENT', 'p.hessian: there are no wrt elements to differentiate with respect to');
    return { args, program: this.native('hessian'), outs: [this.outputArray(), ...this.wrtArrays(), new (arrayType(this.outputDtype as FloatDType))(n * n)] };
  }

  private hessianResult(outs: FloatArray[]): HessianResult {
    const k = this.wrt.length;
    return { value: outs[0]![0]!, grad: outs.slice(1, 1 + k), hessian: outs[1 + k]!, size: this.wrtSize() };
  }

  /**
   * The value, gradient and dense Hessian of a scalar function with respect to the `wrt` arguments
   * (flattened and concatenated): the Hessian-vector product (forward over reverse) batched over
   * the n unit directions, in one run. Compiled on first use and cached.
   *
   * @example
   * ```ts
   * const p = wg.compile((x) => wg.sum(wg.mul(x, wg.mul(x, x))), { args: [wg.f64([2])] });
   * p.hessian(new Float64Array([1, 2])); // hessian [6, 0, 0, 12]
   * ```
   */
  hessian(...inputsAndOptions: [...InputValue[], RunCheckOptions] | InputValue[]): HessianResult {
    const { inputs, options } = splitOptions<RunCheckOptions>(inputsAndOptions);
    const { args, program, outs } = this.prepareHessian(inputs);
    try {
      program.run(args, outs, this.runOptions(options));
    } catch (err) {
      throw this.failure(err, 'hessian');
    }
    return this.hessianResult(outs);
  }

  /** As {@link Program.hessian}, computed on the engine's threads (inputs copied before it returns; a trailing `{ signal }` aborts it). */
  async hessianAsync(...inputsAndOptions: [...InputValue[], AsyncOptions] | InputValue[]): Promise<HessianResult> {
    const { inputs, options } = splitOptions<AsyncOptions>(inputsAndOptions);
    const { args, program, outs } = this.prepareHessian(inputs);
    await this.onPool('hessian', program, args, outs, options);
    return this.hessianResult(outs);
  }

  /** Bytes of working memory per run. */
  memory(): MemoryReport {
    return {
      arenaBytes: this.gradProgram?.arenaBytes() ?? 0,
      forwardArenaBytes: this.forwardProgram?.arenaBytes() ?? 0,
    };
  }

  /**
   * Free the native programs now (not waiting for garbage collection); any later call throws
   * `WENGERT_DISPOSED` (an asynchronous one rejects with it). Calls already in flight finish
   * normally: each holds the compiled program until it settles. Idempotent.
   */
  dispose(): void {
    this.disposed = true;
    this.forwardProgram?.dispose();
    this.gradProgram?.dispose();
    this.forwardProgram = undefined;
    this.gradProgram = undefined;
    for (const p of this.transformPrograms.values()) p.dispose();
    this.transformPrograms.clear();
  }
}

/** `program.run(...arrays)`: the common small counts called directly, no spread of the list. */
function runFlat(program: NativeProgram, a: readonly (DataArray | undefined)[]): void {
  const x = a as readonly DataArray[];
  switch (x.length) {
    case 2:
      return program.run(x[0]!, x[1]!);
    case 3:
      return program.run(x[0]!, x[1]!, x[2]!);
    case 4:
      return program.run(x[0]!, x[1]!, x[2]!, x[3]!);
    case 5:
      return program.run(x[0]!, x[1]!, x[2]!, x[3]!, x[4]!);
    default:
      return Reflect.apply(program.run, program, x) as void;
  }
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? ((v as object).constructor?.name ?? 'an object') : typeof v;
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
  const maxArenaBytes = options.maxArenaBytes ?? defaultMaxArenaBytes();
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
  const checkFinite = options.checkFinite ?? false;
  if (typeof checkFinite !== 'boolean') {
    throw new WengertError('WENGERT_INVALID_ARGUMENT', `wg.compile: options.checkFinite must be a boolean, got ${describeValue(checkFinite)}`);
  }
  const program = new Program(graph, output, inputNodes, wrt, maxArenaBytes, checkFinite, fn);
  if (output.shape.length === 0 && wrt.length > 0 && isFloat(output.dtype)) program.prepareGradient();
  return program;
}
