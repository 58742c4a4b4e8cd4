// Hand-written value-and-gradient code for the benchmark workloads W1–W6 (bench/README in
// docs/PERFORMANCE.md): plain loops at -O3, no libraries, no -march flags, written the way a
// careful engineer would by hand. They are the floor wengert is measured against, and the
// gradients wengert's are checked against. Each function fills caller-owned typed arrays and
// returns the value; nothing here allocates per call except W2's and W4's scratch, which is kept.
#include <node_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace {

// ---- the data generator of BENCH.md: u(i, seed) uniform in [0, 1) ----
double uniform(uint64_t i, uint64_t seed) {
  const uint64_t G = 0x9E3779B97F4A7C15ull;
  uint64_t z = seed * G + (i + 1) * G;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

// ---- W1 logistic regression: mean(softplus(z) − y·z) + 1e-3‖w‖², z = Xw + b ----
template <typename T>
double w1(const T* X, const T* y, const T* w, T b, std::size_t n, std::size_t d, T* gw, T* gb) {
  std::fill(gw, gw + d, T(0));
  double loss = 0;
  double sgb = 0;
  const T inv_n = T(1) / static_cast<T>(n);
  for (std::size_t i = 0; i < n; ++i) {
    const T* row = X + i * d;
    T z = b;
    for (std::size_t j = 0; j < d; ++j) z += row[j] * w[j];
    const T az = std::abs(z);
    loss += std::max(z, T(0)) + std::log1p(std::exp(-az)) - y[i] * z;
    const T e = std::exp(-az);
    const T sig = z >= 0 ? T(1) / (T(1) + e) : e / (T(1) + e);
    const T gz = (sig - y[i]) * inv_n;
    sgb += gz;
    for (std::size_t j = 0; j < d; ++j) gw[j] += gz * row[j];
  }
  double reg = 0;
  for (std::size_t j = 0; j < d; ++j) {
    reg += static_cast<double>(w[j]) * w[j];
    gw[j] += T(2e-3) * w[j];
  }
  *gb = static_cast<T>(sgb);
  return loss / static_cast<double>(n) + 1e-3 * reg;
}

// ---- W2 MLP (float32): 784-512-512-10, ReLU, softmax cross-entropy averaged over the batch ----
// C[m×n] = A[m×k]·B[k×n] (+= when acc)
void gemm_nn(const float* A, const float* B, float* C, int m, int k, int n, bool acc) {
  if (!acc) std::fill(C, C + std::size_t(m) * n, 0.0f);
  for (int i = 0; i < m; ++i) {
    float* c = C + std::size_t(i) * n;
    for (int p = 0; p < k; ++p) {
      const float a = A[std::size_t(i) * k + p];
      if (a == 0.0f) continue;  // ReLU zeros
      const float* bp = B + std::size_t(p) * n;
      for (int j = 0; j < n; ++j) c[j] += a * bp[j];
    }
  }
}
// C[k×n] = Aᵀ·B with A[m×k], B[m×n]
void gemm_tn(const float* A, const float* B, float* C, int m, int k, int n) {
  std::fill(C, C + std::size_t(k) * n, 0.0f);
  for (int i = 0; i < m; ++i) {
    const float* b = B + std::size_t(i) * n;
    for (int p = 0; p < k; ++p) {
      const float a = A[std::size_t(i) * k + p];
      if (a == 0.0f) continue;
      float* c = C + std::size_t(p) * n;
      for (int j = 0; j < n; ++j) c[j] += a * b[j];
    }
  }
}
// C[m×k] = A·Bᵀ with A[m×n], B[k×n]
void gemm_nt(const float* A, const float* B, float* C, int m, int n, int k) {
  for (int i = 0; i < m; ++i) {
    const float* a = A + std::size_t(i) * n;
    for (int p = 0; p < k; ++p) {
      const float* b = B + std::size_t(p) * n;
      float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      int j = 0;
      for (; j + 4 <= n; j += 4) {
        s0 += a[j] * b[j];
        s1 += a[j + 1] * b[j + 1];
        s2 += a[j + 2] * b[j + 2];
        s3 += a[j + 3] * b[j + 3];
      }
      for (; j < n; ++j) s0 += a[j] * b[j];
      C[std::size_t(i) * k + p] = (s0 + s1) + (s2 + s3);
    }
  }
}

struct MlpScratch {
  std::vector<float> h1, h2, z, g1, g2;
};

double w2(const float* X, const int32_t* labels, const float* W1, const float* b1, const float* W2,
          const float* b2, const float* W3, const float* b3, int B, int D0, int D1, int D2, int D3, float* gW1,
          float* gb1, float* gW2, float* gb2, float* gW3, float* gb3) {
  static MlpScratch s;
  s.h1.resize(std::size_t(B) * D1);
  s.h2.resize(std::size_t(B) * D2);
  s.z.resize(std::size_t(B) * D3);
  s.g1.resize(std::size_t(B) * D1);
  s.g2.resize(std::size_t(B) * D2);
  auto bias_relu = [](float* h, const float* bias, int rows, int cols) {
    for (int i = 0; i < rows; ++i)
      for (int j = 0; j < cols; ++j) h[std::size_t(i) * cols + j] = std::max(h[std::size_t(i) * cols + j] + bias[j], 0.0f);
  };
  gemm_nn(X, W1, s.h1.data(), B, D0, D1, false);
  bias_relu(s.h1.data(), b1, B, D1);
  gemm_nn(s.h1.data(), W2, s.h2.data(), B, D1, D2, false);
  bias_relu(s.h2.data(), b2, B, D2);
  gemm_nn(s.h2.data(), W3, s.z.data(), B, D2, D3, false);
  double loss = 0;
  std::fill(gb3, gb3 + D3, 0.0f);
  for (int i = 0; i < B; ++i) {
    float* z = s.z.data() + std::size_t(i) * D3;
    float mx = -INFINITY;
    for (int j = 0; j < D3; ++j) mx = std::max(mx, z[j] += b3[j]);
    float se = 0;
    for (int j = 0; j < D3; ++j) se += std::exp(z[j] - mx);
    const float lse = mx + std::log(se);
    loss += lse - z[labels[i]];
    for (int j = 0; j < D3; ++j) {  // z becomes ∂loss/∂z = (softmax − onehot)/B
      z[j] = (std::exp(z[j] - lse) - (j == labels[i] ? 1.0f : 0.0f)) / float(B);
      gb3[j] += z[j];
    }
  }
  gemm_tn(s.h2.data(), s.z.data(), gW3, B, D2, D3);
  gemm_nt(s.z.data(), W3, s.g2.data(), B, D3, D2);
  std::fill(gb2, gb2 + D2, 0.0f);
  for (std::size_t i = 0; i < s.g2.size(); ++i) {
    if (s.h2[i] <= 0.0f) s.g2[i] = 0.0f;
    gb2[i % D2] += s.g2[i];
  }
  gemm_tn(s.h1.data(), s.g2.data(), gW2, B, D1, D2);
  gemm_nt(s.g2.data(), W2, s.g1.data(), B, D2, D1);
  std::fill(gb1, gb1 + D1, 0.0f);
  for (std::size_t i = 0; i < s.g1.size(); ++i) {
    if (s.h1[i] <= 0.0f) s.g1[i] = 0.0f;
    gb1[i % D1] += s.g1[i];
  }
  gemm_tn(X, s.g1.data(), gW1, B, D0, D1);
  return loss / B;
}

// ---- W3 extended Rosenbrock: Σ_{i<n−1} 100(x_{i+1} − x_i²)² + (1 − x_i)² ----
double w3(const double* x, std::size_t n, double* g) {
  double f = 0;
  g[0] = 0;
  for (std::size_t i = 0; i + 1 < n; ++i) {
    const double d = x[i + 1] - x[i] * x[i];
    const double e = 1 - x[i];
    f += 100 * d * d + e * e;
    g[i] += -400 * d * x[i] - 2 * e;
    g[i + 1] = 200 * d;
  }
  return f;
}

// ---- W4 Lotka–Volterra, RK4: forward mode with 4 tangents carried by hand (one per parameter) ----
struct Dual {
  double v, t[4];
};
inline Dual operator+(const Dual& a, const Dual& b) {
  return {a.v + b.v, {a.t[0] + b.t[0], a.t[1] + b.t[1], a.t[2] + b.t[2], a.t[3] + b.t[3]}};
}
inline Dual operator-(const Dual& a, const Dual& b) {
  return {a.v - b.v, {a.t[0] - b.t[0], a.t[1] - b.t[1], a.t[2] - b.t[2], a.t[3] - b.t[3]}};
}
inline Dual operator*(const Dual& a, const Dual& b) {
  Dual r{a.v * b.v, {}};
  for (int k = 0; k < 4; ++k) r.t[k] = a.t[k] * b.v + a.v * b.t[k];
  return r;
}
inline Dual operator*(double c, const Dual& a) { return {c * a.v, {c * a.t[0], c * a.t[1], c * a.t[2], c * a.t[3]}}; }

double w4(const double* p, int steps, double dt, double* g) {
  const Dual al{p[0], {1, 0, 0, 0}}, be{p[1], {0, 1, 0, 0}}, ga{p[2], {0, 0, 1, 0}}, de{p[3], {0, 0, 0, 1}};
  auto fx = [&](const Dual& x, const Dual& y) { return al * x - be * x * y; };
  auto fy = [&](const Dual& x, const Dual& y) { return de * x * y - ga * y; };
  Dual x{1, {}}, y{1, {}}, loss{0, {}};
  for (int s = 0; s < steps; ++s) {
    const Dual k1x = fx(x, y), k1y = fy(x, y);
    const Dual x2 = x + (dt / 2) * k1x, y2 = y + (dt / 2) * k1y;
    const Dual k2x = fx(x2, y2), k2y = fy(x2, y2);
    const Dual x3 = x + (dt / 2) * k2x, y3 = y + (dt / 2) * k2y;
    const Dual k3x = fx(x3, y3), k3y = fy(x3, y3);
    const Dual x4 = x + dt * k3x, y4 = y + dt * k3y;
    const Dual k4x = fx(x4, y4), k4y = fy(x4, y4);
    x = x + (dt / 6) * (k1x + 2 * k2x + 2 * k3x + k4x);
    y = y + (dt / 6) * (k1y + 2 * k2y + 2 * k3y + k4y);
    loss = loss + x * x + y * y;
  }
  for (int k = 0; k < 4; ++k) g[k] = loss.t[k];
  return loss.v;
}

// ---- W6 tiny calls: Σ sin(x)·x + exp(−x²) ----
double w6(const double* x, std::size_t n, double* g) {
  double f = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double s = std::sin(x[i]), c = std::cos(x[i]), e = std::exp(-x[i] * x[i]);
    f += s * x[i] + e;
    g[i] = c * x[i] + s - 2 * x[i] * e;
  }
  return f;
}

// ---- Node-API glue ----
struct Args {
  napi_env env;
  napi_value argv[20];
  size_t argc = 20;
  bool ok = true;
  Args(napi_env e, napi_callback_info info) : env(e) { napi_get_cb_info(e, info, &argc, argv, nullptr, nullptr); }
  template <typename T>
  T* array(size_t i, size_t* length = nullptr) {
    napi_typedarray_type type;
    size_t len = 0;
    void* data = nullptr;
    if (i >= argc || napi_get_typedarray_info(env, argv[i], &type, &len, &data, nullptr, nullptr) != napi_ok) {
      ok = false;
      napi_throw_type_error(env, nullptr, "reference: expected a typed array");
      return nullptr;
    }
    if (length) *length = len;
    return static_cast<T*>(data);
  }
  double number(size_t i) {
    double v = 0;
    if (i >= argc || napi_get_value_double(env, argv[i], &v) != napi_ok) {
      ok = false;
      napi_throw_type_error(env, nullptr, "reference: expected a number");
    }
    return v;
  }
  napi_value result(double v) {
    napi_value r;
    napi_create_double(env, v, &r);
    return r;
  }
};

// uniform(i, seed)
napi_value Uniform(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const double i = a.number(0), seed = a.number(1);
  if (!a.ok) return nullptr;
  return a.result(uniform(static_cast<uint64_t>(i), static_cast<uint64_t>(seed)));
}
// w1f64(X, y, w, b, n, d, gw, gb) → loss; gb is a length-1 array
template <typename T>
napi_value W1(napi_env env, napi_callback_info info) {
  Args a(env, info);
  T *X = a.array<T>(0), *y = a.array<T>(1), *w = a.array<T>(2);
  const double b = a.number(3), n = a.number(4), d = a.number(5);
  T *gw = a.array<T>(6), *gb = a.array<T>(7);
  if (!a.ok) return nullptr;
  return a.result(w1<T>(X, y, w, static_cast<T>(b), size_t(n), size_t(d), gw, gb));
}
// w2(X, labels, W1, b1, W2, b2, W3, b3, gW1, gb1, gW2, gb2, gW3, gb3) → loss; batch from labels
napi_value W2(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t nb = 0, nb1 = 0, nb2 = 0, nb3 = 0;
  float* X = a.array<float>(0);
  int32_t* labels = a.array<int32_t>(1, &nb);
  float *W1p = a.array<float>(2), *b1 = a.array<float>(3, &nb1), *W2p = a.array<float>(4), *b2 = a.array<float>(5, &nb2);
  float *W3p = a.array<float>(6), *b3 = a.array<float>(7, &nb3);
  float *gW1 = a.array<float>(8), *gb1 = a.array<float>(9), *gW2 = a.array<float>(10), *gb2 = a.array<float>(11);
  float *gW3 = a.array<float>(12), *gb3 = a.array<float>(13);
  const double d0 = a.number(14);
  if (!a.ok) return nullptr;
  return a.result(w2(X, labels, W1p, b1, W2p, b2, W3p, b3, int(nb), int(d0), int(nb1), int(nb2), int(nb3), gW1, gb1,
                     gW2, gb2, gW3, gb3));
}
// w3(x, g) → f
napi_value W3(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t n = 0;
  double *x = a.array<double>(0, &n), *g = a.array<double>(1);
  if (!a.ok) return nullptr;
  return a.result(w3(x, n, g));
}
// w4(params, steps, dt, g) → loss
napi_value W4(napi_env env, napi_callback_info info) {
  Args a(env, info);
  double* p = a.array<double>(0);
  const double steps = a.number(1), dt = a.number(2);
  double* g = a.array<double>(3);
  if (!a.ok) return nullptr;
  return a.result(w4(p, int(steps), dt, g));
}
// w6(x, g) → f
napi_value W6(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t n = 0;
  double *x = a.array<double>(0, &n), *g = a.array<double>(1);
  if (!a.ok) return nullptr;
  return a.result(w6(x, n, g));
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"uniform", nullptr, Uniform, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"w1f64", nullptr, W1<double>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"w1f32", nullptr, W1<float>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"w2", nullptr, W2, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"w3", nullptr, W3, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"w4", nullptr, W4, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"w6", nullptr, W6, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
