// Where the time of one tiny synchronous call goes (W6 of BENCH.md: Σ sin(x)·x + exp(−x²), x of
// length 10), layer by layer, after `npm run build`:
//
//   node bench/callpath.mjs [--base <dir>] [--samples N]
//
//   empty addon call     an addon method that does nothing but return a number (threads())
//   empty program call   a program method that returns a number (arenaBytes()): the ObjectWrap
//                        unwrap and the exception guard every run goes through
//   native run, 1 step   NativeProgram.run of a one-step program (y = −x, x a scalar): the
//                        whole fixed cost of a run (arguments, checks, arena, one step, copy out)
//   native run, W6       NativeProgram.run of W6's value-and-gradient program, flat arguments
//   valueAndGrad         Program.valueAndGrad(x): the above plus the TypeScript wrapper
//   valueAndGrad {out}   the same, gradient into the caller's array
//   run                  Program.run(x): the forward program, a number back
//   hand-written C++     bench/native's W6 (one Node-API call, two typed arrays, the math)
//
// --base <dir> times a second build side by side in the same process (samples interleaved): a
// copy of the package (dist/ and build/Release/wengert.node, with package.json) in <dir>, so a
// change can be compared with what came before on a busy machine.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as data from './lib/data.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt;
};
const SAMPLES = Number(opt('samples', '9'));
const REPS = 200_000;
const base = opt('base', null);

const now = () => Number(process.hrtime.bigint()) / 1e9;

async function setup(root, label) {
  const wg = await import(join(root, 'dist', 'index.mjs'));
  const { nativeBinding, serializeProgram } = require(join(root, 'dist', 'internal.js'));
  const native = nativeBinding();
  const x = data.w6Point();
  const p = wg.compile((xv) => wg.sum(wg.add(wg.mul(wg.sin(xv), xv), wg.exp(wg.neg(wg.square(xv))))), { args: [wg.f64([10])] });
  const one = wg.compile((s) => wg.neg(s), { args: [wg.f64([])] });
  // The engine programs of the same bytes, called directly (wengert's internal API).
  const npVg = native.compile(serializeProgram(p, 'valueAndGrad'), 1 << 20);
  const npOne = native.compile(serializeProgram(one, 'forward'), 1 << 20);
  const v = new Float64Array(1), g = new Float64Array(10), gOut = new Float64Array(10);
  const s = new Float64Array([1.5]), y = new Float64Array(1);
  return {
    label,
    check: () => {
      const r = p.valueAndGrad(x);
      npVg.run(x, v, g);
      return [r.value, v[0], g[3]];
    },
    entries: [
      ['empty addon call', () => native.threads()],
      ['empty program call', () => npVg.arenaBytes()],
      ['native run, 1 step', () => npOne.run(s, y)],
      ['native run, W6', () => npVg.run(x, v, g)],
      ['valueAndGrad', () => p.valueAndGrad(x)],
      ['valueAndGrad {out}', () => p.valueAndGrad(x, { out: [gOut] })],
      ['run', () => p.run(x)],
    ],
  };
}

const sides = [await setup(join(here, '..'), 'this build')];
if (base !== null) {
  if (!existsSync(join(base, 'build', 'Release', 'wengert.node'))) {
    console.error(`--base ${base}: no build/Release/wengert.node there`);
    process.exit(2);
  }
  sides.push(await setup(base, 'base'));
}
const refPath = join(here, 'native', 'build', 'Release', 'reference.node');
if (!existsSync(refPath)) {
  console.error('bench/native is not built: `node bench/run.mjs --only W6 --no-tfjs --no-transforms` builds it');
  process.exit(2);
}
const ref = require(refPath);
const x = data.w6Point(), g = new Float64Array(10);

for (const s of sides) {
  const [a, b, g3] = s.check();
  if (a !== b || !(Math.abs(a - 10.278091606336) < 1e-9)) throw new Error(`${s.label}: wrong value ${a} / ${b}`);
  ref.w6(x, g);
  if (g3 !== g[3]) console.log(`note: ${s.label} gradient differs from the hand-written C++ in the last bits (${g3} vs ${g[3]})`);
}

const rows = [];
for (const s of sides) for (const [name, fn] of s.entries) rows.push({ name: base ? `${name} [${s.label}]` : name, fn, xs: [] });
rows.push({ name: 'hand-written C++', fn: () => ref.w6(x, g), xs: [] });
for (const r of rows) for (let i = 0; i < REPS / 10; i++) r.fn(); // warm up
for (let k = 0; k < SAMPLES; k++) {
  for (const r of rows) {
    const t0 = now();
    for (let i = 0; i < REPS; i++) r.fn();
    r.xs.push((now() - t0) / REPS);
  }
}
console.log(`node ${process.version}; ${SAMPLES} interleaved samples of ${REPS} calls; median (min–max) per call`);
for (const r of rows) {
  const xs = r.xs.sort((a, b) => a - b);
  const f = (t) => `${(t * 1e9).toFixed(0)} ns`;
  console.log(`  ${r.name.padEnd(36)} ${f(xs[xs.length >> 1]).padStart(8)}  (${f(xs[0])}–${f(xs[xs.length - 1])})`);
}
