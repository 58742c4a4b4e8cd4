// Linear algebra beyond the op table: logDet and cholesky over extreme scales (values and
// derivatives stay finite where the mathematical ones are), solve and inverse round trips on
// general matrices (pivoting), the documented NaN / inf results outside the domain, and shape and
// argument errors.
import { describe, expect, it } from 'vitest';
import * as wg from '../ts/index.js';
import { assertClose } from './helpers/compare.js';
import * as la from './helpers/linalg-ref.js';
import { Rng } from './helpers/rng.js';
import { trackPrograms } from './helpers/track.js';

const track = trackPrograms();

/** A 4×4 SPD matrix B·Bᵀ/4 + I (eigenvalues in [1, 17]). */
function spd(rng: Rng, n = 4): Float64Array {
  const b = rng.array(n * n);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = i === j ? 1 : 0;
      for (let k = 0; k < n; k++) s += (b[i * n + k]! * b[j * n + k]!) / n;
      a[i * n + j] = s;
    }
  }
  return a;
}

/** The derivative of a function of A's lower triangle given the symmetric gradient G: 2·G below the diagonal, G on it, 0 above. */
function lowerGrad(g: Float64Array, n: number): Float64Array {
  return g.map((v, k) => {
    const i = Math.floor(k / n);
    const j = k % n;
    return i > j ? 2 * v : i === j ? v : 0;
  });
}

describe('logDet and cholesky over extreme scales', () => {
  const n = 4;
  const m = spd(new Rng(901), n);
  const logDetM = la.logDet(m, n);
  const invM = la.solve(m, la.identity(n), n, n);
  for (const scale of [1e-300, 1e-150, 1e-3, 1e3, 1e150, 1e300]) {
    it(`logDet(${scale}·M) and its derivative (s·M)⁻¹, float64`, () => {
      const a = m.map((v) => v * scale);
      const p = track(wg.compile((x) => wg.logDet(x!), { args: [wg.f64([n, n])] }));
      const { value, grads } = p.valueAndGrad(a);
      // log det(s·M) = n·log s + log det M; relative 1e-13 of the terms' magnitude (a Cholesky of a
      // matrix with condition number ≤ 17 and a sum of 4 logs).
      const want = n * Math.log(scale) + logDetM;
      expect(Number.isFinite(value)).toBe(true);
      expect(Math.abs(value - want)).toBeLessThan(1e-13 * (Math.abs(n * Math.log(scale)) + Math.abs(logDetM) + 1));
      // d/dA log det A = A⁻¹ = M⁻¹/s, on the lower triangle that is read.
      const g = grads[0]!;
      expect(g.every(Number.isFinite)).toBe(true);
      assertClose(g, lowerGrad(invM.map((v) => v / scale), n), { rtol: 1e-12, atol: 1e-12 / scale }, `logDet gradient at ${scale}`);
    });
  }
  for (const scale of [1e-18, 1e18]) {
    it(`logDet(${scale}·M), float32`, () => {
      const a = Float32Array.from(m, (v) => v * scale);
      const p = track(wg.compile((x) => wg.logDet(x!), { args: [wg.f32([n, n])] }));
      const { value, grads } = p.valueAndGrad(a);
      // float32: ~1e-6 relative of the terms (rounding of A to float32 included).
      const want = n * Math.log(scale) + logDetM;
      expect(Math.abs(value - want)).toBeLessThan(1e-5 * (Math.abs(n * Math.log(scale)) + Math.abs(logDetM)));
      expect(grads[0]!.every(Number.isFinite)).toBe(true);
    });
  }
  it('cholesky(s·M) = √s·chol(M) at s = 1e±300 with finite derivatives', () => {
    const l = la.cholesky(m, n);
    for (const scale of [1e-300, 1e300]) {
      const a = m.map((v) => v * scale);
      const fwd = track(wg.compile((x) => wg.cholesky(x!), { args: [wg.f64([n, n])], wrt: [] }));
      assertClose(fwd.run(a) as Float64Array, l.map((v) => v * Math.sqrt(scale)), { rtol: 1e-13, atol: 0 }, `cholesky at ${scale}`);
      const p = track(wg.compile((x) => wg.sum(wg.cholesky(x!)), { args: [wg.f64([n, n])] }));
      expect(p.valueAndGrad(a).grads[0]!.every(Number.isFinite)).toBe(true);
    }
  });
});

describe('solve and inverse round trips', () => {
  const n = 6;
  const rng = new Rng(902);
  // General matrices (entries uniform in [-1, 1)): partial pivoting swaps rows. Their condition
  // number is checked below to keep the residual bound meaningful.
  const A = rng.array(n * n, { lo: -1, hi: 1 });
  const B = rng.array(n * 3);
  it('A·solve(A, B) ≈ B, float64', () => {
    const p = track(wg.compile((a, b) => wg.matmul(a!, wg.solve(a!, b!)), { args: [wg.f64([n, n]), wg.f64([n, 3])], wrt: [] }));
    // Backward stable LU: residual ≈ n·ε·|A|·|X|; |X| ≲ cond·|B| ≈ 1e2 here, so 1e-11 is ample.
    assertClose(p.run(A, B) as Float64Array, B, { rtol: 0, atol: 1e-11 }, 'A·solve(A, B)');
  });
  it('inverse(A)·A ≈ I and A·inverse(A) ≈ I, batched, float64 and float32', () => {
    const A2 = Float64Array.from([...A, ...rng.array(n * n, { lo: -1, hi: 1 })]);
    const eye2 = Float64Array.from([...la.identity(n), ...la.identity(n)]);
    for (const [spec, tol] of [
      [wg.f64, 1e-11],
      [wg.f32, 1e-3],
    ] as const) {
      const p = track(
        wg.compile((a) => wg.add(wg.matmul(wg.inverse(a!), a!), wg.matmul(a!, wg.inverse(a!))), { args: [spec([2, n, n])], wrt: [] }),
      );
      const out = p.run(spec === wg.f64 ? A2 : Float32Array.from(A2)) as Float64Array | Float32Array;
      // float32: n·ε₃₂·cond ≈ 6·6e-8·1e2 per entry, 1e-3 allowed.
      assertClose(out, eye2.map((v) => 2 * v), { rtol: 0, atol: tol }, `inverse round trip ${spec === wg.f64 ? 'float64' : 'float32'}`);
    }
  });
  // Ā = -B̄·Xᵀ is of order 1/s²: representable down to s ≈ 1e-150 (at 1e-300 it is ~1e600, not
  // finite mathematically in float64); at s = 1e300 it underflows to 0, which is finite.
  for (const scale of [1e-100, 1e-3, 1e3, 1e300]) {
    it(`solve(${scale}·A, B) = solve(A, B)/${scale} with finite derivatives`, () => {
      const As = A.map((v) => v * scale);
      const x = la.solve(A, B, n, 3);
      const fwd = track(wg.compile((a, b) => wg.solve(a!, b!), { args: [wg.f64([n, n]), wg.f64([n, 3])], wrt: [] }));
      assertClose(fwd.run(As, B) as Float64Array, x.map((v) => v / scale), { rtol: 1e-10, atol: 1e-10 / scale }, `solve at ${scale}`);
      const p = track(wg.compile((a, b) => wg.sum(wg.solve(a!, b!)), { args: [wg.f64([n, n]), wg.f64([n, 3])] }));
      const { grads } = p.valueAndGrad(As, B);
      expect(grads.every((g) => g.every(Number.isFinite))).toBe(true);
    });
  }
});

describe('outside the domain', () => {
  it('cholesky and logDet of a matrix that is not positive definite are NaN (only that matrix of a batch)', () => {
    const a = Float64Array.of(4, 0, 2, 3, /* indefinite */ 1, 2, 2, 1, /* negative diagonal */ -1, 0, 0, 1);
    const p = track(wg.compile((x) => wg.cholesky(x!), { args: [wg.f64([3, 2, 2])], wrt: [] }));
    const l = p.run(a) as Float64Array;
    expect(Array.from(l.subarray(0, 4))).toEqual([2, 0, 1, Math.sqrt(2)]);
    expect(Array.from(l.subarray(4)).every(Number.isNaN)).toBe(true);
    const q = track(wg.compile((x) => wg.logDet(x!), { args: [wg.f64([3, 2, 2])], wrt: [] }));
    const d = q.run(a) as Float64Array;
    expect(d[0]).toBeCloseTo(Math.log(8), 14);
    expect(Number.isNaN(d[1]) && Number.isNaN(d[2])).toBe(true);
  });
  it('solve and inverse of a singular matrix give inf or NaN, no error', () => {
    const a = Float64Array.of(1, 2, 2, 4);
    const p = track(wg.compile((x, b) => wg.solve(x!, b!), { args: [wg.f64([2, 2]), wg.f64([2])], wrt: [] }));
    expect(Array.from(p.run(a, Float64Array.of(1, 1)) as Float64Array).some((v) => !Number.isFinite(v))).toBe(true);
    const q = track(wg.compile((x) => wg.inverse(x!), { args: [wg.f64([2, 2])], wrt: [] }));
    expect(Array.from(q.run(a) as Float64Array).some((v) => !Number.isFinite(v))).toBe(true);
  });
});

describe('shape and argument errors', () => {
  const err = (fn: (...xs: wg.Tensor[]) => wg.Tensor, shapes: number[][]): unknown => {
    try {
      wg.compile(fn, { args: shapes.map((s) => wg.f64(s)), wrt: [] });
    } catch (e) {
      return e;
    }
    return undefined;
  };
  const cases: [string, (...xs: wg.Tensor[]) => wg.Tensor, number[][], string, string[]][] = [
    ['dot of matrices', (x, y) => wg.dot(x!, y!), [[2, 3], [3]], 'WENGERT_SHAPE_MISMATCH', ['wg.dot', '[2,3]', 'wg.matmul']],
    ['dot of different lengths', (x, y) => wg.dot(x!, y!), [[2], [3]], 'WENGERT_SHAPE_MISMATCH', ['wg.dot', '[2]', '[3]']],
    ['outer of a matrix', (x, y) => wg.outer(x!, y!), [[2, 2], [3]], 'WENGERT_SHAPE_MISMATCH', ['wg.outer', '[2,2]']],
    ['cholesky of a non-square matrix', (x) => wg.cholesky(x!), [[2, 3]], 'WENGERT_SHAPE_MISMATCH', ['wg.cholesky', '[2,3]']],
    ['solve with mismatched B', (x, y) => wg.solve(x!, y!), [[3, 3], [4, 2]], 'WENGERT_SHAPE_MISMATCH', ['wg.solve', '[3,3]', '[4,2]']],
    ['solve with batch dims that do not broadcast', (x, y) => wg.solve(x!, y!), [[2, 3, 3], [4, 3, 1]], 'WENGERT_SHAPE_MISMATCH', ['wg.solve', 'broadcast']],
    ['inverse of a vector', (x) => wg.inverse(x!), [[3]], 'WENGERT_SHAPE_MISMATCH', ['wg.inverse', '[3]']],
    ['diag of a scalar', (x) => wg.diag(x!), [[]], 'WENGERT_SHAPE_MISMATCH', ['wg.diag', '[]']],
    ['trace of a vector', (x) => wg.trace(x!), [[3]], 'WENGERT_SHAPE_MISMATCH', ['wg.trace', '[3]']],
    ['logDet of a non-square matrix', (x) => wg.logDet(x!), [[3, 2]], 'WENGERT_SHAPE_MISMATCH', ['wg.logDet', '[3,2]']],
    [
      'triangularSolve with a non-boolean option',
      (x, y) => wg.triangularSolve(x!, y!, { lower: 1 as unknown as boolean }),
      [[2, 2], [2]],
      'WENGERT_INVALID_ARGUMENT',
      ['wg.triangularSolve', 'lower'],
    ],
  ];
  for (const [title, fn, shapes, code, parts] of cases) {
    it(title, () => {
      const e = err(fn, shapes);
      expect(e).toBeInstanceOf(wg.WengertError);
      expect((e as wg.WengertError).code).toBe(code);
      for (const part of parts) expect((e as Error).message).toContain(part);
    });
  }
});
