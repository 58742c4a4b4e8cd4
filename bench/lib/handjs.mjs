// Hand-written JavaScript value-and-gradient code for W1–W4 and W6: what a user would write
// without an AD tool. Same algorithms as bench/native/reference.cpp; each returns the value and
// fills caller-owned gradient arrays.

/** W1: mean(softplus(z) − y·z) + 1e-3‖w‖², z = Xw + b. Typed arrays of either float type. */
export function w1(X, y, w, b, n, d, gw) {
  gw.fill(0);
  let loss = 0, gb = 0;
  for (let i = 0; i < n; i++) {
    const o = i * d;
    let z = b;
    for (let j = 0; j < d; j++) z += X[o + j] * w[j];
    const e = Math.exp(-Math.abs(z));
    loss += Math.max(z, 0) + Math.log1p(e) - y[i] * z;
    const gz = ((z >= 0 ? 1 / (1 + e) : e / (1 + e)) - y[i]) / n;
    gb += gz;
    for (let j = 0; j < d; j++) gw[j] += gz * X[o + j];
  }
  let reg = 0;
  for (let j = 0; j < d; j++) {
    reg += w[j] * w[j];
    gw[j] += 2e-3 * w[j];
  }
  return { value: loss / n + 1e-3 * reg, gb };
}

function gemmNN(A, B, C, m, k, n) {
  C.fill(0);
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    for (let p = 0; p < k; p++) {
      const a = A[i * k + p];
      if (a === 0) continue;
      const bp = p * n;
      for (let j = 0; j < n; j++) C[ci + j] += a * B[bp + j];
    }
  }
}
function gemmTN(A, B, C, m, k, n) { // C[k×n] = Aᵀ[k×m]·B[m×n]
  C.fill(0);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const a = A[i * k + p];
      if (a === 0) continue;
      const cp = p * n, bi = i * n;
      for (let j = 0; j < n; j++) C[cp + j] += a * B[bi + j];
    }
  }
}
function gemmNT(A, B, C, m, n, k) { // C[m×k] = A[m×n]·Bᵀ
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += A[i * n + j] * B[p * n + j];
      C[i * k + p] = s;
    }
  }
}

/** W2 MLP (float32 arrays): value and gradients of [W1, b1, W2, b2, W3, b3] into grads. */
export function w2(X, labels, params, sizes, grads) {
  const [W1, b1, W2, b2, W3, b3] = params;
  const [gW1, gb1, gW2, gb2, gW3, gb3] = grads;
  const B = labels.length, [D0, D1, D2, D3] = sizes;
  const h1 = new Float32Array(B * D1), h2 = new Float32Array(B * D2), z = new Float32Array(B * D3);
  const g1 = new Float32Array(B * D1), g2 = new Float32Array(B * D2);
  gemmNN(X, W1, h1, B, D0, D1);
  for (let k = 0; k < h1.length; k++) h1[k] = Math.max(h1[k] + b1[k % D1], 0);
  gemmNN(h1, W2, h2, B, D1, D2);
  for (let k = 0; k < h2.length; k++) h2[k] = Math.max(h2[k] + b2[k % D2], 0);
  gemmNN(h2, W3, z, B, D2, D3);
  let loss = 0;
  gb3.fill(0);
  for (let i = 0; i < B; i++) {
    const o = i * D3;
    let mx = -Infinity;
    for (let j = 0; j < D3; j++) mx = Math.max(mx, (z[o + j] += b3[j]));
    let se = 0;
    for (let j = 0; j < D3; j++) se += Math.exp(z[o + j] - mx);
    const lse = mx + Math.log(se);
    loss += lse - z[o + labels[i]];
    for (let j = 0; j < D3; j++) {
      z[o + j] = (Math.exp(z[o + j] - lse) - (j === labels[i] ? 1 : 0)) / B;
      gb3[j] += z[o + j];
    }
  }
  gemmTN(h2, z, gW3, B, D2, D3);
  gemmNT(z, W3, g2, B, D3, D2);
  gb2.fill(0);
  for (let k = 0; k < g2.length; k++) {
    if (h2[k] <= 0) g2[k] = 0;
    gb2[k % D2] += g2[k];
  }
  gemmTN(h1, g2, gW2, B, D1, D2);
  gemmNT(g2, W2, g1, B, D2, D1);
  gb1.fill(0);
  for (let k = 0; k < g1.length; k++) {
    if (h1[k] <= 0) g1[k] = 0;
    gb1[k % D1] += g1[k];
  }
  gemmTN(X, g1, gW1, B, D0, D1);
  return loss / B;
}

/** W3 extended Rosenbrock: Σ_{i<n−1} 100(x_{i+1} − x_i²)² + (1 − x_i)². */
export function w3(x, g) {
  const n = x.length;
  let f = 0;
  g[0] = 0;
  for (let i = 0; i + 1 < n; i++) {
    const d = x[i + 1] - x[i] * x[i], e = 1 - x[i];
    f += 100 * d * d + e * e;
    g[i] += -400 * d * x[i] - 2 * e;
    g[i + 1] = 200 * d;
  }
  return f;
}

/** W4 Lotka–Volterra, RK4; forward mode with the 4 parameter tangents carried by hand. */
export function w4(p, steps, dt, g) {
  const [al, be, ga, de] = p;
  // state and its tangents w.r.t. (α, β, γ, δ)
  let x = 1, y = 1, loss = 0;
  let tx = [0, 0, 0, 0], ty = [0, 0, 0, 0];
  const tl = [0, 0, 0, 0];
  const f = (x, y, tx, ty) => {
    const fx = al * x - be * x * y, fy = de * x * y - ga * y;
    const tfx = [0, 0, 0, 0], tfy = [0, 0, 0, 0];
    for (let k = 0; k < 4; k++) {
      const txy = tx[k] * y + x * ty[k];
      tfx[k] = al * tx[k] - be * txy - (k === 1 ? x * y : 0) + (k === 0 ? x : 0);
      tfy[k] = de * txy - ga * ty[k] + (k === 3 ? x * y : 0) - (k === 2 ? y : 0);
    }
    return [fx, fy, tfx, tfy];
  };
  const axpy = (a, c, b) => a.map((v, k) => v + c * b[k]);
  for (let s = 0; s < steps; s++) {
    const [k1x, k1y, t1x, t1y] = f(x, y, tx, ty);
    const [k2x, k2y, t2x, t2y] = f(x + (dt / 2) * k1x, y + (dt / 2) * k1y, axpy(tx, dt / 2, t1x), axpy(ty, dt / 2, t1y));
    const [k3x, k3y, t3x, t3y] = f(x + (dt / 2) * k2x, y + (dt / 2) * k2y, axpy(tx, dt / 2, t2x), axpy(ty, dt / 2, t2y));
    const [k4x, k4y, t4x, t4y] = f(x + dt * k3x, y + dt * k3y, axpy(tx, dt, t3x), axpy(ty, dt, t3y));
    x += (dt / 6) * (k1x + 2 * k2x + 2 * k3x + k4x);
    y += (dt / 6) * (k1y + 2 * k2y + 2 * k3y + k4y);
    tx = tx.map((v, k) => v + (dt / 6) * (t1x[k] + 2 * t2x[k] + 2 * t3x[k] + t4x[k]));
    ty = ty.map((v, k) => v + (dt / 6) * (t1y[k] + 2 * t2y[k] + 2 * t3y[k] + t4y[k]));
    loss += x * x + y * y;
    for (let k = 0; k < 4; k++) tl[k] += 2 * x * tx[k] + 2 * y * ty[k];
  }
  for (let k = 0; k < 4; k++) g[k] = tl[k];
  return loss;
}

/** W6: Σ sin(x)·x + exp(−x²). */
export function w6(x, g) {
  let f = 0;
  for (let i = 0; i < x.length; i++) {
    const s = Math.sin(x[i]), e = Math.exp(-x[i] * x[i]);
    f += s * x[i] + e;
    g[i] = Math.cos(x[i]) * x[i] + s - 2 * x[i] * e;
  }
  return f;
}
