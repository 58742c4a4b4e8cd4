// Emits the docs/FORMAT.md bytes of a graph, CRC included. It checks nothing, so negative tests
// can build any malformed graph by setting record fields directly.
#pragma once

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <vector>

#include "format.h"

namespace wt {

using wengert::DType;
using wengert::OpCode;

struct ArgRec {
  uint8_t dtype = 0;
  uint16_t reserved = 0;
  std::vector<uint32_t> dims;
};

struct NodeRec {
  uint16_t opcode = 0;
  uint8_t dtype = 0;
  uint8_t reserved = 0;
  std::vector<uint32_t> dims;
  std::vector<uint32_t> inputs;
  std::vector<int64_t> iattrs;
  std::vector<double> fattrs;
};

inline void put_u8(std::vector<uint8_t>& b, uint8_t v) { b.push_back(v); }
inline void put_u16(std::vector<uint8_t>& b, uint16_t v) {
  for (int i = 0; i < 2; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
inline void put_u32(std::vector<uint8_t>& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
inline void put_u64(std::vector<uint8_t>& b, uint64_t v) {
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
inline void set_u32(std::vector<uint8_t>& b, std::size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}
// Recomputes the CRC field (bytes 12..15) over bytes [16, size).
inline void fix_crc(std::vector<uint8_t>& b) {
  if (b.size() >= 16) set_u32(b, 12, wengert::crc32(b.data() + 16, b.size() - 16));
}

class GraphBuilder {
 public:
  std::vector<ArgRec> args;
  std::vector<NodeRec> nodes;
  std::vector<uint32_t> outputs;
  std::vector<uint8_t> pool;

  uint32_t arg(DType t, std::vector<uint32_t> dims) {
    args.push_back(ArgRec{static_cast<uint8_t>(t), 0, std::move(dims)});
    return static_cast<uint32_t>(args.size() - 1);
  }
  // An arg and the input node reading it.
  uint32_t input(DType t, std::vector<uint32_t> dims) {
    const uint32_t a = arg(t, dims);
    return node(OpCode::input, t, std::move(dims), {}, {int64_t{a}});
  }
  uint32_t constant(DType t, std::vector<uint32_t> dims, const std::vector<double>& values) {
    while (pool.size() % 8 != 0) pool.push_back(0xAB);
    const std::size_t off = pool.size();
    for (double v : values) {
      if (t == DType::f64) {
        uint64_t u;
        std::memcpy(&u, &v, 8);
        put_u64(pool, u);
      } else {
        const float f = static_cast<float>(v);
        uint32_t u;
        std::memcpy(&u, &f, 4);
        put_u32(pool, u);
      }
    }
    return node(OpCode::constant, t, std::move(dims), {},
                {static_cast<int64_t>(off), static_cast<int64_t>(pool.size() - off)});
  }
  uint32_t node(OpCode op, DType t, std::vector<uint32_t> dims, std::vector<uint32_t> inputs,
                std::vector<int64_t> iattrs = {}) {
    NodeRec n;
    n.opcode = static_cast<uint16_t>(op);
    n.dtype = static_cast<uint8_t>(t);
    n.dims = std::move(dims);
    n.inputs = std::move(inputs);
    n.iattrs = std::move(iattrs);
    nodes.push_back(std::move(n));
    return static_cast<uint32_t>(nodes.size() - 1);
  }
  void output(uint32_t id) { outputs.push_back(id); }

  std::vector<uint8_t> bytes() const {
    std::vector<uint8_t> b;
    b.reserve(64);
    for (char ch : {'W', 'G', 'R', 'T'}) b.push_back(static_cast<uint8_t>(ch));
    put_u16(b, 1);
    put_u16(b, 0);
    put_u32(b, 0);  // byte_length, set below
    put_u32(b, 0);  // crc32, set below
    put_u32(b, static_cast<uint32_t>(args.size()));
    put_u32(b, static_cast<uint32_t>(nodes.size()));
    put_u32(b, static_cast<uint32_t>(outputs.size()));
    put_u32(b, static_cast<uint32_t>(pool.size()));
    for (const ArgRec& a : args) {
      put_u8(b, a.dtype);
      put_u8(b, static_cast<uint8_t>(a.dims.size()));
      put_u16(b, a.reserved);
      for (uint32_t d : a.dims) put_u32(b, d);
    }
    for (const NodeRec& n : nodes) {
      put_u16(b, n.opcode);
      put_u8(b, n.dtype);
      put_u8(b, static_cast<uint8_t>(n.dims.size()));
      put_u8(b, static_cast<uint8_t>(n.inputs.size()));
      put_u8(b, static_cast<uint8_t>(n.iattrs.size()));
      put_u8(b, static_cast<uint8_t>(n.fattrs.size()));
      put_u8(b, n.reserved);
      for (uint32_t d : n.dims) put_u32(b, d);
      for (uint32_t i : n.inputs) put_u32(b, i);
      for (int64_t v : n.iattrs) put_u64(b, static_cast<uint64_t>(v));
      for (double v : n.fattrs) {
        uint64_t u;
        std::memcpy(&u, &v, 8);
        put_u64(b, u);
      }
    }
    for (uint32_t o : outputs) put_u32(b, o);
    for (uint8_t v : pool) b.push_back(v);
    set_u32(b, 8, static_cast<uint32_t>(b.size()));
    fix_crc(b);
    return b;
  }
};

}  // namespace wt
