/**
 * The typed surface of the native addon (native/src/addon.cpp), so no untyped native value leaks
 * into the rest of the TypeScript. The addon is found by node-gyp-build: a prebuilt binary from
 * prebuilds/ when one matches, else the one built from source at install (build/Release).
 */
import { WengertError } from './errors.js';
import { packageRoot } from './callsite.js';
import loadAddon from 'node-gyp-build';

/** A typed array the engine reads as an input. */
export type NativeInput = Float64Array | Float32Array | Int32Array;
/** A typed array the engine writes an output into. */
export type NativeOutput = Float64Array | Float32Array | Int32Array;

/** Options of one native run. */
export interface NativeRunOptions {
  /** Fail with WENGERT_NON_FINITE at the first input or step holding NaN or an infinity. */
  readonly checkFinite?: boolean;
}

/** A compiled, validated program held by the engine. */
export interface NativeProgram {
  /** Run synchronously, writing each output into the caller's array. */
  run(inputs: readonly NativeInput[], outputs: readonly NativeOutput[], options?: NativeRunOptions): void;
  /** The same, with the arrays as arguments (inputs, then outputs): no arrays to read per call. */
  run(...arrays: (NativeInput | NativeOutput)[]): void;
  /**
   * Run on the engine's thread pool. The inputs are copied before it returns; the outputs are
   * written when the promise settles (on this thread), so they must not be used until then.
   */
  runAsync(inputs: readonly NativeInput[], outputs: readonly NativeOutput[], options?: NativeJobOptions & NativeRunOptions): Promise<void>;
  /** Bytes of the program's arena (one per concurrent run). */
  arenaBytes(): number;
  /** Free the program now; later runs throw WENGERT_DISPOSED. */
  dispose(): void;
}

/** Options of an asynchronous native call (native/src/async_job.h). */
export interface NativeJobOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: { done: number; total: number }) => void;
}

/** An instruction set the engine's elementwise kernels can use (native/src/isa.h). */
export type NativeIsa = 'scalar' | 'sse2' | 'avx2' | 'avx512' | 'neon';

/** The instruction set chosen once, at load, from the CPU (or forced by WENGERT_ISA). */
export interface NativeIsaChoice {
  readonly isa: NativeIsa;
  /** The value of WENGERT_ISA, or null if it was not set. */
  readonly requested: string | null;
  /** Why the choice differs from the request (e.g. the CPU lacks it), or ''. */
  readonly note: string;
}

/** One problem of an optimizer call (ts/optim.ts): its position, start, data and weights. */
export interface NativeFitProblem {
  readonly index: number;
  readonly x0: Float64Array;
  readonly data: readonly NativeInput[];
  readonly weights: Float64Array | null;
}

/**
 * Problems sharing one data shape and so one pair of serialized programs taking (x, ...data):
 * minimize: main [value, grad], aux (newton only) [value, grad, hessian];
 * leastSquares: main [residuals, jacobian], aux [residuals].
 */
export interface NativeFitGroup {
  readonly main: Uint8Array;
  readonly aux: Uint8Array | null;
  readonly problems: readonly NativeFitProblem[];
}

/** Options of an optimizer call, shared by all its problems; absent fields keep the native defaults. */
export interface NativeFitOptions {
  readonly kind: 'minimize' | 'leastSquares';
  readonly method?: 'lbfgs' | 'newton' | 'adam';
  readonly loss?: 'linear' | 'huber' | 'cauchy';
  readonly lower?: Float64Array;
  readonly upper?: Float64Array;
  readonly maxIterations?: number;
  readonly maxEvaluations?: number;
  readonly gtol?: number;
  readonly ftol?: number;
  readonly xtol?: number;
  readonly memory?: number;
  readonly lr?: number;
  readonly steps?: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
  readonly fScale?: number;
  readonly maxArenaBytes?: number;
}

/** One problem's result from the engine (leastSquares adds the statistics). */
export interface NativeFitResult {
  readonly x: Float64Array;
  readonly value: number;
  readonly grad: Float64Array;
  readonly iterations: number;
  readonly evaluations: number;
  readonly status: 'gradient-tolerance' | 'step-tolerance' | 'function-tolerance' | 'max-iterations' | 'max-evaluations' | 'non-finite' | 'aborted' | 'failed';
  readonly message: string;
  readonly cost?: number;
  readonly residuals?: Float64Array;
  readonly jacobian?: Float64Array;
  readonly covariance?: Float64Array;
  readonly stdErrors?: Float64Array;
}

/** The addon's exports. */
export interface NativeBinding {
  readonly formatVersion: number;
  opNames(): string[];
  compile(graph: Uint8Array, maxArenaBytes: number): NativeProgram;
  isa(): NativeIsaChoice;
  /** The instruction sets this build and CPU support, best first. */
  isaAvailable(): NativeIsa[];
  /** Sets the engine's process-wide thread count (an integer in [1, 256]). */
  setThreads(n: number): void;
  /** The engine's thread count. */
  threads(): number;
  /** For tests: compiled programs alive in the process (all threads). */
  livePrograms(): number;
  /** For the soak test: bytes in use in the C allocator's heap (glibc's mallinfo2), or -1 where unknown. */
  mallocInUse(): number;
  /** For tests: a job reporting progress `steps` times, `us` µs apart, resolving with `steps`. */
  testProgressJob(steps: number, us: number, options?: NativeJobOptions): Promise<number>;
  /** Runs the optimizer of every problem (in parallel) and returns one result per problem index. */
  optimFit(groups: readonly NativeFitGroup[], options: NativeFitOptions): NativeFitResult[];
  /** As optimFit, off the JavaScript thread; `job` carries { signal, onProgress }. */
  optimFitAsync(groups: readonly NativeFitGroup[], options: NativeFitOptions, job: { readonly signal?: AbortSignal; readonly onProgress?: (p: { done: number; total: number }) => void }): Promise<NativeFitResult[]>;
}

let binding: NativeBinding | undefined;

/** The loaded addon (loaded on first use). */
export function nativeBinding(): NativeBinding {
  if (binding === undefined) {
    try {
      binding = loadAddon(packageRoot()) as NativeBinding;
    } catch (err) {
      throw new WengertError(
        'WENGERT_NATIVE_LOAD',
        `the wengert native engine could not be loaded (${err instanceof Error ? err.message : String(err)}); ` +
          'reinstall the package so that it builds from source (needs python3, make and a C++20 compiler) or use a platform with a prebuilt binary',
      );
    }
  }
  return binding;
}
