// The test helpers are themselves tested: every other test's verdict depends on them.
import { describe, expect, it } from 'vitest';
import { crc32 as engineCrc32 } from '../ts/internal.js';
import { assertClose, maxRelErr, relErr, sameBits } from './helpers/compare.js';
import { gradFD, partialFD } from './helpers/fd.js';
import { crc32 } from './helpers/graph-bytes.js';
import * as ref from './helpers/ref.js';
import { Rng, splitmix64, splitmix64BigInt } from './helpers/rng.js';

describe('rng', () => {
  it('the 32-bit splitmix64 equals the literal BigInt transcription of BENCH.md', () => {
    for (const seed of [0, 1, 2, 3, 4, 6, 987654321]) {
      for (let i = 0; i < 2000; i++) expect(splitmix64(i, seed)).toBe(splitmix64BigInt(i, seed));
    }
    // Counters whose 64-bit product carries across the 32-bit halves.
    for (const i of [2 ** 32 - 2, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 12345, 2 ** 52]) {
      expect(splitmix64(i, 7)).toBe(splitmix64BigInt(i, 7));
    }
  });

  it('draws lie in their domain and look uniform', () => {
    const rng = new Rng(5);
    const xs = rng.array(20000, { lo: 0.25, hi: 2, signed: true });
    let negatives = 0;
    let mean = 0;
    let lo = Infinity;
    let hi = 0;
    for (const x of xs) {
      lo = Math.min(lo, Math.abs(x));
      hi = Math.max(hi, Math.abs(x));
      if (x < 0) negatives++;
      mean += Math.abs(x) / xs.length;
    }
    expect(lo).toBeGreaterThanOrEqual(0.25);
    expect(hi).toBeLessThan(2);
    // Binomial(20000, 1/2): standard deviation 71; uniform mean 1.125 with standard error 0.0036.
    expect(Math.abs(negatives - 10000)).toBeLessThan(400);
    expect(Math.abs(mean - 1.125)).toBeLessThan(0.02);
  });
});

describe('finite differences', () => {
  it('recover known derivatives to their stated accuracy', () => {
    const x = Float64Array.of(0.3, -1.7, 2.5);
    const f = (xs: Float64Array[]): number => Math.sin(xs[0]![0]!) * Math.exp(xs[0]![1]!) + xs[0]![2]! ** 3;
    const exact = [Math.cos(0.3) * Math.exp(-1.7), Math.sin(0.3) * Math.exp(-1.7), 3 * 2.5 ** 2];
    expect(maxRelErr(gradFD(f, [x])[0]!, exact)).toBeLessThan(1e-10);
    expect(maxRelErr(gradFD(f, [x], { method: 'central' })[0]!, exact)).toBeLessThan(1e-7);
    // The input is restored after perturbation.
    const probe = Float64Array.of(1.25);
    partialFD(() => Math.exp(probe[0]!), probe, 0);
    expect(probe[0]).toBe(1.25);
  });
});

describe('compare', () => {
  it('relErr, assertClose and sameBits reject what they should', () => {
    expect(relErr(1, 1 + 1e-12)).toBeLessThan(2e-12);
    expect(relErr(NaN, 1)).toBe(Infinity);
    expect(() => assertClose([1, 2], [1, 2.1], { rtol: 1e-3, atol: 0 }, 'x')).toThrow(/element 1/);
    expect(() => assertClose([NaN], [NaN], { rtol: 1, atol: 1 }, 'x')).toThrow();
    expect(() => assertClose([1, 2], [1, 2], { rtol: 0, atol: 0 }, 'x')).not.toThrow();
    expect(sameBits(Float64Array.of(0), Float64Array.of(-0))).toBe(false);
    expect(sameBits(Float64Array.of(1, 2), Float64Array.of(1, 2))).toBe(true);
  });
});

describe('plain-JS reference', () => {
  it('matmul, transpose, sum and broadcasting agree with loops written out here', () => {
    const rng = new Rng(8);
    const A = ref.arr(rng.array(12), [3, 4]);
    const B = ref.arr(rng.array(20), [4, 5]);
    const C = ref.matmul(A, B);
    expect(C.shape).toEqual([3, 5]);
    let c12 = 0;
    for (let k = 0; k < 4; k++) c12 += A.data[1 * 4 + k]! * B.data[k * 5 + 2]!;
    expect(C.data[1 * 5 + 2]).toBe(c12);
    // (A·B)ᵀ = Bᵀ·Aᵀ
    assertClose(ref.transpose(C).data, ref.matmul(ref.transpose(B), ref.transpose(A)).data, { rtol: 1e-15, atol: 1e-15 }, 'transpose');
    const X = ref.arr(rng.array(24), [2, 3, 4]);
    const s = ref.sum(X, [0, 2], true);
    expect(s.shape).toEqual([1, 3, 1]);
    let s1 = 0;
    for (let i = 0; i < 2; i++) for (let k = 0; k < 4; k++) s1 += X.data[i * 12 + 1 * 4 + k]!;
    expect(s.data[1]).toBeCloseTo(s1, 14);
    const z = ref.zip(ref.arr([1, 2, 3], [3, 1]), ref.arr([10, 20], [1, 2]), (p, q) => p + q);
    expect(z.shape).toEqual([3, 2]);
    expect(Array.from(z.data)).toEqual([11, 21, 12, 22, 13, 23]);
  });
});

describe('graph bytes', () => {
  it('CRC-32 agrees with the engine writer’s and with the standard check value', () => {
    const check = new TextEncoder().encode('123456789');
    expect(crc32(check)).toBe(0xcbf43926); // the published CRC-32/ISO-HDLC check value
    const rng = new Rng(9);
    const bytes = Uint8Array.from({ length: 1000 }, () => rng.int(256));
    expect(crc32(bytes)).toBe(engineCrc32(bytes));
    // The writer folds eight bytes per step: every tail length and start offset must agree too.
    for (let start = 0; start < 8; start++) {
      for (let n = 0; n <= 40; n++) {
        const part = bytes.subarray(start, start + n);
        expect(engineCrc32(part)).toBe(crc32(part));
      }
    }
  });
});
