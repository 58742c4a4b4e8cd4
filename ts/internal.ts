/**
 * Internals for wengert's own tests and tools; not part of the public API and not exported from
 * the package entry point.
 */
import type { Program } from './program.js';
export { nativeBinding } from './native.js';
export type { NativeBinding, NativeProgram } from './native.js';
export { OPS } from './generated/ops.js';
export { opsMissingRules } from './autodiff.js';
export { opsMissingJvpRules } from './forward.js';
export { crc32 } from './serialize.js';

/** The bytes the engine receives for `program`. */
export function serializeProgram(program: Program, kind: Parameters<Program['serialized']>[0]): Uint8Array {
  return program.serialized(kind);
}
