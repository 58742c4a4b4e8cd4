// How a kernel splits its work across the engine's threads. The caller chooses the chunks from
// the problem size alone (never from the thread count) and combines per-chunk results in chunk
// order, so a program gives bit-identical results for any number of threads. A null Parallel
// means "run serially on the calling thread"; kernels must work with it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <utility>

namespace wengert {

class Parallel {
 public:
  virtual ~Parallel() = default;
  // How many threads may run chunks at once (>= 1), the calling thread included.
  virtual unsigned threads() const = 0;
  // Calls fn(ctx, i) once for every i in [0, n), on the calling thread and up to threads() - 1
  // others, and returns when all calls have returned. fn must not throw. Nested calls (from inside
  // fn) are allowed and run serially.
  virtual void run(uint64_t n, void (*fn)(void* ctx, uint64_t i), void* ctx) const = 0;
};

// Runs f(i) for i in [0, n): on `parallel`'s threads when there is one and more than one chunk,
// otherwise in order on this thread.
template <class F>
void parallel_for(const Parallel* parallel, uint64_t n, F&& f) {
  if (parallel == nullptr || n <= 1 || parallel->threads() <= 1) {
    for (uint64_t i = 0; i < n; ++i) f(i);
    return;
  }
  using Fn = std::remove_reference_t<F>;
  parallel->run(
      n, [](void* ctx, uint64_t i) { (*static_cast<Fn*>(ctx))(i); }, const_cast<void*>(static_cast<const void*>(&f)));
}

// Elementwise work over at least kSplitMin elements is split into chunks of kChunk elements (a
// constant, never derived from the thread count); smaller work runs as one chunk.
inline constexpr uint64_t kChunk = 16384;
inline constexpr uint64_t kSplitMin = 2 * kChunk;

// A full reduction of at least kSplitMin elements sums chunks of full_reduce_chunk(n) elements
// into at most kMaxPartials partials (on the threads), then combines the partials in chunk order.
// The chunk is a multiple of kChunk, chosen from n alone.
inline constexpr uint64_t kMaxPartials = 256;
inline uint64_t full_reduce_chunk(uint64_t n) {
  uint64_t chunk = kChunk;
  if ((n + chunk - 1) / chunk > kMaxPartials) {
    chunk = (n + kMaxPartials - 1) / kMaxPartials;
    chunk = (chunk + kChunk - 1) / kChunk * kChunk;
  }
  return chunk;
}

// Calls f(begin, end) over [0, n) in chunks of kChunk elements (on `parallel`'s threads), or once
// with (0, n) when n < kSplitMin. For work where each element is computed independently.
template <class F>
void for_chunks(const Parallel* parallel, uint64_t n, F&& f) {
  if (n < kSplitMin) {
    if (n != 0) f(uint64_t{0}, n);
    return;
  }
  parallel_for(parallel, (n + kChunk - 1) / kChunk, [&](uint64_t k) {
    const uint64_t b = k * kChunk;
    f(b, std::min(n, b + kChunk));
  });
}

}  // namespace wengert
