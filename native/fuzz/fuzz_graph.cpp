// libFuzzer target over the engine's untrusted-input path: bytes → parse_graph (via
// Program::compile) → memory plan → two runs. Built by the WENGERT_FUZZ block of CMakeLists.txt
// with clang, -fsanitize=fuzzer,address,undefined; run by scripts/fuzz.mjs (docs/RELIABILITY.md).
//
// What counts as a finding, besides every ASan/UBSan report (which aborts): fuzz_check.h.
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
#include <string>

#include "fuzz_check.h"

namespace {

void store_u32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string wrong = wengert::fuzz::check_graph_bytes(data, size);
  if (!wrong.empty()) {
    std::fprintf(stderr, "fuzz_graph: %s\n", wrong.c_str());
    std::abort();
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
