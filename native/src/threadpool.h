// The engine's own threads, shared by the whole process (every Node environment and worker):
// kernels split large work over them (parallel.h) and asynchronous jobs run on them
// (async_job.h), so wengert never occupies libuv's pool, which services need for I/O.
//
// How `threads` (N, set by set_engine_threads; default: the number of cores) bounds the work:
//   - N background threads run queued jobs, so at most N jobs run at once; the others wait in
//     the queue in submission order. With N = 1 one background thread runs the jobs one by one.
//   - A kernel splitting its work (Parallel::run) uses the calling thread plus up to N - 1 idle
//     background threads; with N = 1 kernels run serially. Splitting work has priority over
//     starting queued jobs, and a call made from inside a chunk runs serially (no deadlock).
//   - Lowering N parks the extra threads (they finish what they are doing first); raising it
//     starts or wakes threads. The threads are never joined: they wait on a condition variable
//     for the life of the process and the pool itself is never destroyed, so exit never waits
//     on (or tears down under) a running job.
#pragma once

#include <functional>

#include "parallel.h"

namespace wengert {

// The process-wide pool, sized by set_engine_threads (wg.configure({ threads })).
const Parallel& engine_threads();

// Sets how many threads engine_threads() uses (>= 1), the calling thread included. Returns false
// (and changes nothing) for 0 or more than 256.
bool set_engine_threads(unsigned n);

// The largest value set_engine_threads accepts.
inline constexpr unsigned kMaxEngineThreads = 256;

// Queues `job` to run once on a background thread of the pool (never on the caller's thread).
// The job must not throw. Throws std::bad_alloc if the job cannot be queued (nothing is queued).
void submit_job(std::function<void()> job);

}  // namespace wengert
