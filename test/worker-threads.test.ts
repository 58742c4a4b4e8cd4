// The engine in worker threads: the addon loads in several environments at once, a program
// compiled there gives the main thread's bits, and tearing a worker down while a run is in
// flight leaves the process alive. (In their own file: a native crash here takes down only this
// file's test process.)
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as wg from '../ts/index.js';
import { nativeBinding, serializeProgram } from '../ts/internal.js';
import { sameBits } from './helpers/compare.js';
import { Rng } from './helpers/rng.js';

type T = wg.Tensor;

// The worker loads the addon the way the package does (node-gyp-build from the package root),
// compiles the bytes it is given, runs them and posts the outputs back. Mode 'async' posts
// 'started' once its run is queued; 'many' queues four runs, one of them with an AbortSignal.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const binding = require(workerData.loader)(workerData.root);
const program = binding.compile(workerData.bytes, 2 ** 30);
const outputs = workerData.outputSizes.map((n) => new Float64Array(n));
if (workerData.mode === 'sync') {
  program.run(workerData.inputs, outputs);
  parentPort.postMessage({ outputs });
} else if (workerData.mode === 'async') {
  program.runAsync(workerData.inputs, outputs).then(() => parentPort.postMessage({ outputs }));
  parentPort.postMessage('started');
} else {
  const ac = new AbortController();
  for (let k = 0; k < 4; k++) {
    const outs = workerData.outputSizes.map((n) => new Float64Array(n));
    program.runAsync(workerData.inputs, outs, k === 3 ? { signal: ac.signal } : undefined).catch(() => {});
  }
  parentPort.postMessage('started');
}
`;

const require_ = createRequire(import.meta.url);
const d = 192;
const layers = 6;
let program: wg.Program;
let bytes: Uint8Array;
let W: Float64Array;
let X: Float64Array;

beforeAll(() => {
  program = wg.compile(
    (w, x) => {
      let h: T = x!;
      for (let l = 0; l < layers; l++) h = wg.tanh(wg.matmul(h, w!));
      return wg.mean(wg.square(h));
    },
    { args: [wg.f64([d, d]), wg.f64([d, d])] },
  );
  bytes = serializeProgram(program, 'valueAndGrad');
  const rng = new Rng(31);
  W = rng.array(d * d, { lo: -0.15, hi: 0.15 });
  X = rng.array(d * d);
});
afterAll(() => program.dispose());

function startWorker(mode: 'sync' | 'async' | 'many'): Worker {
  return new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      loader: require_.resolve('node-gyp-build'),
      root: new URL('..', import.meta.url).pathname,
      bytes,
      inputs: [W, X],
      outputSizes: [1, d * d],
      mode,
    },
  });
}

function nextMessage(w: Worker, accept: (m: unknown) => boolean): Promise<unknown> {
  return new Promise((resolve, reject) => {
    w.on('message', (m) => {
      if (accept(m)) resolve(m);
    });
    w.on('error', reject);
  });
}

describe('worker threads', () => {
  it('three workers at once compute the main thread’s bits', async () => {
    const expected = program.valueAndGrad(W, X);
    const workers = [0, 1, 2].map(() => startWorker('sync'));
    try {
      const results = await Promise.all(workers.map((w) => nextMessage(w, (m) => typeof m === 'object')));
      for (const r of results) {
        const { outputs } = r as { outputs: Float64Array[] };
        expect(sameBits(outputs[0]![0]!, expected.value)).toBe(true);
        expect(sameBits(outputs[1]!, expected.grads[0]!)).toBe(true);
      }
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  });

  it('eight workers at once and the main thread compute the same bits', async () => {
    const expected = program.valueAndGrad(W, X);
    const workers = Array.from({ length: 8 }, (_, k) => startWorker(k % 2 === 0 ? 'sync' : 'async'));
    try {
      const main = Promise.all([0, 1, 2].map(() => program.valueAndGradAsync(W, X)));
      const results = await Promise.all(workers.map((w) => nextMessage(w, (m) => typeof m === 'object')));
      for (const r of results) {
        const { outputs } = r as { outputs: Float64Array[] };
        expect(sameBits(outputs[0]![0]!, expected.value)).toBe(true);
        expect(sameBits(outputs[1]!, expected.grads[0]!)).toBe(true);
      }
      for (const r of await main) expect(sameBits(r.grads[0]!, expected.grads[0]!)).toBe(true);
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  });

  it('50 worker exits, most with async runs in flight, leave no program behind', async () => {
    const binding = nativeBinding();
    const before = binding.livePrograms();
    const modes = ['many', 'async', 'sync', 'many', 'async'] as const;
    for (let batch = 0; batch < 10; batch++) {
      const workers = modes.map((m) => ({ mode: m, w: startWorker(m) }));
      await Promise.all(workers.map(({ mode, w }) => nextMessage(w, (m) => (mode === 'sync' ? typeof m === 'object' : m === 'started'))));
      await Promise.all(workers.map(({ w }) => w.terminate()));
    }
    // Runs cut off by an exit finish on the engine's threads and then let go of their programs.
    for (let i = 0; i < 200 && binding.livePrograms() > before; i++) await new Promise((r) => setTimeout(r, 50));
    expect(binding.livePrograms()).toBe(before);
    expect(program.valueAndGrad(W, X).value).toBe(program.valueAndGrad(W, X).value);
  });

  it('terminating a worker while its async run is in flight leaves the process running', async () => {
    for (let k = 0; k < 3; k++) {
      const w = startWorker('async');
      await nextMessage(w, (m) => m === 'started');
      await w.terminate();
    }
    // Let any completion scheduled for the dead environments fire.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // Still here, and the engine still works on the main thread.
    const again = program.valueAndGrad(W, X);
    expect(Number.isFinite(again.value)).toBe(true);
  });
});
