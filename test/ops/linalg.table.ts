// Linear algebra: dot, outer, solve, cholesky, triangularSolve, logDet, inverse, trace, diag, and
// batched matmul beyond the core rows. Structured inputs: a(shape, SPD), a(shape, WELL_CONDITIONED).
// How to add a row, and what each check asserts: test/harness/harness.ts. Tests a row cannot
// express (wide ranges, special points, sizes too large for finite differences) go in an exported
// `specialTests(track)`, as in core.table.ts; test/ops.test.ts registers it.
//
// References: test/helpers/linalg-ref.ts (textbook algorithms in float64; the solve reference is
// Gauss–Jordan, independent of the engine's LU). Gradients of cholesky and logDet are checked
// both directly (the op and its reference read only the lower triangle, so finite differences of
// a lower entry move the symmetric matrix's two entries, and upper entries have derivative 0) and
// through a symmetric parametrization S·Sᵀ + n·I of an unconstrained S.
import * as wg from '../../ts/index.js';
import * as ref from '../helpers/ref.js';
import type { Arr } from '../helpers/ref.js';
import * as la from '../helpers/linalg-ref.js';
import type { Rng } from '../helpers/rng.js';
import { SPD, WELL_CONDITIONED, a, shapeName, type InputMaker, type OpCase, type T } from '../harness/harness.js';

export const cases: OpCase[] = [];

const last = (s: readonly number[]): number => s[s.length - 1]!;

/**
 * WELL_CONDITIONED with the rows of each matrix in reverse order: still well conditioned, but
 * partial pivoting must swap rows (the largest entry of each column is off the diagonal).
 */
const PERMUTED: InputMaker = (rng: Rng, shape) => {
  const x = WELL_CONDITIONED(rng, shape);
  const n = last(shape);
  const out = new Float64Array(x.length);
  for (let m = 0; m < x.length / (n * n); m++) {
    for (let i = 0; i < n; i++) out.set(x.subarray(m * n * n + i * n, m * n * n + (i + 1) * n), m * n * n + (n - 1 - i) * n);
  }
  return out;
};

/** S·Sᵀ + n·I for a stack of unconstrained S: a symmetric positive definite parametrization. */
const spdOf = (s: T): T => {
  const n = last(s.shape);
  const eye = wg.constant(s.dtype === 'float32' ? new Float32Array(n * n).map((_, k) => (k % (n + 1) === 0 ? n : 0)) : new Float64Array(n * n).map((_, k) => (k % (n + 1) === 0 ? n : 0)), [n, n]);
  const perm = s.shape.map((_, i) => i);
  perm[s.rank - 2] = s.rank - 1;
  perm[s.rank - 1] = s.rank - 2;
  return wg.add(wg.matmul(s, wg.transpose(s, perm)), eye);
};
const refSpdOf = (s: Arr): Arr =>
  la.batched([s], (m) => {
    const n = last(s.shape);
    const out = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let v = i === j ? n : 0;
        for (let k = 0; k < n; k++) v += m[i * n + k]! * m[j * n + k]!;
        out[i * n + j] = v;
      }
    }
    return { data: out, shape: [n, n] };
  });

// ---------------------------------------------------------------------------------------------
// dot, outer

cases.push({
  name: 'dot [5]·[5]',
  covers: ['dot'],
  args: [a([5]), a([5])],
  fn: (x, y) => wg.dot(x!, y!),
  method: (x, y) => x!.dot(y!),
  ref: (x, y) => ref.scalar(ref.dot(x!.data, y!.data)),
});
cases.push({
  name: 'outer [3]⊗[4]',
  covers: ['outer'],
  args: [a([3]), a([4])],
  fn: (x, y) => wg.outer(x!, y!),
  ref: (x, y) => ({ shape: [3, 4], data: Float64Array.from({ length: 12 }, (_, k) => x!.data[Math.floor(k / 4)]! * y!.data[k % 4]!) }),
});

// ---------------------------------------------------------------------------------------------
// diag, trace

const refDiagOf = (x: Arr): Arr => {
  const m = x.shape[x.shape.length - 2]!;
  const n = last(x.shape);
  const d = Math.min(m, n);
  const count = x.data.length / (m * n);
  const data = new Float64Array(count * d);
  for (let b = 0; b < count; b++) for (let i = 0; i < d; i++) data[b * d + i] = x.data[b * m * n + i * n + i]!;
  return { shape: [...x.shape.slice(0, -2), d], data };
};
cases.push({
  name: 'diag vector [4] to a matrix',
  covers: ['diag'],
  args: [a([4])],
  fn: (x) => wg.diag(x!),
  method: (x) => x!.diag(),
  ref: (x) => ({ shape: [4, 4], data: Float64Array.from({ length: 16 }, (_, k) => (k % 5 === 0 ? x!.data[k / 5]! : 0)) }),
});
for (const shape of [[3, 3], [2, 3, 4], [4, 3]]) {
  cases.push({
    name: `diag of matrices ${shapeName(shape)}`,
    covers: ['diag'],
    args: [a(shape)],
    fn: (x) => wg.diag(x!),
    method: (x) => x!.diag(),
    ref: refDiagOf,
  });
}
for (const shape of [[4, 4], [2, 3, 3], [3, 5]]) {
  cases.push({
    name: `trace ${shapeName(shape)}`,
    covers: ['trace'],
    args: [a(shape)],
    fn: (x) => wg.trace(x!),
    method: (x) => x!.trace(),
    ref: (x) => ref.sum(refDiagOf(x!), [x!.shape.length - 2]),
  });
}

// ---------------------------------------------------------------------------------------------
// cholesky, logDet

const refCholesky = (x: Arr): Arr => la.batched([x], (m) => ({ data: la.cholesky(m, last(x.shape)), shape: [last(x.shape), last(x.shape)] }));
const refLogDet = (x: Arr): Arr => {
  const n = last(x.shape);
  const out = la.batched([x], (m) => ({ data: Float64Array.of(la.logDet(m, n)), shape: [1] }));
  return ref.reshape(out, out.shape.slice(0, -1));
};
for (const shape of [[4, 4], [2, 3, 3], [1, 1]]) {
  cases.push({
    name: `cholesky SPD ${shapeName(shape)}`,
    covers: ['cholesky'],
    args: [a(shape, SPD)],
    fn: (x) => wg.cholesky(x!),
    method: (x) => x!.cholesky(),
    ref: refCholesky,
  });
  cases.push({
    name: `logDet SPD ${shapeName(shape)}`,
    covers: ['logDet'],
    args: [a(shape, SPD)],
    fn: (x) => wg.logDet(x!),
    ref: refLogDet,
  });
}
for (const shape of [[3, 3], [2, 4, 4]]) {
  cases.push({
    name: `cholesky(S·Sᵀ + n·I) ${shapeName(shape)}`,
    covers: ['cholesky'],
    args: [a(shape)],
    fn: (s) => wg.cholesky(spdOf(s!)),
    ref: (s) => refCholesky(refSpdOf(s!)),
  });
  cases.push({
    name: `logDet(S·Sᵀ + n·I) ${shapeName(shape)}`,
    covers: ['logDet'],
    args: [a(shape)],
    fn: (s) => wg.logDet(spdOf(s!)),
    ref: (s) => refLogDet(refSpdOf(s!)),
  });
}

// ---------------------------------------------------------------------------------------------
// triangularSolve, solve, inverse

/** B's matrix view [..., n, k] (a vector [n] as [n, 1]) and the result's shape. */
const asMatrix = (b: Arr): Arr => (b.shape.length === 1 ? ref.reshape(b, [b.shape[0]!, 1]) : b);
const solveRef =
  (f: (a: Float64Array, b: Float64Array, n: number, k: number) => Float64Array) =>
  (x: Arr, y: Arr): Arr => {
    const bm = asMatrix(y);
    const n = last(x.shape);
    const k = last(bm.shape);
    const out = la.batched([x, bm], (am, bmm) => ({ data: f(am, bmm, n, k), shape: [n, k] }));
    return y.shape.length === 1 ? ref.reshape(out, out.shape.slice(0, -1)) : out;
  };

const triShapes: [number[], number[]][] = [
  [[4, 4], [4, 2]],
  [[4, 4], [4]],
  [[2, 3, 3], [3, 2]],
  [[3, 3], [2, 3, 2]],
  [[2, 3, 3], [3]],
];
for (const lower of [true, false]) {
  for (const transpose of [false, true]) {
    for (const [sa, sb] of triShapes) {
      cases.push({
        name: `triangularSolve lower=${lower} transpose=${transpose} ${shapeName(sa)} \\ ${shapeName(sb)}`,
        covers: ['triangularSolve'],
        args: [a(sa, WELL_CONDITIONED), a(sb)],
        fn: (x, y) => wg.triangularSolve(x!, y!, { lower, transpose }),
        ref: solveRef((am, bm, n, k) => la.triangularSolve(am, bm, n, k, lower, transpose)),
      });
    }
  }
}
cases.push({
  name: 'triangularSolve default options [3,3] \\ [3,2]',
  covers: ['triangularSolve'],
  args: [a([3, 3], WELL_CONDITIONED), a([3, 2])],
  fn: (x, y) => wg.triangularSolve(x!, y!),
  ref: solveRef((am, bm, n, k) => la.triangularSolve(am, bm, n, k, true, false)),
});

const solveShapes: [number[], number[], InputMaker][] = [
  [[4, 4], [4, 3], WELL_CONDITIONED],
  [[4, 4], [4, 3], PERMUTED],
  [[4, 4], [4], PERMUTED],
  [[2, 3, 3], [2, 3, 2], WELL_CONDITIONED],
  [[3, 3], [2, 3, 1], PERMUTED],
  [[2, 3, 3], [3], WELL_CONDITIONED],
  [[1, 1], [1, 2], WELL_CONDITIONED],
];
for (const [sa, sb, maker] of solveShapes) {
  cases.push({
    name: `solve ${maker === PERMUTED ? 'pivoting ' : ''}${shapeName(sa)} \\ ${shapeName(sb)}`,
    covers: ['solve'],
    args: [a(sa, maker), a(sb)],
    fn: (x, y) => wg.solve(x!, y!),
    ref: solveRef(la.solve),
  });
}
for (const [shape, maker] of [
  [[4, 4], PERMUTED],
  [[2, 3, 3], WELL_CONDITIONED],
  [[1, 1], WELL_CONDITIONED],
] as [number[], InputMaker][]) {
  cases.push({
    name: `inverse ${maker === PERMUTED ? 'pivoting ' : ''}${shapeName(shape)}`,
    covers: ['inverse'],
    args: [a(shape, maker)],
    fn: (x) => wg.inverse(x!),
    method: (x) => x!.inverse(),
    ref: (x) => {
      const n = last(x!.shape);
      return la.batched([x!], (m) => ({ data: la.solve(m, la.identity(n), n, n), shape: [n, n] }));
    },
  });
}
