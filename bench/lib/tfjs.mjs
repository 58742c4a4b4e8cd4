// The TF.js peers (cpu and wasm backends) for the workloads that fit them. TF.js computes in
// float32 only, so its values are checked with a float32 tolerance. Loaded from bench/node_modules
// (bench/package.json, `npm install --prefix bench`); absent → null, and the suite says so.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..');

/** TF.js with the wasm backend registered, or null if not installed. */
export async function loadTf() {
  const req = createRequire(join(benchDir, 'package.json'));
  let tf;
  try {
    tf = req('@tensorflow/tfjs');
  } catch {
    return null;
  }
  const backends = ['cpu'];
  try {
    req('@tensorflow/tfjs-backend-wasm');
    backends.push('wasm');
  } catch {
    /* cpu only */
  }
  return { tf, backends, version: tf.version?.tfjs ?? '?' };
}

/** value+grad closures per workload: each returns { value, grads: Float32Array[] } after reading back. */
export function tfWorkloads(tf, data) {
  const vg = (f, params) => () => {
    const { value, grads } = tf.valueAndGrads(f)(params);
    const out = { value: value.dataSync()[0], grads: grads.map((g) => g.dataSync()) };
    value.dispose();
    grads.forEach((g) => g.dispose());
    return out;
  };
  const w = {};
  if (data.W1) {
    const { n, d, X, y, w0, b0 } = data.W1;
    const tX = tf.tensor2d(Float32Array.from(X), [n, d]), ty = tf.tensor1d(Float32Array.from(y));
    const tw = tf.tensor2d(Float32Array.from(w0), [d, 1]), tb = tf.scalar(b0);
    const f = (wv, bv) => {
      const z = tf.add(tf.matMul(tX, wv).reshape([n]), bv);
      return tf.add(tf.mean(tf.sub(tf.softplus(z), tf.mul(ty, z))), tf.mul(1e-3, tf.sum(tf.square(wv))));
    };
    w.W1 = { fn: vg(f, [tw, tb]), dispose: () => tf.dispose([tX, ty, tw, tb]) };
  }
  if (data.W2) {
    const { X, labels, params, sizes, batch } = data.W2;
    const tX = tf.tensor2d(X, [batch, sizes[0]]);
    const oh = tf.oneHot(tf.tensor1d(labels, 'int32'), sizes[3]).toFloat();
    const tp = params.map((p, k) => (k % 2 === 0 ? tf.tensor2d(p, [sizes[k / 2], sizes[k / 2 + 1]]) : tf.tensor1d(p)));
    const f = (W1, b1, W2, b2, W3, b3) => {
      const h1 = tf.relu(tf.add(tf.matMul(tX, W1), b1));
      const h2 = tf.relu(tf.add(tf.matMul(h1, W2), b2));
      return tf.losses.softmaxCrossEntropy(oh, tf.add(tf.matMul(h2, W3), b3));
    };
    w.W2 = { fn: vg(f, tp), dispose: () => tf.dispose([tX, oh, ...tp]) };
  }
  if (data.W3a) {
    const x = data.W3a.x, n = x.length;
    const tx = tf.tensor1d(Float32Array.from(x));
    const f = (xv) => {
      const a = xv.slice(0, n - 1), b = xv.slice(1, n - 1);
      return tf.sum(tf.add(tf.mul(100, tf.square(tf.sub(b, tf.square(a)))), tf.square(tf.sub(1, a))));
    };
    w.W3a = { fn: vg(f, [tx]), dispose: () => tx.dispose() };
  }
  if (data.W4) {
    const tp = tf.tensor1d([1.5, 1, 3, 1]);
    const f = (p) => {
      const [al, be, ga, de] = tf.unstack(p);
      const fx = (x, y) => tf.sub(tf.mul(al, x), tf.mul(tf.mul(be, x), y));
      const fy = (x, y) => tf.sub(tf.mul(tf.mul(de, x), y), tf.mul(ga, y));
      let x = tf.scalar(1), y = tf.scalar(1), loss = tf.scalar(0);
      const dt = 0.01;
      for (let s = 0; s < 1000; s++) {
        const k1x = fx(x, y), k1y = fy(x, y);
        const x2 = tf.add(x, tf.mul(dt / 2, k1x)), y2 = tf.add(y, tf.mul(dt / 2, k1y));
        const k2x = fx(x2, y2), k2y = fy(x2, y2);
        const x3 = tf.add(x, tf.mul(dt / 2, k2x)), y3 = tf.add(y, tf.mul(dt / 2, k2y));
        const k3x = fx(x3, y3), k3y = fy(x3, y3);
        const x4 = tf.add(x, tf.mul(dt, k3x)), y4 = tf.add(y, tf.mul(dt, k3y));
        const k4x = fx(x4, y4), k4y = fy(x4, y4);
        x = tf.add(x, tf.mul(dt / 6, tf.addN([k1x, tf.mul(2, k2x), tf.mul(2, k3x), k4x])));
        y = tf.add(y, tf.mul(dt / 6, tf.addN([k1y, tf.mul(2, k2y), tf.mul(2, k3y), k4y])));
        loss = tf.add(loss, tf.add(tf.square(x), tf.square(y)));
      }
      return loss;
    };
    w.W4 = { fn: vg(f, [tp]), dispose: () => tp.dispose() };
  }
  if (data.W6) {
    const tx = tf.tensor1d(Float32Array.from(data.W6.x));
    const f = (x) => tf.sum(tf.add(tf.mul(tf.sin(x), x), tf.exp(tf.neg(tf.square(x)))));
    w.W6 = { fn: vg(f, [tx]), dispose: () => tx.dispose() };
  }
  return w;
}
