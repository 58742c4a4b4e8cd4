// The serialized graph format, version 1 (docs/FORMAT.md): an untrusted byte buffer in, a
// validated in-memory graph out. parse_graph checks every rule of FORMAT.md before it reserves
// storage from a count, never reads outside the buffer, and reports the first rule broken as a
// Status naming the byte offset, the node and its op.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "generated/ops.h"
#include "status.h"

namespace wengert {

inline constexpr uint16_t kFormatVersion = 1;
inline constexpr std::size_t kHeaderBytes = 32;
inline constexpr int kMaxRank = 8;
inline constexpr uint32_t kMaxDim = 0x7fffffffu;
// Element counts beyond 2^53 - 1 are not exact JavaScript numbers; they count as overflow.
inline constexpr uint64_t kMaxElements = (uint64_t{1} << 53) - 1;
// The most inputs any op may have; every op in ops.json is checked against it at compile time.
inline constexpr int kMaxInputs = 4;

consteval bool all_arities_fit() {
  for (const OpInfo& op : kOps) {
    if (op.arity > kMaxInputs) return false;
  }
  return true;
}
static_assert(all_arities_fit(), "an op in ops.json has more inputs than kMaxInputs");

enum class DType : uint8_t { f64 = 0, f32 = 1, i32 = 2 };

inline std::size_t dtype_size(DType t) { return t == DType::f64 ? 8 : 4; }
const char* dtype_name(DType t);

struct Shape {
  uint8_t rank = 0;
  std::array<uint32_t, kMaxRank> dims{};

  // Product of the dims (1 for rank 0). Only meaningful for validated shapes.
  uint64_t numel() const;
  bool operator==(const Shape& o) const;
  std::string str() const;  // "[3,4]"
};

struct Arg {
  DType dtype = DType::f64;
  Shape shape;
  uint64_t numel = 0;
};

// Fields ordered largest alignment first, the one-byte ones last, so a node takes 96 bytes, not
// 104 with padding: compiling walks arrays of hundreds of thousands of them.
struct Node {
  const OpInfo* op = nullptr;
  uint64_t numel = 0;
  uint64_t bytes = 0;  // numel * dtype_size, overflow-checked
  Shape shape;
  std::array<uint32_t, kMaxInputs> inputs{};
  uint32_t iattr_begin = 0;  // index into Graph::iattrs
  uint32_t fattr_begin = 0;  // index into Graph::fattrs
  uint32_t offset = 0;       // byte offset of the node's record in the buffer
  DType dtype = DType::f64;
  uint8_t n_inputs = 0;
  uint8_t n_iattrs = 0;
  uint8_t n_fattrs = 0;

  OpCode code() const { return static_cast<OpCode>(op->code); }
};
static_assert(sizeof(Node) <= 96, "Node has padding again: keep the fields largest alignment first");

struct Graph {
  std::vector<Arg> args;
  std::vector<Node> nodes;
  std::vector<uint32_t> outputs;
  std::vector<int64_t> iattrs;
  std::vector<double> fattrs;
  // The constant pool, borrowed from the parsed buffer: valid only while that buffer lives.
  const uint8_t* pool = nullptr;
  std::size_t pool_length = 0;

  const int64_t* iattrs_of(const Node& n) const { return iattrs.data() + n.iattr_begin; }
};

// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320, initial and final xor 0xFFFFFFFF).
uint32_t crc32(const uint8_t* data, std::size_t size);

// Parses and validates `size` bytes at `data`. On failure returns code bad_graph and leaves
// `out` unspecified. `out->pool` points into `data`.
Status parse_graph(const uint8_t* data, std::size_t size, Graph* out);

}  // namespace wengert
