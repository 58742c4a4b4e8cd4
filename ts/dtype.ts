/** A floating-point element type. float64 is the default; float32 is opt-in. */
export type DType = 'float64' | 'float32';

/** The typed array that holds values of a dtype. */
export type FloatArray = Float64Array | Float32Array;

/** The typed array constructor for a dtype. */
export function arrayType(dtype: DType): Float64ArrayConstructor | Float32ArrayConstructor {
  return dtype === 'float64' ? Float64Array : Float32Array;
}

/** The dtype code used in the serialized format (docs/FORMAT.md). */
export function dtypeCode(dtype: DType): number {
  return dtype === 'float64' ? 0 : 1;
}

/** The size in bytes of one element. */
export function dtypeSize(dtype: DType): number {
  return dtype === 'float64' ? 8 : 4;
}

/** The dtype of a typed array, or undefined for anything else. */
export function dtypeOf(value: unknown): DType | undefined {
  if (value instanceof Float64Array) return 'float64';
  if (value instanceof Float32Array) return 'float32';
  return undefined;
}
