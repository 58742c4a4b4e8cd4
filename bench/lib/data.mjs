// The deterministic data generator of the benchmark workloads (shared/BENCH.md): u(i, seed) is
// a SplitMix64-style hash of (seed + i + 1)·G, computed here on 32-bit halves (exact, no BigInt,
// fast enough for 10⁷ values); uBig is the same on BigInt, used to check it.

const G_HI = 0x9e3779b9, G_LO = 0x7f4a7c15;
const M1_HI = 0xbf58476d, M1_LO = 0x1ce4e5b9;
const M2_HI = 0x94d049bb, M2_LO = 0x133111eb;
const TWO32 = 4294967296;
let rHi = 0, rLo = 0; // result registers of mul64

/** Full 32×32 → 64-bit product of unsigned a, b; low half in rLo, high half in rHi. */
function mul32(a, b) {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const mid = a1 * b0 + a0 * b1; // < 2^33, exact
  const t = a0 * b0 + (mid % 65536) * 65536; // < 2^33
  rLo = t >>> 0;
  rHi = (a1 * b1 + Math.floor(mid / 65536) + Math.floor(t / TWO32)) >>> 0;
}

/** (aHi:aLo)·(bHi:bLo) mod 2^64 into rHi:rLo. */
function mul64(aHi, aLo, bHi, bLo) {
  mul32(aLo, bLo);
  rHi = (rHi + Math.imul(aHi, bLo) + Math.imul(aLo, bHi)) >>> 0;
}

/** u(i, seed): uniform in [0, 1), for integers with seed + i + 1 < 2^53. */
export function u(i, seed) {
  const k = seed + i + 1;
  mul64(Math.floor(k / TWO32) >>> 0, k >>> 0, G_HI, G_LO); // z = seed·G + (i+1)·G = (seed+i+1)·G
  let hi = rHi, lo = rLo;
  lo = (lo ^ ((lo >>> 30) | (hi << 2))) >>> 0; // z ^= z >> 30
  hi = (hi ^ (hi >>> 30)) >>> 0;
  mul64(hi, lo, M1_HI, M1_LO);
  hi = rHi; lo = rLo;
  lo = (lo ^ ((lo >>> 27) | (hi << 5))) >>> 0; // z ^= z >> 27
  hi = (hi ^ (hi >>> 27)) >>> 0;
  mul64(hi, lo, M2_HI, M2_LO);
  hi = rHi; lo = rLo;
  lo = (lo ^ ((lo >>> 31) | (hi << 1))) >>> 0; // z ^= z >> 31
  hi = (hi ^ (hi >>> 31)) >>> 0;
  // (z >> 11) · 2^-53
  return ((hi >>> 11) * TWO32 + (((lo >>> 11) | (hi << 21)) >>> 0)) * 2 ** -53;
}

/** The same on BigInt: the definition, letter for letter. */
export function uBig(i, seed) {
  const M = (1n << 64n) - 1n;
  const G = 0x9e3779b97f4a7c15n;
  let z = (BigInt(seed) * G + BigInt(i + 1) * G) & M;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M;
  z ^= z >> 31n;
  return Number(z >> 11n) * 2 ** -53;
}

const sigmoid = (t) => 1 / (1 + Math.exp(-t));

/** W1 data in float64: X [n×d] row-major, y [n], evaluation point w0 [d], b0. */
export function w1Data(n = 100_000, d = 100) {
  const X = new Float64Array(n * d);
  for (let k = 0; k < n * d; k++) X[k] = 2 * u(k, 1) - 1;
  const wt = Float64Array.from({ length: d }, (_, j) => 2 * u(j, 2) - 1);
  const bt = 0.25;
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let z = bt;
    for (let j = 0; j < d; j++) z += X[i * d + j] * wt[j];
    y[i] = u(i, 3) < sigmoid(z) ? 1 : 0;
  }
  const w0 = Float64Array.from({ length: d }, (_, j) => 0.1 * (2 * u(j, 4) - 1));
  return { n, d, X, y, w0, b0: 0.1 };
}

/**
 * W2 data (BENCH.md fixes the shapes, not the values; these are ours): inputs 2u−1 (seed 10),
 * labels ⌊10u⌋ (seed 11), weights uniform with He scale √(6/fan_in) (seeds 12, 14, 16), biases
 * 0.01(2u−1) (seeds 13, 15, 17).
 */
export function w2Data(batch = 256, sizes = [784, 512, 512, 10]) {
  const X = new Float32Array(batch * sizes[0]);
  for (let k = 0; k < X.length; k++) X[k] = 2 * u(k, 10) - 1;
  const labels = Int32Array.from({ length: batch }, (_, i) => Math.floor(10 * u(i, 11)));
  const params = [];
  for (let l = 0; l < 3; l++) {
    const [fi, fo] = [sizes[l], sizes[l + 1]];
    const s = Math.sqrt(6 / fi);
    params.push(Float32Array.from({ length: fi * fo }, (_, k) => s * (2 * u(k, 12 + 2 * l) - 1)));
    params.push(Float32Array.from({ length: fo }, (_, k) => 0.01 * (2 * u(k, 13 + 2 * l) - 1)));
  }
  return { batch, sizes, X, labels, params };
}

/** W3 point: x_i = −1.2 for even i, 1 for odd i (the classic start; f = 254099516 at n = 10⁶). */
export function w3Point(n) {
  return Float64Array.from({ length: n }, (_, i) => (i % 2 === 0 ? -1.2 : 1));
}

/** W6 point: x_i = 2u(i, 6) − 1, length 10. */
export function w6Point() {
  return Float64Array.from({ length: 10 }, (_, i) => 2 * u(i, 6) - 1);
}
