#include "threadpool.h"

#include <atomic>

namespace wengert {

namespace {

// Runs every chunk on the calling thread, in order.
class SerialPool final : public Parallel {
 public:
  unsigned threads() const override { return 1; }
  void run(uint64_t n, void (*fn)(void* ctx, uint64_t i), void* ctx) const override {
    for (uint64_t i = 0; i < n; ++i) fn(ctx, i);
  }
};

}  // namespace

const Parallel& engine_threads() {
  static const SerialPool pool;
  return pool;
}

bool set_engine_threads(unsigned n) { return n == 1; }

}  // namespace wengert
