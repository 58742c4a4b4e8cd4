#!/usr/bin/env node
// Builds and runs the libFuzzer target native/fuzz/fuzz_graph.cpp under ASan + UBSan
// (docs/RELIABILITY.md, "Fuzzing").
//   node scripts/fuzz.mjs [--runs N] [--seconds S] [--corpus DIR] [--keep-going]
//     --runs N       stop after N inputs (default 100000)
//     --seconds S    also stop after S seconds
//     --corpus DIR   the working corpus, kept between runs (default build-fuzz/corpus)
//     --keep-going   long runs: libFuzzer's fork mode, which records every crash in
//                    build-fuzz/artifacts/ and carries on instead of stopping at the first
// Needs clang with libFuzzer (Debian: apt-get install clang libclang-rt-14-dev; CXX overrides
// clang++) and the addon (npm ci or npm run build:native), which the seed corpus is traced with
// (scripts/fuzz-corpus.mjs, regenerated on every run into build-fuzz/seeds). The build is a plain
// cmake build of CMakeLists.txt with WENGERT_FUZZ=ON in build-fuzz/. Exits non-zero if the build
// fails or the fuzzer finds anything; a crashing input is left in build-fuzz/artifacts/.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeCorpus } from './fuzz-corpus.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = join(root, 'build-fuzz');

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const v = process.argv[i + 1];
  if (v === undefined) {
    console.error(`fuzz: ${name} needs a value`);
    process.exit(2);
  }
  return v;
}
const runs = Number(option('--runs', '100000'));
const seconds = Number(option('--seconds', '0'));
const corpus = resolve(option('--corpus', join(buildDir, 'corpus')));
const keepGoing = process.argv.includes('--keep-going');
if (!Number.isInteger(runs) || runs < 1 || !Number.isFinite(seconds) || seconds < 0) {
  console.error('fuzz: --runs must be a positive integer and --seconds a non-negative number');
  process.exit(2);
}

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...options });
  if (r.error) {
    console.error(`fuzz: cannot run ${cmd}: ${r.error.message}`);
    process.exit(1);
  }
  return r.status ?? 1;
}
function must(cmd, args, options) {
  const status = run(cmd, args, options);
  if (status !== 0) process.exit(status);
}

const cxx = process.env.CXX || 'clang++';
must('cmake', [
  '-S', root, '-B', buildDir,
  `-DCMAKE_CXX_COMPILER=${cxx}`,
  '-DCMAKE_BUILD_TYPE=RelWithDebInfo',
  '-DWENGERT_SANITIZE=ON',
  '-DWENGERT_FUZZ=ON',
  '-DWENGERT_TESTS=OFF',
]);
must('cmake', ['--build', buildDir, '--target', 'wengert_fuzz_graph', '--parallel', String(Math.max(1, availableParallelism()))]);

const seeds = join(buildDir, 'seeds');
rmSync(seeds, { recursive: true, force: true });
const c = await writeCorpus(seeds);
console.log(`fuzz: seed corpus: ${c.files} graphs (${c.bytes} bytes) from ${c.cases} op-table rows`);
if (c.files === 0 || c.failed > 0) {
  console.error(`fuzz: the seed corpus is incomplete (${c.failed} programs failed to trace)`);
  process.exit(1);
}

const artifacts = join(buildDir, 'artifacts');
mkdirSync(corpus, { recursive: true });
rmSync(artifacts, { recursive: true, force: true });
mkdirSync(artifacts, { recursive: true });
const args = [
  `-runs=${runs}`,
  `-artifact_prefix=${artifacts}/`,
  '-timeout=30',
  '-print_final_stats=1',
  ...(seconds > 0 ? [`-max_total_time=${seconds}`] : []),
  ...(keepGoing ? ['-fork=1', '-ignore_crashes=1', '-ignore_timeouts=1', '-ignore_ooms=1'] : []),
  corpus,
  seeds,
];
const t0 = Date.now();
const status = run(join(buildDir, 'wengert_fuzz_graph'), args, {
  env: {
    ...process.env,
    ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=1:strict_string_checks=1',
    UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
  },
});
// Fork mode exits 0 after crashes it was told to ignore; the artifacts say what it found.
const found = readdirSync(artifacts).length;
const ok = status === 0 && found === 0;
console.log(`fuzz: ${ok ? 'no findings' : `FINDINGS: exit status ${status}, ${found} input(s) in build-fuzz/artifacts/`} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
process.exit(ok ? 0 : 1);
