// The op test harness: every public op is tested from rows of a table, one OpCase per row. The
// tables live in test/ops/<family>.table.ts (one file per op family, so engineers adding ops to
// different families never edit the same file); test/ops.test.ts registers them all and checks
// coverage.
//
// Adding a row
//   Push an OpCase onto `cases` in the family's table file:
//     cases.push({
//       name: 'exp [2,3]',                 // unique across all tables; seeds the row's inputs
//       covers: ['exp'],                   // public functions this row exercises
//       args: [a([2, 3], ANY)],            // one entry per argument: shape and where values come from
//       fn: (x) => wg.exp(x!),             // the op, spelled with wg functions
//       method: (x) => x!.exp(),           // optional: the Tensor-method spelling
//       ref: (x) => ref.map(x!, Math.exp), // plain-JS float64 reference (test/helpers/ref.ts)
//     });
//   Arguments are `a(shape, domain)` (random floats from a Domain, test/helpers/rng.ts),
//   `a(shape, maker)` (structured floats: SPD, WELL_CONDITIONED, distinct(domain), or your own
//   InputMaker) or `idx(shape, lo, hi)` (int32 indices in [lo, hi), passed through unchanged).
//   Optional fields: dtypes, tol, noGrad, outDtype, fd (see OpCase below).
//
// What each row is checked for (seeded random inputs, rounded to float32 so both dtypes see the
// same numbers; int32 arguments are identical in every program):
//   1. forward: the traced shape and dtype, and the float64 values, against `ref`;
//   2. gradient: loss = Σ op(x) ⊙ r, with r a fixed random array of the output's shape (so every
//      output element's derivative counts). Its value against the reference, and its reverse-mode
//      gradient with respect to every float argument against finite differences of the reference
//      in float64 (test/helpers/fd.ts). With `noGrad: true` the gradient must instead be exactly
//      zero (±0) for every element: the op is piecewise constant and the inputs keep away from
//      its jumps. Int32 arguments are never differentiated (not in `wrt`) nor perturbed. Rows
//      whose output is int32 (`outDtype: 'int32'`) have no loss to differentiate and skip this
//      check; compose them into a float op in another row (oneHot(argmax(x), n)) to check that.
//   3. float32: the float32 program against the float64 one on the same inputs, forward values,
//      loss and gradients (skipped when `dtypes` omits float32);
//   4. method: the Tensor-method spelling against the function spelling, bit for bit (when the
//      row has `method`).
//   5. dot-product test (rows with a derivative: not noGrad, not int32 output): with a random
//      tangent u (one per float argument) and a random cotangent v of the output's shape,
//      ⟨v, J·u⟩ from forward mode (p.jvp) equals ⟨Jᵀ·v, u⟩ from reverse mode (p.vjp), float64.
//   6. second order (the same rows unless `noSecondOrder` gives the reason to skip): the HVP of
//      the loss in a random direction w (p.hvp, forward over reverse) against Richardson central
//      differences of the reverse-mode gradient along w, float64. Opt out only for ops that are
//      merely piecewise smooth where the check would cross a kink, or whose second derivative is
//      not implemented (say which in the reason).
//
// Tolerances
//   The defaults (FWD64, GRAD64, F32_REL below) are justified next to their definitions, for the
//   inputs the default domains draw (|x| ≤ 6, sums of a few dozen terms). A row that needs more
//   (lgamma and digamma whose series are accurate to ~1e-13, cholesky whose rounding grows with the
//   condition number, long reductions) sets `tol` and states, in a comment next to it, the error
//   bound that justifies the number: the algorithm's error or the reference's, not "what passed".
//   A wrong derivative rule is off by O(1) relative; keep every tolerance far below that.

import { describe, expect, it } from 'vitest';
import * as wg from '../../ts/index.js';
import { assertClose, maxAbs, sameBits, type Tol } from '../helpers/compare.js';
import { gradFD, type FdOptions } from '../helpers/fd.js';
import * as ref from '../helpers/ref.js';
import { ANY, Rng, type Domain } from '../helpers/rng.js';
import type { Arr } from '../helpers/ref.js';

export type T = wg.Tensor;
export type Fn = (...xs: T[]) => T;
export type FloatDType = 'float64' | 'float32';
/** `track(p)` keeps `p` to be disposed after the file's tests (test/helpers/track.ts). */
export type Track = (p: wg.Program) => wg.Program;

/**
 * Float values for one argument, for domains a Domain cannot express. Returns the row-major
 * float64 data of `shape`; the harness rounds it to float32 (a symmetric matrix stays symmetric).
 * Finite differences perturb one element at a time, so the reference must be defined on inputs
 * near the one made here (cholesky's reference reads the lower triangle only, as the op does).
 */
export type InputMaker = (rng: Rng, shape: readonly number[]) => Float64Array;

/** A float argument: values drawn from `domain`, or made by `makeInput` when given. */
export interface FloatArg {
  readonly shape: readonly number[];
  readonly domain: Domain;
  readonly makeInput?: InputMaker;
  readonly int32?: undefined;
}

/** An int32 index argument: values uniform in [lo, hi), passed to the program as an Int32Array. */
export interface IntArg {
  readonly shape: readonly number[];
  readonly int32: { readonly lo: number; readonly hi: number };
}

export type ArgRow = FloatArg | IntArg;

/** Per-row tolerance overrides; each one needs a comment stating the bound that justifies it. */
export interface CaseTol {
  /** Forward values and the loss value against the reference, float64 (default FWD64). */
  readonly forward?: Tol;
  /** Reverse-mode gradient against finite differences, float64 (default GRAD64). */
  readonly grad?: Tol;
  /**
   * float32 against float64, relative (default F32_REL): each element may differ by this much of
   * itself plus this much of the largest element of the result.
   */
  readonly float32?: number;
  /** Dot-product test, relative to Σ|v_i·(J·u)_i| + Σ|(Jᵀ·v)_j·u_j| (default DOT_REL). */
  readonly dot?: number;
  /** HVP against differences of the gradient (default HVP64). */
  readonly hvp?: Tol;
}

export interface OpCase {
  /** Test title; also seeds the case's random inputs, so adding a row does not move the others. */
  readonly name: string;
  /** Public functions this row exercises (for the coverage check). */
  readonly covers: readonly string[];
  readonly args: readonly ArgRow[];
  /** The op, spelled with wg functions. */
  readonly fn: Fn;
  /** The same op spelled with Tensor methods, when such a spelling exists. */
  readonly method?: Fn;
  /**
   * The plain-JS reference, on float64 data (int32 arguments arrive as float64 arrays of their
   * integer values). For an int32 output it returns the integer values.
   */
  readonly ref: (...xs: Arr[]) => Arr;
  /** Finite-difference settings (default Richardson); central with a small step for piecewise-constant ops. */
  readonly fd?: FdOptions;
  /** The dtypes the op supports (default both). float64 is required: checks 1, 2 and 4 run in it. */
  readonly dtypes?: readonly FloatDType[];
  /** Tolerance overrides. */
  readonly tol?: CaseTol;
  /** The op has no derivative: the gradient check asserts an exactly zero gradient. */
  readonly noGrad?: true;
  /** The output's dtype when it is int32 (argmax, argmin); default the float arguments' dtype. */
  readonly outDtype?: 'int32';
  /** Why the second-order check (6) does not apply to this row; it runs when this is absent. */
  readonly noSecondOrder?: string;
}

export const a = (shape: readonly number[], domain: Domain | InputMaker = ANY): FloatArg =>
  typeof domain === 'function' ? { shape, domain: ANY, makeInput: domain } : { shape, domain };
/** int32 indices, uniform in [lo, hi) (negative values for ops that count from the end). */
export const idx = (shape: readonly number[], lo: number, hi: number): IntArg => {
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || hi <= lo) throw new Error(`idx: empty or non-integer range [${lo}, ${hi})`);
  return { shape, int32: { lo, hi } };
};
/**
 * Shape pairs for elementwise binary rows: equal shapes, both sides broadcasting, rank promotion
 * either way, scalars either way, a rank-3 case and sizes that are not a multiple of any vector
 * width.
 */
export const BROADCAST_PAIRS: readonly (readonly [number[], number[]])[] = [
  [[2, 3], [2, 3]],
  [[3, 1], [1, 4]],
  [[2, 3], [3]],
  [[3], [2, 3]],
  [[], [2, 3]],
  [[2, 3], []],
  [[4, 1, 3], [2, 1]],
  [[33, 1], [1, 17]],
];

export const shapeName = (s: readonly number[]): string => `[${s.join(',')}]`;

// ---------------------------------------------------------------------------------------------
// Input makers for structured domains. Shapes [..., n, n] make a stack of independent matrices.

function matrices(shape: readonly number[], what: string): { count: number; n: number } {
  const n = shape[shape.length - 1];
  if (shape.length < 2 || n === undefined || shape[shape.length - 2] !== n) throw new Error(`${what}: shape ${shapeName(shape)} is not [..., n, n]`);
  return { count: ref.size(shape) / (n * n), n };
}

/**
 * Symmetric positive definite: B·Bᵀ/n + I with B uniform in [-2, 2), so every eigenvalue is in
 * [1, 1 + 4n]: well conditioned for cholesky, logDet and solve.
 */
export const SPD: InputMaker = (rng, shape) => {
  const { count, n } = matrices(shape, 'SPD');
  const out = new Float64Array(count * n * n);
  for (let m = 0; m < count; m++) {
    const b = rng.array(n * n, ANY);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        let s = i === j ? 1 : 0;
        for (let k = 0; k < n; k++) s += (b[i * n + k]! * b[j * n + k]!) / n;
        out[m * n * n + i * n + j] = s;
        out[m * n * n + j * n + i] = s;
      }
    }
  }
  return out;
};

/**
 * A square matrix with entries uniform in [-1, 1) off the diagonal and ±[n, n + 1) on it: strictly
 * diagonally dominant, hence invertible with a condition number of a few units, for solve,
 * inverse and triangularSolve (whose reference reads one triangle).
 */
export const WELL_CONDITIONED: InputMaker = (rng, shape) => {
  const { count, n } = matrices(shape, 'WELL_CONDITIONED');
  const out = new Float64Array(count * n * n);
  for (let m = 0; m < count; m++) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        out[m * n * n + i * n + j] = i === j ? rng.draw({ lo: n, hi: n + 1, signed: true }) : rng.uniform(-1, 1);
      }
    }
  }
  return out;
};

/**
 * Distinct values in [domain.lo, domain.hi): a random permutation of an evenly spaced grid with
 * jitter of a quarter spacing, so any two values are at least half a spacing apart. For max, min,
 * argmax and sort-like ops: no ties, so finite differences (step ≤ 2e-3·max(1,|x|)) never swap the
 * order as long as the spacing (hi - lo)/size exceeds 8e-3·max(1, |x|) — keep arrays below a few
 * hundred elements on [-2, 2).
 */
export const distinct =
  (domain: Domain = ANY): InputMaker =>
  (rng, shape) => {
    const size = ref.size(shape);
    const step = (domain.hi - domain.lo) / size;
    const order = Array.from({ length: size }, (_, k) => k);
    for (let k = size - 1; k > 0; k--) {
      const j = rng.int(k + 1);
      [order[k], order[j]] = [order[j]!, order[k]!];
    }
    return Float64Array.from(order, (k) => domain.lo + (k + 0.5 + rng.uniform(-0.25, 0.25)) * step);
  };

// ---------------------------------------------------------------------------------------------
// Preparing a row's inputs and programs.

export function seedOf(name: string): number {
  // FNV-1a, 32-bit.
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

const dtypesOf = (c: OpCase): readonly FloatDType[] => c.dtypes ?? ['float64', 'float32'];
const isInt = (arg: ArgRow): arg is IntArg => arg.int32 !== undefined;

export interface Prepared {
  /** One array per argument: float64 data of float32-representable values, or int32 indices. */
  readonly inputs: (Float64Array | Int32Array)[];
  /** Indices of the float arguments: the program's `wrt`, and what finite differences perturb. */
  readonly floatArgs: number[];
  readonly refOut: Arr;
  /** Random cotangent r, float32-representable. */
  readonly r: Float64Array;
}

export function prepare(c: OpCase): Prepared {
  const rng = new Rng(seedOf(c.name));
  // Values rounded to float32 so the float32 program sees exactly the same numbers.
  const inputs = c.args.map((arg): Float64Array | Int32Array => {
    const n = ref.size(arg.shape);
    if (isInt(arg)) return Int32Array.from({ length: n }, () => arg.int32.lo + rng.int(arg.int32.hi - arg.int32.lo));
    if (!arg.makeInput) return rng.array32(n, arg.domain);
    const x = arg.makeInput(rng, arg.shape);
    if (x.length !== n) throw new Error(`${c.name}: makeInput gave ${x.length} values for shape ${shapeName(arg.shape)}`);
    return x.map(Math.fround);
  });
  const floatArgs = c.args.flatMap((arg, i) => (isInt(arg) ? [] : [i]));
  const refOut = c.ref(...refArgs(c, inputs));
  const r = rng.array32(refOut.data.length, { lo: 0.5, hi: 1.5, signed: true });
  return { inputs, floatArgs, refOut, r };
}

function refArgs(c: OpCase, inputs: readonly (Float64Array | Int32Array)[]): Arr[] {
  return inputs.map((x, i) => ref.arr(x, c.args[i]!.shape));
}

/** The spec of an int32 index argument. */
function i32Spec(shape: readonly number[]): wg.ArgSpec {
  return wg.i32(shape);
}

export function specs(c: OpCase, dtype: FloatDType): wg.ArgSpec[] {
  return c.args.map((arg) => (isInt(arg) ? i32Spec(arg.shape) : dtype === 'float64' ? wg.f64(arg.shape) : wg.f32(arg.shape)));
}

export function typed(x: Float64Array, dtype: FloatDType): Float64Array | Float32Array {
  return dtype === 'float64' ? Float64Array.from(x) : Float32Array.from(x);
}

/** The program inputs in `dtype`: float arguments converted, int32 arguments as they are. */
export function programInputs(prep: Prepared, dtype: FloatDType): wg.InputValue[] {
  // Int32Array is not an InputValue until ts/ gains int32; the engine checks it against the spec.
  return prep.inputs.map((x) => (x instanceof Int32Array ? (x as unknown as wg.InputValue) : typed(x, dtype)));
}

export function asArray(v: number | ArrayLike<number>): ArrayLike<number> {
  return typeof v === 'number' ? [v] : v;
}

/** The op alone, no derivatives; reports the traced output's shape and dtype to `seen`. */
export function forwardProgram(c: OpCase, fn: Fn, dtype: FloatDType, seen?: (y: T) => void): wg.Program {
  return wg.compile(
    (...xs: T[]) => {
      const y = fn(...xs);
      seen?.(y);
      return y;
    },
    { args: specs(c, dtype), wrt: [] },
  );
}

/** loss = Σ fn(xs) ⊙ r, differentiated with respect to every float argument. */
export function lossProgram(c: OpCase, fn: Fn, r: Float64Array, dtype: FloatDType): wg.Program {
  return wg.compile(
    (...xs: T[]) => {
      const y = fn(...xs);
      const rt = wg.constant(dtype === 'float64' ? Float64Array.from(r) : Float32Array.from(r), y.shape);
      return wg.sum(wg.mul(y, rt));
    },
    { args: specs(c, dtype), wrt: c.args.flatMap((arg, i) => (isInt(arg) ? [] : [i])) },
  );
}

// Forward tolerance (float64). Inputs have |x| <= 6 and every output sums at most 24 terms, so
// summation-order differences are below 24·2^-53·Σ|terms| ≈ 1e-13 in absolute terms, and a libm
// or vector-math function differs from JavaScript's Math by a few ulp (~1e-15 relative).
export const FWD64: Tol = { rtol: 1e-12, atol: 1e-12 };

// Gradient tolerance against Richardson differences (see helpers/fd.ts): truncation
// ≈ h⁴|f⁽⁵⁾|/480 with h = 1e-3·max(1,|x|) is ≤ 1e-10 for these domains (the worst is pow with base
// 0.5 and exponent -2: |f⁽⁵⁾| ≈ 1e5 → 2e-10), and rounding ≈ 3ε|loss|/h ≲ 1e-10 for |loss| ≲ 200.
// Central differences (step 1e-6, piecewise-constant ops only) are exact there: the loss does not
// move. A wrong rule is off by O(1) relative.
export const GRAD64: Tol = { rtol: 1e-8, atol: 1e-8 };

// float32 against float64 on identical inputs: each elementwise op is within a few float32 ulp
// (2^-24 ≈ 6e-8 relative), and a reduction of n ≤ 24 terms adds at most n·2^-24·Σ|terms|. We allow
// 2e-5 relative to the largest element of the result (atol) plus 2e-5 of each element (rtol):
// a few hundred ulp, still 10^4 times smaller than any wrong derivative.
export const F32_REL = 2e-5;

// Dot-product test: ⟨v, J·u⟩ and ⟨Jᵀ·v, u⟩ are the same bilinear form evaluated by two programs
// that round differently. Each program's error is a few ulp per op along the longest chain times
// the magnitudes summed, i.e. ≲ (ops on the path)·2^-53·Σ|terms| ≈ 1e-14 relative to the sum of
// the absolute terms for the harness's small ops (≤ ~20 ops, well-conditioned matrices with
// condition numbers of a few units). 1e-12 leaves a hundredfold margin; a wrong rule is O(1) off.
export const DOT_REL = 1e-12;

// Second order (rows with fd.method 'central' use D(h) alone with h = 1e-6: error ≈ 1e-12·|∇³L|
// + 2e-10·|∇L|, also within the tolerance below): R = (4·D(h/2) − D(h))/3 with D(h) = (∇L(x + h·w) − ∇L(x − h·w))/2h, h = 1e-3 and
// w_i = ω_i·max(1, |x_i|), ω uniform in [-1, 1). Error ≈ h⁴|∇L⁽⁵⁾|/480 + 3ε|∇L|/h per element:
// ≈ 2e-15·|L⁽⁶⁾| + 7e-13·|∇L|, below 1e-9 for these domains (derivatives of order 6 of the
// elementwise ops on |x| ≤ 6 stay below ~1e5, as for the gradient check); we allow 1e-7 relative
// plus 1e-7 absolute: a hundredfold margin, still 10^6 below a wrong rule's O(1) error.
export const HVP64: Tol = { rtol: 1e-7, atol: 1e-7 };

// ---------------------------------------------------------------------------------------------
// The checks.

/** Registers the four checks for every case (one describe per case, titled by its name). */
export function registerCases(cases: readonly OpCase[], track: Track): void {
  const names = new Set<string>();
  for (const c of cases) {
    // Names seed the inputs and title the tests: a duplicate would hide one row's failures.
    if (names.has(c.name)) throw new Error(`op table: two rows are named '${c.name}'`);
    names.add(c.name);
    if (!dtypesOf(c).includes('float64')) throw new Error(`${c.name}: dtypes must include float64`);
  }

  describe.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const prep = prepare(c);
    const fwdTol = c.tol?.forward ?? FWD64;
    const intOut = c.outDtype === 'int32';

    it('forward matches the plain-JS reference', () => {
      let traced: { shape: readonly number[]; dtype: string } | undefined;
      const p = track(forwardProgram(c, c.fn, 'float64', (y) => (traced = { shape: [...y.shape], dtype: y.dtype })));
      expect(traced).toEqual({ shape: prep.refOut.shape, dtype: c.outDtype ?? 'float64' });
      const out = p.run(...programInputs(prep, 'float64'));
      if (prep.refOut.shape.length === 0) expect(typeof out).toBe('number');
      else expect(out).toBeInstanceOf(intOut ? Int32Array : Float64Array);
      // Indices are exact.
      assertClose(asArray(out), prep.refOut.data, intOut ? { rtol: 0, atol: 0 } : fwdTol, `${c.name} forward`);
    });

    if (!intOut) {
      it('reverse-mode gradient matches finite differences', () => {
        const p = track(lossProgram(c, c.fn, prep.r, 'float64'));
        const { value, grads } = p.valueAndGrad(...programInputs(prep, 'float64'));
        // The loss as a function of the float arguments only; int32 arguments stay fixed.
        const refLoss = (xs: Float64Array[]): number => {
          const all = [...prep.inputs];
          prep.floatArgs.forEach((argIndex, k) => (all[argIndex] = xs[k]!));
          return ref.dot(c.ref(...refArgs(c, all)).data, prep.r);
        };
        const floats = prep.floatArgs.map((i) => prep.inputs[i] as Float64Array);
        assertClose(value, refLoss(floats), fwdTol, `${c.name} loss value`);
        expect(grads.length).toBe(prep.floatArgs.length);
        if (c.noGrad) {
          grads.forEach((g, k) => {
            expect(g).toBeInstanceOf(Float64Array);
            // Exactly zero (either sign): no tolerance, a derivative rule must not leak into it.
            assertClose(g, new Float64Array(g.length), { rtol: 0, atol: 0 }, `${c.name} gradient of argument ${prep.floatArgs[k]}`);
          });
          return;
        }
        const fd = gradFD(refLoss, floats, c.fd);
        grads.forEach((g, k) => {
          expect(g).toBeInstanceOf(Float64Array);
          assertClose(g, fd[k]!, c.tol?.grad ?? GRAD64, `${c.name} gradient of argument ${prep.floatArgs[k]}`);
        });
      });
    }

    if (!intOut && !c.noGrad) {
      it('forward and reverse mode agree (dot-product test)', () => {
        const p = track(wg.compile(c.fn, { args: specs(c, 'float64'), wrt: prep.floatArgs }));
        const rng = new Rng(seedOf(`${c.name} dot`));
        // float32-representable, so a cast to float32 inside the op (exact on them) does not
        // round one mode's seed and not the other's.
        const u = prep.floatArgs.map((i) => rng.array32(prep.inputs[i]!.length, { lo: -1, hi: 1 }));
        const v = rng.array32(prep.refOut.data.length, { lo: -1, hi: 1 });
        const inputs = programInputs(prep, 'float64');
        const fwd = p.jvp(inputs, u);
        const rev = p.vjp(inputs, prep.refOut.shape.length === 0 ? v[0]! : v);
        const jt = asArray(fwd.tangent);
        expect(jt.length).toBe(v.length);
        let vJu = 0;
        let scale = 0;
        for (let i = 0; i < v.length; i++) {
          vJu += v[i]! * jt[i]!;
          scale += Math.abs(v[i]! * jt[i]!);
        }
        let JTvu = 0;
        rev.grads.forEach((g, k) => {
          for (let j = 0; j < g.length; j++) {
            JTvu += g[j]! * u[k]![j]!;
            scale += Math.abs(g[j]! * u[k]![j]!);
          }
        });
        const bound = (c.tol?.dot ?? DOT_REL) * scale;
        if (!(Math.abs(vJu - JTvu) <= bound)) {
          throw new Error(`${c.name} dot-product test: <v, J u> = ${vJu} (forward) but <J^T v, u> = ${JTvu} (reverse), |diff| ${Math.abs(vJu - JTvu)} > ${bound}`);
        }
        // The values of both transforms are the function's.
        assertClose(asArray(fwd.value), prep.refOut.data, fwdTol, `${c.name} jvp value`);
        assertClose(asArray(rev.value), prep.refOut.data, fwdTol, `${c.name} vjp value`);
      });

      if (c.noSecondOrder === undefined) {
        it('Hessian-vector product matches differences of the gradient', () => {
          const p = track(lossProgram(c, c.fn, prep.r, 'float64'));
          const rng = new Rng(seedOf(`${c.name} hvp`));
          const floats = prep.floatArgs.map((i) => prep.inputs[i] as Float64Array);
          const w = floats.map((x) => x.map((xi) => rng.uniform(-1, 1) * Math.max(1, Math.abs(xi))));
          const inputs = programInputs(prep, 'float64');
          const { grad, hvp } = p.hvp(inputs, w);
          const base = p.valueAndGrad(...inputs).grads;
          grad.forEach((g, k) => expect(sameBits(g, base[k]!)).toBe(true));
          const gradAt = (s: number): Float64Array[] => {
            const all = [...inputs];
            prep.floatArgs.forEach((argIndex, k) => (all[argIndex] = floats[k]!.map((x, i) => x + s * w[k]![i]!)));
            return p.valueAndGrad(...all).grads as Float64Array[];
          };
          const diff = (h: number): Float64Array[] => {
            const gp = gradAt(h);
            const gm = gradAt(-h);
            return gp.map((g, k) => g.map((v, i) => (v - gm[k]![i]!) / (2 * h)));
          };
          // The row's finite-difference settings apply here too: a row whose gradient jumps
          // (mod: −floor(x/y)) uses central differences with a step too small to meet a jump.
          const central = c.fd?.method === 'central';
          const h = c.fd?.step ?? (central ? 1e-6 : 1e-3);
          const d1 = diff(h);
          const d2 = central ? d1 : diff(h / 2);
          hvp.forEach((hv, k) => {
            expect(hv).toBeInstanceOf(Float64Array);
            const fd = central ? d1[k]! : d2[k]!.map((v, i) => (4 * v - d1[k]![i]!) / 3);
            assertClose(hv, fd, c.tol?.hvp ?? HVP64, `${c.name} Hessian-vector product of argument ${prep.floatArgs[k]}`);
          });
        });
      }
    }

    if (dtypesOf(c).includes('float32')) {
      it('float32 agrees with float64', () => {
        const rel = c.tol?.float32 ?? F32_REL;
        let dtype32: string | undefined;
        const fwd64 = track(forwardProgram(c, c.fn, 'float64'));
        const fwd32 = track(forwardProgram(c, c.fn, 'float32', (y) => (dtype32 = y.dtype)));
        expect(dtype32).toBe(c.outDtype ?? 'float32');
        const in64 = programInputs(prep, 'float64');
        const in32 = programInputs(prep, 'float32');

        const y64 = asArray(fwd64.run(...in64));
        const y32 = fwd32.run(...in32);
        if (typeof y32 !== 'number') expect(y32).toBeInstanceOf(intOut ? Int32Array : Float32Array);
        // int32 outputs (indices) agree exactly: the inputs are identical and distinct.
        const fwdTol32 = intOut ? { rtol: 0, atol: 0 } : { rtol: rel, atol: rel * maxAbs(y64, 1) };
        assertClose(asArray(y32), y64, fwdTol32, `${c.name} float32 forward`);
        if (intOut) return;

        const p64 = track(lossProgram(c, c.fn, prep.r, 'float64'));
        const p32 = track(lossProgram(c, c.fn, prep.r, 'float32'));
        const r64 = p64.valueAndGrad(...in64);
        const r32 = p32.valueAndGrad(...in32);
        assertClose(r32.value, r64.value, { rtol: rel, atol: rel * Math.max(1, Math.abs(r64.value)) }, `${c.name} float32 loss`);
        r32.grads.forEach((g, k) => {
          expect(g).toBeInstanceOf(Float32Array);
          const g64 = r64.grads[k]!;
          assertClose(g, g64, { rtol: rel, atol: rel * maxAbs(g64, 1) }, `${c.name} float32 gradient of argument ${prep.floatArgs[k]}`);
        });
      });
    }

    if (c.method) {
      const method = c.method;
      it('Tensor-method spelling gives the same bits', () => {
        const inputs = programInputs(prep, 'float64');
        if (intOut) {
          const yf = track(forwardProgram(c, c.fn, 'float64')).run(...inputs);
          const ym = track(forwardProgram(c, method, 'float64')).run(...inputs);
          expect(sameBits(asArray(ym), asArray(yf))).toBe(true);
          return;
        }
        const pf = track(lossProgram(c, c.fn, prep.r, 'float64'));
        const pm = track(lossProgram(c, method, prep.r, 'float64'));
        const rf = pf.valueAndGrad(...inputs);
        const rm = pm.valueAndGrad(...inputs);
        expect(sameBits(rm.value, rf.value)).toBe(true);
        rm.grads.forEach((g, i) => expect(sameBits(g, rf.grads[i]!)).toBe(true));
      });
    }
  });
}
