// Plain-JavaScript float64 references for the linear algebra ops, written from the textbook
// algorithms for clarity: each works on one [n, n] matrix (row-major Float64Array) and `batched`
// applies it to every matrix of a stack, broadcasting batch axes as the ops do.
import * as ref from './ref.js';
import type { Arr } from './ref.js';

/** A stack of matrices [...B, r, c] broadcast to the batch axes `batch`. */
function toBatch(x: Arr, batch: readonly number[]): Arr {
  const shape = [...batch, ...x.shape.slice(-2)];
  return ref.zip(x, { shape, data: new Float64Array(ref.size(shape)) }, (v) => v);
}

/**
 * Applies `f` to matching matrices of stacks `xs` (each of rank ≥ 2, batch axes broadcast);
 * `f` returns the result's data and its last-two-axes shape.
 */
export function batched(xs: readonly Arr[], f: (...ms: Float64Array[]) => { data: Float64Array; shape: number[] }): Arr {
  let batch: number[] = [];
  for (const x of xs) batch = ref.broadcastShapes(batch, x.shape.slice(0, -2));
  const full = xs.map((x) => toBatch(x, batch));
  const count = ref.size(batch);
  const parts: { data: Float64Array; shape: number[] }[] = [];
  for (let b = 0; b < count; b++) {
    parts.push(
      f(
        ...full.map((x) => {
          const m = ref.size(x.shape.slice(-2));
          return x.data.slice(b * m, (b + 1) * m);
        }),
      ),
    );
  }
  const inner = parts[0]?.shape ?? [];
  const data = new Float64Array(count * ref.size(inner));
  parts.forEach((p, b) => data.set(p.data, b * p.data.length));
  return { shape: [...batch, ...inner], data };
}

/** Lower Cholesky factor from the lower triangle of a; NaN-filled if a pivot is not positive. */
export function cholesky(a: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j]!;
    for (let k = 0; k < j; k++) d -= l[j * n + k]! ** 2;
    if (!(d > 0)) return l.fill(NaN);
    l[j * n + j] = Math.sqrt(d);
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j]!;
      for (let k = 0; k < j; k++) s -= l[i * n + k]! * l[j * n + k]!;
      l[i * n + j] = s / l[j * n + j]!;
    }
  }
  return l;
}

/** X [n, k] with op(A)·X = B, A triangular (only the `lower` or upper triangle is read). */
export function triangularSolve(a: Float64Array, b: Float64Array, n: number, k: number, lower: boolean, trans: boolean): Float64Array {
  const at = (i: number, j: number): number => {
    const [r, c] = trans ? [j, i] : [i, j];
    return (lower ? r >= c : r <= c) ? a[r * n + c]! : 0;
  };
  const opLower = lower !== trans;
  const x = Float64Array.from(b);
  for (let s = 0; s < n; s++) {
    const i = opLower ? s : n - 1 - s;
    for (let c = 0; c < k; c++) {
      let v = b[i * k + c]!;
      for (let j = 0; j < n; j++) if (j !== i && at(i, j) !== 0) v -= at(i, j) * x[j * k + c]!;
      x[i * k + c] = v / at(i, i);
    }
  }
  return x;
}

/** X [n, k] with A·X = B by Gauss–Jordan elimination with partial pivoting on [A | B]. */
export function solve(a: Float64Array, b: Float64Array, n: number, k: number): Float64Array {
  const w = n + k;
  const m = new Float64Array(n * w);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) m[i * w + j] = a[i * n + j]!;
    for (let j = 0; j < k; j++) m[i * w + n + j] = b[i * k + j]!;
  }
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let i = c + 1; i < n; i++) if (Math.abs(m[i * w + c]!) > Math.abs(m[p * w + c]!)) p = i;
    for (let j = 0; j < w; j++) [m[c * w + j], m[p * w + j]] = [m[p * w + j]!, m[c * w + j]!];
    const d = m[c * w + c]!;
    for (let j = 0; j < w; j++) m[c * w + j] = m[c * w + j]! / d;
    for (let i = 0; i < n; i++) {
      if (i === c) continue;
      const f = m[i * w + c]!;
      for (let j = 0; j < w; j++) m[i * w + j] = m[i * w + j]! - f * m[c * w + j]!;
    }
  }
  const x = new Float64Array(n * k);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) x[i * k + j] = m[i * w + n + j]!;
  return x;
}

export function identity(n: number): Float64Array {
  const e = new Float64Array(n * n);
  for (let i = 0; i < n; i++) e[i * n + i] = 1;
  return e;
}

/** 2·Σ log L_ii of the Cholesky factor. */
export function logDet(a: Float64Array, n: number): number {
  const l = cholesky(a, n);
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.log(l[i * n + i]!);
  return 2 * s;
}
