// Elementwise ops beyond the core: unary and binary elementwise functions (lgamma, digamma, …),
// comparisons (noGrad), where, clamp.
// How to add a row, and what each check asserts: test/harness/harness.ts. Tests a row cannot
// express (wide ranges, special points, sizes too large for finite differences) go in an exported
// `specialTests(track)`, as in core.table.ts; test/ops.test.ts registers it. The special values
// (±1e3, ±1e300, ties, the conventions at kinks) are in test/elementwise-numerics.test.ts.
import * as wg from '../../ts/index.js';
import type { FdOptions } from '../helpers/fd.js';
import * as ref from '../helpers/ref.js';
import type { Arr } from '../helpers/ref.js';
import * as special from '../helpers/ref-special.js';
import { ANY, AWAY_FROM_ZERO, POSITIVE, type Domain, type Rng } from '../helpers/rng.js';
import { a, shapeName, type CaseTol, type InputMaker, type OpCase, type T, BROADCAST_PAIRS } from '../harness/harness.js';

export const cases: OpCase[] = [];

// ---------------------------------------------------------------------------------------------
// Unary functions: a matrix, a scalar and a [67] vector (a vector loop's body and tail) each.
// Domains keep finite differences (Richardson, step 1e-3·max(1,|x|)) away from poles and kinks:
// the truncation error h⁴|f⁽⁵⁾|/480 stays below 1e-9 at the domain's edge for each function.

type UnaryName =
  | 'expm1' | 'log1p' | 'log2' | 'rsqrt' | 'reciprocal' | 'tan' | 'asin' | 'acos' | 'atan' | 'sinh' | 'cosh'
  | 'asinh' | 'acosh' | 'atanh' | 'erf' | 'erfc' | 'lgamma' | 'digamma' | 'logSigmoid' | 'gelu'
  | 'floor' | 'ceil' | 'round' | 'leakyRelu' | 'elu' | 'stopGradient';
interface UnaryRow {
  readonly name: UnaryName;
  readonly f: (v: number) => number;
  readonly domain: Domain;
  /** Shapes (default [2,3], [] and [67]). */
  readonly shapes?: readonly (readonly number[])[];
  /** A suffix for the row name when a function has rows on several domains. */
  readonly tag?: string;
  readonly noGrad?: true;
  readonly fd?: FdOptions;
  readonly tol?: CaseTol;
  readonly noSecondOrder?: string;
}
const unaryRows: UnaryRow[] = [
  { name: 'expm1', f: Math.expm1, domain: ANY },
  { name: 'log1p', f: Math.log1p, domain: { lo: -0.8, hi: 2 } },
  { name: 'log2', f: Math.log2, domain: POSITIVE },
  { name: 'rsqrt', f: (v) => 1 / Math.sqrt(v), domain: POSITIVE },
  { name: 'reciprocal', f: (v) => 1 / v, domain: AWAY_FROM_ZERO },
  { name: 'tan', f: Math.tan, domain: { lo: -1.2, hi: 1.2 } },
  { name: 'asin', f: Math.asin, domain: { lo: -0.9, hi: 0.9 } },
  { name: 'acos', f: Math.acos, domain: { lo: -0.9, hi: 0.9 } },
  { name: 'atan', f: Math.atan, domain: { lo: -4, hi: 4 } },
  { name: 'sinh', f: Math.sinh, domain: ANY },
  { name: 'cosh', f: Math.cosh, domain: ANY },
  { name: 'asinh', f: Math.asinh, domain: { lo: -5, hi: 5 } },
  { name: 'acosh', f: Math.acosh, domain: { lo: 1.1, hi: 5 } },
  { name: 'atanh', f: Math.atanh, domain: { lo: -0.8, hi: 0.8 } },
  { name: 'erf', f: special.erf, domain: ANY },
  // Both branches of the reference (1 - erf below 2, the continued fraction above).
  { name: 'erfc', f: special.erfc, domain: { lo: -1, hi: 3.5 } },
  // lgamma: the reference's absolute error ≲ 1e-14 (ref-special.ts) is within FWD64.
  { name: 'lgamma', f: special.lgamma, domain: { lo: 0.3, hi: 6 } },
  { name: 'digamma', f: special.digamma, domain: { lo: 0.3, hi: 6 } },
  // Negative non-integers, between the poles -2 and -1 (-3 and -2 for lgamma). Near a pole the
  // fifth derivative is large (~720/d⁷ at distance d = 0.25), so Richardson uses a 5x smaller step:
  // truncation (3.5e-4)⁴·2.4e7/480 ≈ 7.5e-10, rounding 3ε|loss|/h ≈ 2e-12·|loss|.
  { name: 'lgamma', tag: 'negative', f: special.lgamma, domain: { lo: -2.75, hi: -2.25 }, shapes: [[2, 3]], fd: { step: 2e-4 } },
  { name: 'digamma', tag: 'negative', f: special.digamma, domain: { lo: -1.75, hi: -1.25 }, shapes: [[2, 3]], fd: { step: 2e-4 } },
  { name: 'logSigmoid', f: (v) => -ref.softplus(-v), domain: { lo: -6, hi: 6 } },
  { name: 'gelu', f: special.gelu, domain: { lo: -4, hi: 4 } },
  // Kink at 0: |x| >= 0.25, far beyond the largest FD step (2e-3).
  { name: 'leakyRelu', f: (v) => (v > 0 ? v : 0.01 * v), domain: AWAY_FROM_ZERO },
  { name: 'elu', f: (v) => (v > 0 ? v : Math.expm1(v)), domain: AWAY_FROM_ZERO },
  // Piecewise constant. Random float32 draws are never integers or halves, so the jumps are not met.
  { name: 'floor', f: Math.floor, domain: { lo: -4, hi: 4 }, noGrad: true },
  { name: 'ceil', f: Math.ceil, domain: { lo: -4, hi: 4 }, noGrad: true },
  { name: 'round', f: special.roundHalfEven, domain: { lo: -4, hi: 4 }, noGrad: true },
  // The identity with derivative zero (the value passes through, every derivative is exactly 0).
  { name: 'stopGradient', f: (v) => v, domain: ANY, noGrad: true },
];
for (const row of unaryRows) {
  const fn = wg[row.name] as unknown as (x: T) => T;
  const method = (x: T): T => (x[row.name] as unknown as () => T).call(x);
  for (const shape of row.shapes ?? [[2, 3], [], [67]]) {
    cases.push({
      name: `${row.name}${row.tag ? ` ${row.tag}` : ''} ${shapeName(shape)}`,
      covers: [row.name],
      args: [a(shape, row.domain)],
      fn: (x) => fn(x!),
      method: (x) => method(x!),
      ref: (x) => ref.map(x!, row.f),
      ...(row.noGrad ? { noGrad: true as const } : {}),
      ...(row.fd ? { fd: row.fd } : {}),
      ...(row.tol ? { tol: row.tol } : {}),
      ...(row.noSecondOrder ? { noSecondOrder: row.noSecondOrder } : {}),
    });
  }
}

// polygamma(n, x) with the order a number literal (no derivative in n: finite differences in a
// non-integer order would be NaN; a tensor order is tested in elementwise-numerics.test.ts). The
// reference (-1)^(n+1)·n!·ζ(n+1, x) (ref-special.ts) is accurate to ≲ 5e-15 relative for x > 0,
// within FWD64. Finite differences: on [0.3, 6] the truncation h⁴|ψ⁽ⁿ⁺⁵⁾|/480 (h = 1e-3) is at
// most ~1e-9 of the derivative ψ⁽ⁿ⁺¹⁾ for n ≤ 3; for n = 5 the domain starts at 0.5, where it is
// ~2e-10 (|ψ⁽¹⁰⁾(0.5)| ≈ 7e9 gives 1.5e-5,
// against |ψ⁽⁶⁾(0.5)| ≈ 9e4): inside GRAD64 and HVP64.
const polygammaRows: { n: number; domain: Domain; tag?: string; shapes?: number[][]; fd?: FdOptions }[] = [
  { n: 0, domain: { lo: 0.3, hi: 6 } },
  { n: 1, domain: { lo: 0.3, hi: 6 } },
  { n: 2, domain: { lo: 0.3, hi: 6 } },
  { n: 3, domain: { lo: 0.3, hi: 6 } },
  { n: 5, domain: { lo: 0.5, hi: 6 } },
  // Between the poles -2 and -1, through the reflection formula. The reference's terms cancel here
  // (n even): about 8 each near -1.5 against a result of ~0.1, so its error is ≲ 8·5e-15 ≈ 4e-14
  // absolute, within FWD64. A 5x smaller Richardson step as for digamma: ψ⁽⁷⁾ ≈ 7!/0.25⁸ ≈ 3e8
  // at the domain's edge gives truncation (3.5e-4)⁴·3e8/480 ≈ 1e-8, against derivatives ≳ 1e2.
  { n: 2, domain: { lo: -1.75, hi: -1.25 }, tag: 'negative', shapes: [[2, 3]], fd: { step: 2e-4 } },
];
for (const row of polygammaRows) {
  for (const shape of row.shapes ?? [[2, 3], [], [67]]) {
    cases.push({
      name: `polygamma ${row.n}${row.tag ? ` ${row.tag}` : ''} ${shapeName(shape)}`,
      covers: ['polygamma'],
      args: [a(shape, row.domain)],
      fn: (x) => wg.polygamma(row.n, x!),
      ref: (x) => ref.map(x!, (v) => special.polygamma(row.n, v)),
      ...(row.fd ? { fd: row.fd } : {}),
    });
  }
}

// leakyRelu and elu with their parameter: a number, and a tensor (differentiated too: the
// derivative in alpha is min(x, 0) for leakyRelu and expm1(min(x, 0)) for elu).
for (const [name, f] of [
  ['leakyRelu', (v: number, al: number) => (v > 0 ? v : al * v)],
  ['elu', (v: number, al: number) => (v > 0 ? v : al * Math.expm1(v))],
] as const) {
  cases.push({
    name: `${name} [2,3] alpha 0.3`,
    covers: [name],
    args: [a([2, 3], AWAY_FROM_ZERO)],
    fn: (x) => wg[name](x!, 0.3),
    method: (x) => x![name](0.3),
    ref: (x) => ref.map(x!, (v) => f(v, 0.3)),
  });
  cases.push({
    name: `${name} [3,4] alpha tensor [4]`,
    covers: [name],
    args: [a([3, 4], AWAY_FROM_ZERO), a([4], POSITIVE)],
    fn: (x, al) => wg[name](x!, al!),
    method: (x, al) => x![name](al!),
    ref: (x, al) => ref.zip(x!, al!, f),
  });
}

// ---------------------------------------------------------------------------------------------
// Binary functions and comparisons, over broadcasting shape pairs and number literals.

type BinaryName = 'atan2' | 'minimum' | 'maximum' | 'mod' | 'greaterEqual' | 'less' | 'lessEqual' | 'equal' | 'notEqual';
interface BinaryRow {
  readonly name: BinaryName;
  readonly f: (x: number, y: number) => number;
  readonly dx: Domain | InputMaker;
  readonly dy: Domain | InputMaker;
  readonly literals: readonly number[];
  readonly noGrad?: true;
  readonly fd?: FdOptions;
}
/** Values in {-1, 0, 1}: comparisons of two such arrays meet ties. */
const SMALL_INTS: InputMaker = (rng: Rng, shape) => Float64Array.from({ length: ref.size(shape) }, () => rng.int(3) - 1);
// minimum / maximum: one operand in ±[0.25, 2), the other in [-0.2, 0.2): both win somewhere, and
// they never come within 0.05 of each other (ties are tested in elementwise-numerics.test.ts).
const NEAR_ZERO: Domain = { lo: -0.2, hi: 0.2 };
const binaryRows: BinaryRow[] = [
  // First operand (the ordinate) away from 0: no point near the origin or the branch cut.
  { name: 'atan2', f: Math.atan2, dx: AWAY_FROM_ZERO, dy: ANY, literals: [0.75, -1.5] },
  { name: 'minimum', f: Math.min, dx: AWAY_FROM_ZERO, dy: NEAR_ZERO, literals: [0.1] },
  { name: 'maximum', f: Math.max, dx: AWAY_FROM_ZERO, dy: NEAR_ZERO, literals: [-0.1] },
  // Jumps where x/y is an integer: central differences (step 1e-6) do not meet them for these draws.
  { name: 'mod', f: special.mod, dx: { lo: -4, hi: 4 }, dy: AWAY_FROM_ZERO, literals: [0.75, -1.25], fd: { method: 'central' } },
  { name: 'greaterEqual', f: (x, y) => (x >= y ? 1 : 0), dx: ANY, dy: ANY, literals: [0.25], noGrad: true },
  { name: 'less', f: (x, y) => (x < y ? 1 : 0), dx: ANY, dy: ANY, literals: [0.25], noGrad: true },
  { name: 'lessEqual', f: (x, y) => (x <= y ? 1 : 0), dx: ANY, dy: ANY, literals: [0.25], noGrad: true },
  { name: 'equal', f: (x, y) => (x === y ? 1 : 0), dx: SMALL_INTS, dy: SMALL_INTS, literals: [0, 1], noGrad: true },
  { name: 'notEqual', f: (x, y) => (x !== y ? 1 : 0), dx: SMALL_INTS, dy: SMALL_INTS, literals: [0, 1], noGrad: true },
];
// Ties for greaterEqual and lessEqual, on the small-integer grid.
for (const [name, f] of [
  ['greaterEqual', (x: number, y: number) => (x >= y ? 1 : 0)],
  ['lessEqual', (x: number, y: number) => (x <= y ? 1 : 0)],
  ['less', (x: number, y: number) => (x < y ? 1 : 0)],
] as const) {
  binaryRows.push({ name, f, dx: SMALL_INTS, dy: SMALL_INTS, literals: [], noGrad: true });
}
const domainName = (d: Domain | InputMaker): string => (typeof d === 'function' ? ' on {-1,0,1}' : '');
for (const row of binaryRows) {
  const fn = wg[row.name] as (x: wg.TensorLike, y: wg.TensorLike) => T;
  const method = (x: T, y: wg.TensorLike): T => (x[row.name] as (o: wg.TensorLike) => T).call(x, y);
  const common = { covers: [row.name], ...(row.noGrad ? { noGrad: true as const } : {}), ...(row.fd ? { fd: row.fd } : {}) };
  for (const [sx, sy] of BROADCAST_PAIRS) {
    cases.push({
      name: `${row.name}${domainName(row.dx)} ${shapeName(sx)} with ${shapeName(sy)}`,
      args: [a(sx, row.dx), a(sy, row.dy)],
      fn: (x, y) => fn(x!, y!),
      method: (x, y) => method(x!, y!),
      ref: (x, y) => ref.zip(x!, y!, row.f),
      ...common,
    });
  }
  for (const v of row.literals) {
    cases.push({
      name: `${row.name} [2,3] with literal ${v}`,
      args: [a([2, 3], row.dx)],
      fn: (x) => fn(x!, v),
      method: (x) => method(x!, v),
      ref: (x) => ref.zip(x!, ref.scalar(v), row.f),
      ...common,
    });
    cases.push({
      name: `${row.name} literal ${v} with [2,3]`,
      args: [a([2, 3], row.dy)],
      fn: (y) => fn(v, y!),
      ref: (y) => ref.zip(ref.scalar(v), y!, row.f),
      ...common,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// where: the condition is a comparison of an argument (a mask argument itself could not be
// differentiated numerically: any step moves 0 to nonzero), over three-way broadcasts.

const where3 = (c: Arr, x: Arr, y: Arr): Arr => {
  const cx = ref.zip(c, x, (cv) => cv);
  const xy = ref.zip(x, y, (xv) => xv);
  const sel = ref.zip(cx, xy, (cv) => (cv > 0 ? 1 : 0));
  const av = ref.zip(sel, x, (_s, xv) => xv);
  const bv = ref.zip(sel, y, (_s, yv) => yv);
  return { shape: sel.shape, data: sel.data.map((s, i) => (s === 1 ? av.data[i]! : bv.data[i]!)) };
};
const whereShapes: [number[], number[], number[]][] = [
  [[2, 3], [2, 3], [2, 3]],
  [[3, 1], [1, 4], []],
  [[2, 1, 4], [3, 1], [4]],
  [[], [2, 3], [3]],
  [[4], [3, 1], [2, 1, 1]],
  [[5, 1, 7], [1, 3, 1], [5, 3, 7]],
];
for (const [sc, sa, sb] of whereShapes) {
  cases.push({
    name: `where ${shapeName(sc)}, ${shapeName(sa)}, ${shapeName(sb)}`,
    covers: ['where', 'greater'],
    // The condition's argument keeps |c| >= 0.25, so no finite-difference step flips it.
    args: [a(sc, AWAY_FROM_ZERO), a(sa), a(sb)],
    fn: (c, x, y) => wg.where(wg.greater(c!, 0), x!, y!),
    ref: where3,
  });
}
cases.push({
  name: 'where with number branches',
  covers: ['where', 'less'],
  args: [a([2, 3], AWAY_FROM_ZERO)],
  fn: (c) => wg.mul(wg.where(wg.less(c!, 0), -1.5, 2.5), c!),
  ref: (c) => ref.map(c!, (v) => (v < 0 ? -1.5 : 2.5) * v),
});

// ---------------------------------------------------------------------------------------------
// clamp: number and tensor bounds, one-sided, and a broadcast bound. Values keep at least 0.01
// away from every bound (so no finite-difference step crosses one).

const awayFrom =
  (bounds: readonly number[], domain: Domain = ANY): InputMaker =>
  (rng, shape) =>
    Float64Array.from({ length: ref.size(shape) }, () => {
      for (;;) {
        const v = Math.fround(rng.draw(domain));
        if (bounds.every((b) => Math.abs(v - b) > 0.01)) return v;
      }
    });
const clip = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);
cases.push({
  name: 'clamp [2,3] to [-0.5, 0.5]',
  covers: ['clamp'],
  args: [a([2, 3], awayFrom([-0.5, 0.5]))],
  fn: (x) => wg.clamp(x!, -0.5, 0.5),
  method: (x) => x!.clamp(-0.5, 0.5),
  ref: (x) => ref.map(x!, (v) => clip(v, -0.5, 0.5)),
});
cases.push({
  name: 'clamp [67] lower bound only',
  covers: ['clamp'],
  args: [a([67], awayFrom([0.3]))],
  fn: (x) => wg.clamp(x!, 0.3),
  method: (x) => x!.clamp(0.3),
  ref: (x) => ref.map(x!, (v) => Math.max(v, 0.3)),
});
cases.push({
  name: 'clamp [2,3] upper bound only',
  covers: ['clamp'],
  args: [a([2, 3], awayFrom([-0.3]))],
  fn: (x) => wg.clamp(x!, undefined, -0.3),
  method: (x) => x!.clamp(undefined, -0.3),
  ref: (x) => ref.map(x!, (v) => Math.min(v, -0.3)),
});
// Tensor bounds, broadcast: lo [3,1] in [-1.5,-0.5), hi [4] in [0.5,1.5), x in [-2, 2). The draws
// are fixed by the row's name; for this name every x is at least 0.018 from its bounds (checked
// when the row was written), 9x the largest finite-difference step. Renaming the row redraws them.
cases.push({
  name: 'clamp [3,4] with tensor bounds [3,1] and [4]',
  covers: ['clamp'],
  args: [a([3, 4], ANY), a([3, 1], { lo: -1.5, hi: -0.5 }), a([4], { lo: 0.5, hi: 1.5 })],
  fn: (x, lo, hi) => wg.clamp(x!, lo!, hi!),
  method: (x, lo, hi) => x!.clamp(lo!, hi!),
  ref: (x, lo, hi) => ref.zip(ref.zip(x!, lo!, Math.max), hi!, Math.min),
});
