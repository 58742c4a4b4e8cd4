// The service-grade runtime: asynchronous calls on the engine's own threads with AbortSignal,
// many concurrent callers of one program, input snapshots, configure(), dispose and garbage
// collection of compiled programs.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { getEventListeners, setMaxListeners } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import * as wg from '../ts/index.js';
import { nativeBinding, serializeProgram } from '../ts/internal.js';
import { trackPrograms } from './helpers/track.js';
import { sameBits } from './helpers/compare.js';
import { Rng } from './helpers/rng.js';

type T = wg.Tensor;

const track = trackPrograms();
const initial = wg.configure();
afterAll(() => wg.configure({ threads: initial.threads, maxArenaBytes: initial.maxArenaBytes }));

function expectSame(a: wg.ValueAndGrad, b: wg.ValueAndGrad, what: string): void {
  expect(sameBits(a.value, b.value), `${what}: value ${a.value} vs ${b.value}`).toBe(true);
  expect(a.grads.length).toBe(b.grads.length);
  a.grads.forEach((g, i) => expect(sameBits(g, b.grads[i]!), `${what}: gradient ${i}`).toBe(true));
}

// Least squares with a nonlinearity: small, so many calls are cheap.
function smallModel(n: number, d: number) {
  return track(
    wg.compile((w, X, y) => wg.mean(wg.square(wg.tanh(wg.matmul(X!, w!)).sub(y!))), {
      args: [wg.f64([d]), wg.f64([n, d]), wg.f64([n])],
      wrt: [0],
    }),
  );
}

// A deep tanh network, h ← tanh(h·W) `layers` times: the time of one gradient grows with depth.
const deepN = 96;
const deepD = 256;
const deepRng = new Rng(7);
const deepX = deepRng.array(deepN * deepD, { lo: -1, hi: 1 });
const deepW = deepRng.array(deepD * deepD, { lo: -2 / Math.sqrt(deepD), hi: 2 / Math.sqrt(deepD) });
function deep(layers: number): wg.Program {
  return track(
    wg.compile(
      (w, x) => {
        let h: T = x!;
        for (let l = 0; l < layers; l++) h = wg.tanh(wg.matmul(h, w!));
        return wg.mean(wg.square(h));
      },
      { args: [wg.f64([deepD, deepD]), wg.f64([deepN, deepD])] },
    ),
  );
}

// A program whose asynchronous gradient takes at least `ms` milliseconds on this machine now.
async function deepAtLeast(ms: number): Promise<{ p: wg.Program; layers: number; asyncMs: number }> {
  let layers = 4;
  let p = deep(layers);
  const time = async (): Promise<number> => {
    const t0 = performance.now();
    await p.valueAndGradAsync(deepW, deepX);
    return performance.now() - t0;
  };
  let t = await time();
  for (let attempt = 0; attempt < 6 && t < ms; attempt++) {
    layers = Math.min(2000, Math.ceil((layers * ms * 1.3) / Math.max(t, 1)));
    p.dispose();
    p = deep(layers);
    t = await time();
  }
  return { p, layers, asyncMs: t };
}

/** The gaps between the ticks of a 1 ms interval while `during` runs. */
async function intervalGaps(during: () => Promise<unknown>): Promise<{ gaps: number[]; elapsed: number }> {
  const gaps: number[] = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    gaps.push(now - last);
    last = now;
  }, 1);
  const t0 = performance.now();
  last = t0;
  await during();
  const elapsed = performance.now() - t0;
  clearInterval(timer);
  return { gaps, elapsed };
}

// Measured alone (scripts/ts-tests.mjs runs it in a vitest run of its own, with
// WENGERT_LATENCY_TEST=1): other test files running meanwhile would compete for the same cores.
describe.runIf(process.env['WENGERT_LATENCY_TEST'] === '1')('the event loop stays responsive', () => {
  it('a 1 ms interval never waits 5 ms while a ≥ 1 s gradient runs on the engine threads', async () => {
    // Leave one core to the event loop (a service would do the same on a small machine).
    const cores = (await import('node:os')).availableParallelism();
    wg.configure({ threads: Math.max(1, cores - 1) });
    const { p, layers } = await deepAtLeast(1300);
    const sync = p.valueAndGrad(deepW, deepX);

    // This VM wakes a sleeping thread late now and then (a C program sleeping 1 ms sees up to
    // ~20 ms gaps: docs/RELIABILITY.md), whatever runs. So the measurement is repeated, up to
    // three times, and judged on the first window that meets the bound; a loop the engine blocked
    // would miss it in every window.
    let result: wg.ValueAndGrad | undefined;
    let judged = { ok: false, maxGap: 0, idleMax: 0, ticks: 0, elapsed: 0, runs: 0 };
    for (let attempt = 1; attempt <= 3 && !judged.ok; attempt++) {
      // The machine's own latency (other processes compete for the cores): the same interval, idle.
      const idle = await intervalGaps(() => new Promise((r) => setTimeout(r, 1000)));
      // One calibrated gradient, repeated back to back if this loaded machine ran it faster than
      // calibrated, so that the window spans at least a second of engine work.
      let runs = 0;
      const busy = await intervalGaps(async () => {
        const t0 = performance.now();
        do {
          const r = await p.valueAndGradAsync(deepW, deepX);
          result ??= r;
          runs++;
        } while (performance.now() - t0 < 1000);
      });
      const idleMax = Math.max(...idle.gaps);
      const maxGap = Math.max(...busy.gaps);
      // A quiet machine: the requirement itself; a loaded one delays even an idle loop, and the
      // gradient must not add to that much.
      const bound = idleMax < 2.5 ? 5 : 5 + 2 * idleMax;
      console.log(
        `event loop, window ${attempt}: ${busy.gaps.length} ticks in ${busy.elapsed.toFixed(0)} ms of gradient (${layers} layers, ${runs} run${runs === 1 ? '' : 's'}), max gap ${maxGap.toFixed(2)} ms; ` +
          `idle: ${idle.gaps.length} ticks in ${idle.elapsed.toFixed(0)} ms, max gap ${idleMax.toFixed(2)} ms; bound ${bound.toFixed(2)} ms`,
      );
      judged = { ok: maxGap < bound && busy.elapsed >= 1000 && busy.gaps.length > busy.elapsed / 10, maxGap, idleMax, ticks: busy.gaps.length, elapsed: busy.elapsed, runs };
    }
    wg.configure({ threads: initial.threads });

    expect(judged.elapsed, `${layers} layers`).toBeGreaterThanOrEqual(1000);
    // A blocked loop would tick once; a free one about once per millisecond.
    expect(judged.ticks).toBeGreaterThan(judged.elapsed / 10);
    expect(judged.maxGap).toBeLessThan(judged.idleMax < 2.5 ? 5 : 5 + 2 * judged.idleMax);
    expectSame(result!, sync, 'deep network async vs sync');
  });
});

describe('concurrency', () => {
  it('100 concurrent valueAndGradAsync calls on one program, different inputs: each gets its own answer', async () => {
    const n = 64;
    const d = 8;
    const p = smallModel(n, d);
    const rng = new Rng(3);
    const X = rng.array(n * d);
    const y = rng.array(n);
    const ws = Array.from({ length: 100 }, () => rng.array(d, { lo: -1, hi: 1 }));
    const expected = ws.map((w) => p.valueAndGrad(w, X, y));
    const results = await Promise.all(ws.map((w) => p.valueAndGradAsync(w, X, y)));
    results.forEach((r, k) => expectSame(r, expected[k]!, `call ${k}`));
    // Different inputs really gave different answers.
    expect(new Set(results.map((r) => r.value)).size).toBe(100);
  });

  it('concurrent calls of every async method agree with their synchronous forms', async () => {
    const p = track(wg.compile((x) => wg.sum(wg.mul(x, wg.sin(x))), { args: [wg.f64([3])] }));
    const x = new Float64Array([0.1, 0.7, -1.3]);
    const v = new Float64Array([1, -2, 0.5]);
    const [r, g, j, vj, h, jac, hess] = await Promise.all([
      p.runAsync(x),
      p.valueAndGradAsync(x),
      p.jvpAsync([x], [v]),
      p.vjpAsync([x], 2),
      p.hvpAsync([x], [v]),
      p.jacobianAsync(x, { mode: 'reverse' }),
      p.hessianAsync(x),
    ]);
    expect(r).toBe(p.run(x));
    expectSame(g, p.valueAndGrad(x), 'valueAndGradAsync');
    expect(j).toEqual(p.jvp([x], [v]));
    expect(vj).toEqual(p.vjp([x], 2));
    expect(h).toEqual(p.hvp([x], [v]));
    expect(jac).toEqual(p.jacobian(x, { mode: 'reverse' }));
    expect(hess).toEqual(p.hessian(x));
  });

  it('inputs are copied when the call is made: changing them at once does not change the answer', async () => {
    const p = smallModel(32, 4);
    const rng = new Rng(5);
    const w = rng.array(4);
    const X = rng.array(128);
    const y = rng.array(32);
    const expected = p.valueAndGrad(w, X, y);
    const wCopy = w.slice();
    const pending = [p.valueAndGradAsync(w, X, y), p.valueAndGradAsync(w, X, y)];
    w.fill(1e3);
    X.fill(-7);
    y.fill(NaN);
    for (const r of await Promise.all(pending)) expectSame(r, expected, 'after mutation');
    // And the call itself never changes its inputs.
    w.set(wCopy);
    const X2 = rng.array(128);
    const X2Copy = X2.slice();
    await p.valueAndGradAsync(w, X2, rng.array(32));
    expect(sameBits(X2, X2Copy)).toBe(true);
  });
});

describe('AbortSignal', () => {
  it('an already-aborted signal rejects at once with AbortError', async () => {
    const p = smallModel(8, 2);
    const ac = new AbortController();
    ac.abort();
    const err = await p.valueAndGradAsync(new Float64Array(2), new Float64Array(16), new Float64Array(8), { signal: ac.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(wg.AbortError);
    expect(err).toBeInstanceOf(wg.WengertError);
    expect(err).toHaveProperty('name', 'AbortError');
    expect(err).toHaveProperty('code', 'WENGERT_ABORTED');
  });

  it('aborting mid-run rejects quickly with AbortError, and the program stays usable', async () => {
    const { p, asyncMs: syncMs } = await deepAtLeast(400);
    const expected = p.valueAndGrad(deepW, deepX);
    const ac = new AbortController();
    const t0 = performance.now();
    const pending = p.valueAndGradAsync(deepW, deepX, { signal: ac.signal });
    await new Promise((r) => setTimeout(r, syncMs / 4));
    const tAbort = performance.now();
    ac.abort();
    const err = await pending.catch((e: unknown) => e);
    const tDone = performance.now();
    console.log(`abort: run of ~${syncMs.toFixed(0)} ms aborted after ${(tAbort - t0).toFixed(0)} ms, rejected ${(tDone - tAbort).toFixed(1)} ms later`);
    expect(err).toBeInstanceOf(wg.AbortError);
    // The run stops at the next step, long before it would have finished.
    expect(tDone - tAbort).toBeLessThan(syncMs / 2);
    expectSame(await p.valueAndGradAsync(deepW, deepX), expected, 'after an abort');
    expectSame(p.valueAndGrad(deepW, deepX), expected, 'sync after an abort');
  });

  it('a call still queued behind others is dropped at once when aborted', async () => {
    wg.configure({ threads: 1 });
    try {
      const { p } = await deepAtLeast(200);
      const first = p.valueAndGradAsync(deepW, deepX);
      const ac = new AbortController();
      const queued = p.valueAndGradAsync(deepW, deepX, { signal: ac.signal });
      ac.abort();
      const t0 = performance.now();
      const err = await queued.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(wg.AbortError);
      expect(performance.now() - t0).toBeLessThan(100);
      await first;
    } finally {
      wg.configure({ threads: initial.threads });
    }
  });

  it('a signal shared by many calls keeps no listener once they settle', async () => {
    const p = smallModel(8, 2);
    const ac = new AbortController();
    setMaxListeners(100, ac.signal); // 50 calls listen at once
    const rng = new Rng(9);
    await Promise.all(Array.from({ length: 50 }, () => p.valueAndGradAsync(rng.array(2), rng.array(16), rng.array(8), { signal: ac.signal })));
    expect(getEventListeners(ac.signal, 'abort').length).toBe(0);
  });

  it('many aborted runs do not leak their memory', async () => {
    // Each run holds its arena (several 640 kB values) plus a 640 kB input snapshot and 640 kB of
    // outputs, a few MB: 400 leaked runs would be well over 1 GB. The allowance covers the allocator's high-water mark, which moves
    // with how many of the 20 calls in a round overlap.
    const p = track(
      wg.compile((x) => wg.sum(wg.tanh(wg.exp(wg.sin(x)).mul(x))), { args: [wg.f64([80_000])] }),
    );
    const x = new Rng(1).array(80_000);
    const round = async (): Promise<void> => {
      const calls = Array.from({ length: 20 }, () => {
        const ac = new AbortController();
        const pr = p.valueAndGradAsync(x, { signal: ac.signal });
        setImmediate(() => ac.abort());
        return pr.then(
          () => 'done',
          (e: unknown) => {
            expect(e).toBeInstanceOf(wg.AbortError);
            return 'aborted';
          },
        );
      });
      await Promise.all(calls);
    };
    for (let i = 0; i < 3; i++) await round(); // warm-up
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 20; i++) await round();
    const grown = (process.memoryUsage().rss - before) / 2 ** 20;
    console.log(`400 aborted runs: RSS grew ${grown.toFixed(1)} MiB`);
    expect(grown).toBeLessThan(300);
  });

  it('rejects a signal that is not an AbortSignal', async () => {
    const p = smallModel(8, 2);
    const err = await p
      .valueAndGradAsync(new Float64Array(2), new Float64Array(16), new Float64Array(8), { signal: 'stop' as unknown as AbortSignal })
      .catch((e: unknown) => e);
    expect(err).toHaveProperty('code', 'WENGERT_INVALID_ARGUMENT');
  });
});

describe('progress reports of native jobs', () => {
  it('arrive in order, coalesced, the last one before the promise settles', async () => {
    const seen: number[] = [];
    const events: string[] = [];
    const steps = 3000;
    const result = await nativeBinding()
      .testProgressJob(steps, 20, {
        onProgress: ({ done, total }) => {
          expect(total).toBe(steps);
          seen.push(done);
        },
      })
      .then((v) => {
        events.push('settled');
        return v;
      });
    expect(result).toBe(steps);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.length).toBeLessThanOrEqual(steps);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThanOrEqual(seen[i - 1]!);
    expect(seen[seen.length - 1]).toBe(steps);
    console.log(`progress: ${seen.length} deliveries for ${steps} reports`);
  });

  it('an abort stops a reporting job; a throwing onProgress rejects with what it threw', async () => {
    const ac = new AbortController();
    let calls = 0;
    const aborted = nativeBinding().testProgressJob(100_000, 50, {
      signal: ac.signal,
      onProgress: () => {
        if (++calls === 3) ac.abort();
      },
    });
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError', code: 'WENGERT_ABORTED' });
    const boom = new Error('boom');
    await expect(
      nativeBinding().testProgressJob(100_000, 50, {
        onProgress: () => {
          throw boom;
        },
      }),
    ).rejects.toBe(boom);
  });
});

describe('configure', () => {
  it('validates before changing anything', () => {
    const before = wg.configure();
    for (const bad of [0, -1, 1.5, 257, NaN, '2' as unknown as number]) {
      expect(() => wg.configure({ threads: bad }), String(bad)).toThrow(expect.objectContaining({ code: 'WENGERT_INVALID_ARGUMENT' }) as Error);
    }
    for (const bad of [0, -5, 1.5, Infinity, 2 ** 60]) {
      expect(() => wg.configure({ maxArenaBytes: bad }), String(bad)).toThrow(expect.objectContaining({ code: 'WENGERT_INVALID_ARGUMENT' }) as Error);
    }
    expect(() => wg.configure({ threads: 2, maxArenaBytes: -1 })).toThrow();
    expect(() => wg.configure({ thread: 2 } as unknown as wg.ConfigureOptions)).toThrow(/unknown option/);
    expect(wg.configure()).toEqual(before);
  });

  it('sets the thread count; results are bit-identical for any count', async () => {
    const { p } = { p: deep(3) };
    const results: wg.ValueAndGrad[] = [];
    for (const threads of [1, 2, 5]) {
      expect(wg.configure({ threads }).threads).toBe(threads);
      results.push(p.valueAndGrad(deepW, deepX), await p.valueAndGradAsync(deepW, deepX));
    }
    wg.configure({ threads: initial.threads });
    for (const r of results) expectSame(r, results[0]!, 'thread counts');
  });

  it('maxArenaBytes sets the default limit of compile', () => {
    const before = wg.configure();
    try {
      wg.configure({ maxArenaBytes: 4096 });
      const big = (): wg.Program => wg.compile((x) => wg.sum(wg.exp(x)), { args: [wg.f64([10_000])] });
      expect(big).toThrow(expect.objectContaining({ code: 'WENGERT_ARENA_LIMIT' }) as Error);
      // A per-call limit still overrides the default.
      track(wg.compile((x) => wg.sum(wg.exp(x)), { args: [wg.f64([10_000])], maxArenaBytes: 2 ** 24 }));
    } finally {
      wg.configure({ maxArenaBytes: before.maxArenaBytes });
    }
    track(wg.compile((x) => wg.sum(wg.exp(x)), { args: [wg.f64([10_000])] }));
  });
});

describe('program lifetime', () => {
  it('dispose() frees the compiled programs at once; later calls fail with WENGERT_DISPOSED', async () => {
    const live = (): number => nativeBinding().livePrograms();
    const before = live();
    const p = wg.compile((x) => wg.sum(wg.square(x)), { args: [wg.f64([4])] });
    p.run(new Float64Array(4)); // compiles the forward program too
    expect(live()).toBe(before + 2);
    p.dispose();
    expect(live()).toBe(before);
    expect(() => p.valueAndGrad(new Float64Array(4))).toThrow(expect.objectContaining({ code: 'WENGERT_DISPOSED' }) as Error);
    await expect(p.valueAndGradAsync(new Float64Array(4))).rejects.toHaveProperty('code', 'WENGERT_DISPOSED');
    p.dispose(); // idempotent
  });

  it('a run in flight keeps its program until it settles, even after dispose()', async () => {
    const live = (): number => nativeBinding().livePrograms();
    const before = live();
    const { p } = { p: deep(6) };
    const expected = p.valueAndGrad(deepW, deepX);
    const pending = p.valueAndGradAsync(deepW, deepX);
    p.dispose();
    expectSame(await pending, expected, 'run that outlived dispose()');
    expect(live()).toBe(before);
  });

  it('programs that become unreachable are freed by garbage collection', () => {
    const p = deep(2);
    const bytes = Buffer.from(serializeProgram(p, 'valueAndGrad')).toString('base64');
    const script = `
      const binding = require(process.env.LOADER)(process.env.ROOT);
      const bytes = new Uint8Array(Buffer.from(process.env.BYTES, 'base64'));
      const base = binding.livePrograms();
      (function make() { for (let i = 0; i < 200; i++) binding.compile(bytes, 2 ** 30); })();
      const made = binding.livePrograms() - base;
      (async () => {
        for (let i = 0; i < 20 && binding.livePrograms() > base; i++) {
          globalThis.gc();
          await new Promise((r) => setTimeout(r, 10));
        }
        console.log(JSON.stringify({ made, left: binding.livePrograms() - base }));
      })();
    `;
    const require_ = createRequire(import.meta.url);
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], {
      env: { ...process.env, LOADER: require_.resolve('node-gyp-build'), ROOT: new URL('..', import.meta.url).pathname, BYTES: bytes },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const { made, left } = JSON.parse(r.stdout.trim()) as { made: number; left: number };
    expect(made).toBeGreaterThan(0);
    expect(left).toBe(0);
  });
});
