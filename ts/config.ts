/** `wg.configure`: process-wide settings of the engine. */
import { WengertError } from './errors.js';
import { nativeBinding } from './native.js';

/** Options of {@link configure}; an omitted field keeps its current value. */
export interface ConfigureOptions {
  /**
   * The engine's threads, an integer from 1 to 256 (default: the number of cores). They are
   * shared by the whole process (the main thread and every worker thread) and are never libuv's.
   * `threads` background threads run asynchronous calls, so at most `threads` of them run at
   * once (the rest wait in order); a large kernel splits its work over the calling thread and up
   * to `threads - 1` idle ones. With 1, one background thread runs the asynchronous calls one by
   * one and kernels run serially. Results are bit-identical for every value.
   */
  readonly threads?: number;
  /**
   * The default of {@link CompileOptions.maxArenaBytes} for later {@link compile} calls in this
   * thread (each worker thread has its own): a positive integer number of bytes (initially
   * 4 GiB). A program whose memory plan needs more fails to compile with `WENGERT_ARENA_LIMIT`.
   */
  readonly maxArenaBytes?: number;
}

/** The settings in force, as returned by {@link configure}. */
export interface Configuration {
  readonly threads: number;
  readonly maxArenaBytes: number;
}

const INITIAL_MAX_ARENA_BYTES = 4 * 1024 ** 3;
let maxArenaBytes = INITIAL_MAX_ARENA_BYTES;

/** @internal The default arena limit of compile(). */
export function defaultMaxArenaBytes(): number {
  return maxArenaBytes;
}

/**
 * Sets the engine's thread count and the default arena limit, validating both before changing
 * either; returns the settings now in force (`wg.configure()` only reads them). Invalid values
 * throw `WENGERT_INVALID_ARGUMENT`.
 *
 * @example
 * ```ts
 * wg.configure({ threads: 2, maxArenaBytes: 256 * 1024 ** 2 }); // 2 engine threads, 256 MiB per run
 * ```
 */
export function configure(options: ConfigureOptions = {}): Configuration {
  if (options === null || typeof options !== 'object') {
    throw new WengertError('WENGERT_INVALID_ARGUMENT', `wg.configure: options must be an object, got ${options === null ? 'null' : typeof options}`);
  }
  for (const key of Object.keys(options)) {
    if (key !== 'threads' && key !== 'maxArenaBytes') {
      throw new WengertError('WENGERT_INVALID_ARGUMENT', `wg.configure: unknown option ${JSON.stringify(key)} (known: threads, maxArenaBytes)`);
    }
  }
  const { threads, maxArenaBytes: limit } = options;
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1 && threads <= 256)) {
    throw new WengertError('WENGERT_INVALID_ARGUMENT', `wg.configure: threads must be an integer from 1 to 256, got ${String(threads)}`);
  }
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit > 0)) {
    throw new WengertError('WENGERT_INVALID_ARGUMENT', `wg.configure: maxArenaBytes must be a positive integer, got ${String(limit)}`);
  }
  const binding = nativeBinding();
  if (threads !== undefined) binding.setThreads(threads);
  if (limit !== undefined) maxArenaBytes = limit;
  return { threads: binding.threads(), maxArenaBytes };
}
