// Runs the native tests: `wengert_native_tests [group...]` (no group: all). Also replaces the
// global operator new/delete with counting versions, so tests can assert that a steady-state run
// allocates nothing.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "test.h"

namespace {
std::atomic<uint64_t> g_allocations{0};
int g_failures = 0;
}  // namespace

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return ::operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return ::operator new(n, t); }
void* operator new(std::size_t n, std::align_val_t a) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  const std::size_t al = static_cast<std::size_t>(a);
  const std::size_t size = (n + al - 1) / al * al;
  if (void* p = std::aligned_alloc(al, size == 0 ? al : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return ::operator new(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace wt {

std::vector<TestCase>& registry() {
  static std::vector<TestCase> r;
  return r;
}

bool add_test(const char* group, const char* name, void (*fn)()) {
  registry().push_back(TestCase{group, name, fn});
  return true;
}

void fail(const char* file, int line, const std::string& what) {
  ++g_failures;
  std::fprintf(stderr, "  FAILED %s:%d: %s\n", file, line, what.c_str());
}

uint64_t allocation_count() { return g_allocations.load(std::memory_order_relaxed); }

}  // namespace wt

int main(int argc, char** argv) {
  int ran = 0, failed = 0;
  const auto t0 = std::chrono::steady_clock::now();
  // Groups run in the order given, so `simd_isa kernels fusion` checks the forced instruction set
  // first and a CPU without it is reported as skipped before the other groups run.
  std::vector<const wt::TestCase*> order;
  for (int i = 1; i < argc; ++i) {
    for (const wt::TestCase& t : wt::registry()) {
      if (std::strcmp(argv[i], t.group) == 0) order.push_back(&t);
    }
  }
  if (argc < 2) {
    for (const wt::TestCase& t : wt::registry()) order.push_back(&t);
  }
  for (const wt::TestCase* tc : order) {
    const wt::TestCase& t = *tc;
    const int before = g_failures;
    t.fn();
    ++ran;
    if (g_failures != before) {
      ++failed;
      std::printf("FAIL %s.%s\n", t.group, t.name);
    } else {
      std::printf("ok   %s.%s\n", t.group, t.name);
    }
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%d tests, %d failed (%.0f ms)\n", ran, failed, ms);
  if (ran == 0) {
    std::printf("no tests matched\n");
    return 1;
  }
  return failed == 0 ? 0 : 1;
}
