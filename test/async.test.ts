// valueAndGradAsync: the same bits as the synchronous call, computed off the JavaScript thread
// (the event loop keeps turning meanwhile), and deterministic across runs, programs and
// concurrent calls.
import { describe, expect, it } from 'vitest';
import * as wg from '../ts/index.js';
import { trackPrograms } from './helpers/track.js';
import { sameBits } from './helpers/compare.js';
import { Rng } from './helpers/rng.js';

type T = wg.Tensor;

const track = trackPrograms();

function expectSameResult(a: wg.ValueAndGrad, b: wg.ValueAndGrad, what: string): void {
  expect(sameBits(a.value, b.value), `${what}: value ${a.value} vs ${b.value}`).toBe(true);
  expect(a.grads.length).toBe(b.grads.length);
  a.grads.forEach((g, i) => {
    expect(g.constructor).toBe(b.grads[i]!.constructor);
    expect(sameBits(g, b.grads[i]!), `${what}: gradient ${i}`).toBe(true);
  });
}

// Logistic regression with bias, float64 and float32.
function logReg(dtype: 'float64' | 'float32', n: number, d: number) {
  const spec = dtype === 'float64' ? wg.f64 : wg.f32;
  const cast = (x: ArrayLike<number>): Float64Array | Float32Array => (dtype === 'float64' ? Float64Array.from(x) : Float32Array.from(x));
  const rng = new Rng(dtype === 'float64' ? 11 : 12);
  const X = cast(rng.array(n * d));
  const y = cast(Array.from({ length: n }, () => (rng.next() < 0.5 ? 1 : 0)));
  const w = cast(rng.array(d, { lo: -0.5, hi: 0.5 }));
  const p = track(
    wg.compile(
      (wt, b, Xt, yt) => {
        const z = wg.matmul(Xt!, wt!).add(b!);
        return wg.mean(wg.softplus(z).sub(yt!.mul(z)));
      },
      { args: [spec([d]), spec([]), spec([n, d]), spec([n])], wrt: [0, 1] },
    ),
  );
  return { p, inputs: [w, 0.125, X, y] as const };
}

describe('valueAndGradAsync gives the same bits as valueAndGrad', () => {
  for (const dtype of ['float64', 'float32'] as const) {
    it(`logistic regression, ${dtype}`, async () => {
      const { p, inputs } = logReg(dtype, 3000, 17);
      const sync = p.valueAndGrad(...inputs);
      const async = await p.valueAndGradAsync(...inputs);
      expectSameResult(async, sync, `${dtype} async vs sync`);
      expect(sync.grads[0]).toBeInstanceOf(dtype === 'float64' ? Float64Array : Float32Array);
    });
  }

  it('scalar-heavy program (a loop of 2000 scalar ops)', async () => {
    const p = track(
      wg.compile(
        (a, b) => {
          let x: T = a!;
          for (let i = 0; i < 500; i++) x = wg.sin(x.mul(b!)).add(x.mul(0.5));
          return x;
        },
        { args: [wg.f64([]), wg.f64([])], wrt: [0, 1] },
      ),
    );
    expectSameResult(await p.valueAndGradAsync(0.3, 1.1), p.valueAndGrad(0.3, 1.1), 'scalar loop');
  });
});

describe('lifecycle', () => {
  it('dispose() while an async run is in flight: the run settles (value or coded error), nothing crashes', async () => {
    const { p, inputs } = logReg('float64', 20000, 50);
    const expected = p.valueAndGrad(...inputs);
    const pending = p.valueAndGradAsync(...inputs);
    p.dispose();
    try {
      expectSameResult(await pending, expected, 'run that outlived dispose()');
    } catch (err) {
      expect(String((err as { code?: unknown }).code)).toMatch(/^WENGERT_/);
    }
    // The disposed program refuses new work with a coded error.
    await expect(p.valueAndGradAsync(...inputs)).rejects.toHaveProperty('code', expect.stringMatching(/^WENGERT_/));
  });
});

describe('determinism', () => {
  it('two runs, two compilations and concurrent async runs give identical bits', async () => {
    const a = logReg('float64', 5000, 33);
    const b = logReg('float64', 5000, 33); // the same function compiled again, same data
    const first = a.p.valueAndGrad(...a.inputs);
    expectSameResult(a.p.valueAndGrad(...a.inputs), first, 'second run');
    expectSameResult(b.p.valueAndGrad(...b.inputs), first, 'second compilation');
    // Several runs of one program in flight at once, interleaved with a synchronous one.
    const pending = [0, 1, 2, 3].map(() => a.p.valueAndGradAsync(...a.inputs));
    expectSameResult(a.p.valueAndGrad(...a.inputs), first, 'sync while async runs are in flight');
    for (const r of await Promise.all(pending)) expectSameResult(r, first, 'concurrent async run');
  });
});

describe('the event loop keeps running during an async gradient', () => {
  // A deep tanh network, h ← tanh(h·W) repeated `layers` times, loss = mean(h²), differentiated
  // with respect to W. Its depth is calibrated on this machine so that one gradient takes at
  // least 300 ms whatever the engine's speed.
  // Wide layers: the work per layer (6·n·d² flops) grows faster than its kept activation (8·n·d
  // bytes), so the calibrated depth stays small.
  const n = 128;
  const d = 512;
  const rng = new Rng(99);
  const X = rng.array(n * d, { lo: -1, hi: 1 });
  // Gain about 1.15 per layer, so activations neither vanish (denormals) nor all saturate.
  const W = rng.array(d * d, { lo: -2 / Math.sqrt(d), hi: 2 / Math.sqrt(d) });
  const deep = (layers: number): wg.Program =>
    track(
      wg.compile(
        (w, x) => {
          let h: T = x!;
          for (let l = 0; l < layers; l++) h = wg.tanh(wg.matmul(h, w!));
          return wg.mean(wg.square(h));
        },
        { args: [wg.f64([d, d]), wg.f64([n, d])] },
      ),
    );
  const timeSync = (p: wg.Program): number => {
    const t0 = performance.now();
    p.valueAndGrad(W, X);
    return performance.now() - t0;
  };

  it('a ≥ 300 ms gradient lets a 1 ms interval fire many times, and returns the synchronous bits', async () => {
    let layers = 4;
    let p = deep(layers);
    let ms = timeSync(p);
    for (let attempt = 0; attempt < 6 && ms < 400; attempt++) {
      layers = Math.min(1000, Math.ceil((layers * 500) / Math.max(ms, 1)));
      p = deep(layers);
      ms = timeSync(p);
    }
    const sync = p.valueAndGrad(W, X);

    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const t0 = performance.now();
    const result = await p.valueAndGradAsync(W, X);
    const elapsed = performance.now() - t0;
    clearInterval(timer);

    expect(elapsed, `${layers} layers`).toBeGreaterThanOrEqual(300);
    // Node's timers fire about once per millisecond when the loop is free; a blocked loop would
    // fire once at the end. One tick per 10 ms allows for a loaded machine (other test files run
    // in parallel) and is still 30 times what a blocking call could produce.
    expect(ticks, `${ticks} ticks in ${elapsed.toFixed(0)} ms`).toBeGreaterThanOrEqual(Math.max(30, elapsed / 10));
    expectSameResult(result, sync, 'deep network async vs sync');
  });

  it('memory() reports an arena that holds what the reverse sweep keeps', () => {
    const layers = 10;
    const p = deep(layers);
    const { arenaBytes } = p.memory();
    expect(Number.isSafeInteger(arenaBytes)).toBe(true);
    // tanh's derivative reads its output, so every layer's [n, d] float64 activation is live
    // until the reverse sweep reaches it.
    expect(arenaBytes).toBeGreaterThanOrEqual(layers * n * d * 8);
    p.valueAndGrad(W, X);
    expect(p.memory().arenaBytes).toBe(arenaBytes);
  });
});
