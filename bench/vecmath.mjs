#!/usr/bin/env node
// Timing (not a test) of the vector math kernels on each instruction set this machine runs:
// exp, log and tanh over 1e6 float64 and float32 elements, one program run each, median of
// 15 runs after warm-up. Each instruction set runs in a fresh node with WENGERT_ISA set, since the
// choice is made once per process (native/src/isa.h). Needs the built addon and dist/
// (`npm run build`). Figures are recorded in docs/PERFORMANCE.md ("Vector math").
//   node bench/vecmath.mjs
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as wg from '../dist/index.mjs';

const N = 1_000_000;
const OPS = ['exp', 'log', 'tanh'];

function timeOne(op, dtype) {
  const Arr = dtype === 'float64' ? Float64Array : Float32Array;
  const x = new Arr(N);
  for (let i = 0; i < N; i++) x[i] = op === 'log' ? 1e-3 + (i / N) * 1e3 : -20 + (i / N) * 40;
  const p = wg.compile((t) => wg[op](t), { args: [dtype === 'float64' ? wg.f64([N]) : wg.f32([N])], wrt: [] });
  for (let i = 0; i < 3; i++) p.run(x);
  const times = [];
  for (let i = 0; i < 15; i++) {
    const t0 = process.hrtime.bigint();
    p.run(x);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  p.dispose();
  times.sort((a, b) => a - b);
  return times[7];
}

if (process.argv[2] === '--child') {
  const out = {};
  for (const op of OPS) for (const dt of ['float64', 'float32']) out[`${op} ${dt}`] = timeOne(op, dt);
  process.stdout.write(JSON.stringify(out));
} else {
  const require = createRequire(import.meta.url);
  const binding = require('node-gyp-build')(fileURLToPath(new URL('..', import.meta.url)));
  const isas = [...binding.isaAvailable()].reverse();
  const rows = {};
  for (const isa of isas) {
    rows[isa] = JSON.parse(
      execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child'], {
        env: { ...process.env, WENGERT_ISA: isa },
        encoding: 'utf8',
      }),
    );
  }
  const keys = Object.keys(rows[isas[0]]);
  console.log(`ms per 1e6 elements (median of 15), one run of a compiled program; ${isas.join(', ')}`);
  console.log(`| op | ${isas.join(' | ')} |`);
  console.log(`| --- | ${isas.map(() => '---:').join(' | ')} |`);
  for (const k of keys) console.log(`| ${k} | ${isas.map((i) => rows[i][k].toFixed(2)).join(' | ')} |`);
}
