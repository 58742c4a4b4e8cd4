// p.jvp, p.vjp and p.hvp on small functions whose derivatives are known in closed form, float64 and
// float32; the async versions give the same bits; wrong tangents, cotangents and directions are
// coded errors. (Every op's rules are checked by the harness: dot-product and second-order tests.)
import { describe, expect, it } from 'vitest';
import * as wg from '../ts/index.js';
import { serializeProgram } from '../ts/internal.js';
import { assertClose, sameBits } from './helpers/compare.js';
import { trackPrograms } from './helpers/track.js';

type T = wg.Tensor;
const track = trackPrograms();

const DTYPES = [
  { dtype: 'float64', spec: wg.f64, A: Float64Array, tol: { rtol: 1e-14, atol: 1e-14 } },
  // float32: a few ulp (2^-24 ≈ 6e-8) per op on values of order 1-100.
  { dtype: 'float32', spec: wg.f32, A: Float32Array, tol: { rtol: 1e-5, atol: 1e-5 } },
] as const;

/** Rosenbrock's function in 2-D and its analytic gradient and Hessian. */
const rosen = (v: T): T => {
  const x = wg.slice(v, [0], [1]);
  const y = wg.slice(v, [1], [1]);
  return wg.sum(wg.add(wg.mul(100, wg.square(wg.sub(y, wg.square(x)))), wg.square(wg.sub(1, x))));
};
const rosenGrad = (x: number, y: number): number[] => [-400 * x * (y - x * x) - 2 * (1 - x), 200 * (y - x * x)];
const rosenHess = (x: number, y: number): number[][] => [
  [1200 * x * x - 400 * y + 2, -400 * x],
  [-400 * x, 200],
];

describe.each(DTYPES)('$dtype', ({ spec, A, tol }) => {
  it('jvp of sin is cos(x)·t, with the value', () => {
    const p = track(wg.compile((x) => wg.sin(x), { args: [spec([3])] }));
    const x = A.from([0.1, -0.7, 2]);
    const t = A.from([1, 0.5, -2]);
    const { value, tangent } = p.jvp([x], [t]);
    expect(value).toBeInstanceOf(A);
    expect(tangent).toBeInstanceOf(A);
    assertClose(value as ArrayLike<number>, [...x].map(Math.sin), tol, 'value');
    assertClose(tangent as ArrayLike<number>, [...x].map((v, i) => Math.cos(v) * t[i]!), tol, 'tangent');
  });

  it('jvp of A·x in both arguments is tA·x + A·tx; a scalar output gives numbers', () => {
    const p = track(wg.compile((a, x) => wg.matmul(a, x), { args: [spec([2, 2]), spec([2])], wrt: [0, 1] }));
    const a = A.from([1, 2, 3, 4]);
    const x = A.from([5, 6]);
    const ta = A.from([0, 1, -1, 0]);
    const tx = A.from([1, -1]);
    const { tangent } = p.jvp([a, x], [ta, tx]);
    // tA·x = [6, -5], A·tx = [-1, -1]
    assertClose(tangent as ArrayLike<number>, [5, -6], tol, 'tangent');

    const q = track(wg.compile((u, w) => wg.dot(u, w), { args: [spec([2]), spec([2])], wrt: [1] }));
    const r = q.jvp([A.from([1, 2]), A.from([3, 4])], [A.from([1, 1])]);
    expect(r).toEqual({ value: 11, tangent: 3 });
  });

  it('an output that does not depend on the wrt argument has a zero tangent', () => {
    const p = track(wg.compile((_x, y) => wg.exp(y), { args: [spec([2]), spec([2])], wrt: [0] }));
    const { tangent } = p.jvp([A.from([1, 2]), A.from([0, 1])], [A.from([3, 4])]);
    expect(Array.from(tangent as ArrayLike<number>)).toEqual([0, 0]);
  });

  it('vjp of x ⊙ x is 2·x ⊙ u, for a non-scalar output', () => {
    const p = track(wg.compile((x) => wg.mul(x, x), { args: [spec([2, 2])] }));
    const x = A.from([1, -2, 3, 0.5]);
    const u = A.from([1, 2, -1, 4]);
    const { value, grads } = p.vjp([x], u);
    expect(value).toBeInstanceOf(A);
    expect(grads[0]).toBeInstanceOf(A);
    assertClose(grads[0]!, [2, -8, -6, 4], tol, 'vjp');
    // A scalar output takes a number as its cotangent.
    const q = track(wg.compile((v) => wg.sum(wg.square(v)), { args: [spec([2])] }));
    const r = q.vjp([A.from([1, 2])], 3);
    expect(r.value).toBe(5);
    assertClose(r.grads[0]!, [6, 12], tol, 'scalar vjp');
  });

  it('hvp of Σx³ is 6x ⊙ v; of Rosenbrock, its analytic Hessian times v', () => {
    const p = track(wg.compile((x) => wg.sum(wg.mul(x, wg.square(x))), { args: [spec([3])] }));
    const { value, grad, hvp } = p.hvp([A.from([1, 2, -1])], [A.from([1, 0.5, 2])]);
    expect(value).toBe(8);
    assertClose(grad[0]!, [3, 12, 3], tol, 'grad');
    expect(hvp[0]).toBeInstanceOf(A);
    assertClose(hvp[0]!, [6, 6, -12], tol, 'hvp');

    const r = track(wg.compile(rosen, { args: [spec([2])] }));
    for (const [x, y] of [
      [-1.2, 1],
      [1, 1],
      [0.5, -0.25],
    ] as const) {
      const v = [0.3, -0.7];
      const out = r.hvp([A.from([x, y])], [A.from(v)]);
      const H = rosenHess(x, y);
      assertClose(out.grad[0]!, rosenGrad(x, y), { rtol: tol.rtol * 10, atol: tol.atol * 100 }, 'Rosenbrock gradient');
      assertClose(out.hvp[0]!, [H[0]![0]! * v[0]! + H[0]![1]! * v[1]!, H[1]![0]! * v[0]! + H[1]![1]! * v[1]!], { rtol: tol.rtol * 10, atol: tol.atol * 1000 }, 'Rosenbrock hvp');
    }
  });

  it('hvp with two wrt arguments: the mixed second derivatives', () => {
    // f(x, y) = Σ x² ⊙ y: ∂²f/∂x² = 2y, ∂²f/∂x∂y = 2x, ∂²f/∂y² = 0.
    const p = track(wg.compile((x, y) => wg.sum(wg.mul(wg.square(x), y)), { args: [spec([2]), spec([2])], wrt: [0, 1] }));
    const x = A.from([1, 2]);
    const y = A.from([3, -1]);
    const vx = A.from([1, 1]);
    const vy = A.from([2, 0.5]);
    const { hvp } = p.hvp([x, y], [vx, vy]);
    assertClose(hvp[0]!, [2 * 3 * 1 + 2 * 1 * 2, 2 * -1 * 1 + 2 * 2 * 0.5], tol, 'hvp x');
    assertClose(hvp[1]!, [2 * 1 * 1, 2 * 2 * 1], tol, 'hvp y');
  });

  it('the async versions give the same bits', async () => {
    const p = track(wg.compile((x, y) => wg.sum(wg.mul(wg.tanh(x), wg.exp(y))), { args: [spec([4]), spec([4])], wrt: [0, 1] }));
    const q = track(wg.compile((x) => wg.softmax(x), { args: [spec([4])] }));
    const x = A.from([0.1, -0.5, 1.5, 2]);
    const y = A.from([1, 0.25, -1, 0]);
    const t = [A.from([1, 2, 3, 4]), A.from([-1, 0.5, 0, 1])];
    const check = (a: unknown, b: unknown): void => {
      if (typeof a === 'number' || typeof b === 'number') expect(sameBits(a as number, b as number)).toBe(true);
      else if (Array.isArray(a)) (a as ArrayLike<number>[]).forEach((v, i) => expect(sameBits(v, (b as ArrayLike<number>[])[i]!)).toBe(true));
      else expect(sameBits(a as ArrayLike<number>, b as ArrayLike<number>)).toBe(true);
    };
    const j1 = p.jvp([x, y], t);
    const j2 = await p.jvpAsync([x, y], t);
    check(j1.value, j2.value);
    check(j1.tangent, j2.tangent);
    const v1 = q.vjp([x], y);
    const v2 = await q.vjpAsync([x], y);
    check(v1.value, v2.value);
    check(v1.grads, v2.grads);
    const h1 = p.hvp([x, y], t);
    const h2 = await p.hvpAsync([x, y], t);
    check(h1.value, h2.value);
    check(h1.grad, h2.grad);
    check(h1.hvp, h2.hvp);
    // The hvp's gradient is the value-and-gradient program's.
    check(h1.grad, p.valueAndGrad(x, y).grads);
  });
});

describe('forward over reverse agrees with forward mode', () => {
  it('⟨∇f, v⟩ from hvp equals the jvp of f', () => {
    const p = track(wg.compile((x) => wg.logSumExp(wg.mul(x, x)), { args: [wg.f64([5])] }));
    const x = Float64Array.from([0.3, -1, 0.2, 0.8, -0.4]);
    const v = Float64Array.from([1, -2, 0.5, 0.25, 3]);
    const { grad } = p.hvp([x], [v]);
    const { tangent } = p.jvp([x], [v]);
    let dot = 0;
    grad[0]!.forEach((g, i) => (dot += g * v[i]!));
    assertClose(tangent as number, dot, { rtol: 1e-14, atol: 1e-15 }, 'directional derivative');
  });
});

describe('each transform is compiled once per program', () => {
  it('a transform is traced once: serializing it again gives the same bytes, and calls repeat exactly', () => {
    const p = track(wg.compile((x) => wg.sum(wg.exp(x)), { args: [wg.f64([2])] }));
    const x = Float64Array.from([1, 2]);
    const t = Float64Array.from([1, 0]);
    for (const kind of ['jvp', 'vjp', 'hvp'] as const) {
      const first = serializeProgram(p, kind);
      expect(sameBits(serializeProgram(p, kind), first)).toBe(true);
    }
    const h1 = p.hvp([x], [t]);
    const h2 = p.hvp([x], [t]);
    expect(sameBits(h1.hvp[0]!, h2.hvp[0]!)).toBe(true);
    // The forward program does not see the transforms' extra arguments.
    expect(p.run(x)).toBe(Math.exp(1) + Math.exp(2));
  });
});

describe('coded errors', () => {
  const p = track(wg.compile((x, y) => wg.sum(wg.mul(x, y)), { args: [wg.f64([2]), wg.f64([3, 1])], wrt: [0, 1] }));
  const m = track(wg.compile((x) => wg.mul(x, 2), { args: [wg.f64([2])] }));
  const x = Float64Array.from([1, 2]);
  const y = Float64Array.from([1, 2, 3]);
  const codeOf = (f: () => unknown): string | undefined => {
    try {
      f();
    } catch (err) {
      expect(err).toBeInstanceOf(wg.WengertError);
      return (err as wg.WengertError).code;
    }
    return undefined;
  };

  it('wrong number of tangents or directions', () => {
    expect(codeOf(() => p.jvp([x, y], [x]))).toBe('WENGERT_INPUT_COUNT');
    expect(codeOf(() => p.hvp([x, y], [x, y, y]))).toBe('WENGERT_INPUT_COUNT');
    expect(codeOf(() => p.jvp([x, y], x as unknown as Float64Array[]))).toBe('WENGERT_INPUT_COUNT');
    expect(codeOf(() => p.jvp([x], [x, y]))).toBe('WENGERT_INPUT_COUNT');
    expect(() => p.jvp([x, y], [x])).toThrow(RangeError);
  });

  it('wrong lengths', () => {
    expect(codeOf(() => p.jvp([x, y], [x, x]))).toBe('WENGERT_INPUT_LENGTH');
    expect(codeOf(() => p.hvp([x, y], [y, y]))).toBe('WENGERT_INPUT_LENGTH');
    expect(codeOf(() => m.vjp([x], Float64Array.from([1, 2, 3])))).toBe('WENGERT_INPUT_LENGTH');
  });

  it('wrong dtypes, and numbers for non-scalars', () => {
    expect(codeOf(() => p.jvp([x, y], [Float32Array.from(x), y]))).toBe('WENGERT_INPUT_DTYPE');
    expect(codeOf(() => p.hvp([x, y], [x, 1]))).toBe('WENGERT_INPUT_DTYPE');
    expect(codeOf(() => m.vjp([x], 1))).toBe('WENGERT_INPUT_DTYPE');
    expect(codeOf(() => m.vjp([x], Float32Array.from([1, 2])))).toBe('WENGERT_INPUT_DTYPE');
    expect(() => m.vjp([x], Float32Array.from([1, 2]))).toThrow(TypeError);
  });

  it('hvp needs a scalar output; transforms need a float output', () => {
    expect(codeOf(() => m.hvp([x], [x]))).toBe('WENGERT_NOT_SCALAR');
    const am = track(wg.compile((v) => wg.argmax(v), { args: [wg.f64([2])] }));
    expect(codeOf(() => am.jvp([x], [x]))).toBe('WENGERT_DTYPE_MISMATCH');
    expect(codeOf(() => am.vjp([x], 0))).toBe('WENGERT_DTYPE_MISMATCH');
  });
});
