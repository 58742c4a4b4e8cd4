// Dense Hessians (p.hessian): the Hessian-vector product (forward over reverse) batched over the
// unit directions, in one run. Checked against the analytic Hessians of the extended Rosenbrock
// and the Wood function (written out below in plain JS), for symmetry, against p.hvp, with two
// wrt arguments, float64 and float32.
import { describe, expect, it } from 'vitest';
import * as wg from '../ts/index.js';
import { assertClose, maxAbs } from './helpers/compare.js';
import { trackPrograms } from './helpers/track.js';

type T = wg.Tensor;
const track = trackPrograms();

/** Extended Rosenbrock: Σ over pairs (a, b) = (x_2k, x_2k+1) of 100(b - a²)² + (1 - a)². */
const rosenbrock = (x: T): T => {
  const a = wg.slice(x, [0], [-1], { step: [2] });
  const b = wg.slice(x, [1], [-1], { step: [2] });
  return wg.sum(wg.add(wg.mul(wg.square(wg.sub(b, wg.square(a))), 100), wg.square(wg.sub(1, a))));
};
function rosenbrockValue(x: ArrayLike<number>): number {
  let f = 0;
  for (let k = 0; k < x.length; k += 2) f += 100 * (x[k + 1]! - x[k]! ** 2) ** 2 + (1 - x[k]!) ** 2;
  return f;
}
function rosenbrockHessian(x: ArrayLike<number>): Float64Array {
  const n = x.length;
  const H = new Float64Array(n * n);
  for (let k = 0; k < n; k += 2) {
    const [a, b] = [x[k]!, x[k + 1]!];
    H[k * n + k] = 1200 * a * a - 400 * b + 2;
    H[k * n + k + 1] = H[(k + 1) * n + k] = -400 * a;
    H[(k + 1) * n + k + 1] = 200;
  }
  return H;
}

/**
 * Wood (MGH problem 14): 100(x1 - x0²)² + (1 - x0)² + 90(x3 - x2²)² + (1 - x2)²
 * + 10.1((x1 - 1)² + (x3 - 1)²) + 19.8(x1 - 1)(x3 - 1).
 */
const wood = (x: T): T => {
  const at = (i: number): T => wg.reshape(wg.slice(x, [i], [1]), []);
  const [x0, x1, x2, x3] = [at(0), at(1), at(2), at(3)];
  const terms = [
    wg.mul(wg.square(wg.sub(x1, wg.square(x0))), 100),
    wg.square(wg.sub(1, x0)),
    wg.mul(wg.square(wg.sub(x3, wg.square(x2))), 90),
    wg.square(wg.sub(1, x2)),
    wg.mul(wg.add(wg.square(wg.sub(x1, 1)), wg.square(wg.sub(x3, 1))), 10.1),
    wg.mul(wg.mul(wg.sub(x1, 1), wg.sub(x3, 1)), 19.8),
  ];
  return terms.reduce((s, t) => wg.add(s, t));
};
function woodHessian(x: ArrayLike<number>): Float64Array {
  const [x0, x1, x2, x3] = [x[0]!, x[1]!, x[2]!, x[3]!];
  // prettier-ignore
  return Float64Array.from([
    1200 * x0 * x0 - 400 * x1 + 2, -400 * x0, 0, 0,
    -400 * x0, 220.2, 0, 19.8,
    0, 0, 1080 * x2 * x2 - 360 * x3 + 2, -360 * x2,
    0, 19.8, -360 * x2, 200.2,
  ]);
}

/** max |H - Hᵀ| relative to max |H|. */
function asymmetry(H: ArrayLike<number>, n: number): number {
  let d = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) d = Math.max(d, Math.abs(H[i * n + j]! - H[j * n + i]!));
  return d / maxAbs(H, Number.MIN_VALUE);
}

const DTYPES = [
  ['float64', wg.f64, Float64Array, 1e-13, 1e-15],
  ['float32', wg.f32, Float32Array, 2e-6, 1e-6],
] as const;

describe('hessian: analytic Hessians of reference functions', () => {
  for (const [dtype, spec, Arr, rtol, symTol] of DTYPES) {
    it(`extended Rosenbrock, n = 10 (${dtype})`, async () => {
      const n = 10;
      const p = track(wg.compile(rosenbrock, { args: [spec([n])] }));
      const x = Arr.from(Array.from({ length: n }, (_, i) => (i % 2 === 0 ? -1.2 : 1) + 0.1 * Math.sin(i)));
      const r = p.hessian(x);
      expect(r.hessian).toBeInstanceOf(Arr);
      expect(r.size).toBe(n);
      const H = rosenbrockHessian(x);
      assertClose(r.hessian, H, { rtol, atol: rtol * maxAbs(H) }, `rosenbrock ${dtype} Hessian`);
      expect(asymmetry(r.hessian, n)).toBeLessThanOrEqual(symTol);
      assertClose(r.value, rosenbrockValue(x), { rtol, atol: 0 }, 'value');
      const vg = p.valueAndGrad(x);
      expect(Array.from(r.grad[0]!)).toEqual(Array.from(vg.grads[0]!));
      const again = await p.hessianAsync(x);
      expect(Array.from(again.hessian)).toEqual(Array.from(r.hessian));
      // H·v from the dense Hessian equals the Hessian-vector product.
      const v = Arr.from(Array.from({ length: n }, (_, i) => Math.cos(i)));
      const hv = p.hvp([x], [v]).hvp[0]!;
      const Hv = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (__, j) => r.hessian[i * n + j]! * v[j]!).reduce((a, b) => a + b));
      assertClose(hv, Hv, { rtol, atol: rtol * maxAbs(Hv) }, 'hvp vs hessian');
    });

    it(`Wood at the standard start and at the minimum (${dtype})`, () => {
      const p = track(wg.compile(wood, { args: [spec([4])] }));
      for (const at of [[-3, -1, -3, -1], [1, 1, 1, 1], [0.5, -0.25, 2, 1.5]]) {
        const x = Arr.from(at);
        const r = p.hessian(x);
        const H = woodHessian(x);
        assertClose(r.hessian, H, { rtol, atol: rtol * maxAbs(H) }, `wood ${dtype} Hessian at [${at.join(', ')}]`);
        expect(asymmetry(r.hessian, 4)).toBeLessThanOrEqual(symTol);
      }
    });
  }

  it('two wrt arguments: the Hessian over their elements concatenated', () => {
    // Rosenbrock with a = x_even and b = x_odd as separate arguments: the blocks reorder.
    const p = track(
      wg.compile((a: T, b: T) => wg.sum(wg.add(wg.mul(wg.square(wg.sub(b, wg.square(a))), 100), wg.square(wg.sub(1, a)))), {
        args: [wg.f64([3]), wg.f64([3])],
        wrt: [0, 1],
      }),
    );
    const a = Float64Array.from([-1.2, 0.3, 2]);
    const b = Float64Array.from([1, -0.5, 0.7]);
    const r = p.hessian(a, b);
    const interleaved = Float64Array.from([a[0]!, b[0]!, a[1]!, b[1]!, a[2]!, b[2]!]);
    const H = rosenbrockHessian(interleaved);
    const perm = [0, 2, 4, 1, 3, 5]; // position in [a, b] -> position in the interleaved x
    const expected = Array.from({ length: 36 }, (_, k) => H[perm[Math.floor(k / 6)]! * 6 + perm[k % 6]!]!);
    assertClose(r.hessian, expected, { rtol: 1e-14, atol: 1e-12 }, 'two-argument Hessian');
    expect(r.grad.length).toBe(2);
  });

  it('rejects a non-scalar output', () => {
    const p = track(wg.compile((x: T) => wg.sin(x), { args: [wg.f64([2])] }));
    expect(() => p.hessian(new Float64Array(2))).toThrow(expect.objectContaining({ code: 'WENGERT_NOT_SCALAR' }));
  });
});
