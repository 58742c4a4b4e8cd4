// A plain-JavaScript tensor reference, written for clarity, not speed: each op is computed
// element by element from its textbook definition on row-major Float64Arrays. Tests compare
// wengert's forward values against it and differentiate it numerically.

export interface Arr {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

export function arr(data: ArrayLike<number>, shape: readonly number[]): Arr {
  if (data.length !== size(shape)) throw new Error(`ref: ${data.length} elements for shape [${shape}]`);
  return { shape: [...shape], data: Float64Array.from(data) };
}

export function size(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    s[k] = acc;
    acc *= shape[k]!;
  }
  return s;
}

/** Multi-index of flat position i in a row-major array of this shape. */
function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let k = shape.length - 1; k >= 0; k--) {
    idx[k] = i % shape[k]!;
    i = Math.floor(i / shape[k]!);
  }
  return idx;
}

/** NumPy broadcasting of two shapes (right-aligned; sizes equal or one of them 1). */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let k = 0; k < n; k++) {
    const da = a[a.length - n + k] ?? 1;
    const db = b[b.length - n + k] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`ref: cannot broadcast [${a}] with [${b}]`);
    out[k] = da === 1 ? db : da;
  }
  return out;
}

/** Flat position in `x` of the element that output multi-index `idx` reads under broadcasting. */
function broadcastIndex(idx: readonly number[], shape: readonly number[]): number {
  const off = idx.length - shape.length;
  let flat = 0;
  for (let k = 0; k < shape.length; k++) flat = flat * shape[k]! + (shape[k] === 1 ? 0 : idx[off + k]!);
  return flat;
}

export function map(x: Arr, f: (v: number) => number): Arr {
  return { shape: [...x.shape], data: x.data.map(f) };
}

export function zip(a: Arr, b: Arr, f: (x: number, y: number) => number): Arr {
  const shape = broadcastShapes(a.shape, b.shape);
  const data = new Float64Array(size(shape));
  for (let i = 0; i < data.length; i++) {
    const idx = unravel(i, shape);
    data[i] = f(a.data[broadcastIndex(idx, a.shape)]!, b.data[broadcastIndex(idx, b.shape)]!);
  }
  return { shape, data };
}

export function scalar(v: number): Arr {
  return { shape: [], data: Float64Array.of(v) };
}

/** Normalizes an axes argument the way the public API defines it: undefined = all, negatives from the end. */
export function normAxes(axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, k) => k);
  const list = typeof axes === 'number' ? [axes] : [...axes];
  return list.map((a) => (a < 0 ? a + rank : a)).sort((p, q) => p - q);
}

export function sum(x: Arr, axes?: number | readonly number[], keepDims = false): Arr {
  const ax = new Set(normAxes(axes, x.shape.length));
  const kept = x.shape.map((d, k) => (ax.has(k) ? 1 : d));
  const data = new Float64Array(size(kept));
  for (let i = 0; i < x.data.length; i++) {
    const idx = unravel(i, x.shape).map((v, k) => (ax.has(k) ? 0 : v));
    let flat = 0;
    for (let k = 0; k < kept.length; k++) flat = flat * kept[k]! + idx[k]!;
    data[flat] = data[flat]! + x.data[i]!;
  }
  const shape = keepDims ? kept : x.shape.filter((_, k) => !ax.has(k));
  return { shape, data };
}

export function mean(x: Arr, axes?: number | readonly number[], keepDims = false): Arr {
  const ax = normAxes(axes, x.shape.length);
  const count = ax.reduce((p, k) => p * x.shape[k]!, 1);
  return map(sum(x, axes, keepDims), (v) => v / count);
}

/** [m,k]×[k,n] → [m,n], [m,k]×[k] → [m], [k]×[k,n] → [n]. */
export function matmul(a: Arr, b: Arr): Arr {
  const aVec = a.shape.length === 1;
  const bVec = b.shape.length === 1;
  const m = aVec ? 1 : a.shape[0]!;
  const k = aVec ? a.shape[0]! : a.shape[1]!;
  const k2 = b.shape[0]!;
  const n = bVec ? 1 : b.shape[1]!;
  if (k !== k2) throw new Error(`ref: matmul [${a.shape}] × [${b.shape}]`);
  const data = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a.data[i * k + p]! * b.data[p * n + j]!;
      data[i * n + j] = s;
    }
  }
  const shape = aVec ? (bVec ? [] : [n]) : bVec ? [m] : [m, n];
  return { shape, data };
}

/** Output axis i is input axis perm[i]; default reverses the axes. */
export function transpose(x: Arr, perm?: readonly number[]): Arr {
  const p = perm ?? x.shape.map((_, k) => x.shape.length - 1 - k);
  const shape = p.map((k) => x.shape[k]!);
  const inStrides = strides(x.shape);
  const data = new Float64Array(x.data.length);
  for (let i = 0; i < data.length; i++) {
    const idx = unravel(i, shape);
    let flat = 0;
    for (let k = 0; k < p.length; k++) flat += idx[k]! * inStrides[p[k]!]!;
    data[i] = x.data[flat]!;
  }
  return { shape, data };
}

export function reshape(x: Arr, shape: readonly number[]): Arr {
  if (size(shape) !== x.data.length) throw new Error(`ref: reshape [${x.shape}] to [${shape}]`);
  return { shape: [...shape], data: Float64Array.from(x.data) };
}

/** Σ_i x_i·r_i: the loss of the random-cotangent trick. */
export function dot(x: ArrayLike<number>, r: ArrayLike<number>): number {
  if (x.length !== r.length) throw new Error('ref: dot of different lengths');
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * r[i]!;
  return s;
}

export const sigmoid = (v: number): number => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)));
export const softplus = (v: number): number => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));

/**
 * A full sum of fewer than 32768 values in the engine's order (native/src/sum_order.h): eight
 * lanes, value i to lane i mod 8, combined as ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7)),
 * then added to 0.
 */
export function engineSum(values: readonly number[]): number {
  const s = new Float64Array(8);
  values.forEach((v, i) => (s[i % 8] = s[i % 8]! + v));
  return 0 + (((s[0]! + s[4]!) + (s[2]! + s[6]!)) + ((s[1]! + s[5]!) + (s[3]! + s[7]!)));
}
