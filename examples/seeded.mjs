// Seeded data for the examples: u(i, seed) uniform in [0, 1), the splitmix64 finalizer on
// (seed + i + 1)·G mod 2^64, computed on 32-bit halves (the generator of the benchmark suite), so
// every run prints the same numbers.

function mulHigh32(a, b) {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) >>> 0;
}
function mul64([ah, al], bh, bl) {
  return [(mulHigh32(al, bl) + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0, Math.imul(al, bl) >>> 0];
}
function xorShift([h, l], s) {
  return [(h ^ (h >>> s)) >>> 0, (l ^ ((l >>> s) | (h << (32 - s)))) >>> 0];
}

/** Uniform in [0, 1), a pure function of (i, seed). */
export function u(i, seed) {
  const k = seed + i + 1;
  let z = mul64([Math.floor(k / 2 ** 32) >>> 0, k >>> 0], 0x9e3779b9, 0x7f4a7c15);
  z = mul64(xorShift(z, 30), 0xbf58476d, 0x1ce4e5b9);
  z = mul64(xorShift(z, 27), 0x94d049bb, 0x133111eb);
  const [h, l] = xorShift(z, 31);
  return (h * 2 ** 21 + (l >>> 11)) * 2 ** -53;
}

/** Approximately standard normal (Box–Muller on two seeded uniforms). */
export function normal(i, seed) {
  const a = Math.max(u(2 * i, seed), 1e-300), b = u(2 * i + 1, seed);
  return Math.sqrt(-2 * Math.log(a)) * Math.cos(2 * Math.PI * b);
}
