/**
 * Optimizers and batch parameter estimation. The function is traced once (like {@link compile})
 * into programs for its value and exact derivatives; the whole optimization then runs in the native
 * engine, with no JavaScript call per iteration. See docs/OPTIMIZERS.md for the algorithms,
 * defaults, tolerances and statuses.
 */
import { dtypeOf, type DataArray } from './dtype.js';
import { WengertError, WengertRangeError, WengertTypeError, fromNative } from './errors.js';
import type { ArgSpec } from './graph.js';
import { nativeBinding, type NativeFitGroup, type NativeFitOptions, type NativeFitResult } from './native.js';
import { compile, f64, type Program, type TracedFunction } from './program.js';
import { fmt, isShape, sizeOf, type Shape } from './shape.js';
import { userCallSite } from './callsite.js';

/**
 * Why an optimizer stopped. The first three are convergence; the others mean the result is the
 * best point found when the optimizer had to stop.
 *
 * - `gradient-tolerance`: the (projected) gradient's infinity norm fell below `gtol`.
 * - `step-tolerance`: the last step changed x by less than `xtol` (relative).
 * - `function-tolerance`: the last step changed the objective by less than `ftol` (relative).
 * - `max-iterations`, `max-evaluations`: a limit was reached (Adam always stops with `max-iterations` after `steps`).
 * - `non-finite`: the objective or a derivative was NaN or infinite at every trial point.
 * - `aborted`: the work was cancelled.
 * - `failed`: no further progress was possible (for example a line search failed); `message` says why.
 */
export type StopStatus =
  | 'gradient-tolerance'
  | 'step-tolerance'
  | 'function-tolerance'
  | 'max-iterations'
  | 'max-evaluations'
  | 'non-finite'
  | 'aborted'
  | 'failed';

/** The statuses that count as converged. */
const CONVERGED: ReadonlySet<string> = new Set(['gradient-tolerance', 'step-tolerance', 'function-tolerance']);

/**
 * A data argument of the traced function (the arguments after `x`): a number (a scalar), a
 * Float64Array, Float32Array or Int32Array (a vector of its length), or `{ data, shape }` for a
 * tensor of any shape (row-major).
 */
export type OptimData = number | DataArray | { readonly data: DataArray; readonly shape: Shape };

/** Box constraints `lower ≤ x ≤ upper`, elementwise; either side may be omitted and entries may be ±Infinity. */
export interface Bounds {
  readonly lower?: ArrayLike<number>;
  readonly upper?: ArrayLike<number>;
}

/** Options every optimizer accepts. */
export interface CommonOptimizeOptions {
  /** Box constraints (L-BFGS-B or projected Adam for `minimize`, a projected trust region for `leastSquares`). Not supported by `newton`. */
  readonly bounds?: Bounds;
  /** Iteration limit (default 1000). */
  readonly maxIterations?: number;
  /** Limit on evaluations of the function and its derivatives together (default 10000). */
  readonly maxEvaluations?: number;
  /**
   * Gradient tolerance. minimize: stop when the projected gradient's ‖g‖∞ ≤ gtol·max(1, |f|)
   * (default 1e-8). leastSquares: stop when the largest cosine between the (effective) residual
   * vector and a Jacobian column is ≤ gtol (MINPACK's test; default 1e-10).
   */
  readonly gtol?: number;
  /** Relative change of the objective over an iteration below which it stops (default 1e-15). */
  readonly ftol?: number;
  /** Relative change of x over an iteration below which it stops (default 1e-15). */
  readonly xtol?: number;
  /** Cancels the work: an already-aborted signal fails at once with `WENGERT_ABORTED`; the asynchronous forms also stop when it fires later. */
  readonly signal?: AbortSignal;
  /** Upper bound on one run's working memory (as in {@link CompileOptions}). */
  readonly maxArenaBytes?: number;
}

/** Options of {@link minimize} that are not per-problem. */
export interface MinimizeMethodOptions extends CommonOptimizeOptions {
  /** `lbfgs` (default; L-BFGS-B with bounds), `newton` (trust region with exact Hessians; for small n) or `adam`. */
  readonly method?: 'lbfgs' | 'newton' | 'adam';
  /** L-BFGS history length (default 10). */
  readonly memory?: number;
  /** Adam: step size (default 1e-3). */
  readonly lr?: number;
  /** Adam: number of steps (default 1000). */
  readonly steps?: number;
  /** Adam: decay of the first moment (default 0.9). */
  readonly beta1?: number;
  /** Adam: decay of the second moment (default 0.999). */
  readonly beta2?: number;
  /** Adam: denominator guard (default 1e-8). */
  readonly eps?: number;
}

/** Options of {@link minimize}. */
export interface MinimizeOptions extends MinimizeMethodOptions {
  /** The arguments after `x` of the objective, bound for the whole optimization. */
  readonly data?: readonly OptimData[];
}

/** A robust loss ρ applied to the squared (scaled) residuals. */
export type RobustLoss = 'linear' | 'huber' | 'cauchy';

/** Options of {@link leastSquares} that are not per-problem. */
export interface LeastSquaresMethodOptions extends CommonOptimizeOptions {
  /**
   * `linear` (default): cost ½Σ wᵢ rᵢ²; `huber`: ρ(z) = z for z ≤ 1, 2√z − 1 beyond; `cauchy`:
   * ρ(z) = ln(1 + z); with z = (rᵢ/fScale)², cost ½·fScale²·Σ wᵢ ρ(z).
   */
  readonly loss?: RobustLoss;
  /** Residual scale of the robust losses: residuals around fScale in size start to be down-weighted (default 1). */
  readonly fScale?: number;
}

/** Options of {@link leastSquares}. */
export interface LeastSquaresOptions extends LeastSquaresMethodOptions {
  /** The arguments after `x` of the residual function, bound for the whole fit. */
  readonly data?: readonly OptimData[];
  /** One non-negative weight per residual (flattened): minimizes ½Σ wᵢ ρ(rᵢ²). */
  readonly weights?: ArrayLike<number>;
}

/** The result of {@link minimize}. */
export interface OptimizeResult {
  /** The best point found. */
  readonly x: Float64Array;
  /** The objective at x; for least squares Σ wᵢ ρ(rᵢ²) = 2·cost (the (weighted) residual sum of squares for the linear loss). */
  readonly value: number;
  /** The gradient at x. */
  readonly grad: Float64Array;
  readonly iterations: number;
  /** Evaluations of the function (a value with its derivatives counts once). */
  readonly evaluations: number;
  /** Why it stopped. */
  readonly status: StopStatus;
  /** A sentence saying why it stopped. */
  readonly message: string;
  /** True when `status` is one of the tolerance statuses. */
  readonly converged: boolean;
}

/** The result of {@link leastSquares}: the {@link OptimizeResult} fields plus the fit's statistics. */
export interface LeastSquaresResult extends OptimizeResult {
  /** ½Σ wᵢ ρ(rᵢ²) at x (half of `value`). */
  readonly cost: number;
  /** The residuals r(x), unweighted, flattened row-major. */
  readonly residuals: Float64Array;
  /** The Jacobian J(x), m × n row-major, unweighted. */
  readonly jacobian: Float64Array;
  /**
   * The parameter covariance, n × n row-major: (JᵀWJ)⁻¹·s² with s² = Σ wᵢ rᵢ² / (m − n). Valid
   * when the residuals are independent with variance σ²/wᵢ and the model is close to linear near
   * x (the usual asymptotic assumptions). NaN when JᵀWJ is singular or m ≤ n.
   */
  readonly covariance: Float64Array;
  /** Standard errors: the square roots of the covariance's diagonal. */
  readonly stdErrors: Float64Array;
}

/** One problem of {@link fitMany}: its start and its data (and weights, for least squares). */
export interface FitProblem {
  /** The starting point; every problem has the same number of parameters. */
  readonly x0: ArrayLike<number>;
  /** The arguments after `x`; their lengths may differ between problems. */
  readonly data?: readonly OptimData[];
  /** Least squares: one weight per residual. */
  readonly weights?: ArrayLike<number>;
}

/** Progress of {@link fitManyAsync}. */
export interface FitProgress {
  readonly done: number;
  readonly total: number;
}

/** Options of {@link fitMany}: the options of {@link leastSquares} (default) or, with `kind: 'minimize'`, of {@link minimize}. */
export type FitManyOptions = (({ readonly kind?: 'leastSquares' } & LeastSquaresMethodOptions) | ({ readonly kind: 'minimize' } & MinimizeMethodOptions)) & {
  /** Called with `{ done, total }` problems as the asynchronous form proceeds (reports may be coalesced; the last one arrives before the promise settles). The synchronous form calls it once, at the end. */
  readonly onProgress?: (progress: FitProgress) => void;
};

/** Totals over the problems of one {@link fitMany} call. */
export interface FitTotals {
  readonly problems: number;
  /** Problems whose status is a tolerance status. */
  readonly converged: number;
  /** Problems per status. */
  readonly byStatus: Readonly<Partial<Record<StopStatus, number>>>;
  readonly iterations: number;
  readonly evaluations: number;
  /** Distinct data shapes, each traced and compiled once. */
  readonly compiledShapes: number;
  /** Wall time of the call, in milliseconds (tracing and compiling included). */
  readonly milliseconds: number;
}

/** The result of {@link fitMany}: one result per problem, in order, and totals. */
export interface FitManyResult<R extends OptimizeResult> {
  readonly results: R[];
  readonly totals: FitTotals;
}

type Kind = 'minimize' | 'leastSquares';

interface NormalizedData {
  readonly arrays: DataArray[];
  readonly specs: ArgSpec[];
  readonly key: string;
}

function invalid(what: string, message: string): WengertError {
  return new WengertError('WENGERT_INVALID_ARGUMENT', `${what}: ${message}`);
}

function abortError(what: string): WengertError {
  const e = new WengertError('WENGERT_ABORTED', `${what}: the work was aborted`);
  e.name = 'AbortError';
  return e;
}

function normalizeData(what: string, data: readonly OptimData[] | undefined): NormalizedData {
  if (data !== undefined && !Array.isArray(data)) throw invalid(what, 'data must be an array');
  const arrays: DataArray[] = [];
  const specs: ArgSpec[] = [];
  const parts: string[] = [];
  (data ?? []).forEach((d: unknown, k) => {
    let arr: DataArray;
    let shape: Shape;
    if (typeof d === 'number') {
      arr = new Float64Array([d]);
      shape = [];
    } else if (dtypeOf(d) !== undefined) {
      arr = d as DataArray;
      shape = [arr.length];
    } else if (d !== null && typeof d === 'object' && dtypeOf((d as { data: unknown }).data) !== undefined && isShape((d as { shape: unknown }).shape)) {
      arr = (d as { data: DataArray }).data;
      shape = (d as { shape: Shape }).shape;
      if (sizeOf(shape) !== arr.length) {
        throw new WengertRangeError('WENGERT_INPUT_LENGTH', `${what}: data[${k}] has shape ${fmt(shape)} (${sizeOf(shape)} elements) but ${arr.length} values`);
      }
    } else {
      throw new WengertTypeError('WENGERT_INPUT_DTYPE', `${what}: data[${k}] must be a number, a Float64Array, Float32Array or Int32Array, or { data, shape }`);
    }
    const dtype = dtypeOf(arr)!;
    arrays.push(arr);
    specs.push({ dtype, shape });
    parts.push(`${dtype}${fmt(shape)}`);
  });
  return { arrays, specs, key: parts.join(',') };
}

function toF64(what: string, name: string, v: ArrayLike<number> | number | undefined, n?: number): Float64Array {
  if (typeof v === 'number') v = [v];
  if (v === undefined || v === null || typeof v !== 'object' || typeof v.length !== 'number') throw invalid(what, `${name} must be an array of numbers`);
  if (n !== undefined && v.length !== n) throw new WengertRangeError('WENGERT_INPUT_LENGTH', `${what}: ${name} must have ${n} elements, got ${v.length}`);
  const out = Float64Array.from(v);
  return out;
}

function checkPositiveInt(what: string, name: string, v: number | undefined): void {
  if (v !== undefined && !(Number.isSafeInteger(v) && v > 0)) throw invalid(what, `${name} must be a positive integer, got ${String(v)}`);
}

function checkNonNegative(what: string, name: string, v: number | undefined, positive = false): void {
  if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && (positive ? v > 0 : v >= 0))) {
    throw invalid(what, `${name} must be a finite ${positive ? 'positive' : 'non-negative'} number, got ${String(v)}`);
  }
}

/** Validates the shared options and turns them into the native options object. */
function nativeOptions(what: string, kind: Kind, o: (MinimizeMethodOptions & LeastSquaresMethodOptions) | undefined, n: number): NativeFitOptions {
  const opts = o ?? {};
  if (typeof opts !== 'object') throw invalid(what, 'options must be an object');
  checkPositiveInt(what, 'maxIterations', opts.maxIterations);
  checkPositiveInt(what, 'maxEvaluations', opts.maxEvaluations);
  checkPositiveInt(what, 'memory', opts.memory);
  checkPositiveInt(what, 'steps', opts.steps);
  checkNonNegative(what, 'gtol', opts.gtol);
  checkNonNegative(what, 'ftol', opts.ftol);
  checkNonNegative(what, 'xtol', opts.xtol);
  checkNonNegative(what, 'lr', opts.lr, true);
  checkNonNegative(what, 'eps', opts.eps, true);
  checkNonNegative(what, 'fScale', opts.fScale, true);
  for (const b of ['beta1', 'beta2'] as const) {
    const v = opts[b];
    if (v !== undefined && !(v >= 0 && v < 1)) throw invalid(what, `${b} must be in [0, 1), got ${String(v)}`);
  }
  if (opts.method !== undefined && !['lbfgs', 'newton', 'adam'].includes(opts.method)) {
    throw invalid(what, `method must be 'lbfgs', 'newton' or 'adam', got ${JSON.stringify(opts.method)}`);
  }
  if (opts.loss !== undefined && !['linear', 'huber', 'cauchy'].includes(opts.loss)) {
    throw invalid(what, `loss must be 'linear', 'huber' or 'cauchy', got ${JSON.stringify(opts.loss)}`);
  }
  const out: { -readonly [K in keyof NativeFitOptions]: NativeFitOptions[K] } = { kind };
  for (const k of ['maxIterations', 'maxEvaluations', 'gtol', 'ftol', 'xtol', 'memory', 'lr', 'steps', 'beta1', 'beta2', 'eps', 'fScale', 'maxArenaBytes'] as const) {
    if (opts[k] !== undefined) out[k] = opts[k];
  }
  if (kind === 'minimize') out.method = opts.method ?? 'lbfgs';
  if (kind === 'leastSquares' && opts.loss !== undefined) out.loss = opts.loss;
  if (opts.bounds !== undefined) {
    if (kind === 'minimize' && opts.method === 'newton') {
      throw invalid(what, "bounds are supported by 'lbfgs' (L-BFGS-B) and 'adam' (projected), not by 'newton'");
    }
    const lower = opts.bounds.lower === undefined ? undefined : toF64(what, 'bounds.lower', opts.bounds.lower, n);
    const upper = opts.bounds.upper === undefined ? undefined : toF64(what, 'bounds.upper', opts.bounds.upper, n);
    for (let i = 0; i < n; ++i) {
      const lo = lower?.[i] ?? -Infinity;
      const hi = upper?.[i] ?? Infinity;
      if (Number.isNaN(lo) || Number.isNaN(hi) || lo > hi || lo === Infinity || hi === -Infinity) {
        throw invalid(what, `bounds must satisfy lower[i] <= upper[i] with lower < +Infinity and upper > -Infinity; element ${i} has [${lo}, ${hi}]`);
      }
    }
    if (lower !== undefined) out.lower = lower;
    if (upper !== undefined) out.upper = upper;
  }
  return out;
}

/** The serialized programs of one data shape. */
function tracePrograms(what: string, kind: Kind, fn: TracedFunction, n: number, specs: readonly ArgSpec[], method: string | undefined, maxArenaBytes: number | undefined): { main: Uint8Array; aux: Uint8Array | null } {
  let p: Program;
  try {
    p = compile(fn, { args: [f64([n]), ...specs], wrt: [0], ...(maxArenaBytes !== undefined ? { maxArenaBytes } : {}) });
  } catch (err) {
    if (err instanceof WengertError && err.message.startsWith('wg.compile:')) {
      throw new WengertError(err.code, `${what}${err.message.slice('wg.compile'.length)}`);
    }
    throw err;
  }
  try {
    if (p.outputDtype !== 'float64') {
      throw new WengertError('WENGERT_DTYPE_MISMATCH', `${what}: the function must return a float64 tensor, got ${p.outputDtype}; cast it with wg.cast(t, 'float64')`);
    }
    if (kind === 'minimize') {
      if (p.outputShape.length !== 0) {
        throw new WengertError('WENGERT_NOT_SCALAR', `${what}: the objective must return a scalar, got shape ${fmt(p.outputShape)}; reduce it (wg.sum, wg.mean) or use wg.leastSquares for residuals`);
      }
      return { main: p.serialized('valueAndGrad'), aux: method === 'newton' ? p.serialized('hessian') : null };
    }
    if (sizeOf(p.outputShape) === 0) throw invalid(what, 'the residual function returned no residuals');
    const jac = p.jacobianMode() === 'forward' ? 'jacobianForward' : 'jacobianReverse';
    return { main: p.serialized(jac), aux: p.serialized('forward') };
  } finally {
    p.dispose();
  }
}

interface Prepared {
  readonly groups: NativeFitGroup[];
  readonly options: NativeFitOptions;
  readonly count: number;
  readonly shapes: number;
}

interface ProblemInput {
  readonly x0: ArrayLike<number>;
  readonly data?: readonly OptimData[];
  readonly weights?: ArrayLike<number>;
}

/** Traces and serializes once per distinct data shape and builds the native call. */
function prepare(what: string, kind: Kind, fn: TracedFunction, problems: readonly ProblemInput[], o: (MinimizeMethodOptions & LeastSquaresMethodOptions) | undefined): Prepared {
  if (typeof fn !== 'function') throw invalid(what, `the first argument must be a function, got ${typeof fn} (at ${userCallSite()})`);
  if (problems.length === 0) throw invalid(what, 'there are no problems');
  const first = problems[0]!;
  if (first === null || typeof first !== 'object') throw invalid(what, 'every problem must be an object { x0, data }');
  const n = first.x0?.length;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) throw invalid(what, 'x0 must be a non-empty array of numbers');
  const options = nativeOptions(what, kind, o, n);
  const byShape = new Map<string, { specs: ArgSpec[]; problems: NativeFitGroup['problems'][number][] }>();
  problems.forEach((p, index) => {
    const w = problems.length > 1 ? `${what} (problem ${index})` : what;
    if (p === null || typeof p !== 'object') throw invalid(w, 'every problem must be an object { x0, data }');
    const x0 = toF64(w, 'x0', p.x0, n);
    if (!x0.every(Number.isFinite)) throw invalid(w, 'x0 must be finite');
    const d = normalizeData(w, p.data);
    let weights: Float64Array | undefined;
    if (p.weights !== undefined) {
      if (kind !== 'leastSquares') throw invalid(w, 'weights apply to least squares only');
      weights = toF64(w, 'weights', p.weights);
      if (!weights.every((v) => Number.isFinite(v) && v >= 0)) throw invalid(w, 'weights must be finite and non-negative');
    }
    let group = byShape.get(d.key);
    if (group === undefined) {
      group = { specs: d.specs, problems: [] };
      byShape.set(d.key, group);
    }
    group.problems.push({ index, x0, data: d.arrays, weights: weights ?? null });
  });
  const groups: NativeFitGroup[] = [];
  for (const g of byShape.values()) {
    const { main, aux } = tracePrograms(what, kind, fn, n, g.specs, options.method, o?.maxArenaBytes);
    groups.push({ main, aux, problems: g.problems });
  }
  return { groups, options, count: problems.length, shapes: groups.length };
}

function finish<R extends OptimizeResult>(raw: NativeFitResult[]): R[] {
  return raw.map((r) => ({ ...r, converged: CONVERGED.has(r.status) }) as unknown as R);
}

function totals(results: readonly OptimizeResult[], shapes: number, start: number): FitTotals {
  const byStatus: Partial<Record<StopStatus, number>> = {};
  let converged = 0;
  let iterations = 0;
  let evaluations = 0;
  for (const r of results) {
    byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
    if (r.converged) converged++;
    iterations += r.iterations;
    evaluations += r.evaluations;
  }
  return { problems: results.length, converged, byStatus, iterations, evaluations, compiledShapes: shapes, milliseconds: performance.now() - start };
}

function runSync<R extends OptimizeResult>(prep: Prepared): R[] {
  try {
    return finish<R>(nativeBinding().optimFit(prep.groups, prep.options));
  } catch (err) {
    throw fromNative(err);
  }
}

async function runAsync<R extends OptimizeResult>(what: string, prep: Prepared, signal: AbortSignal | undefined, onProgress: ((p: FitProgress) => void) | undefined): Promise<R[]> {
  try {
    const jobOptions: { signal?: AbortSignal; onProgress?: (p: FitProgress) => void } = {};
    if (signal !== undefined) jobOptions.signal = signal;
    // The engine's reports may be coalesced; the final one ({ done: total, total }) is delivered
    // here if the engine's last report did not carry it, so a caller always sees completion.
    let finalSeen = false;
    if (onProgress !== undefined) {
      jobOptions.onProgress = (p) => {
        if (p.done === prep.count) finalSeen = true;
        onProgress({ done: p.done, total: p.total });
      };
    }
    const raw = await nativeBinding().optimFitAsync(prep.groups, prep.options, jobOptions);
    // A signal that fired before the promise settled rejects it, even if the work had finished.
    if (signal?.aborted === true) throw abortError(what);
    if (onProgress !== undefined && !finalSeen) onProgress({ done: prep.count, total: prep.count });
    return finish<R>(raw);
  } catch (err) {
    throw fromNative(err);
  }
}

function checkSignal(what: string, signal: AbortSignal | undefined): void {
  if (signal !== undefined && (signal === null || typeof signal !== 'object' || typeof signal.aborted !== 'boolean')) throw invalid(what, 'signal must be an AbortSignal');
  if (signal?.aborted === true) throw abortError(what);
}

function singleProblem(o: { data?: readonly OptimData[]; weights?: ArrayLike<number> } | undefined, x0: ArrayLike<number> | number): ProblemInput {
  const x = typeof x0 === 'number' ? [x0] : x0;
  return { x0: x, ...(o?.data !== undefined ? { data: o.data } : {}), ...(o?.weights !== undefined ? { weights: o.weights } : {}) };
}

/**
 * Minimizes a scalar function `fn(x, ...data)` of a float64 vector `x` (traced once, like
 * {@link compile}) from `x0`, entirely in the native engine with exact gradients (and, for
 * `newton`, exact Hessians). Synchronous: use {@link minimizeAsync} for long work.
 *
 * @example
 * ```ts
 * const rosen = (x: wg.Tensor) => {
 *   const a = wg.slice(x, [0], [1]), b = wg.slice(x, [1], [1]);
 *   return wg.sum(wg.add(wg.mul(100, wg.square(wg.sub(b, wg.square(a)))), wg.square(wg.sub(1, a))));
 * };
 * const r = wg.minimize(rosen, [-1.2, 1]); // r.x ≈ [1, 1], r.status 'gradient-tolerance'
 * ```
 */
export function minimize(fn: TracedFunction, x0: ArrayLike<number> | number, options?: MinimizeOptions): OptimizeResult {
  checkSignal('wg.minimize', options?.signal);
  const prep = prepare('wg.minimize', 'minimize', fn, [singleProblem(options, x0)], options);
  return runSync<OptimizeResult>(prep)[0]!;
}

/** As {@link minimize}, off the JavaScript thread; `options.signal` cancels it (the promise rejects with `WENGERT_ABORTED`). */
export async function minimizeAsync(fn: TracedFunction, x0: ArrayLike<number> | number, options?: MinimizeOptions): Promise<OptimizeResult> {
  checkSignal('wg.minimizeAsync', options?.signal);
  const prep = prepare('wg.minimizeAsync', 'minimize', fn, [singleProblem(options, x0)], options);
  return (await runAsync<OptimizeResult>('wg.minimizeAsync', prep, options?.signal, undefined))[0]!;
}

/**
 * Nonlinear least squares: minimizes ½Σ wᵢ ρ(rᵢ(x)²) for residuals `residualFn(x, ...data)` (any
 * output shape, flattened) by a Levenberg–Marquardt trust region with exact Jacobians (forward
 * mode when x has no more elements than the residuals, else reverse mode), with optional bounds,
 * weights and robust losses. Returns the fit with residuals, Jacobian, covariance and standard
 * errors. Synchronous: use {@link leastSquaresAsync} for long work.
 *
 * @example
 * ```ts
 * const t = new Float64Array([0, 1, 2, 3]), y = new Float64Array([3, 1.9, 1.4, 1.2]);
 * const fit = wg.leastSquares(
 *   (p, t, y) => wg.sub(wg.add(wg.mul(wg.slice(p, [0], [1]), wg.exp(wg.mul(wg.neg(wg.slice(p, [1], [1])), t))), wg.slice(p, [2], [1])), y),
 *   [1, 1, 0], { data: [t, y] });
 * fit.x; fit.stdErrors;
 * ```
 */
export function leastSquares(residualFn: TracedFunction, x0: ArrayLike<number> | number, options?: LeastSquaresOptions): LeastSquaresResult {
  checkSignal('wg.leastSquares', options?.signal);
  const prep = prepare('wg.leastSquares', 'leastSquares', residualFn, [singleProblem(options, x0)], options);
  return runSync<LeastSquaresResult>(prep)[0]!;
}

/** As {@link leastSquares}, off the JavaScript thread; `options.signal` cancels it (the promise rejects with `WENGERT_ABORTED`). */
export async function leastSquaresAsync(residualFn: TracedFunction, x0: ArrayLike<number> | number, options?: LeastSquaresOptions): Promise<LeastSquaresResult> {
  checkSignal('wg.leastSquaresAsync', options?.signal);
  const prep = prepare('wg.leastSquaresAsync', 'leastSquares', residualFn, [singleProblem(options, x0)], options);
  return (await runAsync<LeastSquaresResult>('wg.leastSquaresAsync', prep, options?.signal, undefined))[0]!;
}

function fitKind(what: string, options: FitManyOptions | undefined): Kind {
  const k = options?.kind ?? 'leastSquares';
  if (k !== 'leastSquares' && k !== 'minimize') throw invalid(what, `kind must be 'leastSquares' or 'minimize', got ${JSON.stringify(k)}`);
  return k;
}

function checkProblems(what: string, problems: readonly FitProblem[]): void {
  if (!Array.isArray(problems)) throw invalid(what, 'problems must be an array of { x0, data }');
}

/**
 * Fits many independent problems that share one model and differ in data and start: least squares
 * by default, or `minimize` with `kind: 'minimize'`. The model is traced and compiled once per
 * distinct shape of the data (problems whose data lengths differ are grouped by shape); each
 * problem has its own optimizer state and stopping decision, and the problems run in parallel on
 * the engine's threads. Synchronous (it blocks the event loop: prefer {@link fitManyAsync} beyond
 * small batches).
 *
 * @example
 * ```ts
 * const model = (p, t, y) => wg.sub(wg.add(wg.mul(wg.slice(p, [0], [1]), wg.exp(wg.mul(wg.neg(wg.slice(p, [1], [1])), t))), wg.slice(p, [2], [1])), y);
 * const { results, totals } = wg.fitMany(model, sensors.map((s) => ({ x0: [1, 1, 0], data: [s.t, s.y] })));
 * ```
 */
export function fitMany(residualFn: TracedFunction, problems: readonly FitProblem[], options?: FitManyOptions & { readonly kind?: 'leastSquares' }): FitManyResult<LeastSquaresResult>;
export function fitMany(residualFn: TracedFunction, problems: readonly FitProblem[], options: FitManyOptions & { readonly kind: 'minimize' }): FitManyResult<OptimizeResult>;
export function fitMany(residualFn: TracedFunction, problems: readonly FitProblem[], options?: FitManyOptions): FitManyResult<OptimizeResult> {
  const start = performance.now();
  checkProblems('wg.fitMany', problems);
  checkSignal('wg.fitMany', options?.signal);
  if (options?.onProgress !== undefined && typeof options.onProgress !== 'function') throw invalid('wg.fitMany', 'onProgress must be a function');
  const prep = prepare('wg.fitMany', fitKind('wg.fitMany', options), residualFn, problems, options as MinimizeMethodOptions & LeastSquaresMethodOptions);
  const results = runSync<OptimizeResult>(prep);
  options?.onProgress?.({ done: results.length, total: results.length });
  return { results, totals: totals(results, prep.shapes, start) };
}

/** As {@link fitMany}, off the JavaScript thread, with progress (`options.onProgress`) and cancellation (`options.signal`: the promise rejects with `WENGERT_ABORTED`). */
export async function fitManyAsync(residualFn: TracedFunction, problems: readonly FitProblem[], options?: FitManyOptions & { readonly kind?: 'leastSquares' }): Promise<FitManyResult<LeastSquaresResult>>;
export async function fitManyAsync(residualFn: TracedFunction, problems: readonly FitProblem[], options: FitManyOptions & { readonly kind: 'minimize' }): Promise<FitManyResult<OptimizeResult>>;
export async function fitManyAsync(residualFn: TracedFunction, problems: readonly FitProblem[], options?: FitManyOptions): Promise<FitManyResult<OptimizeResult>> {
  const start = performance.now();
  checkProblems('wg.fitManyAsync', problems);
  checkSignal('wg.fitManyAsync', options?.signal);
  if (options?.onProgress !== undefined && typeof options.onProgress !== 'function') throw invalid('wg.fitManyAsync', 'onProgress must be a function');
  const prep = prepare('wg.fitManyAsync', fitKind('wg.fitManyAsync', options), residualFn, problems, options as MinimizeMethodOptions & LeastSquaresMethodOptions);
  const results = await runAsync<OptimizeResult>('wg.fitManyAsync', prep, options?.signal, options?.onProgress);
  return { results, totals: totals(results, prep.shapes, start) };
}
