// Seeded random numbers for tests: the splitmix64 generator of the benchmark suite
// (../shared/BENCH.md), so that a test's inputs are reproducible bit for bit on every machine.
//
// u(i, seed) = uniform [0, 1): z = (seed + i + 1)·G (mod 2^64), G = 0x9E3779B97F4A7C15, then the
// splitmix64 finalizer, then the top 53 bits scaled by 2^-53. The 64-bit arithmetic is done on
// two 32-bit halves (about 6x faster than BigInt); splitmix64BigInt is the literal transcription
// used to check it.

let hi = 0;
let lo = 0;

/** High 32 bits of the 64-bit product of two unsigned 32-bit integers. */
function mulHigh32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) >>> 0;
}

/** (ah:al)·(bh:bl) mod 2^64, result in (hi:lo). */
function mul64(ah: number, al: number, bh: number, bl: number): void {
  lo = Math.imul(al, bl) >>> 0;
  hi = (mulHigh32(al, bl) + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
}

/** Uniform [0, 1) number i of stream `seed` (i, seed non-negative integers, i + seed < 2^53). */
export function splitmix64(i: number, seed: number): number {
  const k = seed + i + 1;
  mul64(Math.floor(k / 4294967296) >>> 0, k >>> 0, 0x9e3779b9, 0x7f4a7c15);
  let h = hi;
  let l = lo;
  l = (l ^ ((l >>> 30) | (h << 2))) >>> 0;
  h = (h ^ (h >>> 30)) >>> 0;
  mul64(h, l, 0xbf58476d, 0x1ce4e5b9);
  h = hi;
  l = lo;
  l = (l ^ ((l >>> 27) | (h << 5))) >>> 0;
  h = (h ^ (h >>> 27)) >>> 0;
  mul64(h, l, 0x94d049bb, 0x133111eb);
  h = hi;
  l = lo;
  l = (l ^ ((l >>> 31) | (h << 1))) >>> 0;
  h = (h ^ (h >>> 31)) >>> 0;
  return (h * 2097152 + (l >>> 11)) * 2 ** -53;
}

const MASK64 = (1n << 64n) - 1n;

/** The generator of BENCH.md written literally with BigInt (slow; the reference for splitmix64). */
export function splitmix64BigInt(i: number, seed: number): number {
  const g = 0x9e3779b97f4a7c15n;
  let z = (BigInt(seed) * g + BigInt(i + 1) * g) & MASK64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  z ^= z >> 31n;
  return Number(z >> 11n) * 2 ** -53;
}

/** Where random values are drawn from. */
export interface Domain {
  /** Lower bound of the magnitude (or of the value when `signed` is false). */
  readonly lo: number;
  readonly hi: number;
  /** When true, the magnitude is drawn from [lo, hi) and the sign is random: keeps values away from 0. */
  readonly signed?: boolean;
}

export const ANY: Domain = { lo: -2, hi: 2 };
export const POSITIVE: Domain = { lo: 0.5, hi: 2 };
/** Magnitude in [0.25, 2), either sign: for ops with a kink or a pole at 0 (abs, relu, div). */
export const AWAY_FROM_ZERO: Domain = { lo: 0.25, hi: 2, signed: true };

/** A sequential stream over splitmix64(·, seed). */
export class Rng {
  private i = 0;
  constructor(readonly seed: number) {}

  /** Uniform [0, 1). */
  next(): number {
    return splitmix64(this.i++, this.seed);
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** One value from a domain. */
  draw(d: Domain): number {
    const m = this.uniform(d.lo, d.hi);
    return d.signed === true && this.next() < 0.5 ? -m : m;
  }

  /** n values from a domain, as float64. */
  array(n: number, d: Domain = ANY): Float64Array {
    const out = new Float64Array(n);
    for (let k = 0; k < n; k++) out[k] = this.draw(d);
    return out;
  }

  /**
   * n values from a domain, each rounded to float32 and stored as float64: the same numbers can
   * then be fed to a float32 and a float64 program, so their results are comparable.
   */
  array32(n: number, d: Domain = ANY): Float64Array {
    const out = this.array(n, d);
    for (let k = 0; k < n; k++) out[k] = Math.fround(out[k]!);
    return out;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}
