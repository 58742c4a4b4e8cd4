#include "threadpool.h"

#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#endif

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace wengert {

namespace {

// Set on a thread while it runs a chunk of a Parallel::run: a nested run is done serially.
thread_local bool t_in_chunk = false;

// One Parallel::run in progress. Lives on the caller's stack; helpers find it through the pool's
// list of split tasks and never touch it after it leaves the list and `active` drops to zero.
struct SplitTask {
  uint64_t n = 0;
  void (*fn)(void*, uint64_t) = nullptr;
  void* ctx = nullptr;
  std::atomic<uint64_t> next{0};
  // Guarded by the pool's mutex.
  unsigned wanted = 0;  // helpers still to recruit
  unsigned active = 0;  // helpers working on it now
  bool listed = false;
  SplitTask* prev = nullptr;
  SplitTask* link = nullptr;

  // Claims and runs chunks until none are left.
  void work() {
    for (uint64_t i = next.fetch_add(1, std::memory_order_relaxed); i < n; i = next.fetch_add(1, std::memory_order_relaxed)) {
      fn(ctx, i);
    }
  }
};

class Pool final : public Parallel {
 public:
  Pool() {
    const unsigned hw = std::thread::hardware_concurrency();
    target_ = hw == 0 ? 1 : (hw > kMaxEngineThreads ? kMaxEngineThreads : hw);
  }

  unsigned threads() const override { return target_.load(std::memory_order_relaxed); }

  void run(uint64_t n, void (*fn)(void* ctx, uint64_t i), void* ctx) const override {
    const_cast<Pool*>(this)->split(n, fn, ctx);
  }

  bool resize(unsigned n) {
    if (n == 0 || n > kMaxEngineThreads) return false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      target_.store(n, std::memory_order_relaxed);
    }
    wake_.notify_all();
    return true;
  }

  void submit(std::function<void()> job) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      jobs_.push_back(std::move(job));
      ensure_started_locked();
    }
    // All: a parked thread (index >= target) may be the one a single notification would wake.
    wake_.notify_all();
  }

 private:
  void split(uint64_t n, void (*fn)(void*, uint64_t), void* ctx) {
    const unsigned threads = target_.load(std::memory_order_relaxed);
    if (t_in_chunk || n <= 1 || threads <= 1) {
      for (uint64_t i = 0; i < n; ++i) fn(ctx, i);
      return;
    }
    SplitTask task;
    task.n = n;
    task.fn = fn;
    task.ctx = ctx;
    const uint64_t helpers = n - 1 < threads - 1 ? n - 1 : threads - 1;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      task.wanted = static_cast<unsigned>(helpers);
      link_locked(&task);
      ensure_started_locked();
    }
    wake_.notify_all();
    t_in_chunk = true;
    task.work();
    t_in_chunk = false;
    std::unique_lock<std::mutex> lock(mutex_);
    if (task.listed) unlink_locked(&task);  // no more helpers may join
    done_.wait(lock, [&] { return task.active == 0; });
  }

  void link_locked(SplitTask* t) {
    t->listed = true;
    t->prev = tail_;
    t->link = nullptr;
    if (tail_) tail_->link = t;
    else head_ = t;
    tail_ = t;
  }

  void unlink_locked(SplitTask* t) {
    if (t->prev) t->prev->link = t->link;
    else head_ = t->link;
    if (t->link) t->link->prev = t->prev;
    else tail_ = t->prev;
    t->listed = false;
  }

  // Starts background threads up to the target (threads are started lazily, never stopped).
  void ensure_started_locked() {
    const unsigned want = target_.load(std::memory_order_relaxed);
    while (started_ < want) {
      start_worker(started_);
      ++started_;
    }
  }

  // Starts background thread `index`, detached. Kernels keep working buffers on the stack (the
  // GEMM packs about 224 KiB of panels there), so on POSIX the thread asks for a 4 MiB stack
  // rather than the platform default (128 KiB on musl); elsewhere std::thread's default (1 MiB or
  // more) is enough.
  void start_worker(unsigned index) {
#if defined(__unix__) || defined(__APPLE__)
    struct Start {
      Pool* pool;
      unsigned index;
    };
    auto* start = new Start{this, index};
    pthread_attr_t attr;
    bool started = false;
    if (pthread_attr_init(&attr) == 0) {
      pthread_t thread;
      started = pthread_attr_setstacksize(&attr, std::size_t{4} << 20) == 0 &&
                pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0 &&
                pthread_create(
                    &thread, &attr,
                    [](void* arg) -> void* {
                      std::unique_ptr<Start> s(static_cast<Start*>(arg));
                      s->pool->worker(s->index);
                      return nullptr;
                    },
                    start) == 0;
      pthread_attr_destroy(&attr);
    }
    if (started) return;
    delete start;
#endif
    std::thread(&Pool::worker, this, index).detach();
  }

  void worker(unsigned index) {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return index < target_.load(std::memory_order_relaxed) && (head_ != nullptr || !jobs_.empty()); });
      if (SplitTask* t = head_) {
        ++t->active;
        if (--t->wanted == 0) unlink_locked(t);
        lock.unlock();
        t_in_chunk = true;
        t->work();
        t_in_chunk = false;
        lock.lock();
        if (--t->active == 0) done_.notify_all();
        continue;
      }
      std::function<void()> job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
      job = nullptr;  // destroy what the job owns outside the lock
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::atomic<unsigned> target_{1};
  unsigned started_ = 0;
  SplitTask* head_ = nullptr;
  SplitTask* tail_ = nullptr;
  std::deque<std::function<void()>> jobs_;
};

// Never destroyed: background threads may still be waiting (or finishing a job) at exit.
Pool& pool() {
  static Pool* const p = new Pool();
  return *p;
}

}  // namespace

const Parallel& engine_threads() { return pool(); }

bool set_engine_threads(unsigned n) { return pool().resize(n); }

void submit_job(std::function<void()> job) { pool().submit(std::move(job)); }

}  // namespace wengert
