// Work that runs off the JavaScript thread and settles a promise on it: asynchronous runs,
// optimizations, batches of fits. Every asynchronous entry point is an AsyncJob subclass started
// by start_job, so threads, cancellation and progress are handled in one place.
#pragma once

#include <napi.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "status.h"

namespace wengert {

class AsyncJob {
 public:
  AsyncJob() = default;
  AsyncJob(const AsyncJob&) = delete;
  AsyncJob& operator=(const AsyncJob&) = delete;
  virtual ~AsyncJob() = default;

  // Off the JS thread. Must not throw and must not touch JavaScript values. Long work polls
  // cancelled() at safe points and then returns ErrorCode::aborted.
  virtual Status execute() = 0;

  // On the JS thread once execute() returned ok: the value the promise resolves with (undefined
  // unless overridden). A thrown Napi::Error rejects the promise instead.
  virtual Napi::Value result(Napi::Env env) { return env.Undefined(); }

  // Whether the caller's AbortSignal fired (or the environment is shutting down).
  bool cancelled() const { return cancel_.load(std::memory_order_relaxed); }
  const std::atomic<bool>* cancel_flag() const { return &cancel_; }
  void cancel() { cancel_.store(true, std::memory_order_relaxed); }

  // From execute(): the work done so far. Delivered to the caller's onProgress on the JS thread;
  // reports are coalesced (at most one delivery is queued at a time, and it reads the latest
  // values when it runs), and the latest report always arrives before the promise settles.
  // Thread-safe; lock-free unless a delivery has to be queued.
  void report_progress(uint64_t done, uint64_t total) {
    progress_total_.store(total, std::memory_order_relaxed);
    progress_done_.store(done, std::memory_order_release);
    if (notify_ != nullptr && !progress_posted_.exchange(true, std::memory_order_acq_rel)) notify_(notify_ctx_);
  }
  uint64_t progress_done() const { return progress_done_.load(std::memory_order_acquire); }
  uint64_t progress_total() const { return progress_total_.load(std::memory_order_relaxed); }

  // JS objects (typed arrays read by execute()) kept alive until the promise settles.
  void keep_alive(Napi::Env env, Napi::Value v);

  // The references taken by keep_alive, in order, released when the promise settles (JS thread).
  std::vector<napi_ref>& refs() { return refs_; }

  // For start_job: how report_progress asks for a delivery, and the flag a delivery clears
  // before it reads the values.
  void set_progress_notifier(void (*notify)(void*), void* ctx) {
    notify_ = notify;
    notify_ctx_ = ctx;
  }
  void progress_delivered() { progress_posted_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> cancel_{false};
  std::atomic<uint64_t> progress_done_{0};
  std::atomic<uint64_t> progress_total_{0};
  std::atomic<bool> progress_posted_{false};
  void (*notify_)(void*) = nullptr;
  void* notify_ctx_ = nullptr;
  std::vector<napi_ref> refs_;
};

// Starts `job` on the engine's thread pool (threadpool.h: never the JS thread, never libuv's pool)
// and returns its promise (JS thread). `options` is undefined or an object with
//   signal:     an AbortSignal. Already aborted: the promise rejects at once and the job never
//               runs. When it fires later, cancelled() turns true; a job still queued is dropped
//               and its promise rejects at once; a running job stops at its next safe point and
//               the promise rejects when it has (its memory returned). Either way the rejection is
//               an error with code WENGERT_ABORTED and name "AbortError", also when the job had
//               just finished its work.
//   onProgress: a function called with { done, total } from report_progress. If it throws, the
//               job is cancelled and the promise rejects with what it threw.
// The promise settles on the JS thread of the environment that started the job. If that
// environment is torn down first (a worker exits), the job is cancelled, its promise is
// abandoned, and everything it holds is freed when its thread lets go of it.
// Never throws: a failure to start rejects the returned promise.
Napi::Value start_job(Napi::Env env, std::unique_ptr<AsyncJob> job, Napi::Value options);

}  // namespace wengert
