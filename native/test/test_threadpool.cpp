// The engine's thread pool: every chunk of a split runs exactly once, nested splits run serially,
// concurrent splits and jobs do not interfere, `threads` bounds how many jobs run at once, and a
// split allocates nothing.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "test.h"
#include "threadpool.h"

namespace wt {
namespace {

using wengert::engine_threads;
using wengert::set_engine_threads;
using wengert::submit_job;

unsigned default_threads() {
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : (hw > 256 ? 256 : hw);
}

// Restores the default size when a test ends.
struct SizeGuard {
  ~SizeGuard() { set_engine_threads(default_threads()); }
};

// Waits (bounded) until `pred` holds.
template <class P>
bool eventually(P pred, int ms = 20000) {
  for (int i = 0; i < ms; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return pred();
}

TEST(threadpool, rejects_sizes_out_of_range) {
  SizeGuard g;
  CHECK(!set_engine_threads(0));
  CHECK(!set_engine_threads(257));
  CHECK(set_engine_threads(3));
  CHECK_EQ(engine_threads().threads(), 3u);
  CHECK(set_engine_threads(256));
  CHECK_EQ(engine_threads().threads(), 256u);
}

TEST(threadpool, every_chunk_runs_once_for_any_size) {
  SizeGuard g;
  for (unsigned threads : {1u, 2u, 3u, 8u}) {
    REQUIRE(set_engine_threads(threads));
    for (uint64_t n : {0ull, 1ull, 2ull, 7ull, 100ull, 5000ull}) {
      std::vector<std::atomic<int>> hits(n);
      wengert::parallel_for(&engine_threads(), n, [&](uint64_t i) { hits[i].fetch_add(1); });
      int bad = 0;
      for (auto& h : hits) bad += h.load() != 1;
      CHECK_EQ(bad, 0);
    }
  }
}

TEST(threadpool, a_split_uses_several_threads) {
  SizeGuard g;
  REQUIRE(set_engine_threads(4));
  std::mutex m;
  std::set<std::thread::id> ids;
  wengert::parallel_for(&engine_threads(), 200, [&](uint64_t) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::lock_guard<std::mutex> lock(m);
    ids.insert(std::this_thread::get_id());
  });
  CHECK(ids.count(std::this_thread::get_id()) == 1);  // the caller participates
  CHECK(ids.size() >= 2);
}

TEST(threadpool, nested_splits_run_serially_without_deadlock) {
  SizeGuard g;
  REQUIRE(set_engine_threads(4));
  std::atomic<uint64_t> sum{0};
  wengert::parallel_for(&engine_threads(), 16, [&](uint64_t i) {
    const std::thread::id outer = std::this_thread::get_id();
    wengert::parallel_for(&engine_threads(), 32, [&](uint64_t j) {
      CHECK(std::this_thread::get_id() == outer);
      sum.fetch_add(i * 32 + j);
    });
  });
  CHECK_EQ(sum.load(), uint64_t{512 * 511 / 2});
}

TEST(threadpool, concurrent_splits_from_many_threads) {
  SizeGuard g;
  REQUIRE(set_engine_threads(3));
  std::vector<std::thread> callers;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 6; ++t) {
    callers.emplace_back([&, t] {
      for (int rep = 0; rep < 50; ++rep) {
        const uint64_t n = 10 + static_cast<uint64_t>(t * 7 + rep);
        std::vector<uint64_t> out(n, 0);
        wengert::parallel_for(&engine_threads(), n, [&](uint64_t i) { out[i] = i * i + static_cast<uint64_t>(t); });
        for (uint64_t i = 0; i < n; ++i) wrong += out[i] != i * i + static_cast<uint64_t>(t);
      }
    });
  }
  for (auto& c : callers) c.join();
  CHECK_EQ(wrong.load(), 0);
}

TEST(threadpool, a_split_allocates_nothing) {
  SizeGuard g;
  REQUIRE(set_engine_threads(2));
  std::atomic<uint64_t> sum{0};
  wengert::parallel_for(&engine_threads(), 64, [&](uint64_t i) { sum += i; });  // warm-up starts the threads
  const uint64_t before = allocation_count();
  for (int rep = 0; rep < 100; ++rep) wengert::parallel_for(&engine_threads(), 64, [&](uint64_t i) { sum += i; });
  CHECK_EQ(allocation_count() - before, uint64_t{0});
  CHECK_EQ(sum.load(), uint64_t{101 * 64 * 63 / 2});
}

// Job state lives on the heap, shared with the jobs: a job still queued when a check gives up
// must not write into a returned stack frame.
struct JobState {
  std::atomic<int> done{0}, on_caller{0}, running{0}, peak{0};
  std::atomic<uint64_t> sum{0};
};

TEST(threadpool, jobs_run_off_the_caller_thread_and_all_complete) {
  SizeGuard g;
  REQUIRE(set_engine_threads(2));
  auto st = std::make_shared<JobState>();
  const std::thread::id me = std::this_thread::get_id();
  for (int i = 0; i < 1000; ++i) {
    submit_job([st, me] {
      st->on_caller += std::this_thread::get_id() == me;
      st->done.fetch_add(1);
    });
  }
  CHECK(eventually([&] { return st->done.load() == 1000; }));
  CHECK_EQ(st->on_caller.load(), 0);
}

// With N threads at most N jobs run at once.
void check_job_concurrency(unsigned threads) {
  REQUIRE(set_engine_threads(threads));
  auto st = std::make_shared<JobState>();
  for (int i = 0; i < 24; ++i) {
    submit_job([st] {
      const int now = st->running.fetch_add(1) + 1;
      int p = st->peak.load();
      while (now > p && !st->peak.compare_exchange_weak(p, now)) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      st->running.fetch_sub(1);
      st->done.fetch_add(1);
    });
  }
  CHECK(eventually([&] { return st->done.load() == 24; }));
  CHECK(st->peak.load() >= 1);
  CHECK(st->peak.load() <= static_cast<int>(threads));
}

TEST(threadpool, threads_bound_concurrent_jobs) {
  SizeGuard g;
  check_job_concurrency(1);
  check_job_concurrency(3);
}

// Regression: after shrinking, a job's wake-up must reach a thread that may run it, not only a
// parked one.
TEST(threadpool, jobs_run_after_shrinking) {
  SizeGuard g;
  REQUIRE(set_engine_threads(8));
  wengert::parallel_for(&engine_threads(), 64, [](uint64_t) { std::this_thread::sleep_for(std::chrono::microseconds(200)); });
  REQUIRE(set_engine_threads(1));
  for (int i = 0; i < 50; ++i) {
    auto st = std::make_shared<JobState>();
    submit_job([st] { st->done.store(1); });
    CHECK(eventually([&] { return st->done.load() == 1; }, 5000));
  }
}

TEST(threadpool, a_job_may_split_its_work) {
  SizeGuard g;
  REQUIRE(set_engine_threads(3));
  auto st = std::make_shared<JobState>();
  for (int j = 0; j < 8; ++j) {
    submit_job([st] {
      wengert::parallel_for(&engine_threads(), 100, [&](uint64_t i) { st->sum += i; });
      st->done.fetch_add(1);
    });
  }
  CHECK(eventually([&] { return st->done.load() == 8; }));
  CHECK_EQ(st->sum.load(), uint64_t{8 * 100 * 99 / 2});
}

}  // namespace
}  // namespace wt
