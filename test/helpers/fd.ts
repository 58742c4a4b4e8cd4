// Finite-difference gradients in float64, the yardstick for every reverse-mode gradient.
//
// central:     D(h) = (f(x + h) - f(x - h)) / 2h,  h = 1e-6·max(1, |x|).
//              Error ≈ h²|f'''|/6 (truncation) + ε|f|/h (rounding, ε = 2^-52), so about
//              1e-12·|f'''| + 2e-10·|f|: good to ~1e-8 relative for well-scaled f.
// richardson:  R = (4·D(h/2) - D(h)) / 3,  h = 1e-3·max(1, |x|), which cancels the h² term.
//              Error ≈ h⁴|f⁽⁵⁾|/480 + 3ε|f|/h ≈ 2e-15·|f⁽⁵⁾| + 7e-13·|f|: good to ~1e-10
//              relative for smooth f, at twice the cost. Not for functions with a kink within h.
// The step actually taken is (x + h) - (x - h) as rounded in float64, not 2h, which removes the
// representation error of x ± h from the quotient.

export type FdMethod = 'central' | 'richardson';

export interface FdOptions {
  readonly method?: FdMethod;
  /** Relative step; default 1e-6 for central and 1e-3 for richardson. */
  readonly step?: number;
}

function central(f: () => number, x: Float64Array, i: number, h: number): number {
  const x0 = x[i]!;
  const xp = x0 + h;
  const xm = x0 - h;
  x[i] = xp;
  const fp = f();
  x[i] = xm;
  const fm = f();
  x[i] = x0;
  return (fp - fm) / (xp - xm);
}

/** d f / d x[i] for one coordinate; x is perturbed in place and restored. */
export function partialFD(f: () => number, x: Float64Array, i: number, opts: FdOptions = {}): number {
  const method = opts.method ?? 'richardson';
  const rel = opts.step ?? (method === 'central' ? 1e-6 : 1e-3);
  const h = rel * Math.max(1, Math.abs(x[i]!));
  if (method === 'central') return central(f, x, i, h);
  return (4 * central(f, x, i, h / 2) - central(f, x, i, h)) / 3;
}

/**
 * The gradient of f(xs) with respect to every element of every array in `xs`. f reads the
 * arrays it is given (they are perturbed in place and restored, so f must not keep them).
 */
export function gradFD(
  f: (xs: Float64Array[]) => number,
  xs: readonly Float64Array[],
  opts: FdOptions = {},
): Float64Array[] {
  const work = xs.map((x) => Float64Array.from(x));
  const call = (): number => f(work);
  return work.map((x) => {
    const g = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) g[i] = partialFD(call, x, i, opts);
    return g;
  });
}
