// Error measures and closeness checks shared by every test. A failed check throws an Error
// naming what was compared, the worst element, both values and the tolerance, so a failure
// reads without a debugger.

export interface Tol {
  /** Allowed error relative to the expected element's magnitude. */
  readonly rtol: number;
  /** Allowed absolute error (use it for elements whose expected value may be near 0). */
  readonly atol: number;
}

/** |a - b| / max(|a|, |b|, floor): symmetric relative error, with a floor for values near 0. */
export function relErr(a: number, b: number, floor = 0): number {
  const d = Math.abs(a - b);
  if (d === 0) return 0;
  if (Number.isNaN(d)) return Number.POSITIVE_INFINITY;
  return d / Math.max(Math.abs(a), Math.abs(b), floor);
}

/** Largest relErr over two arrays of the same length. */
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>, floor = 0): number {
  checkLength(a, b, 'maxRelErr');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, relErr(a[i]!, b[i]!, floor));
  return m;
}

/** Largest |a_i - b_i| (Infinity when either holds a NaN the other does not match). */
export function maxAbsErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkLength(a, b, 'maxAbsErr');
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    m = Math.max(m, Number.isNaN(d) ? Number.POSITIVE_INFINITY : d);
  }
  return m;
}

/** Largest |x_i| (at least `floor`). */
export function maxAbs(x: ArrayLike<number>, floor = 0): number {
  let m = floor;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]!));
  return m;
}

function checkLength(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  if (a.length !== b.length) {
    throw new Error(`${what}: lengths differ (actual ${a.length}, expected ${b.length})`);
  }
}

/**
 * Throws unless |actual_i - expected_i| <= rtol·|expected_i| + atol for every i (NaN never passes).
 * `actual` may be a number when `expected` is, e.g. a scalar loss.
 */
export function assertClose(
  actual: ArrayLike<number> | number,
  expected: ArrayLike<number> | number,
  tol: Tol,
  what: string,
): void {
  const a = typeof actual === 'number' ? [actual] : actual;
  const e = typeof expected === 'number' ? [expected] : expected;
  checkLength(a, e, what);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < e.length; i++) {
    const err = Math.abs(a[i]! - e[i]!);
    const allowed = tol.rtol * Math.abs(e[i]!) + tol.atol;
    const excess = Number.isNaN(err) ? Number.POSITIVE_INFINITY : err / allowed;
    if (!(err <= allowed) && excess >= worstExcess) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    const err = Math.abs(a[worst]! - e[worst]!);
    throw new Error(
      `${what}: element ${worst} of ${e.length} is ${a[worst]}, expected ${e[worst]} ` +
        `(error ${err.toExponential(3)}, allowed rtol ${tol.rtol} · |expected| + atol ${tol.atol}; ` +
        `max relErr over all ${maxRelErr(a, e).toExponential(3)})`,
    );
  }
}

/** True when two arrays hold identical bits (NaN payloads included), e.g. for determinism. */
export function sameBits(a: ArrayLike<number> | number, b: ArrayLike<number> | number): boolean {
  const x = typeof a === 'number' ? Float64Array.of(a) : a;
  const y = typeof b === 'number' ? Float64Array.of(b) : b;
  if (x.length !== y.length) return false;
  const bx = new Float64Array(1);
  const by = new Float64Array(1);
  const ux = new BigUint64Array(bx.buffer);
  const uy = new BigUint64Array(by.buffer);
  for (let i = 0; i < x.length; i++) {
    bx[0] = x[i]!;
    by[0] = y[i]!;
    if (ux[0] !== uy[0]) return false;
  }
  return true;
}
