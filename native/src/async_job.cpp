#include "async_job.h"

#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "napi_util.h"
#include "threadpool.h"

namespace wengert {

void AsyncJob::keep_alive(Napi::Env env, Napi::Value v) {
  napi_ref r = nullptr;
  NAPI_THROW_IF_FAILED_VOID(env, napi_create_reference(env, v, 1, &r));
  refs_.push_back(r);
}

namespace {

// What the pool thread posts to the JS thread through the thread-safe function.
char kProgressTag;
char kDoneTag;

enum State : int { queued, running, finished, dropped };

// One job in flight. Shared by the pool thread (which runs it), the thread-safe function (which
// carries its messages to the JS thread) and, weakly, the abort listener. Fields marked JS are
// touched only on the JS thread of `env`.
struct Flight {
  std::unique_ptr<AsyncJob> job;
  Status status;                // written by the pool thread before it posts kDoneTag
  std::atomic<int> state{queued};

  // The channel to the JS thread. `alive` turns false when Node finalizes the thread-safe
  // function (normally after the last message; at once when the environment is torn down), after
  // which it must not be used; `released` when the pool thread has let go of it.
  std::mutex channel_mutex;
  napi_threadsafe_function tsfn = nullptr;
  bool alive = false;
  bool released = false;

  // JS.
  napi_env env = nullptr;
  napi_deferred deferred = nullptr;
  bool settled = false;
  napi_ref signal = nullptr;
  napi_ref listener = nullptr;
  napi_ref on_progress = nullptr;
  napi_ref progress_error = nullptr;  // what onProgress threw
  // The abort listener finds the flight by this id in the registry below (0: no listener), so a
  // listener that outlives the flight (say, one a patched removeEventListener failed to remove)
  // finds nothing rather than freed memory.
  uint64_t abort_id = 0;

  ~Flight();

  // Posts a message to the JS thread if the channel is still open (any thread).
  void post(void* tag, bool release) {
    std::lock_guard<std::mutex> lock(channel_mutex);
    if (!alive || released) return;
    napi_call_threadsafe_function(tsfn, tag, napi_tsfn_nonblocking);
    if (release) {
      released = true;
      napi_release_threadsafe_function(tsfn, napi_tsfn_release);
    }
  }

  // The pool thread's part: run the job unless it was dropped, then report.
  void run_on_pool() noexcept {
    int expected = queued;
    if (state.compare_exchange_strong(expected, running)) {
      if (job->cancelled()) {
        status = Status::error(ErrorCode::aborted, "the operation was aborted");
      } else {
        try {
          status = job->execute();
        } catch (...) {
          status = Status::error(ErrorCode::internal, "internal error in an asynchronous job");
        }
      }
      state.store(finished);
    }
    post(&kDoneTag, true);
  }

  void delete_ref(napi_ref& r) {
    if (r != nullptr) napi_delete_reference(env, r);
    r = nullptr;
  }

  napi_value get(napi_ref r) {
    napi_value v = nullptr;
    if (r != nullptr) napi_get_reference_value(env, r, &v);
    return v;
  }

  // Settles the promise once and releases every JS reference (JS thread). Never throws.
  void settle(bool ok, napi_value value) {
    if (settled) return;
    settled = true;
    napi_value sig = get(signal), fn = get(listener);
    if (sig != nullptr && fn != nullptr) {
      napi_value remove = nullptr, name = nullptr, result = nullptr;
      if (napi_get_named_property(env, sig, "removeEventListener", &remove) == napi_ok &&
          napi_create_string_utf8(env, "abort", NAPI_AUTO_LENGTH, &name) == napi_ok) {
        napi_value argv[2] = {name, fn};
        if (napi_call_function(env, sig, remove, 2, argv, &result) != napi_ok) {
          napi_value ignored = nullptr;
          napi_get_and_clear_last_exception(env, &ignored);
        }
      }
    }
    if (value == nullptr) napi_get_undefined(env, &value);
    if (ok) napi_resolve_deferred(env, deferred, value);
    else napi_reject_deferred(env, deferred, value);
    delete_ref(signal);
    delete_ref(listener);
    delete_ref(on_progress);
    delete_ref(progress_error);
    for (napi_ref& r : job->refs()) delete_ref(r);
    job->refs().clear();
  }

  void reject(ErrorCode code, const char* message) {
    napi_value e = raw_error(env, code, message);
    if (e != nullptr && code == ErrorCode::aborted) {
      napi_value name = nullptr;
      if (napi_create_string_utf8(env, "AbortError", NAPI_AUTO_LENGTH, &name) == napi_ok) {
        napi_set_named_property(env, e, "name", name);
      }
    }
    settle(false, e);
  }

  void reject_aborted() { reject(ErrorCode::aborted, "the operation was aborted"); }

  // JS thread: hands the latest progress to onProgress.
  void deliver_progress() {
    job->progress_delivered();
    if (settled || on_progress == nullptr) return;
    napi_value fn = get(on_progress), obj = nullptr, done = nullptr, total = nullptr, global = nullptr, result = nullptr;
    if (fn == nullptr || napi_create_object(env, &obj) != napi_ok) return;
    napi_create_double(env, static_cast<double>(job->progress_done()), &done);
    napi_create_double(env, static_cast<double>(job->progress_total()), &total);
    napi_set_named_property(env, obj, "done", done);
    napi_set_named_property(env, obj, "total", total);
    napi_get_global(env, &global);
    if (napi_call_function(env, global, fn, 1, &obj, &result) != napi_ok) {
      napi_value thrown = nullptr;
      if (napi_get_and_clear_last_exception(env, &thrown) == napi_ok && thrown != nullptr && progress_error == nullptr) {
        napi_create_reference(env, thrown, 1, &progress_error);
      }
      job->cancel();
    }
  }

  // JS thread: the job has finished (or was dropped).
  void complete() {
    if (settled) return;
    if (progress_error != nullptr) {
      settle(false, get(progress_error));
      return;
    }
    if (job->cancelled()) {
      reject_aborted();
      return;
    }
    if (!status.ok()) {
      reject(status.code, status.message.c_str());
      return;
    }
    try {
      Napi::Value v = job->result(Napi::Env(env));
      settle(true, v);
    } catch (const Napi::Error& e) {
      settle(false, e.Value());
    } catch (...) {
      reject(ErrorCode::internal, "internal error settling an asynchronous job");
    }
  }
};

// The thread-safe function's context: an owning reference, dropped by its finalizer.
using FlightRef = std::shared_ptr<Flight>;

// Flights with an abort listener, by id (ids are never reused). Process-wide: every environment's
// JS thread uses it.
struct AbortRegistry {
  std::mutex mutex;
  uint64_t next = 1;
  std::unordered_map<uint64_t, std::weak_ptr<Flight>> flights;
};
AbortRegistry& abort_registry() {
  static AbortRegistry* const r = new AbortRegistry();  // never destroyed: flights may outlive exit
  return *r;
}

Flight::~Flight() {
  if (abort_id == 0) return;
  AbortRegistry& r = abort_registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.flights.erase(abort_id);
}

// The AbortSignal listener: cancels the job; one still queued is dropped and rejected now, a
// running one stops at its next safe point and completion rejects.
napi_value on_abort(napi_env env, napi_callback_info info) {
  void* data = nullptr;
  napi_value undefined = nullptr;
  napi_get_undefined(env, &undefined);
  if (napi_get_cb_info(env, info, nullptr, nullptr, nullptr, &data) != napi_ok) return undefined;
  FlightRef flight;
  {
    AbortRegistry& r = abort_registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    auto it = r.flights.find(reinterpret_cast<uintptr_t>(data));
    if (it != r.flights.end()) flight = it->second.lock();
  }
  if (!flight || flight->settled) return undefined;
  flight->job->cancel();
  int expected = queued;
  if (flight->state.compare_exchange_strong(expected, dropped)) flight->reject_aborted();
  return undefined;
}

void call_js(napi_env env, napi_value, void* context, void* data) {
  if (env == nullptr || context == nullptr) return;  // the environment is going away
  Flight& f = **static_cast<FlightRef*>(context);
  if (data == &kProgressTag) f.deliver_progress();
  else if (data == &kDoneTag) f.complete();
}

void finalize_channel(napi_env, void* data, void*) {
  FlightRef* holder = static_cast<FlightRef*>(data);
  Flight& f = **holder;
  {
    std::lock_guard<std::mutex> lock(f.channel_mutex);
    f.alive = false;
  }
  // Normally the promise has settled by now. If not, the environment is being torn down: stop
  // the work, and leave the JS references to the environment, which frees them itself.
  f.job->cancel();
  delete holder;
}

void notify_progress(void* ctx) { static_cast<Flight*>(ctx)->post(&kProgressTag, false); }

Napi::Value rejected(Napi::Env env, napi_value error) {
  Napi::Promise::Deferred d = Napi::Promise::Deferred::New(env);
  d.Reject(error);
  return d.Promise();
}

void release_refs(Napi::Env env, AsyncJob& job) {
  for (napi_ref r : job.refs()) napi_delete_reference(env, r);
  job.refs().clear();
}

}  // namespace

Napi::Value start_job(Napi::Env env, std::unique_ptr<AsyncJob> job, Napi::Value options) {
  std::shared_ptr<Flight> f;
  try {
    f = std::make_shared<Flight>();
    f->env = env;
    f->job = std::move(job);
    Napi::Object signal;
    Napi::Function on_progress;
    if (!options.IsUndefined() && !options.IsNull()) {
      if (!options.IsObject()) {
        throw make_error(env, ErrorCode::invalid_argument, "options must be an object", ErrorClass::type);
      }
      Napi::Object o = options.As<Napi::Object>();
      Napi::Value s = o.Get("signal");
      if (!s.IsUndefined()) {
        if (!s.IsObject() || !s.As<Napi::Object>().Get("addEventListener").IsFunction()) {
          throw make_error(env, ErrorCode::invalid_argument, "options.signal must be an AbortSignal", ErrorClass::type);
        }
        signal = s.As<Napi::Object>();
      }
      Napi::Value p = o.Get("onProgress");
      if (!p.IsUndefined()) {
        if (!p.IsFunction()) {
          throw make_error(env, ErrorCode::invalid_argument, "options.onProgress must be a function", ErrorClass::type);
        }
        on_progress = p.As<Napi::Function>();
      }
    }
    if (!signal.IsEmpty() && signal.Get("aborted").ToBoolean()) {
      napi_value e = raw_error(env, ErrorCode::aborted, "the operation was aborted before it started");
      if (e != nullptr) Napi::Object(env, e).Set("name", "AbortError");
      release_refs(env, *f->job);
      return rejected(env, e);
    }

    napi_value promise = nullptr;
    NAPI_THROW_IF_FAILED(env, napi_create_promise(env, &f->deferred, &promise), Napi::Value());
    // From here on every failure settles the promise through f (which releases the references).
    try {
      if (!on_progress.IsEmpty()) {
        NAPI_THROW_IF_FAILED(env, napi_create_reference(env, on_progress, 1, &f->on_progress), Napi::Value());
      }
      if (!signal.IsEmpty()) {
        {
          AbortRegistry& r = abort_registry();
          std::lock_guard<std::mutex> lock(r.mutex);
          const uint64_t id = r.next++;
          r.flights.emplace(id, f);
          f->abort_id = id;
        }
        napi_value fn = nullptr;
        NAPI_THROW_IF_FAILED(env,
                             napi_create_function(env, "onAbort", NAPI_AUTO_LENGTH, &on_abort,
                                                  reinterpret_cast<void*>(static_cast<uintptr_t>(f->abort_id)), &fn),
                             Napi::Value());
        Napi::Function listener(env, fn);
        NAPI_THROW_IF_FAILED(env, napi_create_reference(env, signal, 1, &f->signal), Napi::Value());
        NAPI_THROW_IF_FAILED(env, napi_create_reference(env, listener, 1, &f->listener), Napi::Value());
        signal.Get("addEventListener").As<Napi::Function>().Call(signal, {Napi::String::New(env, "abort"), listener});
      }
      auto* holder = new FlightRef(f);
      napi_status st = napi_create_threadsafe_function(env, nullptr, nullptr, Napi::String::New(env, "wengert:job"), 0, 1,
                                                       holder, &finalize_channel, holder, &call_js, &f->tsfn);
      if (st != napi_ok) {
        delete holder;
        NAPI_THROW_IF_FAILED(env, st, Napi::Value());
      }
      f->alive = true;
      if (!on_progress.IsEmpty()) f->job->set_progress_notifier(&notify_progress, f.get());
      try {
        submit_job([f]() noexcept { f->run_on_pool(); });
      } catch (...) {
        // Not queued: close the channel (its finalizer drops the holder) and fail.
        {
          std::lock_guard<std::mutex> lock(f->channel_mutex);
          f->released = true;
        }
        napi_release_threadsafe_function(f->tsfn, napi_tsfn_abort);
        throw;
      }
      return Napi::Value(env, promise);
    } catch (const Napi::Error& e) {
      f->settle(false, e.Value());
    } catch (const std::bad_alloc&) {
      f->reject(ErrorCode::out_of_memory, "out of memory starting an asynchronous job");
    } catch (...) {
      f->reject(ErrorCode::internal, "internal error starting an asynchronous job");
    }
    return Napi::Value(env, promise);
  } catch (const Napi::Error& e) {
    if (f && f->job) release_refs(env, *f->job);
    return rejected(env, e.Value());
  } catch (...) {
    if (f && f->job) release_refs(env, *f->job);
    return rejected(env, make_error(env, ErrorCode::internal, "could not start an asynchronous job", ErrorClass::error).Value());
  }
}

}  // namespace wengert
