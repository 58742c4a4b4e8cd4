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
  /** Run on a worker thread; the inputs and outputs must not be touched until it settles. */
  runAsync(inputs: readonly NativeInput[], outputs: readonly NativeOutput[], options?: NativeRunOptions): Promise<void>;
  /** Bytes of the program's arena (one per concurrent run). */
  arenaBytes(): number;
  /** Free the program now; later runs throw WENGERT_DISPOSED. */
  dispose(): void;
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

/** The addon's exports. */
export interface NativeBinding {
  readonly formatVersion: number;
  opNames(): string[];
  compile(graph: Uint8Array, maxArenaBytes: number): NativeProgram;
  isa(): NativeIsaChoice;
  /** The instruction sets this build and CPU support, best first. */
  isaAvailable(): NativeIsa[];
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
