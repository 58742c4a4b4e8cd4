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
