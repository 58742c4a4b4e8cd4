// The run-time instruction-set choice (native/src/isa.h), through the addon: for each
// WENGERT_ISA value a fresh node loads the addon and runs exp, log, tanh, sigmoid, log1p, expm1,
// sin and cos programs (float64 and float32, a length with a ragged tail); every path stays within
// the stated error bound (native/src/simd/vecmath.h) of a JavaScript reference and of the scalar
// path. An instruction set this CPU lacks falls back with a note, and its test is reported as
// skipped with the reason, never passed silently.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import * as wg from '../ts/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const child = join(root, 'test/helpers/isa-child.cjs');
const ISAS = ['scalar', 'sse2', 'avx2', 'avx512', 'neon'] as const;

// Stated bounds (vecmath.h kVecOpSpecs), and references in double.
const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const FUNCS: Record<string, { bound: number; ref: (x: number) => number; lo: number; hi: number }> = {
  exp: { bound: 2, ref: Math.exp, lo: -80, hi: 80 },
  log: { bound: 1, ref: Math.log, lo: 1e-30, hi: 1e30 },
  tanh: { bound: 3, ref: Math.tanh, lo: -12, hi: 12 },
  sigmoid: { bound: 3, ref: sigmoid, lo: -60, hi: 60 },
  log1p: { bound: 1, ref: Math.log1p, lo: -0.999, hi: 1e6 },
  expm1: { bound: 2, ref: Math.expm1, lo: -40, hi: 40 },
  sin: { bound: 3, ref: Math.sin, lo: -1e3, hi: 1e3 },
  cos: { bound: 3, ref: Math.cos, lo: -1e3, hi: 1e3 },
};
const N = 4099; // not a multiple of any vector width: exercises the tail

type Choice = { choice: { isa: string; requested: string | null; note: string }; available: string[] };

function runChild(dir: string, isa: string | undefined): Choice {
  const env = { ...process.env };
  if (isa === undefined) delete env.WENGERT_ISA;
  else env.WENGERT_ISA = isa;
  return JSON.parse(execFileSync(process.execPath, [child, root, dir], { env, encoding: 'utf8' })) as Choice;
}

// ulps of float64 (or float32) between a value and a reference.
function ulpError(y: number, ref: number, f32: boolean): number {
  if (Number.isNaN(y) || Number.isNaN(ref)) return Number.isNaN(y) && Number.isNaN(ref) ? 0 : Infinity;
  const r = f32 ? Math.fround(ref) : ref;
  if (!Number.isFinite(r) || !Number.isFinite(y)) return r === y ? 0 : Infinity;
  const digits = f32 ? 24 : 53;
  const minExp = f32 ? -126 : -1022;
  const e = Math.max(Math.floor(Math.log2(Math.abs(ref) || Number.MIN_VALUE)), minExp);
  return Math.abs(y - ref) / 2 ** (e - digits + 1);
}

const dir = mkdtempSync(join(tmpdir(), 'wengert-isa-'));
const cases: { name: string; fn: string; dtype: 'float64' | 'float32'; n: number; x: Float64Array | Float32Array }[] = [];
for (const [fn, spec] of Object.entries(FUNCS)) {
  for (const dtype of ['float64', 'float32'] as const) {
    const x = dtype === 'float64' ? new Float64Array(N) : new Float32Array(N);
    for (let i = 0; i < N; i++) x[i] = spec.lo + ((spec.hi - spec.lo) * i) / (N - 1);
    x[0] = 0;
    x[1] = -0;
    const p = wg.compile((t) => (wg as unknown as Record<string, (t: wg.Tensor) => wg.Tensor>)[fn]!(t!), {
      args: [dtype === 'float64' ? wg.f64([N]) : wg.f32([N])],
      wrt: [],
    });
    const name = `${fn}_${dtype}`;
    writeFileSync(join(dir, `${name}.graph`), p.serialized('forward'));
    writeFileSync(join(dir, `${name}.in`), new Uint8Array(x.buffer));
    p.dispose();
    cases.push({ name, fn, dtype, n: N, x });
  }
}
writeFileSync(join(dir, 'cases.json'), JSON.stringify(cases.map(({ name, dtype, n }) => ({ name, dtype, n }))));
const baseline = runChild(dir, undefined);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function outputs(name: string, dtype: string, isa: string): Float64Array | Float32Array {
  const raw = readFileSync(join(dir, `${name}.${isa}.out`));
  const buf = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
  return dtype === 'float64' ? new Float64Array(buf) : new Float32Array(buf);
}

describe('instruction-set dispatch', () => {
  it('chooses the best available instruction set when none is forced', () => {
    expect(baseline.available.length).toBeGreaterThan(0);
    expect(baseline.available).toContain('scalar');
    expect(baseline.choice).toEqual({ isa: baseline.available[0], requested: null, note: '' });
  });

  it('an unknown WENGERT_ISA falls back to the best with a note, never a crash', () => {
    const r = runChild(dir, 'avx9000');
    expect(r.choice.isa).toBe(baseline.available[0]);
    expect(r.choice.note).toMatch(/WENGERT_ISA=avx9000 is not one of/);
  });

  for (const isa of ISAS) {
    if (!baseline.available.includes(isa)) {
      it.skip(`${isa}: skipped: ${isa === 'neon' ? 'not built for this architecture' : `CPU lacks ${isa === 'avx2' ? 'avx2+fma' : isa === 'avx512' ? 'avx512f' : isa}`}`, () => {});
      it(`forcing ${isa}, which this machine lacks, falls back with a note`, () => {
        const r = runChild(dir, isa);
        expect(r.choice.isa).toBe(baseline.available[0]);
        expect(r.choice.requested).toBe(isa);
        expect(r.choice.note).toMatch(new RegExp(`WENGERT_ISA=${isa} is not available \\((CPU lacks|not built)`));
      });
      continue;
    }
    it(`WENGERT_ISA=${isa}: vector math within its stated bounds, agreeing with the scalar path`, () => {
      const r = runChild(dir, isa);
      expect(r.choice).toEqual({ isa, requested: isa, note: '' });
      if (isa !== 'scalar') runChild(dir, 'scalar');
      for (const c of cases) {
        const f32 = c.dtype === 'float32';
        const { bound, ref } = FUNCS[c.fn]!;
        const y = outputs(c.name, c.dtype, isa);
        const s = outputs(c.name, c.dtype, 'scalar');
        let worst = 0;
        let worstScalar = 0;
        for (let i = 0; i < c.n; i++) {
          // The JS reference is double precision (within ~1 ulp itself for float64).
          worst = Math.max(worst, ulpError(y[i]!, ref(c.x[i]!), f32));
          worstScalar = Math.max(worstScalar, ulpError(y[i]!, s[i]!, f32));
        }
        expect(worst, `${c.name} on ${isa}`).toBeLessThanOrEqual(bound + (f32 ? 0.5 : 1.5));
        expect(worstScalar, `${c.name} on ${isa} vs scalar`).toBeLessThanOrEqual(bound);
        expect(Object.is(y[1], c.fn === 'sin' || c.fn === 'tanh' || c.fn === 'log1p' || c.fn === 'expm1' ? -0 : y[1])).toBe(true);
      }
    });
  }
});
