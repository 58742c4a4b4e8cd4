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
  // reports may be coalesced (only the latest one is sure to arrive, and it arrives before the
  // promise settles). Thread-safe and allocation-free.
  void report_progress(uint64_t done, uint64_t total) {
    progress_total_.store(total, std::memory_order_relaxed);
    progress_done_.store(done, std::memory_order_release);
  }
  uint64_t progress_done() const { return progress_done_.load(std::memory_order_acquire); }
  uint64_t progress_total() const { return progress_total_.load(std::memory_order_relaxed); }

  // JS objects (typed arrays read by execute()) kept alive until the promise settles.
  void keep_alive(Napi::Env env, Napi::Value v);

  // The references taken by keep_alive, released by start_job's completion (JS thread).
  std::vector<napi_ref>& refs() { return refs_; }

 private:
  std::atomic<bool> cancel_{false};
  std::atomic<uint64_t> progress_done_{0};
  std::atomic<uint64_t> progress_total_{0};
  std::vector<napi_ref> refs_;
};

// Starts `job` and returns its promise (JS thread). `options` is undefined or an object with
//   signal:     an AbortSignal; when it fires, cancelled() turns true and the promise rejects with
//               an error whose code is WENGERT_ABORTED (name "AbortError");
//   onProgress: a function called with { done, total } from report_progress.
// Never throws: a failure to start rejects the returned promise.
Napi::Value start_job(Napi::Env env, std::unique_ptr<AsyncJob> job, Napi::Value options);

}  // namespace wengert
