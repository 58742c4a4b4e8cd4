// The fuzzer's oracle, shared by the libFuzzer target (fuzz_graph.cpp) and the regression tests
// (native/test/test_fuzz_regressions.cpp), so a crash input replayed as a test is checked exactly
// as the fuzzer checked it. check_graph_bytes compiles the bytes and, when they compile, runs the
// program twice on inputs derived from the bytes; it returns "" when the engine behaved, else what
// it did wrong (memory errors and undefined behaviour are the sanitizers' to report):
//   - compile failed with a code other than bad_graph or arena_limit, or without a message;
//   - a run failed with a code other than index_out_of_range (the only run-time failure data can
//     cause: index inputs here are arbitrary int32 values);
//   - the two runs disagree: a different status, or different output bytes (a kernel read memory
//     it never wrote, or depends on something other than its inputs), or a write past an output.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "format.h"
#include "program.h"
#include "status.h"

namespace wengert::fuzz {

// Small enough that nothing the fuzzer builds runs out of memory or takes long to run.
inline constexpr std::size_t kMaxArenaBytes = std::size_t{1} << 18;  // 256 KiB
// Inputs and outputs live outside the arena; graphs whose buffers need more are compiled only.
inline constexpr uint64_t kMaxIoElements = uint64_t{1} << 15;
inline constexpr uint8_t kGuard = 0xA5;

// A deterministic stream of values derived from the input bytes.
class Stream {
 public:
  Stream(const uint8_t* data, std::size_t size) {
    uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
    for (std::size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 0x100000001b3ull;
    state_ = h | 1;
  }
  uint64_t next() {  // xorshift64*
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1Dull;
  }
  // Mostly small values; now and then ±0, a huge value, a subnormal, an infinity or a NaN.
  double real() {
    const uint64_t r = next();
    switch (r % 32) {
      case 0: return 0.0;
      case 1: return -0.0;
      case 2: return 1e308;
      case 3: return -1e-310;
      case 4: return __builtin_inf();
      case 5: return __builtin_nan("");
      default: return static_cast<double>(static_cast<int64_t>(r >> 40) % 2001 - 1000) / 250.0;
    }
  }
  // Mostly valid small indices; now and then negative or at the int32 limits.
  int32_t index() {
    const uint64_t r = next();
    switch (r % 16) {
      case 0: return -1;
      case 1: return INT32_MAX;
      case 2: return INT32_MIN;
      case 3: return static_cast<int32_t>(static_cast<uint32_t>(r >> 32));
      default: return static_cast<int32_t>((r >> 32) % 8);
    }
  }

 private:
  uint64_t state_;
};

// 8-byte aligned storage for `n` elements of `t`, filled from the stream.
inline std::vector<uint64_t> fill(DType t, uint64_t n, Stream& s) {
  std::vector<uint64_t> v(n == 0 ? 1 : n, 0);
  for (uint64_t i = 0; i < n; ++i) {
    switch (t) {
      case DType::f64: reinterpret_cast<double*>(v.data())[i] = s.real(); break;
      case DType::f32: reinterpret_cast<float*>(v.data())[i] = static_cast<float>(s.real()); break;
      case DType::i32: reinterpret_cast<int32_t*>(v.data())[i] = s.index(); break;
    }
  }
  return v;
}

// One run into fresh output buffers, each followed by a guard byte.
inline Status run_once(const Program& p, const std::vector<InputView>& in, std::vector<std::vector<uint8_t>>* out_bytes) {
  std::vector<OutputView> out;
  out_bytes->clear();
  out_bytes->reserve(p.output_specs().size());
  for (const IoSpec& spec : p.output_specs()) {
    out_bytes->emplace_back(spec.length * dtype_size(spec.dtype) + 1, kGuard);
    out.push_back(OutputView{out_bytes->back().data(), spec.dtype, spec.length});
  }
  return p.run(in, out);
}

inline std::string describe(const char* what, const Status& s) {
  return std::string(what) + ": " + error_code_name(s.code) + ": " + s.message;
}

// "" if the engine handled these bytes correctly, else what went wrong. `compiled` (optional)
// receives the compile status, `ran` whether the program was run.
inline std::string check_graph_bytes(const uint8_t* data, std::size_t size, Status* compiled = nullptr, bool* ran = nullptr) {
  if (ran != nullptr) *ran = false;
  std::shared_ptr<const Program> program;
  const Status cs = Program::compile(data, size, kMaxArenaBytes, &program);
  if (compiled != nullptr) *compiled = cs;
  if (!cs.ok()) {
    if (cs.code != ErrorCode::bad_graph && cs.code != ErrorCode::arena_limit) return describe("compile", cs);
    if (cs.message.empty()) return describe("compile failed without a message", cs);
    return "";
  }

  uint64_t io = 0;
  for (const IoSpec& s : program->arg_specs()) io += s.length;
  for (const IoSpec& s : program->output_specs()) io += s.length;
  if (io > kMaxIoElements) return "";

  Stream stream(data, size);
  std::vector<std::vector<uint64_t>> storage;
  std::vector<InputView> in;
  storage.reserve(program->arg_specs().size());
  for (const IoSpec& s : program->arg_specs()) {
    storage.push_back(fill(s.dtype, s.length, stream));
    in.push_back(InputView{storage.back().data(), s.dtype, s.length});
  }

  if (ran != nullptr) *ran = true;
  std::vector<std::vector<uint8_t>> first, second;
  const Status r1 = run_once(*program, in, &first);
  if (!r1.ok() && r1.code != ErrorCode::index_out_of_range) return describe("run", r1);
  // The second run reuses the pooled arena the first one returned, holding its values.
  const Status r2 = run_once(*program, in, &second);
  if (r2.code != r1.code || r2.message != r1.message) return describe("a second run failed differently", r2);
  if (!r1.ok()) return "";
  for (std::size_t o = 0; o < first.size(); ++o) {
    if (first[o].back() != kGuard || second[o].back() != kGuard) return "a run wrote past the end of output " + std::to_string(o);
    if (first[o] != second[o]) return "output " + std::to_string(o) + " differs between two runs on the same inputs";
  }
  return "";
}

}  // namespace wengert::fuzz
