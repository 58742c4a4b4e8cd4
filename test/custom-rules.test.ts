// User derivative rules (wg.customVjp, wg.customJvp) and wg.stopGradient: the rules are honoured
// by the transform they belong to, the other transform differentiates the function's own ops, the
// rules are traced once (never called back per evaluation), and misuse gives coded errors.
import { describe, expect, it } from 'vitest';
import * as wg from '../ts/index.js';
import { assertClose } from './helpers/compare.js';
import { trackPrograms } from './helpers/track.js';

type T = wg.Tensor;
type Dt = 'float64' | 'float32';

const track = trackPrograms();
const spec = (dt: Dt, shape: number[]): wg.ArgSpec => (dt === 'float64' ? wg.f64(shape) : wg.f32(shape));
const arr = (dt: Dt, xs: readonly number[]): Float64Array | Float32Array => (dt === 'float64' ? Float64Array.from(xs) : Float32Array.from(xs));
const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));
// One or two rounded ops per element: float64 to a few ulps, float32 to a few ε32.
const TIGHT = { float64: { rtol: 1e-14, atol: 1e-300 }, float32: { rtol: 1e-6, atol: 1e-30 } } as const;

describe.each(['float64', 'float32'] as const)('wg.customVjp (%s)', (dt) => {
  it('a rule that clips the cotangent to [-1, 1] is honoured', () => {
    const clipGrad = wg.customVjp((x) => x, (_inputs, _out, g) => [wg.clamp(g, -1, 1)]);
    // loss = Σ 10·clipGrad(x)²/2: the plain gradient would be 10·x; clipped it is clamp(10·x, -1, 1).
    const p = track(wg.compile((x) => wg.sum(wg.square(clipGrad(x))).mul(5), { args: [spec(dt, [4])] }));
    // d loss / d out = 10·out is clipped at the marker, before reaching x.
    const x = arr(dt, [-0.5, -0.05, 0.02, 3]);
    const { value, grads } = p.valueAndGrad(x);
    assertClose(value, 5 * Array.from(x).reduce((a, v) => a + v * v, 0), TIGHT[dt], 'value');
    assertClose(grads[0]!, Array.from(x).map((v) => Math.max(-1, Math.min(1, 10 * v))), TIGHT[dt], 'clipped gradient');
    // Forward mode differentiates fn's own ops (the identity): no clipping there.
    const { tangent } = p.jvp([x], [arr(dt, [1, 1, 1, 1])]);
    assertClose(tangent, 10 * Array.from(x).reduce((a, v) => a + v, 0), TIGHT[dt], 'jvp through fn');
  });

  it('a stable rule gives the right, finite derivative at x = ±1000 where the naive ops do not', () => {
    // log(1 + eˣ) as written overflows at x = 1000; its naive derivative (1/(1+eˣ))·eˣ is 0·∞ there
    // (wengert's safe_mul makes it 0, not NaN, but the derivative is 1). The rule uses σ(x).
    const naive = (x: T): T => wg.log(wg.add(1, wg.exp(x)));
    const softplus = wg.customVjp(naive, ([x], _out, g) => [g.mul(wg.sigmoid(x!))]);
    const xs = [-1000, -3, 0, 2.5, 1000];
    const custom = track(wg.compile((x) => wg.sum(softplus(x)), { args: [spec(dt, [5])] }));
    const plain = track(wg.compile((x) => wg.sum(naive(x)), { args: [spec(dt, [5])] }));
    const g = custom.valueAndGrad(arr(dt, xs)).grads[0]!;
    expect(Array.from(g).every(Number.isFinite)).toBe(true);
    assertClose(g, xs.map(sigmoid), TIGHT[dt], 'σ(x)');
    expect(plain.valueAndGrad(arr(dt, xs)).grads[0]![4]).not.toBe(1);
  });

  it('a safe norm: the rule gives 0 at x = 0 where the naive derivative is NaN', () => {
    const norm = (x: T): T => wg.sqrt(wg.sum(wg.square(x)));
    const safeNorm = wg.customVjp(norm, ([x], out, g) => [g.mul(x!).div(wg.maximum(out, 1e-30))]);
    const naive = track(wg.compile((x) => norm(x), { args: [spec(dt, [3])] }));
    const safe = track(wg.compile((x) => safeNorm(x), { args: [spec(dt, [3])] }));
    const zero = arr(dt, [0, 0, 0]);
    expect(Array.from(naive.valueAndGrad(zero).grads[0]!).some(Number.isNaN)).toBe(true);
    expect(Array.from(safe.valueAndGrad(zero).grads[0]!)).toEqual([0, 0, 0]);
    assertClose(safe.valueAndGrad(arr(dt, [3, 0, 4])).grads[0]!, [0.6, 0, 0.8], TIGHT[dt], 'x/‖x‖');
  });

  it('several inputs, one without a cotangent (null), a broadcast scalar input and a number cotangent', () => {
    // f(a, b, c) = a·b + c (c is ignored by the rule on purpose: null), and b is a scalar.
    const f = wg.customVjp((a, b, c) => a!.mul(b!).add(c!), ([a, b], _out, g) => [g.mul(b!), wg.sum(g.mul(a!)), null]);
    const p = track(wg.compile((a, b, c) => wg.sum(f(a, b, c)), { args: [spec(dt, [3]), spec(dt, []), spec(dt, [3])], wrt: [0, 1, 2] }));
    const { grads } = p.valueAndGrad(arr(dt, [1, 2, 3]), 2, arr(dt, [5, 5, 5]));
    expect(grads.map((g) => Array.from(g))).toEqual([[2, 2, 2], [6], [0, 0, 0]]);
    const ones = wg.customVjp((x) => wg.exp(x), () => [1]);
    const q = track(wg.compile((x) => wg.sum(ones(x)), { args: [spec(dt, [2])] }));
    expect(Array.from(q.valueAndGrad(arr(dt, [0.1, 0.2])).grads[0]!)).toEqual([1, 1]);
  });

  it('second derivatives differentiate the rule (nested wg.grad and hvp)', () => {
    // cube with the (correct) rule g·3x²: its second derivative 6x comes from differentiating the rule.
    const cube = wg.customVjp((x) => x.mul(x).mul(x), ([x], _out, g) => [g.mul(3).mul(wg.square(x!))]);
    const p = track(wg.compile((x) => wg.grad((t) => wg.sum(cube(t)))(x), { args: [spec(dt, [2])], wrt: [] }));
    expect(Array.from(p.run(arr(dt, [1, -2])) as Float64Array)).toEqual([3, 12]);
    const q = track(wg.compile((x) => wg.sum(wg.grad((t) => wg.sum(cube(t)))(x)), { args: [spec(dt, [2])] }));
    expect(Array.from(q.valueAndGrad(arr(dt, [1, -2])).grads[0]!)).toEqual([6, -12]);
    const h = track(wg.compile((x) => wg.sum(cube(x)), { args: [spec(dt, [2])] }));
    expect(Array.from(h.hvp([arr(dt, [1, -2])], [arr(dt, [1, 1])]).hvp[0]!)).toEqual([6, -12]);
    expect(Array.from(h.hessian(arr(dt, [1, -2])).hessian)).toEqual([6, 0, 0, -12]);
  });

  it('a straight-through estimator: a rule gives a derivative where fn has none (round)', () => {
    const ste = wg.customVjp((x) => wg.round(x), (_inputs, _out, g) => [g]);
    const p = track(wg.compile((x) => wg.sum(ste(x).mul(x)), { args: [spec(dt, [3])] }));
    // d/dx Σ round(x)·x with round's cotangent passed straight through: x + round(x).
    expect(Array.from(p.valueAndGrad(arr(dt, [0.25, 1.5, -2.75])).grads[0]!)).toEqual([0.25, 3.5, -5.75]);
  });

  it('the rule is traced once: its counter stays 1 after many runs', () => {
    let calls = 0;
    const f = wg.customVjp(
      (x) => wg.sin(x),
      ([x], _out, g) => {
        calls++;
        return [g.mul(wg.cos(x!))];
      },
    );
    const p = track(wg.compile((x) => wg.sum(f(x)), { args: [spec(dt, [3])] }));
    const x = arr(dt, [0.1, 0.2, 0.3]);
    for (let i = 0; i < 50; i++) p.valueAndGrad(x);
    expect(calls).toBe(1);
    assertClose(p.valueAndGrad(x).grads[0]!, Array.from(x).map(Math.cos), TIGHT[dt], 'cos');
  });
});

describe.each(['float64', 'float32'] as const)('wg.customJvp (%s)', (dt) => {
  it('the rule is honoured by p.jvp; reverse mode differentiates fn’s own ops; traced once', () => {
    let calls = 0;
    // A deliberately different rule (2·t instead of cos(x)·t) so that using it is visible.
    const f = wg.customJvp(
      (x) => wg.sin(x),
      (_inputs, [t]) => {
        calls++;
        return t!.mul(2);
      },
    );
    const p = track(wg.compile((x) => wg.sum(f(x)), { args: [spec(dt, [3])] }));
    const x = arr(dt, [0.1, 0.2, 0.3]);
    const t = arr(dt, [1, -1, 0.5]);
    for (let i = 0; i < 20; i++) p.jvp([x], [t]);
    const { value, tangent } = p.jvp([x], [t]);
    expect(calls).toBe(1);
    assertClose(value, Array.from(x).reduce((a, v) => a + Math.sin(v), 0), TIGHT[dt], 'value');
    assertClose(tangent, 2 * (1 - 1 + 0.5), TIGHT[dt], 'custom tangent');
    assertClose(p.valueAndGrad(x).grads[0]!, Array.from(x).map(Math.cos), TIGHT[dt], 'reverse through fn');
    // The Jacobian of the elementwise f: forward mode (batched JVP) uses the rule, reverse mode fn's ops.
    const q = track(wg.compile((t) => f(t), { args: [spec(dt, [2])] }));
    const x2 = arr(dt, [0.1, 0.2]);
    expect(Array.from(q.jacobian(x2, { mode: 'forward' }).jacobian)).toEqual([2, 0, 0, 2]);
    assertClose(q.jacobian(x2, { mode: 'reverse' }).jacobian, [Math.cos(x2[0]!), 0, 0, Math.cos(x2[1]!)], TIGHT[dt], 'reverse Jacobian');
  });

  it('inputs without a tangent get zeros; a rule over two inputs', () => {
    // f(a, b) = a·b with the rule ta·b + a·tb; only a is differentiated, so tb arrives as zeros.
    const f = wg.customJvp((a, b) => a!.mul(b!), ([a, b], [ta, tb]) => ta!.mul(b!).add(a!.mul(tb!)));
    const p = track(wg.compile((a, b) => f(a, b), { args: [spec(dt, [2]), spec(dt, [2])], wrt: [0] }));
    const { tangent } = p.jvp([arr(dt, [1, 2]), arr(dt, [3, 4])], [arr(dt, [1, 10])]);
    expect(Array.from(tangent as Float64Array)).toEqual([3, 40]);
  });
});

describe.each(['float64', 'float32'] as const)('wg.stopGradient (%s)', (dt) => {
  it('keeps the value and zeroes the derivative, in reverse and forward mode', () => {
    const p = track(wg.compile((x) => wg.sum(x.mul(wg.stopGradient(x)).add(wg.stopGradient(wg.exp(x)))), { args: [spec(dt, [2])] }));
    const x = arr(dt, [1.5, -2]);
    const { value, grads } = p.valueAndGrad(x);
    assertClose(value, 1.5 * 1.5 + 4 + Math.exp(1.5) + Math.exp(-2), { rtol: dt === 'float64' ? 1e-15 : 1e-6, atol: 0 }, 'value');
    expect(Array.from(grads[0]!)).toEqual([1.5, -2]); // d/dx x·sg(x) = sg(x); sg(eˣ) contributes 0
    expect(p.jvp([x], [arr(dt, [1, 1])]).tangent).toBe(-0.5);
    const q = track(wg.compile((x) => x.stopGradient(), { args: [spec(dt, [2])] }));
    expect(Array.from(q.run(x) as Float64Array)).toEqual(Array.from(x));
  });
});

describe('custom rules: errors', () => {
  it('a rule returning the wrong count, shape or dtype is a coded error when the gradient is built', () => {
    const count = wg.customVjp((x) => wg.sin(x), () => []);
    expect(() => wg.compile((x) => wg.sum(count(x)), { args: [wg.f64([2])] })).toThrow(expect.objectContaining({ code: 'WENGERT_INVALID_ARGUMENT' }));
    const shape = wg.customVjp((x) => wg.sin(x), (_i, _o, g) => [wg.sum(g)]);
    expect(() => wg.compile((x) => wg.sum(shape(x)), { args: [wg.f64([2])] })).toThrow(expect.objectContaining({ code: 'WENGERT_SHAPE_MISMATCH' }));
    const jvpShape = wg.customJvp((x) => wg.sin(x), (_i, [t]) => wg.sum(t!));
    const p = track(wg.compile((x) => wg.sum(jvpShape(x)), { args: [wg.f64([2])] }));
    expect(() => p.jvp([Float64Array.of(1, 2)], [Float64Array.of(1, 1)])).toThrow(expect.objectContaining({ code: 'WENGERT_SHAPE_MISMATCH' }));
  });

  it('calling a custom function outside a traced function throws WENGERT_TRACE', () => {
    const f = wg.customVjp((x) => x, (_i, _o, g) => [g]);
    expect(() => f(1)).toThrow(expect.objectContaining({ code: 'WENGERT_TRACE' }));
    expect(() => wg.customJvp((x) => x, (_i, [t]) => t!)(1)).toThrow(expect.objectContaining({ code: 'WENGERT_TRACE' }));
  });
});
