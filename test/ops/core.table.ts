// The core ops (the first release's 27): elementwise unary and binary ops, sum and mean, matmul,
// reshape, transpose, broadcastTo and constant. Rows are checked by test/harness/harness.ts;
// specialTests holds what a row cannot express: wide input ranges, a matmul too large for finite
// differences, and conventions at special points.
import { describe, expect, it } from 'vitest';
import * as wg from '../../ts/index.js';
import { assertClose, maxAbs, type Tol } from '../helpers/compare.js';
import type { FdOptions } from '../helpers/fd.js';
import * as ref from '../helpers/ref.js';
import type { Arr } from '../helpers/ref.js';
import { ANY, AWAY_FROM_ZERO, POSITIVE, Rng, type Domain } from '../helpers/rng.js';
import { a, asArray, seedOf, shapeName, typed, type OpCase, type T, type Track, BROADCAST_PAIRS } from '../harness/harness.js';

export const cases: OpCase[] = [];

// ---------------------------------------------------------------------------------------------
// Elementwise unary ops: one row on a matrix and one on a scalar argument each.

interface UnaryRow {
  readonly name: keyof typeof wg & string;
  readonly f: (v: number) => number;
  readonly domain: Domain;
  readonly fd?: FdOptions;
}
const unaryRows: UnaryRow[] = [
  { name: 'neg', f: (v) => -v, domain: ANY },
  { name: 'exp', f: Math.exp, domain: ANY },
  { name: 'log', f: Math.log, domain: POSITIVE },
  { name: 'sqrt', f: Math.sqrt, domain: POSITIVE },
  { name: 'square', f: (v) => v * v, domain: ANY },
  // Kink at 0: inputs are kept at |x| >= 0.25, far beyond the largest FD step (2e-3).
  { name: 'abs', f: Math.abs, domain: AWAY_FROM_ZERO },
  { name: 'sin', f: Math.sin, domain: { lo: -4, hi: 4 } },
  { name: 'cos', f: Math.cos, domain: { lo: -4, hi: 4 } },
  { name: 'tanh', f: Math.tanh, domain: { lo: -3, hi: 3 } },
  { name: 'sigmoid', f: ref.sigmoid, domain: { lo: -6, hi: 6 } },
  { name: 'softplus', f: ref.softplus, domain: { lo: -6, hi: 6 } },
  { name: 'relu', f: (v) => Math.max(v, 0), domain: AWAY_FROM_ZERO },
  // Piecewise constant: derivative 0 away from 0.
  { name: 'sign', f: Math.sign, domain: AWAY_FROM_ZERO },
];
for (const row of unaryRows) {
  const fn = wg[row.name] as unknown as (x: T) => T;
  const method = (x: T): T => (x[row.name as keyof T] as unknown as () => T).call(x);
  // [67]: more than a vector register's worth of lanes and not a multiple of any, so a
  // vectorized kernel's main loop and its tail both run.
  for (const shape of [[2, 3], [], [67]] as const) {
    cases.push({
      name: `${row.name} ${shapeName(shape)}`,
      covers: [row.name],
      args: [a(shape, row.domain)],
      fn: (x) => fn(x!),
      method: (x) => method(x!),
      ref: (x) => ref.map(x!, row.f),
      ...(row.fd ? { fd: row.fd } : {}),
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Elementwise binary ops, over broadcasting shape pairs and number literals.

interface BinaryRow {
  readonly name: 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'greater';
  readonly f: (x: number, y: number) => number;
  readonly dx: Domain;
  readonly dy: Domain;
  /** Number literals to combine with a tensor, on either side. */
  readonly literals: readonly number[];
  readonly fd?: FdOptions;
}
const binaryRows: BinaryRow[] = [
  { name: 'add', f: (x, y) => x + y, dx: ANY, dy: ANY, literals: [1.75] },
  { name: 'sub', f: (x, y) => x - y, dx: ANY, dy: ANY, literals: [1.75] },
  { name: 'mul', f: (x, y) => x * y, dx: ANY, dy: ANY, literals: [-2.5] },
  { name: 'div', f: (x, y) => x / y, dx: ANY, dy: AWAY_FROM_ZERO, literals: [1.75] },
  // Base positive (the derivative in the exponent needs log of the base).
  { name: 'pow', f: (x, y) => x ** y, dx: POSITIVE, dy: ANY, literals: [2, 3, 0.5, -1.5] },
  // Piecewise constant; a central step of 1e-6 will not cross x = y for these draws.
  { name: 'greater', f: (x, y) => (x > y ? 1 : 0), dx: ANY, dy: ANY, literals: [0.25], fd: { method: 'central' } },
];
for (const row of binaryRows) {
  const fn = wg[row.name] as (x: wg.TensorLike, y: wg.TensorLike) => T;
  const method = (x: T, y: wg.TensorLike): T => (x[row.name] as (o: wg.TensorLike) => T).call(x, y);
  const lit = (v: number): Arr => ref.scalar(v);
  for (const [sx, sy] of BROADCAST_PAIRS) {
    cases.push({
      name: `${row.name} ${shapeName(sx)} with ${shapeName(sy)}`,
      covers: [row.name],
      args: [a(sx, row.dx), a(sy, row.dy)],
      fn: (x, y) => fn(x!, y!),
      method: (x, y) => method(x!, y!),
      ref: (x, y) => ref.zip(x!, y!, row.f),
      ...(row.fd ? { fd: row.fd } : {}),
    });
  }
  for (const v of row.literals) {
    // Tensor op literal (the exponent of pow is the common case), and literal op tensor where
    // the literal is in the tensor's domain (a literal pow base must be positive).
    cases.push({
      name: `${row.name} [2,3] with literal ${v}`,
      covers: [row.name],
      args: [a([2, 3], row.dx)],
      fn: (x) => fn(x!, v),
      method: (x) => method(x!, v),
      ref: (x) => ref.zip(x!, lit(v), row.f),
      ...(row.fd ? { fd: row.fd } : {}),
    });
    if (row.name !== 'pow' || v > 0) {
      cases.push({
        name: `${row.name} literal ${v} with [2,3]`,
        covers: [row.name],
        args: [a([2, 3], row.dy)],
        fn: (y) => fn(v, y!),
        ref: (y) => ref.zip(lit(v), y!, row.f),
        ...(row.fd ? { fd: row.fd } : {}),
      });
    }
  }
}

// Plain numbers where a tensor is expected, for unary ops too: they become constants. A unary op
// of a number alone has no tensor to take a dtype from and gives float64, so the float32 program
// spells the same constants as float32 scalars.
const scalarOf = (x: T, v: number): T | number =>
  x.dtype === 'float64' ? v : wg.constant(Float32Array.of(v), []);
cases.push({
  name: 'numbers as operands of unary ops: x·exp(0.5) + sin(1)',
  covers: ['exp', 'sin'],
  args: [a([2, 3])],
  fn: (x) => wg.add(wg.mul(x!, wg.exp(scalarOf(x!, 0.5))), wg.sin(scalarOf(x!, 1))),
  ref: (x) => ref.map(x!, (v) => v * Math.exp(0.5) + Math.sin(1)),
});

// One tensor used several times: its cotangent is the sum of every use's contribution.
cases.push({
  name: 'one argument used several times: (x·x + 2x − x) / (x + 3)',
  covers: ['mul', 'add', 'sub', 'div'],
  args: [a([2, 3], POSITIVE)],
  fn: (x) => wg.div(wg.sub(wg.add(wg.mul(x!, x!), wg.mul(x!, 2)), x!), wg.add(x!, 3)),
  method: (x) => x!.mul(x!).add(x!.mul(2)).sub(x!).div(x!.add(3)),
  ref: (x) => ref.map(x!, (v) => (v * v + 2 * v - v) / (v + 3)),
});

// ---------------------------------------------------------------------------------------------
// Reductions: every axis, positive and negative, single and multiple, with and without keepDims.

const reductionAxes: (number | number[] | undefined)[] = [undefined, 0, 1, 2, -1, -2, -3, [0, 2], [-1, 0], [1, 2], [0, 1, 2]];
for (const name of ['sum', 'mean'] as const) {
  const reference = name === 'sum' ? ref.sum : ref.mean;
  for (const axes of reductionAxes) {
    for (const keepDims of [false, true]) {
      cases.push({
        name: `${name} [2,3,4] axes ${JSON.stringify(axes) ?? 'all'}${keepDims ? ' keepDims' : ''}`,
        covers: [name],
        args: [a([2, 3, 4])],
        fn: (x) => wg[name](x!, axes, { keepDims }),
        method: (x) => x![name](axes, { keepDims }),
        ref: (x) => reference(x!, axes, keepDims),
      });
    }
  }
  // Longer, odd-sized axes (vector loops with tails), one axis at a time and two at once.
  for (const axes of [0, 1, -1, [0, 2]]) {
    cases.push({
      name: `${name} [9,5,11] axes ${JSON.stringify(axes)}`,
      covers: [name],
      args: [a([9, 5, 11])],
      fn: (x) => wg[name](x!, axes),
      method: (x) => x![name](axes),
      ref: (x) => reference(x!, axes),
    });
  }
  // A vector and the default arguments.
  cases.push({
    name: `${name} [5] default axes`,
    covers: [name],
    args: [a([5])],
    fn: (x) => wg[name](x!),
    method: (x) => x![name](),
    ref: (x) => reference(x!),
  });
}

// ---------------------------------------------------------------------------------------------
// matmul: matrix × matrix, matrix × vector, vector × matrix, and degenerate sizes.

const matmulShapes: [number[], number[]][] = [
  [[3, 4], [4, 5]],
  [[3, 4], [4]],
  [[4], [4, 5]],
  [[1, 4], [4, 1]],
  [[5, 1], [1, 3]],
  [[23, 41], [41, 17]], // odd sizes past any blocking factor
  [[41], [41, 17]],
  [[23, 41], [41]],
];
for (const [sa, sb] of matmulShapes) {
  cases.push({
    name: `matmul ${shapeName(sa)} × ${shapeName(sb)}`,
    covers: ['matmul'],
    args: [a(sa), a(sb)],
    fn: (x, y) => wg.matmul(x!, y!),
    method: (x, y) => x!.matmul(y!),
    ref: (x, y) => ref.matmul(x!, y!),
  });
}

// Stacks of matrices (rank 3), with identical and with broadcast batch axes.
function batchedMatmul(x: Arr, y: Arr): Arr {
  const batch = x.shape.length === 3 ? x.shape[0]! : y.shape[0]!;
  const slice = (t: Arr, k: number): Arr => {
    if (t.shape.length === 2) return t;
    const [, r, c] = t.shape as [number, number, number];
    return ref.arr(t.data.subarray(k * r * c, (k + 1) * r * c), [r, c]);
  };
  const parts = Array.from({ length: batch }, (_, k) => ref.matmul(slice(x, k), slice(y, k)));
  const data = new Float64Array(parts.reduce((n, part) => n + part.data.length, 0));
  parts.forEach((part, k) => data.set(part.data, k * part.data.length));
  return { shape: [batch, ...parts[0]!.shape], data };
}
for (const [sa, sb] of [
  [[2, 3, 4], [2, 4, 5]],
  [[2, 3, 4], [4, 5]],
  [[3, 4], [2, 4, 5]],
] as [number[], number[]][]) {
  cases.push({
    name: `matmul batched ${shapeName(sa)} × ${shapeName(sb)}`,
    covers: ['matmul'],
    args: [a(sa), a(sb)],
    fn: (x, y) => wg.matmul(x!, y!),
    method: (x, y) => x!.matmul(y!),
    ref: batchedMatmul,
  });
}

// ---------------------------------------------------------------------------------------------
// Shape ops. Each is composed with a square so that its input is not the graph input itself
// (this also exercises the cotangent flowing through the op into another op).

for (const shape of [[6, 4], [24], [4, 3, 2], [2, 12, 1], [1, 24]]) {
  cases.push({
    name: `reshape [2,3,4] to ${shapeName(shape)}`,
    covers: ['reshape'],
    args: [a([2, 3, 4])],
    fn: (x) => wg.reshape(wg.square(x!), shape),
    method: (x) => x!.square().reshape(shape),
    ref: (x) => ref.reshape(ref.map(x!, (v) => v * v), shape),
  });
}
const perms: (number[] | undefined)[] = [undefined, [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0], [0, 1, 2]];
for (const perm of perms) {
  cases.push({
    name: `transpose [2,3,4] perm ${perm ? shapeName(perm) : 'default'}`,
    covers: ['transpose'],
    args: [a([2, 3, 4])],
    fn: (x) => wg.transpose(wg.square(x!), perm),
    method: (x) => x!.square().transpose(perm),
    ref: (x) => ref.transpose(ref.map(x!, (v) => v * v), perm),
  });
}
cases.push({
  name: 'transpose [3,5] default',
  covers: ['transpose'],
  args: [a([3, 5])],
  fn: (x) => wg.transpose(x!),
  method: (x) => x!.transpose(),
  ref: (x) => ref.transpose(x!),
});
const broadcastPairs: [number[], number[]][] = [
  [[3, 1], [2, 3, 4]],
  [[], [2, 3]],
  [[4], [3, 4]],
  [[2, 1, 4], [2, 3, 4]],
];
for (const [from, to] of broadcastPairs) {
  cases.push({
    name: `broadcastTo ${shapeName(from)} to ${shapeName(to)}`,
    covers: ['broadcastTo'],
    args: [a(from)],
    fn: (x) => wg.broadcastTo(x!, to),
    method: (x) => x!.broadcastTo(to),
    ref: (x) => ref.zip(x!, { shape: to, data: new Float64Array(ref.size(to)) }, (v) => v),
  });
}

// ---------------------------------------------------------------------------------------------
// constant: a tensor constant and a scalar constant mixed with arguments.

{
  const rng = new Rng(77);
  const c = rng.array32(6);
  cases.push({
    name: 'constant [2,3] times an argument, plus constant(number)',
    covers: ['constant'],
    args: [a([2, 3])],
    // constant(number) is float64 by definition, so this row builds its constants in the
    // argument's dtype: Float32Array data for a float32 argument.
    fn: (x) =>
      wg.add(
        wg.mul(x!, wg.constant(x!.dtype === 'float32' ? Float32Array.from(c) : Float64Array.from(c), [2, 3])),
        x!.dtype === 'float64' ? wg.constant(0.5) : 0.5,
      ),
    ref: (x) => ref.map(ref.zip(x!, ref.arr(c, [2, 3]), (p, q) => p * q), (v) => v + 0.5),
  });
}

// ---------------------------------------------------------------------------------------------
// Checks beyond the table, registered by test/ops.test.ts after the rows.

export function specialTests(track: Track): void {
  // ---------------------------------------------------------------------------------------------
  // Elementwise functions over their whole useful range, 1037 points each (an odd count, so vector
  // loops run their tails), against JavaScript's Math in float64.

  describe('wide-range forward accuracy', () => {
    const n = 1037;
    // [name, reference, draw]: draws are uniform, or log-uniform for log and sqrt.
    const rows: [string, (v: number) => number, (r: Rng) => number, (r: Rng) => number][] = [
      ['exp', Math.exp, (r) => r.uniform(-700, 700), (r) => r.uniform(-80, 80)],
      ['log', Math.log, (r) => Math.exp(r.uniform(-690, 690)), (r) => Math.exp(r.uniform(-80, 80))],
      ['sqrt', Math.sqrt, (r) => Math.exp(r.uniform(-690, 690)), (r) => Math.exp(r.uniform(-80, 80))],
      ['sin', Math.sin, (r) => r.uniform(-100, 100), (r) => r.uniform(-100, 100)],
      ['cos', Math.cos, (r) => r.uniform(-100, 100), (r) => r.uniform(-100, 100)],
      ['tanh', Math.tanh, (r) => r.uniform(-20, 20), (r) => r.uniform(-20, 20)],
      ['sigmoid', ref.sigmoid, (r) => r.uniform(-700, 700), (r) => r.uniform(-80, 80)],
      ['softplus', ref.softplus, (r) => r.uniform(-700, 700), (r) => r.uniform(-80, 80)],
    ];
    for (const [name, f, draw64, draw32] of rows) {
      const op = wg[name as 'exp'];
      it(`${name}, float64 and float32`, () => {
        const rng = new Rng(seedOf(`wide ${name}`));
        const x64 = Float64Array.from({ length: n }, () => draw64(rng));
        const y64 = track(wg.compile((t) => op(t!), { args: [wg.f64([n])], wrt: [] })).run(x64) as Float64Array;
        // 1e-14 relative is ~45 ulp: any sound implementation, scalar or vectorized, meets it; sin
        // and cos near their zeros are compared absolutely (2e-14 ≈ 100 ulp of the argument 100).
        const abs64 = name === 'sin' || name === 'cos' ? 2e-14 : 0;
        assertClose(y64, x64.map(f), { rtol: 1e-14, atol: abs64 + 1e-300 }, `${name} float64 over its range`);
        const x32 = Float32Array.from({ length: n }, () => draw32(rng));
        const y32 = track(wg.compile((t) => op(t!), { args: [wg.f32([n])], wrt: [] })).run(x32) as Float32Array;
        // float32: 1e-6 relative ≈ 8 float32 ulp; values below float32's normal range (sigmoid and
        // softplus of -80 ≈ 1.8e-35) keep an absolute floor of 1e-37. sin/cos: 8 ulp of 100.
        const abs32 = name === 'sin' || name === 'cos' ? 8e-6 : 1e-37;
        assertClose(y32, Float64Array.from(x32, f), { rtol: 1e-6, atol: abs32 }, `${name} float32 over its range`);
      });
    }
  });

  // ---------------------------------------------------------------------------------------------
  // A matmul large enough for any blocking or threading a kernel may do, checked against the
  // analytic gradient (finite differences over 50,000 entries would take minutes): for
  // loss = Σ (A·B) ⊙ R, ∂A = R·Bᵀ and ∂B = Aᵀ·R, computed by the plain-JS reference.

  describe('large matmul', () => {
    const [m, k, n] = [130, 257, 67];
    const rng = new Rng(515);
    const A = rng.array32(m * k);
    const B = rng.array32(k * n);
    const R = rng.array32(m * n);
    const refC = ref.matmul(ref.arr(A, [m, k]), ref.arr(B, [k, n])).data;
    const refGA = ref.matmul(ref.arr(R, [m, n]), ref.transpose(ref.arr(B, [k, n]))).data;
    const refGB = ref.matmul(ref.transpose(ref.arr(A, [m, k])), ref.arr(R, [m, n])).data;

    for (const dtype of ['float64', 'float32'] as const) {
      it(`[${m},${k}] × [${k},${n}], ${dtype}: forward and gradient`, () => {
        const spec = dtype === 'float64' ? wg.f64 : wg.f32;
        const cast = (x: Float64Array): Float64Array | Float32Array => typed(x, dtype);
        const fwd = track(wg.compile((x, y) => wg.matmul(x!, y!), { args: [spec([m, k]), spec([k, n])], wrt: [] }));
        const loss = track(
          wg.compile((x, y) => wg.sum(wg.mul(wg.matmul(x!, y!), wg.constant(cast(R), [m, n]))), {
            args: [spec([m, k]), spec([k, n])],
            wrt: [0, 1],
          }),
        );
        // float64: each entry is a k-term dot product of values ≤ 2 in magnitude, so evaluation-order
        // differences are ≤ k·2^-53·Σ|terms| ≈ 257·1.1e-16·1000 ≈ 3e-11 (1e-10 allowed).
        // float32 (same float32-representable inputs): accumulating 257 terms in float32 errs by
        // about √k·2^-24·rms(terms) ≈ 1e-6 of the largest entry; 4e-5 of it is allowed — a 40×
        // margin, and 10^4 times below what a wrong entry would show.
        const tol = (expected: Float64Array): Tol =>
          dtype === 'float64' ? { rtol: 1e-12, atol: 1e-10 } : { rtol: 0, atol: 4e-5 * maxAbs(expected) };
        assertClose(asArray(fwd.run(cast(A), cast(B))), refC, tol(refC), `${dtype} large matmul forward`);
        const { grads } = loss.valueAndGrad(cast(A), cast(B));
        assertClose(grads[0]!, refGA, tol(refGA), `${dtype} large matmul ∂A`);
        assertClose(grads[1]!, refGB, tol(refGB), `${dtype} large matmul ∂B`);
      });
    }
  });

  // ---------------------------------------------------------------------------------------------
  // Conventions and special values that random inputs never reach.

  describe('conventions at special points', () => {
    it("relu'(0) = 0 and abs'(0) = 0, for +0 and -0", () => {
      const x = Float64Array.of(0, -0, 1.5, -1.5);
      for (const [name, expected] of [
        ['relu', [0, 0, 1, 0]],
        ['abs', [0, 0, 1, -1]],
      ] as const) {
        const op = wg[name];
        const p = track(wg.compile((t) => wg.sum(op(t!)), { args: [wg.f64([4])] }));
        const { grads } = p.valueAndGrad(x);
        // Exact: these derivatives are 0, 1 or -1 by definition; -0 and +0 both count as 0.
        expect(Array.from(grads[0]!, (v) => (v === 0 ? 0 : v))).toEqual(expected);
      }
    });

    it('softplus and sigmoid stay finite and accurate for large |x| (float64)', () => {
      const x = Float64Array.of(-800, -40, -1e-3, 0, 40, 800);
      for (const [name, f, df] of [
        ['softplus', ref.softplus, ref.sigmoid],
        ['sigmoid', ref.sigmoid, (v: number) => ref.sigmoid(v) * ref.sigmoid(-v)],
      ] as const) {
        const op = wg[name];
        const pf = track(wg.compile((t) => op(t!), { args: [wg.f64([6])], wrt: [] }));
        const out = pf.run(x) as Float64Array;
        // Relative 1e-14: one log1p/exp away from the stable JS form; tiny values (e^-800 = 0 in
        // float64) compared absolutely at 1e-300.
        assertClose(out, x.map(f), { rtol: 1e-14, atol: 1e-300 }, `${name}(x) at large |x|`);
        const pg = track(wg.compile((t) => wg.sum(op(t!)), { args: [wg.f64([6])] }));
        const { grads } = pg.valueAndGrad(x);
        // The derivative σ(x)(1-σ(x)) at x = ±40 is 4.2e-18; computing 1 - σ(40) in float64 gives 0,
        // an absolute error of 4e-18 that is legitimate, hence atol 1e-17.
        assertClose(grads[0]!, x.map(df), { rtol: 1e-13, atol: 1e-17 }, `${name}'(x) at large |x|`);
      }
    });

    it('softplus and sigmoid stay finite for large |x| (float32)', () => {
      const x = Float32Array.of(-200, -100, -20, 20, 100, 200);
      for (const [name, f] of [
        ['softplus', ref.softplus],
        ['sigmoid', ref.sigmoid],
      ] as const) {
        const op = wg[name];
        const p = track(wg.compile((t) => op(t!), { args: [wg.f32([6])], wrt: [] }));
        const out = p.run(x) as Float32Array;
        // float32: relative 1e-6 (a few ulp); values below float32's range compare at 1e-38.
        assertClose(out, Float64Array.from(x, f), { rtol: 1e-6, atol: 1e-38 }, `${name}(x) float32 at large |x|`);
      }
    });
  });
}
