/**
 * Every error wengert throws carries a stable `code` (`WENGERT_…`), listed with its cause and fix
 * in docs/ERRORS.md. `err instanceof WengertError` is true for all of them, including the
 * `TypeError`/`RangeError` subclasses used for bad run-time inputs and the {@link AbortError} of an
 * aborted asynchronous call:
 *
 * ```
 * Error
 * ├── WengertError           (code: any WENGERT_… code)
 * │   └── AbortError         (code: WENGERT_ABORTED, name: 'AbortError')
 * ├── TypeError
 * │   └── WengertTypeError   (instanceof WengertError too)
 * └── RangeError
 *     └── WengertRangeError  (instanceof WengertError too)
 * ```
 */

/** The stable error codes. */
export type ErrorCode =
  | 'WENGERT_SHAPE_MISMATCH'
  | 'WENGERT_DTYPE_MISMATCH'
  | 'WENGERT_INVALID_ARGUMENT'
  | 'WENGERT_TRACE'
  | 'WENGERT_NOT_SCALAR'
  | 'WENGERT_INPUT_COUNT'
  | 'WENGERT_INPUT_LENGTH'
  | 'WENGERT_INPUT_DTYPE'
  | 'WENGERT_OUTPUT_SPEC'
  | 'WENGERT_BAD_GRAPH'
  | 'WENGERT_ARENA_LIMIT'
  | 'WENGERT_OUT_OF_MEMORY'
  | 'WENGERT_DISPOSED'
  | 'WENGERT_INDEX_OUT_OF_RANGE'
  | 'WENGERT_ABORTED'
  | 'WENGERT_NON_FINITE'
  | 'WENGERT_NATIVE_LOAD'
  | 'WENGERT_INTERNAL';

function isCoded(value: unknown): value is Error & { code: string } {
  if (!(value instanceof Error)) return false;
  const code: unknown = (value as Error & { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('WENGERT_');
}

/** The base class of wengert's errors. `instanceof WengertError` matches every coded wengert error. */
export class WengertError extends Error {
  /** The stable error code. */
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'WengertError';
    this.code = code;
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isCoded(value);
  }
}

/**
 * An asynchronous call whose `AbortSignal` fired (before it started or while it ran). Its `name` is
 * `'AbortError'`, as for the platform's own aborted operations, and its `code` `WENGERT_ABORTED`;
 * `instanceof WengertError` is true. The work stopped at a safe point and its memory was returned.
 */
export class AbortError extends WengertError {
  constructor(message = 'the operation was aborted') {
    super('WENGERT_ABORTED', message);
    this.name = 'AbortError';
  }
  /** Matches only instances of this class (not every coded error, as WengertError does). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return Function.prototype[Symbol.hasInstance].call(AbortError, value);
  }
}

/** A value of the wrong type or dtype was passed (for example a Float32Array for a float64 argument). */
export class WengertTypeError extends TypeError {
  /** The stable error code. */
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'WengertTypeError';
    this.code = code;
  }
}

/** A count or length is out of range (for example an input array of the wrong length). */
export class WengertRangeError extends RangeError {
  /** The stable error code. */
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'WengertRangeError';
    this.code = code;
  }
}

const TYPE_CODES = new Set<string>(['WENGERT_INPUT_DTYPE']);
const RANGE_CODES = new Set<string>(['WENGERT_INPUT_COUNT', 'WENGERT_INPUT_LENGTH', 'WENGERT_OUTPUT_SPEC', 'WENGERT_INDEX_OUT_OF_RANGE']);

/** Re-raise an error from the native engine as the matching wengert error class. */
export function fromNative(err: unknown): Error {
  if (isCoded(err)) {
    const code = err.code as ErrorCode;
    if (code === 'WENGERT_ABORTED') return new AbortError(err.message);
    if (TYPE_CODES.has(code)) return new WengertTypeError(code, err.message);
    if (RANGE_CODES.has(code)) return new WengertRangeError(code, err.message);
    return new WengertError(code, err.message);
  }
  if (err instanceof Error) return new WengertError('WENGERT_INTERNAL', `native engine: ${err.message}`);
  return new WengertError('WENGERT_INTERNAL', `native engine: ${String(err)}`);
}
