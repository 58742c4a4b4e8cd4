// libFuzzer target over the engine's untrusted-input path: bytes → parse_graph (via
// Program::compile) → memory plan → one run. Built by the WENGERT_FUZZ block of CMakeLists.txt
// with clang, -fsanitize=fuzzer,address,undefined; run by scripts/fuzz.mjs (docs/RELIABILITY.md).
//
// What counts as a finding (besides every ASan/UBSan report, which aborts):
//   - compile fails with a code other than bad_graph or arena_limit;
//   - a compiled graph's run fails with a code other than index_out_of_range (the only run-time
//     failure data can cause: index inputs here are arbitrary int32 values);
//   - two runs of one program on the same inputs give different output bytes (a kernel read
//     memory it never wrote, or depends on something other than its inputs).
//
// The CRC-32 in the header rejects almost every mutation, so a plain byte fuzzer would never get
// past it. LLVMFuzzerCustomMutator below mutates with libFuzzer's own mutators and then reseals
// the header: byte_length set to the new size, the CRC recomputed. The target itself checks the
// real, unmodified format, so every input in the corpus (and every crash file) is a graph file
// exactly as a user could pass it, and reproduces with the production parser alone. One mutation
// in 16 is left unsealed, so the header checks are exercised too.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "format.h"
#include "program.h"
#include "status.h"

namespace {

using wengert::DType;
using wengert::ErrorCode;

// Small enough that nothing the fuzzer builds runs out of memory or takes long to run.
constexpr std::size_t kMaxArenaBytes = std::size_t{1} << 18;  // 256 KiB
// Inputs and outputs live outside the arena; graphs whose buffers need more are compiled only.
constexpr uint64_t kMaxIoElements = uint64_t{1} << 15;
constexpr uint8_t kGuard = 0xA5;

[[noreturn]] void finding(const char* what, const wengert::Status& s) {
  std::fprintf(stderr, "fuzz_graph: %s: %s: %s\n", what, wengert::error_code_name(s.code), s.message.c_str());
  std::abort();
}

void store_u32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

// A deterministic stream of values derived from the input bytes.
class Stream {
 public:
  explicit Stream(const uint8_t* data, std::size_t size) {
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
  // Mostly small values; now and then 0, a huge value, an infinity or a NaN.
  double real() {
    const uint64_t r = next();
    switch (r % 32) {
      case 0: return 0.0;
      case 1: return -0.0;
      case 2: return 1e308;
      case 3: return -1e-310;  // subnormal
      case 4: return __builtin_inf();
      case 5: return __builtin_nan("");
      default: return static_cast<double>(static_cast<int64_t>(r >> 40) % 2001 - 1000) / 250.0;
    }
  }
  // Mostly valid small indices; now and then negative or near the int32 limits.
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
std::vector<uint64_t> fill(DType t, uint64_t n, Stream& s) {
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

// Runs the program once; returns its status and the output bytes.
wengert::Status run_once(const wengert::Program& p, const std::vector<wengert::InputView>& in,
                         std::vector<std::vector<uint8_t>>* out_bytes) {
  std::vector<wengert::OutputView> out;
  out_bytes->clear();
  out_bytes->reserve(p.output_specs().size());
  for (const wengert::IoSpec& spec : p.output_specs()) {
    // One guard byte past the output, which no run may touch.
    out_bytes->emplace_back(spec.length * wengert::dtype_size(spec.dtype) + 1, kGuard);
    out.push_back(wengert::OutputView{out_bytes->back().data(), spec.dtype, spec.length});
  }
  return p.run(in, out);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::shared_ptr<const wengert::Program> program;
  const wengert::Status cs = wengert::Program::compile(data, size, kMaxArenaBytes, &program);
  if (!cs.ok()) {
    if (cs.code != ErrorCode::bad_graph && cs.code != ErrorCode::arena_limit) finding("compile", cs);
    if (cs.message.empty()) finding("compile failed without a message", cs);
    return 0;
  }

  uint64_t io = 0;
  for (const wengert::IoSpec& s : program->arg_specs()) io += s.length;
  for (const wengert::IoSpec& s : program->output_specs()) io += s.length;
  if (io > kMaxIoElements) return 0;

  Stream stream(data, size);
  std::vector<std::vector<uint64_t>> storage;
  std::vector<wengert::InputView> in;
  storage.reserve(program->arg_specs().size());
  for (const wengert::IoSpec& s : program->arg_specs()) {
    storage.push_back(fill(s.dtype, s.length, stream));
    in.push_back(wengert::InputView{storage.back().data(), s.dtype, s.length});
  }

  std::vector<std::vector<uint8_t>> first, second;
  const wengert::Status r1 = run_once(*program, in, &first);
  if (!r1.ok() && r1.code != ErrorCode::index_out_of_range) finding("run", r1);
  // The second run reuses the pooled arena the first one returned, holding its values.
  const wengert::Status r2 = run_once(*program, in, &second);
  if (r2.code != r1.code || r2.message != r1.message) finding("a second run failed differently", r2);
  if (r1.ok()) {
    for (std::size_t o = 0; o < first.size(); ++o) {
      if (first[o].back() != kGuard || second[o].back() != kGuard) {
        std::fprintf(stderr, "fuzz_graph: a run wrote past the end of output %zu\n", o);
        std::abort();
      }
      if (first[o] != second[o]) {
        std::fprintf(stderr, "fuzz_graph: output %zu differs between two runs on the same inputs\n", o);
        std::abort();
      }
    }
  }
  return 0;
}

extern "C" std::size_t LLVMFuzzerMutate(uint8_t* data, std::size_t size, std::size_t max_size);

extern "C" std::size_t LLVMFuzzerCustomMutator(uint8_t* data, std::size_t size, std::size_t max_size,
                                               unsigned int seed) {
  size = LLVMFuzzerMutate(data, size, max_size);
  if (size >= wengert::kHeaderBytes && seed % 16 != 0) {
    store_u32(data + 8, static_cast<uint32_t>(size));
    store_u32(data + 12, wengert::crc32(data + 16, size - 16));
  }
  return size;
}
