// Helpers shared by the native tests: compiling a builder's graph, running it on plain vectors,
// and the index arithmetic of the naive reference implementations.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "graph_builder.h"
#include "program.h"
#include "test.h"
#include "threadpool.h"

namespace wt {

using wengert::InputView;
using wengert::OutputView;
using wengert::Program;
using wengert::Status;
using Dims = std::vector<uint32_t>;
using ProgramPtr = std::shared_ptr<const Program>;

template <class T>
constexpr DType dtype_of() {
  return sizeof(T) == 8 ? DType::f64 : DType::f32;
}

inline Status compile(const std::vector<uint8_t>& bytes, ProgramPtr* out, std::size_t limit = std::size_t{1} << 30) {
  return Program::compile(bytes.data(), bytes.size(), limit, out);
}

// The opcode of the op with this name, from the generated table.
inline OpCode op_named(const char* name) {
  for (const wengert::OpInfo& op : wengert::kOps) {
    if (std::strcmp(op.name, name) == 0) return static_cast<OpCode>(op.code);
  }
  return static_cast<OpCode>(0xFFFF);
}

inline uint64_t count(const Dims& d) {
  uint64_t n = 1;
  for (uint32_t x : d) n *= x;
  return n;
}

inline Dims unravel(uint64_t flat, const Dims& d) {
  Dims idx(d.size());
  for (std::size_t k = d.size(); k-- > 0;) {
    idx[k] = static_cast<uint32_t>(flat % d[k]);
    flat /= d[k];
  }
  return idx;
}

inline uint64_t ravel(const Dims& idx, const Dims& d) {
  uint64_t f = 0;
  for (std::size_t k = 0; k < d.size(); ++k) f = f * d[k] + idx[k];
  return f;
}

// The flat index into `in` (NumPy-broadcast to out) of the output index `idx`.
inline uint64_t broadcast_index(const Dims& idx, const Dims& in) {
  const std::size_t lead = idx.size() - in.size();
  uint64_t f = 0;
  for (std::size_t k = 0; k < in.size(); ++k) f = f * in[k] + (in[k] == 1 ? 0 : idx[k + lead]);
  return f;
}

inline Dims broadcast_dims(const Dims& a, const Dims& b) {
  const std::size_t r = std::max(a.size(), b.size());
  Dims out(r);
  for (std::size_t k = 0; k < r; ++k) {
    const std::ptrdiff_t ia = std::ptrdiff_t(k) - std::ptrdiff_t(r - a.size());
    const std::ptrdiff_t ib = std::ptrdiff_t(k) - std::ptrdiff_t(r - b.size());
    const uint32_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    out[k] = da == 1 ? db : da;
  }
  return out;
}

template <class T>
std::vector<T> random_values(uint64_t n, std::mt19937_64& rng, double lo = -3, double hi = 3) {
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(u(rng));
  return v;
}

// Runs p on inputs of one element type; returns the status and fills `outs`.
template <class T>
Status run(const Program& p, const std::vector<std::vector<T>>& inputs, std::vector<std::vector<T>>* outs) {
  std::vector<InputView> in;
  for (const auto& v : inputs) in.push_back(InputView{v.data(), dtype_of<T>(), v.size()});
  outs->clear();
  for (const auto& s : p.output_specs()) outs->emplace_back(s.length);
  std::vector<OutputView> out;
  for (auto& v : *outs) out.push_back(OutputView{v.data(), dtype_of<T>(), v.size()});
  return p.run(in, out);
}

// Equal bits, or both NaN.
template <class T>
bool same(T a, T b) {
  return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, sizeof(T)) == 0;
}

// Fails unless compiling `bytes` is rejected as BAD_GRAPH with a message containing `needle`;
// the failure names the caller's file and line.
inline void expect_bad_bytes(const std::vector<uint8_t>& bytes, const std::string& needle, const char* file, int line) {
  ProgramPtr p;
  const Status s = compile(bytes, &p);
  if (s.code != wengert::ErrorCode::bad_graph) {
    fail(file, line, "expected BAD_GRAPH containing '" + needle + "', got " + wengert::error_code_name(s.code) + " " +
                         s.message);
  } else if (s.message.find(needle) == std::string::npos) {
    fail(file, line, "message '" + s.message + "' lacks '" + needle + "'");
  }
}
#define EXPECT_BAD(builder, needle) wt::expect_bad_bytes((builder).bytes(), needle, __FILE__, __LINE__)
#define EXPECT_BAD_BYTES(bytes, needle) wt::expect_bad_bytes(bytes, needle, __FILE__, __LINE__)

// The shape of reducing `in` over `axes`: reduced axes dropped, or kept with size 1.
inline Dims reduced_dims(const Dims& in, const std::vector<int64_t>& axes, bool keep) {
  Dims od;
  for (std::size_t d = 0; d < in.size(); ++d) {
    const bool red = std::find(axes.begin(), axes.end(), int64_t(d)) != axes.end();
    if (!red) od.push_back(in[d]);
    else if (keep) od.push_back(1);
  }
  return od;
}

template <class T>
bool close(T a, T b) {
  const double tol = sizeof(T) == 8 ? 1e-12 : 1e-5;
  return std::abs(double(a) - double(b)) <= tol * (1 + std::abs(double(b)));
}

// Runs p with `options`: the status goes to *status, or a failure is recorded if it is not ok
// and status is null.
template <class T>
std::vector<std::vector<T>> run_with_options(const Program& p, const std::vector<std::vector<T>>& in,
                                             const wengert::RunOptions& options, Status* status = nullptr) {
  std::vector<InputView> iv;
  for (const auto& v : in) iv.push_back(InputView{v.data(), dtype_of<T>(), v.size()});
  std::vector<std::vector<T>> out;
  for (const auto& s : p.output_specs()) out.emplace_back(s.length);
  std::vector<OutputView> ov;
  for (auto& v : out) ov.push_back(OutputView{v.data(), dtype_of<T>(), v.size()});
  const Status s = p.run(iv, ov, options);
  if (status != nullptr) {
    *status = s;
  } else if (!s.ok()) {
    fail(__FILE__, __LINE__, s.message);
  }
  return out;
}

// Whether two runs' outputs hold the same bits; if not, *where names the first difference.
template <class T>
bool same_bits(const std::vector<std::vector<T>>& a, const std::vector<std::vector<T>>& b, std::string* where) {
  for (std::size_t k = 0; k < a.size(); ++k) {
    for (std::size_t i = 0; i < a[k].size(); ++i) {
      if (std::memcmp(&a[k][i], &b[k][i], sizeof(T)) != 0) {
        *where = "output " + std::to_string(k) + " element " + std::to_string(i) + ": " + std::to_string(double(a[k][i])) +
                 " vs " + std::to_string(double(b[k][i]));
        return false;
      }
    }
  }
  return true;
}

// Restores the engine's default thread count, whatever a test sets.
struct ThreadsGuard {
  ~ThreadsGuard() { wengert::set_engine_threads(std::max(1u, std::thread::hardware_concurrency())); }
};

}  // namespace wt
