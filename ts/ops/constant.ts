/** Constants inside a traced function. */
import { arrayType, dtypeOf, type DataArray, type DType } from '../dtype.js';
import { WengertError } from '../errors.js';
import { activeGraph } from '../graph.js';
import { userCallSite } from '../callsite.js';
import { argError, describe, shapeError } from './core.js';
import { broadcastTo } from './shape.js';
import { fmt, isShape, sizeOf, type Shape } from '../shape.js';
import { Tensor } from '../tensor.js';

// Constants

/**
 * A constant tensor inside a traced function. `data` is copied (later changes to the array do not
 * change the program); its dtype is the array's (an Int32Array gives int32 indices; a plain number
 * array or a number gives float64).
 * `shape` defaults to `[data.length]` (`[]` for a number).
 */
export function constant(data: DataArray | readonly number[] | number, shape?: Shape): Tensor {
  const graph = activeGraph('constant');
  if (typeof data === 'number') {
    if (shape !== undefined && shape.length !== 0) return broadcastTo(new Tensor(graph.scalar(data, 'float64'), graph), shape);
    return new Tensor(graph.scalar(data, 'float64'), graph);
  }
  const dtype: DType | undefined = Array.isArray(data) ? 'float64' : dtypeOf(data);
  if (dtype === undefined) {
    throw new WengertError(
      'WENGERT_INVALID_ARGUMENT',
      `wg.constant: data must be a Float64Array, a Float32Array, an Int32Array, an array of numbers or a number, got ${describe(data)} (at ${userCallSite()})`,
    );
  }
  const values = arrayType(dtype).from(data as ArrayLike<number>);
  const s = shape ?? [values.length];
  if (!isShape(s)) throw argError('constant', `shape must be an array of non-negative integers, got ${String(s)}`);
  if (sizeOf(s) !== values.length) {
    throw shapeError('constant', `data has ${values.length} elements but shape ${fmt(s)} needs ${sizeOf(s)}`);
  }
  return new Tensor(graph.add('constant', [], s, dtype, [], values), graph);
}

/** A dtype argument of the constant makers, checked. */
function dtypeArg(op: string, dtype: unknown): DType {
  if (dtype !== 'float64' && dtype !== 'float32' && dtype !== 'int32') {
    throw argError(op, `dtype must be 'float64', 'float32' or 'int32', got ${String(dtype)}`);
  }
  return dtype;
}

/** Values as a constant node of `dtype` and `shape`; int32 values must be integers in range. */
function fromValues(op: string, values: ArrayLike<number>, shape: Shape, dtype: DType): Tensor {
  if (dtype === 'int32') {
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) throw argError(op, `the int32 result would hold ${v}, not an int32 integer`);
    }
  }
  const graph = activeGraph(op);
  return new Tensor(graph.add('constant', [], shape, dtype, [], arrayType(dtype).from(values)), graph);
}

/** `value` everywhere in a tensor of `shape` and `dtype` (default float64): a scalar constant broadcast. */
export function full(shape: Shape, value: number, dtype: DType = 'float64'): Tensor {
  const d = dtypeArg('full', dtype);
  if (!isShape(shape)) throw argError('full', `shape must be an array of non-negative integers, got ${String(shape)}`);
  if (typeof value !== 'number') throw argError('full', `value must be a number, got ${describe(value)}`);
  if (d === 'int32' && (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31)) throw argError('full', `int32 value ${value} is not an int32 integer`);
  const graph = activeGraph('full');
  return broadcastTo(new Tensor(graph.scalar(value, d), graph), shape);
}

/** Zeros of `shape` and `dtype` (default float64). */
export function zeros(shape: Shape, dtype: DType = 'float64'): Tensor {
  return full(shape, 0, dtype);
}

/** Ones of `shape` and `dtype` (default float64). */
export function ones(shape: Shape, dtype: DType = 'float64'): Tensor {
  return full(shape, 1, dtype);
}

/** The `n × m` identity (`m` defaults to `n`): 1 where row = column, else 0, in `dtype` (default float64). */
export function eye(n: number, m: number = n, dtype: DType = 'float64'): Tensor {
  const d = dtypeArg('eye', dtype);
  if (!Number.isSafeInteger(n) || n < 0 || !Number.isSafeInteger(m) || m < 0) throw argError('eye', `n and m must be non-negative integers, got ${n}, ${m}`);
  const values = new Float64Array(n * m);
  for (let i = 0; i < Math.min(n, m); i++) values[i * m + i] = 1;
  return fromValues('eye', values, [n, m], d);
}

/**
 * `num` evenly spaced values from `start` to `stop` inclusive (NumPy `linspace`):
 * `start + i·(stop − start)/(num − 1)`, the last exactly `stop`; `[start]` for num = 1. Computed in
 * float64, then rounded to `dtype` (int32: truncated toward zero).
 */
export function linspace(start: number, stop: number, num: number, dtype: DType = 'float64'): Tensor {
  const d = dtypeArg('linspace', dtype);
  if (!Number.isFinite(start) || !Number.isFinite(stop)) throw argError('linspace', `start and stop must be finite numbers, got ${start}, ${stop}`);
  if (!Number.isSafeInteger(num) || num < 0) throw argError('linspace', `num must be a non-negative integer, got ${String(num)}`);
  const values = new Float64Array(num);
  const step = num > 1 ? (stop - start) / (num - 1) : 0;
  for (let i = 0; i < num; i++) values[i] = i === num - 1 && num > 1 ? stop : start + i * step;
  return fromValues('linspace', d === 'int32' ? values.map(Math.trunc) : values, [num], d);
}

/**
 * `start, start + step, …` while below `stop` (above it for a negative step), NumPy `arange`:
 * `arange(n)` is `0 … n − 1`. Length `max(0, ceil((stop − start)/step))`; element i is
 * `start + i·step`. dtype default float64; int32 needs integer start and step.
 */
export function arange(start: number, stop?: number, step = 1, dtype: DType = 'float64'): Tensor {
  const d = dtypeArg('arange', dtype);
  const [lo, hi] = stop === undefined ? [0, start] : [start, stop];
  if (![lo, hi, step].every(Number.isFinite) || step === 0) throw argError('arange', `start, stop and step must be finite numbers with step non-zero, got ${lo}, ${hi}, ${step}`);
  const num = Math.max(0, Math.ceil((hi - lo) / step));
  if (num > 2 ** 31 - 1) throw argError('arange', `the result would have ${num} elements`);
  const values = new Float64Array(num);
  for (let i = 0; i < num; i++) values[i] = lo + i * step;
  return fromValues('arange', values, [num], d);
}
