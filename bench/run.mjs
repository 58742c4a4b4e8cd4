// The benchmark suite (`npm run bench`, after `npm run build`): workloads W1–W6 of BENCH.md against
// hand-written C++ (bench/native, the floor), hand-written JavaScript and TF.js, then the
// derivative-transform benchmarks (bench/transforms.mjs) when no --only is given.
//
//   node bench/run.mjs [--only W1,W3a] [--threads 1|2] [--dtype f64|f32] [--samples N] [--no-tfjs]
//                      [--w3b-n N] [--no-transforms] [--quiet-build]
//
// Every workload first checks its value against the BENCH.md reference (or, for W2, which has
// none, against the hand-written gradient code) and its gradient against the hand-written C++; a
// wrong answer is a failure (exit 1), never a time. Results also go to bench/results/<time>.json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
// bench/package.json (the TF.js manifest) makes bench/ its own package scope, so wengert is
// imported by path (the built ESM entry), not by its package name.
import * as wg from '../dist/index.mjs';
import * as data from './lib/data.mjs';
import * as hand from './lib/handjs.mjs';
import { loadTf, tfWorkloads } from './lib/tfjs.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
// wengert's internals (not public API): W6 times the engine's call on its own.
const internal = require('../dist/internal.js');

// ---- options ----
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt;
};
const ALL = ['W1', 'W2', 'W3a', 'W3b', 'W4', 'W5', 'W6'];
const only = opt('only', null)?.split(',').map((s) => s.trim());
const bad = only?.filter((w) => !ALL.includes(w) && w !== 'W3');
if (bad?.length) {
  console.error(`unknown workload(s) ${bad.join(', ')}; choose from ${ALL.join(', ')}`);
  process.exit(2);
}
const selected = (w) => !only || only.includes(w) || (w.startsWith('W3') && only.includes('W3'));
const threads = Number(opt('threads', '1'));
if (threads !== 1 && threads !== 2) {
  console.error('--threads must be 1 or 2');
  process.exit(2);
}
const dtypeOpt = opt('dtype', null);
if (dtypeOpt !== null && dtypeOpt !== 'f64' && dtypeOpt !== 'f32') {
  console.error('--dtype must be f64 or f32');
  process.exit(2);
}
const SAMPLES = Number(opt('samples', '15'));
const W3B_N = Number(opt('w3b-n', '20000')); // 10⁶ is out of reach today: see docs/PERFORMANCE.md
const useTf = !argv.includes('--no-tfjs');

// ---- the hand-written C++ addon, built on demand ----
function nativeReference() {
  const dir = join(here, 'native');
  const addon = join(dir, 'build', 'Release', 'reference.node');
  if (!existsSync(addon)) {
    console.log('building the hand-written C++ reference addon (bench/native, node-gyp) ...');
    const nodedir = spawnSync('npm', ['config', 'get', 'nodedir'], { encoding: 'utf8' }).stdout?.trim();
    const args = ['rebuild', ...(nodedir && nodedir !== 'undefined' && nodedir !== 'null' ? [`--nodedir=${nodedir}`] : [])];
    // node-gyp: the project's own if installed, else the one npm ships with (what `npm run
    // build:native` uses), so nothing is fetched.
    const local = join(here, '..', 'node_modules', '.bin', 'node-gyp');
    const bundled = [process.env.npm_config_node_gyp, join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')].find((f) => f && existsSync(f));
    const r = existsSync(local)
      ? spawnSync(local, args, { cwd: dir, stdio: 'inherit' })
      : bundled
        ? spawnSync(process.execPath, [bundled, ...args], { cwd: dir, stdio: 'inherit' })
        : spawnSync('npm', ['exec', '--yes=false', '--', 'node-gyp', ...args], { cwd: dir, stdio: 'inherit' });
    if (r.status !== 0 || !existsSync(addon)) {
      console.error('bench/native: node-gyp failed; the C++ floor is needed to check gradients');
      process.exit(1);
    }
  }
  return require(addon);
}

// ---- timing: interleaved samples, median and range per call ----
const now = () => Number(process.hrtime.bigint()) / 1e9;
function calibrate(fn, minSec) {
  let reps = 1;
  for (;;) {
    const t0 = now();
    for (let i = 0; i < reps; i++) fn();
    const t = now() - t0;
    if (t >= minSec || reps >= 1 << 22) return { reps, per: t / reps };
    reps = t <= 0 ? reps * 10 : Math.max(reps * 2, Math.ceil((reps * minSec) / t));
  }
}
/**
 * Seconds per call of each entry { fn, reps?, budget?, setup? }: samples interleaved (a, b, a, b,
 * …), each sample repeating the call `reps` times (default: enough for 10 ms). A call slower than
 * the budget/3 gets only 3 samples. `setup` runs, untimed, before an entry's calibration and each
 * of its samples (W1 and W2 set the engine's thread count with it).
 */
function measure(entries) {
  const plans = entries.map((e) => {
    e.setup?.();
    // With fixed reps, the time per call is estimated from up to 10,000 calls: one cold call can
    // take ten times a warm one, which left W6 (100,000 calls of ~2 µs) with only 3 samples.
    const c = e.reps ? { reps: e.reps, per: (() => { const k = Math.min(e.reps, 10000); const t0 = now(); for (let i = 0; i < k; i++) e.fn(); return (now() - t0) / k; })() } : calibrate(e.fn, 0.01);
    const budget = e.budget ?? 4;
    return { ...e, reps: c.reps, count: Math.max(3, Math.min(SAMPLES, Math.floor(budget / (c.per * c.reps)))), xs: [] };
  });
  const most = Math.max(...plans.map((p) => p.count));
  for (let s = 0; s < most; s++) {
    for (const p of plans) {
      if (s >= p.count) continue;
      p.setup?.();
      const t0 = now();
      for (let i = 0; i < p.reps; i++) p.fn();
      p.xs.push((now() - t0) / p.reps);
    }
  }
  return plans.map((p) => {
    const xs = p.xs.sort((a, b) => a - b);
    return { median: xs[xs.length >> 1], min: xs[0], max: xs[xs.length - 1], samples: xs.length, reps: p.reps };
  });
}

// ---- checks ----
const failures = []; // wengert or the hand-written code wrong: exit 1
const peerFailures = []; // a peer (TF.js, float32 only) wrong: reported, not timed, exit unaffected
function relErr(a, b) {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
}
/** max |a − b| / max |b| over the flattened gradients. */
function gradErr(got, want) {
  let num = 0, den = 0;
  for (let k = 0; k < want.length; k++) {
    const g = got[k], w = want[k];
    if (typeof w === 'number') {
      num = Math.max(num, Math.abs(Number(typeof g === 'number' ? g : g[0]) - w));
      den = Math.max(den, Math.abs(w));
      continue;
    }
    if (g.length !== w.length) return Infinity;
    for (let i = 0; i < w.length; i++) {
      num = Math.max(num, Math.abs(g[i] - w[i]));
      den = Math.max(den, Math.abs(w[i]));
    }
  }
  return Number.isNaN(num) ? Infinity : num / Math.max(den, 1e-300);
}
/** Record a failure when value or gradient is off; returns whether the answer is right. */
function check(workload, system, value, ref, valTol, grads, refGrads, gradTol, peer = false) {
  const ev = ref === null ? 0 : relErr(value, ref);
  const eg = refGrads === null ? 0 : gradErr(grads, refGrads);
  const ok = ev <= valTol && eg <= gradTol;
  if (!ok) {
    const msg = `${workload} ${system}: WRONG ANSWER: value ${value} (reference ${ref}, rel. error ${ev.toExponential(2)} > ${valTol}?) gradient rel. error ${eg.toExponential(2)} (tolerance ${gradTol})`;
    (peer ? peerFailures : failures).push(msg);
    console.log(`  ${peer ? 'PEER WRONG' : 'FAIL'} ${msg}`);
  }
  return { ok, valueErr: ev, gradErr: eg };
}

// ---- report ----
const fmtT = (s) => (s === undefined ? '—' : s < 1e-6 ? `${(s * 1e9).toFixed(0)} ns` : s < 1e-3 ? `${(s * 1e6).toFixed(2)} µs` : s < 1 ? `${(s * 1e3).toFixed(2)} ms` : `${s.toFixed(2)} s`);
const fmtRange = (m) => `${fmtT(m.median)} (${fmtT(m.min)}–${fmtT(m.max)}, ${m.samples}×${m.reps})`;
const fmtBytes = (b) => (b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(1)} MiB` : `${(b / 1024).toFixed(1)} KiB`);
const results = [];

function report(r) {
  results.push(r);
  const line = (label, m, extra = '') => console.log(`  ${label.padEnd(24)} ${m ? fmtRange(m) : '—'}${extra}`);
  console.log(`${r.workload} ${r.title}`);
  line('wengert value+grad', r.wengert.valueAndGrad);
  if (r.wengert.valueAndGradOut) {
    const cpp = r.peers.cpp && typeof r.peers.cpp !== 'string' ? `   wengert/hand-written C++ ${(r.wengert.valueAndGradOut.median / r.peers.cpp.median).toPrecision(3)}×` : '';
    line('  with { out }', r.wengert.valueAndGradOut, cpp);
  }
  if (r.wengert.oneThread) {
    const one = r.wengert.oneThread, vg = r.wengert.valueAndGrad;
    line('  on 1 thread', one, `   ${engineThreads} threads vs 1: ${(one.median / vg.median).toFixed(2)}× faster (medians; ${(one.min / vg.min).toFixed(2)}× by the fastest samples)`);
  }
  line('wengert forward', r.wengert.forward, `   grad/forward ${(r.wengert.valueAndGrad.median / r.wengert.forward.median).toFixed(2)}×`);
  if (r.wengert.memory) console.log(`  ${'wengert memory'.padEnd(24)} arena ${fmtBytes(r.wengert.memory.arenaBytes)}, forward arena ${fmtBytes(r.wengert.memory.forwardArenaBytes)}`);
  for (const [k, label] of [['cpp', 'hand-written C++'], ['js', 'hand-written JS'], ['tfjs-cpu', 'TF.js cpu'], ['tfjs-wasm', 'TF.js wasm']]) {
    const m = r.peers[k];
    if (m === undefined) continue;
    if (typeof m === 'string') console.log(`  ${label.padEnd(24)} ${m}`);
    else line(label, m, `   wengert/${label} ${(r.wengert.valueAndGrad.median / m.median).toPrecision(3)}×`);
  }
  for (const n of r.notes ?? []) console.log(`  note: ${n}`);
}

// ---- the suite ----
const cpuModel = cpus()[0]?.model ?? '?';
console.log(`wengert workloads W1–W6 (BENCH.md); node ${process.version}; ${cpus().length}× ${cpuModel}`);
const engineThreads = wg.configure({ threads }).threads;
console.log(`threads: wengert's engine runs on ${engineThreads} thread(s): large kernels split over them (results are bit-identical for any count); the peers are not changed`);
console.log(`timing: median (min–max, samples×calls per sample), samples interleaved across systems in one process\n`);
// With --threads 2, W1 and W2 also time wengert's value+grad on 1 thread, its samples interleaved
// with the 2-thread ones, so the speed-up is a ratio taken side by side in one run.
const onThreads = (k) => () => wg.configure({ threads: k });
const scaling = engineThreads > 1;

const ref = nativeReference();
{
  // the generator agrees across JS (32-bit halves), JS BigInt and C++
  for (const [i, s] of [[0, 1], [9_999_999, 1], [123_456, 3], [2 ** 40 + 5, 6]]) {
    const a = data.u(i, s), b = data.uBig(i, s), c = ref.uniform(i, s);
    if (a !== b || b !== c) {
      console.error(`data generator mismatch at u(${i}, ${s}): js ${a}, BigInt ${b}, C++ ${c}`);
      process.exit(1);
    }
  }
}

let tfInfo = null;
if (useTf && ['W1', 'W2', 'W3a', 'W4', 'W6'].some(selected)) {
  tfInfo = await loadTf();
  if (!tfInfo) {
    console.log('TF.js: not installed (npm run --prefix bench setup, or npm install --prefix bench, to compare)\n');
  } else {
    console.log(`TF.js ${tfInfo.version}, backends ${tfInfo.backends.join(', ')} (float32 only)\n`);
  }
}
const tfData = {};

/** Run TF.js closures on every backend: first call checked, then timed one by one (not interleaved with wengert). */
async function tfPeers(workload, make, refValue, refGrads, opts = {}) {
  const out = {};
  if (!tfInfo) return out;
  const { tf } = tfInfo;
  for (const backend of tfInfo.backends) {
    const key = `tfjs-${backend}`;
    try {
      await tf.setBackend(backend);
      await tf.ready();
      const w = make()[workload];
      const first = w.fn();
      const c = check(workload, `TF.js ${backend}`, first.value, refValue, opts.valTol ?? 1e-4, first.grads, refGrads, opts.gradTol ?? 1e-3, true);
      if (c.ok) out[key] = measure([{ fn: w.fn, reps: opts.reps, budget: opts.budget ?? 6 }])[0];
      else out[key] = 'wrong answer, not timed (see PEER WRONG above)';
      w.dispose();
    } catch (err) {
      out[key] = `failed: ${String(err?.message ?? err).split('\n')[0]}`;
    }
  }
  return out;
}
const tfMake = (key, payload) => () => tfWorkloads(tfInfo.tf, { [key]: payload });

// W1 logistic regression
if (selected('W1')) {
  const D = data.w1Data();
  const { n, d } = D;
  for (const dt of dtypeOpt ? [dtypeOpt] : ['f64', 'f32']) {
    const F = dt === 'f64' ? Float64Array : Float32Array;
    const spec = dt === 'f64' ? wg.f64 : wg.f32;
    const X = F.from(D.X), y = F.from(D.y), w0 = F.from(D.w0), b0 = D.b0;
    const p = wg.compile(
      (w, b, X, y) => {
        const z = wg.add(wg.matmul(X, w), b);
        return wg.add(wg.mean(wg.sub(wg.softplus(z), wg.mul(y, z))), wg.mul(wg.sum(wg.square(w)), 1e-3));
      },
      { args: [spec([d]), spec([]), spec([n, d]), spec([n])], wrt: [0, 1] },
    );
    const gw = new F(d), gb = new F(1), gwj = new F(d);
    const cppFn = dt === 'f64' ? () => ref.w1f64(X, y, w0, b0, n, d, gw, gb) : () => ref.w1f32(X, y, w0, b0, n, d, gw, gb);
    const cv = cppFn();
    const refGrads = [Float64Array.from(gw), gb[0]];
    const valTol = dt === 'f64' ? 1e-9 : 1e-5, gradTol = dt === 'f64' ? 1e-9 : 1e-4;
    check('W1', 'hand-written C++', cv, 0.714343403, dt === 'f64' ? 1e-9 : 1e-5, [], [], 0);
    const jv = hand.w1(X, y, w0, b0, n, d, gwj);
    check('W1', 'hand-written JS', jv.value, 0.714343403, valTol, [gwj, jv.gb], refGrads, gradTol);
    const vg = p.valueAndGrad(w0, b0, X, y);
    const c = check('W1', `wengert ${dt}`, vg.value, 0.714343403, valTol, vg.grads, refGrads, gradTol);
    if (c.ok) {
      const [mVg, mF, mC, mJ, mOne] = measure([
        { fn: () => p.valueAndGrad(w0, b0, X, y), setup: onThreads(engineThreads) },
        { fn: () => p.run(w0, b0, X, y), setup: onThreads(engineThreads) },
        { fn: cppFn },
        { fn: () => hand.w1(X, y, w0, b0, n, d, gwj) },
        ...(scaling ? [{ fn: () => p.valueAndGrad(w0, b0, X, y), setup: onThreads(1) }] : []),
      ]);
      wg.configure({ threads: engineThreads });
      const peers = { cpp: mC, js: mJ };
      if (dt === 'f32') Object.assign(peers, await tfPeers('W1', tfMake('W1', D), 0.714343403, refGrads));
      else if (tfInfo) {
        peers['tfjs-cpu'] = 'f32 only (see W1 f32)';
      }
      report({ workload: `W1-${dt}`, title: `logistic regression n=${n} d=${d} ${dt}`, wengert: { valueAndGrad: mVg, forward: mF, memory: p.memory(), oneThread: mOne }, peers, check: c });
    }
    p.dispose();
  }
}

// W2 MLP
if (selected('W2')) {
  const D = data.w2Data();
  const { batch, sizes, X, labels, params } = D;
  if (dtypeOpt === 'f64') console.log('W2: float32 by definition (BENCH.md); --dtype f64 ignored');
  const shapes = [[sizes[0], sizes[1]], [sizes[1]], [sizes[1], sizes[2]], [sizes[2]], [sizes[2], sizes[3]], [sizes[3]]];
  const p = wg.compile(
    (W1, b1, W2, b2, W3, b3, X, labels) => {
      const h1 = wg.relu(wg.add(wg.matmul(X, W1), b1));
      const h2 = wg.relu(wg.add(wg.matmul(h1, W2), b2));
      return wg.softmaxCrossEntropy(wg.add(wg.matmul(h2, W3), b3), labels);
    },
    { args: [...shapes.map((s) => wg.f32(s)), wg.f32([batch, sizes[0]]), wg.i32([batch])], wrt: [0, 1, 2, 3, 4, 5] },
  );
  const grads = shapes.map((s) => new Float32Array(s.reduce((a, b) => a * b, 1)));
  const gj = shapes.map((s) => new Float32Array(s.reduce((a, b) => a * b, 1)));
  const cppFn = () => ref.w2(X, labels, ...params, ...grads, sizes[0]);
  const cv = cppFn();
  const refGrads = grads.map((g) => Float32Array.from(g));
  const jv = hand.w2(X, labels, params, sizes, gj);
  check('W2', 'hand-written JS', jv, cv, 1e-5, gj, refGrads, 1e-4);
  const vg = p.valueAndGrad(...params, X, labels);
  const c = check('W2', 'wengert', vg.value, cv, 1e-5, vg.grads, refGrads, 1e-4);
  if (c.ok) {
    const [mVg, mF, mC, mJ, mOne] = measure([
      { fn: () => p.valueAndGrad(...params, X, labels), setup: onThreads(engineThreads) },
      { fn: () => p.run(...params, X, labels), setup: onThreads(engineThreads) },
      { fn: cppFn },
      { fn: () => hand.w2(X, labels, params, sizes, gj), budget: 6 },
      ...(scaling ? [{ fn: () => p.valueAndGrad(...params, X, labels), setup: onThreads(1) }] : []),
    ]);
    wg.configure({ threads: engineThreads });
    const peers = { cpp: mC, js: mJ, ...(await tfPeers('W2', tfMake('W2', D), cv, refGrads, { gradTol: 1e-3 })) };
    report({
      workload: 'W2', value: cv, title: `MLP f32 batch ${batch}, ${sizes.join('-')}`, wengert: { valueAndGrad: mVg, forward: mF, memory: p.memory(), oneThread: mOne }, peers, check: c,
      notes: [`BENCH.md gives no value reference for W2; checked against the hand-written C++ (loss ${cv.toFixed(6)} on our generator's data, seeds 10–17)`,
        `${(821.6e6 / mVg.median / 1e9).toFixed(1)} GFLOP/s for wengert (821.6 MFLOP per value+grad)`],
    });
  }
  p.dispose();
}

// W3a / W3b extended Rosenbrock
const W3REF = 254099516; // given to 9 significant digits: checked to 1e-8 relative
const W3TOL = 1e-8;
const rosenVec = (x) => {
  const n = x.shape[0];
  const a = wg.slice(x, [0], [n - 1]), b = wg.slice(x, [1], [n - 1]);
  return wg.sum(wg.add(wg.mul(wg.square(wg.sub(b, wg.square(a))), 100), wg.square(wg.sub(1, a))));
};
if (selected('W3a')) {
  const n = 1_000_000;
  const x = data.w3Point(n);
  const g = new Float64Array(n), gj = new Float64Array(n);
  const p = wg.compile(rosenVec, { args: [wg.f64([n])] });
  const cv = ref.w3(x, g);
  const refGrads = [Float64Array.from(g)];
  check('W3a', 'hand-written C++', cv, W3REF, W3TOL, [], [], 0);
  check('W3a', 'hand-written JS', hand.w3(x, gj), W3REF, W3TOL, [gj], refGrads, 1e-12);
  const vg = p.valueAndGrad(x);
  const c = check('W3a', 'wengert', vg.value, W3REF, W3TOL, vg.grads, refGrads, 1e-12);
  if (c.ok) {
    // The hand-written gradients write into arrays given to them: `{ out }` is the like-for-like
    // call; without it every call allocates a new 8 MB gradient (page faults included).
    const gOut = new Float64Array(n);
    const [mVg, mOut, mF, mC, mJ] = measure([
      { fn: () => p.valueAndGrad(x) },
      { fn: () => p.valueAndGrad(x, { out: [gOut] }) },
      { fn: () => p.run(x) },
      { fn: () => ref.w3(x, g) },
      { fn: () => hand.w3(x, gj) },
    ]);
    const peers = { cpp: mC, js: mJ, ...(await tfPeers('W3a', tfMake('W3a', { x }), W3REF, refGrads)) };
    report({ workload: 'W3a', title: `extended Rosenbrock n=${n}, vector ops (slices)`, wengert: { valueAndGrad: mVg, valueAndGradOut: mOut, forward: mF, memory: p.memory() }, peers, check: c,
      notes: ['"with { out }": the gradient goes into the caller\'s array, as the hand-written gradients\' do'] });
  }
  p.dispose();
}
if (selected('W3b')) {
  const n = W3B_N;
  const x = data.w3Point(n);
  const g = new Float64Array(n);
  const rosenScalar = (xv) => {
    const xs = wg.split(xv, n); // n scalars of shape [1]
    let f = null;
    for (let i = 0; i + 1 < n; i++) {
      const d = wg.sub(xs[i + 1], wg.mul(xs[i], xs[i]));
      const e = wg.sub(1, xs[i]);
      const t = wg.add(wg.mul(wg.mul(d, d), 100), wg.mul(e, e));
      f = f === null ? t : wg.add(f, t);
    }
    return wg.sum(f);
  };
  // Tracing alone: with no wrt argument, compile traces and stops (nothing to differentiate).
  let t0 = now();
  wg.compile(rosenScalar, { args: [wg.f64([n])], wrt: [] }).dispose();
  const tTrace = now() - t0;
  t0 = now();
  const p = wg.compile(rosenScalar, { args: [wg.f64([n])] }); // traces, builds the gradient, compiles natively
  const tCompile = now() - t0;
  // internal, for the op count and the split only: the traced graph holds the forward ops, then
  // the gradient's; serializing the same nodes again and compiling the bytes again time those steps.
  const graph = p['graph'], output = p['output'];
  const fwdOps = output.id + 1, totalOps = graph.nodes.length;
  t0 = now();
  const bytes = p.serialized('valueAndGrad');
  const tSerialize = now() - t0;
  t0 = now();
  require('../dist/internal.js').nativeBinding().compile(bytes, 4 * 1024 ** 3).dispose();
  const tNative = now() - t0;
  const tGradient = tCompile - tTrace - tSerialize - tNative;
  const usOp = (t) => ((t / totalOps) * 1e6).toFixed(3);
  const cv = ref.w3(x, g);
  const vg = p.valueAndGrad(x);
  const c = check('W3b', 'wengert', vg.value, cv, 1e-12, vg.grads, [g], 1e-12);
  if (c.ok) {
    const [mVg, mF, mC] = measure([{ fn: () => p.valueAndGrad(x) }, { fn: () => p.run(x) }, { fn: () => ref.w3(x, g) }]);
    report({
      workload: 'W3b', title: `extended Rosenbrock n=${n}, scalar ops`, wengert: { valueAndGrad: mVg, forward: mF, memory: p.memory() }, peers: { cpp: mC }, check: c,
      perOp: {
        n, fwdOps, totalOps, nsPerOp: (mVg.median / totalOps) * 1e9, compileSec: tCompile, compileUsPerOp: (tCompile / totalOps) * 1e6,
        split: { traceSec: tTrace, gradientSec: tGradient, serializeSec: tSerialize, nativeCompileSec: tNative, graphBytes: bytes.length },
      },
      notes: [
        `n = ${n}${n === 1_000_000 ? '' : ' (BENCH.md: 10⁶; reference value checked against the C++ at this n)'}; ${fwdOps} forward ops, ${totalOps} ops with the gradient`,
        `per op of the value+grad program: ${((mVg.median / totalOps) * 1e9).toFixed(2)} ns; per forward op: ${((mVg.median / fwdOps) * 1e9).toFixed(2)} ns`,
        `tracing + gradient + native compile: ${(tCompile * 1e3).toFixed(0)} ms = ${((tCompile / totalOps) * 1e6).toFixed(2)} µs per op (${((tCompile / fwdOps) * 1e6).toFixed(2)} µs per forward op)`,
        `  per op (of ${totalOps}): tracing ${usOp(tTrace)} µs, gradient ${usOp(tGradient)} µs, serialize ${usOp(tSerialize)} µs (${(bytes.length / 1e6).toFixed(1)} MB), native compile ${usOp(tNative)} µs`,
      ],
    });
  }
  p.dispose();
}

// W4 Lotka–Volterra
const W4REF = 17154.0428834204;
if (selected('W4')) {
  const steps = 1000, dtStep = 0.01;
  const lotka = (pv) => {
    const [al, be, ga, de] = wg.split(pv, 4).map((t) => wg.reshape(t, []));
    const fx = (x, y) => wg.sub(wg.mul(al, x), wg.mul(wg.mul(be, x), y));
    const fy = (x, y) => wg.sub(wg.mul(wg.mul(de, x), y), wg.mul(ga, y));
    let x = wg.constant(1), y = wg.constant(1), loss = null;
    for (let s = 0; s < steps; s++) {
      const k1x = fx(x, y), k1y = fy(x, y);
      const x2 = wg.add(x, wg.mul(k1x, dtStep / 2)), y2 = wg.add(y, wg.mul(k1y, dtStep / 2));
      const k2x = fx(x2, y2), k2y = fy(x2, y2);
      const x3 = wg.add(x, wg.mul(k2x, dtStep / 2)), y3 = wg.add(y, wg.mul(k2y, dtStep / 2));
      const k3x = fx(x3, y3), k3y = fy(x3, y3);
      const x4 = wg.add(x, wg.mul(k3x, dtStep)), y4 = wg.add(y, wg.mul(k3y, dtStep));
      const k4x = fx(x4, y4), k4y = fy(x4, y4);
      x = wg.add(x, wg.mul(wg.add(wg.add(k1x, wg.mul(k2x, 2)), wg.add(wg.mul(k3x, 2), k4x)), dtStep / 6));
      y = wg.add(y, wg.mul(wg.add(wg.add(k1y, wg.mul(k2y, 2)), wg.add(wg.mul(k3y, 2), k4y)), dtStep / 6));
      const term = wg.add(wg.square(x), wg.square(y));
      loss = loss === null ? term : wg.add(loss, term);
    }
    return loss;
  };
  const t0 = now();
  const p = wg.compile(lotka, { args: [wg.f64([4])] });
  const tCompile = now() - t0;
  const totalOps = p['graph'].nodes.length, fwdOps = p['output'].id + 1;
  const params = new Float64Array([1.5, 1, 3, 1]);
  const g = new Float64Array(4), gj = new Float64Array(4);
  const cv = ref.w4(params, steps, dtStep, g);
  const refGrads = [Float64Array.from(g)];
  check('W4', 'hand-written C++', cv, W4REF, 1e-12, [], [], 0);
  check('W4', 'hand-written JS', hand.w4(params, steps, dtStep, gj), W4REF, 1e-12, [gj], refGrads, 1e-10);
  const vg = p.valueAndGrad(params);
  const c = check('W4', 'wengert', vg.value, W4REF, 1e-12, vg.grads, refGrads, 1e-10);
  if (c.ok) {
    const [mVg, mF, mC, mJ] = measure([{ fn: () => p.valueAndGrad(params) }, { fn: () => p.run(params) }, { fn: () => ref.w4(params, steps, dtStep, g) }, { fn: () => hand.w4(params, steps, dtStep, gj) }]);
    const peers = { cpp: mC, js: mJ, ...(await tfPeers('W4', tfMake('W4', {}), W4REF, refGrads, { budget: 6, gradTol: 2e-3 })) };
    report({
      workload: 'W4', title: `Lotka–Volterra RK4, ${steps} steps, gradient w.r.t. 4 parameters`, wengert: { valueAndGrad: mVg, forward: mF, memory: p.memory() }, peers, check: c,
      perOp: { fwdOps, totalOps, nsPerOp: (mVg.median / totalOps) * 1e9, compileSec: tCompile },
      notes: [`${fwdOps} forward ops, ${totalOps} with the gradient; ${((mVg.median / totalOps) * 1e9).toFixed(1)} ns per op; trace+compile ${(tCompile * 1e3).toFixed(0)} ms`,
        'hand-written C++/JS carry the 4 parameter tangents forward by hand (forward mode), exact to rounding'],
    });
  }
  p.dispose();
}

// W5 batch curve fitting
if (selected('W5')) await w5();

/**
 * W5: 1000 fits of y = a·exp(−b·t) + c, 50 points on [0, 5], seeded true parameters (a in [1, 5],
 * b in [0.2, 2], c in [−1, 1]), noise uniform in ±0.01, every fit from (1, 1, 0) with default
 * settings. Before timing, every fit is checked in plain JS with the analytic Jacobian: stationary
 * (the Gauss–Newton step from the result is below 1e-6 of each parameter) and no worse than the
 * true parameters (a least-squares optimum cannot cost more than any other point).
 */
async function w5() {
  const FITS = 1000, M = 50;
  const t = Float64Array.from({ length: M }, (_, j) => (5 * j) / (M - 1));
  const truth = [], problems = [];
  for (let k = 0; k < FITS; k++) {
    const a = 1 + 4 * data.u(3 * k, 7), b = 0.2 + 1.8 * data.u(3 * k + 1, 7), c = -1 + 2 * data.u(3 * k + 2, 7);
    const y = t.map((tj, j) => a * Math.exp(-b * tj) + c + 0.01 * (2 * data.u(k * M + j, 8) - 1));
    truth.push([a, b, c]);
    problems.push({ x0: [1, 1, 0], data: [t, y] });
  }
  const model = (p, tt, y) => {
    const [a, b, c] = wg.split(p, 3).map((v) => wg.reshape(v, []));
    return wg.sub(wg.add(wg.mul(a, wg.exp(wg.mul(wg.neg(b), tt))), c), y);
  };
  const cost = (x, y) => { let s = 0; for (let j = 0; j < M; j++) s += (x[0] * Math.exp(-x[1] * t[j]) + x[2] - y[j]) ** 2; return s; };
  const fit = () => wg.fitMany(model, problems);
  const run = fit();
  let atOptimum = 0, worst = 0;
  for (let k = 0; k < FITS; k++) {
    const x = run.results[k].x, y = problems[k].data[1];
    // JᵀJ and Jᵀr at x, then the Gauss–Newton step δ = −(JᵀJ)⁻¹Jᵀr by Cramer's rule.
    const A = [[0, 0, 0], [0, 0, 0], [0, 0, 0]], g = [0, 0, 0];
    for (let j = 0; j < M; j++) {
      const e = Math.exp(-x[1] * t[j]), r = x[0] * e + x[2] - y[j], J = [e, -x[0] * t[j] * e, 1];
      for (let u = 0; u < 3; u++) { g[u] += J[u] * r; for (let v = 0; v < 3; v++) A[u][v] += J[u] * J[v]; }
    }
    const det = (m) => m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    const D = det(A);
    let step = 0;
    for (let u = 0; u < 3; u++) {
      const Au = A.map((row, i) => row.map((v, j) => (j === u ? -g[i] : v)));
      step = Math.max(step, Math.abs(det(Au) / D) / (Math.abs(x[u]) + 1e-3));
    }
    worst = Math.max(worst, step);
    if (step <= 1e-6 && cost(x, y) <= cost(truth[k], y) * (1 + 1e-12)) atOptimum++;
  }
  const ok = atOptimum === FITS;
  if (!ok) {
    const msg = `W5 wengert: WRONG ANSWER: ${atOptimum}/${FITS} fits at the least-squares optimum (largest relative Gauss–Newton step ${worst.toExponential(2)})`;
    failures.push(msg);
    console.log(`  FAIL ${msg}`);
    return;
  }
  const [mFit] = measure([{ fn: fit, budget: 6 }]);
  const tot = run.totals;
  const r = {
    workload: 'W5', title: `${FITS} curve fits y = a·exp(−b·t) + c, ${M} points each (wg.fitMany, default settings)`,
    wengert: { fitMany: mFit }, peers: {}, check: { ok, atOptimum, fits: FITS, largestStep: worst },
    notes: [`${atOptimum}/${FITS} fits at the optimum (largest relative Gauss–Newton step left ${worst.toExponential(1)}); ${tot.iterations} iterations, ${tot.evaluations} evaluations in all; statuses ${JSON.stringify(tot.byStatus)}`,
      'the time includes tracing and compiling the model once; BENCH.md references: scipy least_squares 170 ms, ml-levenberg-marquardt 1.2–4.3 s, hand-written JS LM 20–27 ms'],
  };
  results.push(r);
  console.log(`W5 ${r.title}`);
  console.log(`  ${'wengert fitMany'.padEnd(24)} ${fmtRange(mFit)}   ${((mFit.median / FITS) * 1e6).toFixed(1)} µs per fit`);
  for (const n of r.notes) console.log(`  note: ${n}`);
}

// W6 tiny calls
const W6REF = 10.278091606336;
if (selected('W6')) {
  const x = data.w6Point();
  const p = wg.compile((xv) => wg.sum(wg.add(wg.mul(wg.sin(xv), xv), wg.exp(wg.neg(wg.square(xv))))), { args: [wg.f64([10])] });
  const g = new Float64Array(10), gj = new Float64Array(10);
  const cv = ref.w6(x, g);
  const refGrads = [Float64Array.from(g)];
  check('W6', 'hand-written C++', cv, W6REF, 1e-12, [], [], 0);
  check('W6', 'hand-written JS', hand.w6(x, gj), W6REF, 1e-12, [gj], refGrads, 1e-14);
  const vg = p.valueAndGrad(x);
  const c = check('W6', 'wengert', vg.value, W6REF, 1e-12, vg.grads, refGrads, 1e-14);
  if (c.ok) {
    const CALLS = 100_000;
    const gOut = new Float64Array(10);
    // The engine's call alone, arrays as arguments (wengert's internal API): what the TypeScript
    // wrapper adds is the difference.
    const engine = internal.nativeBinding().compile(internal.serializeProgram(p, 'valueAndGrad'), 1 << 20);
    const ev = new Float64Array(1), eg = new Float64Array(10);
    const [mVg, mF, mC, mJ, mOut, mEngine] = measure([
      { fn: () => p.valueAndGrad(x), reps: CALLS, budget: 8 },
      { fn: () => p.run(x), reps: CALLS, budget: 8 },
      { fn: () => ref.w6(x, g), reps: CALLS, budget: 8 },
      { fn: () => hand.w6(x, gj), reps: CALLS, budget: 8 },
      { fn: () => p.valueAndGrad(x, { out: [gOut] }), reps: CALLS, budget: 8 },
      { fn: () => engine.run(x, ev, eg), reps: CALLS, budget: 8 },
    ]);
    engine.dispose();
    if (ev[0] !== vg.value) failures.push(`W6 engine call: value ${ev[0]}, valueAndGrad ${vg.value}`);
    const peers = { cpp: mC, js: mJ, ...(await tfPeers('W6', tfMake('W6', { x }), W6REF, refGrads, { reps: 2000, budget: 4 })) };
    report({
      workload: 'W6', title: 'tiny calls, x of length 10, synchronous value+grad', wengert: { valueAndGrad: mVg, forward: mF, memory: p.memory() }, peers, check: c,
      outOption: mOut, engineCall: mEngine,
      notes: [`${CALLS} calls per sample (TF.js: 2000); wengert ${(mVg.median * 1e6).toFixed(3)} µs per call`,
        `with { out: [grad] } (gradient into the caller's array): ${fmtRange(mOut)}, ${(mOut.median * 1e6).toFixed(3)} µs per call`,
        `the engine's call alone (NativeProgram.run(x, value, grad)): ${fmtRange(mEngine)}; the TypeScript wrapper adds ${((mOut.median - mEngine.median) * 1e6).toFixed(3)} µs with { out }, ${((mVg.median - mEngine.median) * 1e6).toFixed(3)} µs with new gradient arrays (bench/callpath.mjs breaks the call down further)`],
    });
  }
  p.dispose();
}

// ---- JSON ----
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const outDir = join(here, 'results');
mkdirSync(outDir, { recursive: true });
const file = join(outDir, `${stamp}.json`);
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, cpu: cpuModel, cores: cpus().length, threads, engineThreads, dtype: dtypeOpt, tfjs: tfInfo ? { version: tfInfo.version, backends: tfInfo.backends } : null, failures, peerFailures, results }, null, 2));
console.log(`\nresults: ${file}`);

if (failures.length) {
  console.log(`\n${failures.length} wrong answer(s):`);
  for (const f of failures) console.log(`  ${f}`);
}

if (peerFailures.length) {
  console.log(`\n${peerFailures.length} peer answer(s) outside the float32 tolerance (not timed; exit status unaffected):`);
  for (const f of peerFailures) console.log(`  ${f}`);
}

let transformsFailed = false;
if (!only && !argv.includes('--no-transforms')) {
  console.log('');
  const r = spawnSync(process.execPath, [join(here, 'transforms.mjs')], { stdio: 'inherit' });
  transformsFailed = r.status !== 0;
}
process.exit(failures.length || transformsFailed ? 1 : 0);
