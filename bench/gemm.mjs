#!/usr/bin/env node
// wengert's matrix product against OpenBLAS at the W1 and W2 shapes (one thread by default)
// (../shared BENCH.md: W2 is batch 256, layers 784-512-512-10, forward X·W and backward Xᵀ·dY,
// dY·Wᵀ; W1 is X·w and Xᵀ·g with X 100000 × 100).
//
//   node bench/gemm.mjs [--budget SECONDS] [--isa NAME] [--case TEXT] [--dtype f32|f64] [--threads N]
//
// Builds a bench-only C++ harness (bench/gemm_bench.cpp, compiled with the engine's GEMM sources
// into build-bench-gemm/, rebuilt when a source is newer) and runs it. The harness loads OpenBLAS
// at run time with dlopen if the machine has it (e.g. `apt-get install libopenblas-dev`); without
// it, only wengert's figures are printed. OpenBLAS is never linked into, nor required by, wengert.
// Prints, per shape and dtype: GFLOP/s (per thread CPU second, so that a shared machine does not
// count other processes' time slices) of OpenBLAS and of wengert on every instruction set this
// CPU runs, the ratio to OpenBLAS and the largest difference between the two results. With
// --threads N, both run on N threads (wengert on its engine pool) and the figures are wall-clock
// time, meaningful only on a quiet machine.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'native', 'src');
const out = join(root, 'build-bench-gemm');
const exe = join(out, 'gemm_bench');

if (process.platform === 'win32') {
  console.log('bench/gemm.mjs: the harness uses dlopen and a POSIX compiler; skipped on Windows');
  process.exit(0);
}

// The engine sources the GEMM needs: its dispatch, the instruction-set units, and what they use.
const engine = ['gemm.cpp', 'isa.cpp', 'isa_scalar.cpp', 'isa_sse2.cpp', 'isa_avx2.cpp', 'isa_avx512.cpp', 'isa_neon.cpp', 'format.cpp', 'status.cpp', 'threadpool.cpp'];
const sources = [...engine.map((f) => join(src, f)), join(root, 'bench', 'gemm_bench.cpp')];
const headers = [join(src, 'gemm.h'), join(src, 'simd', 'gemm_body.h'), join(src, 'isa.h'), join(src, 'threadpool.h')];

const cxx = process.env.CXX || 'c++';
const flags = ['-std=c++20', '-O3', `-I${src}`];
mkdirSync(out, { recursive: true });
const newestHeader = Math.max(...headers.map((h) => statSync(h).mtimeMs));
const objects = [];
const stale = [];
for (const s of sources) {
  const o = join(out, s.slice(root.length + 1).replaceAll('/', '_').replace(/\.cpp$/, '.o'));
  objects.push(o);
  if (!existsSync(o) || statSync(o).mtimeMs < Math.max(statSync(s).mtimeMs, newestHeader)) stale.push([s, o]);
}
for (const [, o] of stale) rmSync(o, { force: true });
if (stale.length > 0) console.log(`building the GEMM bench harness (${stale.length} sources) ...`);
// Two compiles at a time.
for (let i = 0; i < stale.length; i += 2) {
  const batch = stale.slice(i, i + 2).map(([s, o]) => `${cxx} ${flags.join(' ')} -c '${s}' -o '${o}'`);
  const r = spawnSync('sh', ['-c', batch.map((c) => `(${c}) &`).join(' ') + ' wait'], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(1);
  for (const [, o] of stale.slice(i, i + 2)) {
    if (!existsSync(o)) {
      console.error(`bench/gemm.mjs: compiling ${o} failed`);
      process.exit(1);
    }
  }
}
if (stale.length > 0 || !existsSync(exe)) {
  const r = spawnSync(cxx, [...objects, '-o', exe, '-ldl', '-pthread'], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const args = process.argv.slice(2);
const ti = args.indexOf('--threads');
const blasThreads = ti >= 0 && args[ti + 1] ? args[ti + 1] : '1';
const r = spawnSync(exe, args, { stdio: 'inherit', env: { ...process.env, OPENBLAS_NUM_THREADS: blasThreads } });
process.exit(r.status ?? 1);
