/** A floating-point element type. float64 is the default; float32 is opt-in. */
export type FloatDType = 'float64' | 'float32';

/**
 * An element type. Arithmetic is on float dtypes; int32 tensors hold indices (for `gather`,
 * `oneHot`, `scatterAdd`) and results such as `argmax`.
 */
export type DType = FloatDType | 'int32';

/** The typed array that holds values of a float dtype. */
export type FloatArray = Float64Array | Float32Array;

/** The typed array that holds values of any dtype. */
export type DataArray = Float64Array | Float32Array | Int32Array;

/** The typed array constructor for a dtype. */
export function arrayType(dtype: FloatDType): Float64ArrayConstructor | Float32ArrayConstructor;
export function arrayType(dtype: DType): Float64ArrayConstructor | Float32ArrayConstructor | Int32ArrayConstructor;
export function arrayType(dtype: DType): Float64ArrayConstructor | Float32ArrayConstructor | Int32ArrayConstructor {
  return dtype === 'float64' ? Float64Array : dtype === 'float32' ? Float32Array : Int32Array;
}

/** Typed arrays of at least this many bytes are allocated uninitialized by {@link resultArray}. */
const UNINITIALIZED_FROM_BYTES = 65536;

/**
 * A new typed array of `n` elements for a result that the engine writes in full before the
 * array is handed out (a failed call discards it). A large one is allocated uninitialized, so
 * a call does not first zero the memory the engine then overwrites; a small one stays an
 * ordinary (zeroed, possibly on-heap) typed array, which is cheaper to allocate.
 */
export function resultArray(dtype: FloatDType, n: number): Float64Array | Float32Array;
export function resultArray(dtype: DType, n: number): Float64Array | Float32Array | Int32Array;
export function resultArray(dtype: DType, n: number): Float64Array | Float32Array | Int32Array {
  const type = arrayType(dtype);
  const bytes = n * type.BYTES_PER_ELEMENT;
  if (bytes < UNINITIALIZED_FROM_BYTES) return new type(n);
  return new type(Buffer.allocUnsafeSlow(bytes).buffer, 0, n);
}

/** The dtype code used in the serialized format (docs/FORMAT.md). */
export function dtypeCode(dtype: DType): number {
  return dtype === 'float64' ? 0 : dtype === 'float32' ? 1 : 2;
}

/** The size in bytes of one element. */
export function dtypeSize(dtype: DType): number {
  return dtype === 'float64' ? 8 : 4;
}

// The getter of %TypedArray%.prototype[Symbol.toStringTag]: the element type name of a real typed
// array (of any realm), and undefined for anything else, including a Proxy around a typed array
// (which passes instanceof but whose length cannot be read) and objects that only claim the name.
const typedArrayName = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Int8Array.prototype) as object, Symbol.toStringTag)!.get!;

/** The dtype of a typed array, or undefined for anything else. */
export function dtypeOf(value: unknown): DType | undefined {
  switch (typedArrayName.call(value) as string | undefined) {
    case 'Float64Array': return 'float64';
    case 'Float32Array': return 'float32';
    case 'Int32Array': return 'int32';
    default: return undefined;
  }
}

/** True for the float dtypes. */
export function isFloat(dtype: DType): dtype is FloatDType {
  return dtype !== 'int32';
}
