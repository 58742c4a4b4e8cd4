// The engine's own threads, shared by the whole process (every Node environment and worker):
// kernels split large work over them (parallel.h) and asynchronous jobs run on them
// (async_job.h), so wengert never occupies libuv's pool, which services need for I/O.
#pragma once

#include "parallel.h"

namespace wengert {

// The process-wide pool, sized by set_engine_threads (wg.configure({ threads })).
const Parallel& engine_threads();

// Sets how many threads engine_threads() uses (>= 1), the calling thread included. Returns false
// (and changes nothing) for 0 or more than 256.
bool set_engine_threads(unsigned n);

}  // namespace wengert
