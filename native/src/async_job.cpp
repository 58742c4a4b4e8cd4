#include "async_job.h"

#include "napi_util.h"

namespace wengert {

void AsyncJob::keep_alive(Napi::Env env, Napi::Value v) {
  napi_ref r = nullptr;
  NAPI_THROW_IF_FAILED_VOID(env, napi_create_reference(env, v, 1, &r));
  refs_.push_back(r);
}

namespace {

// The job in flight: the libuv work item and the promise it settles.
struct Flight {
  std::unique_ptr<AsyncJob> job;
  napi_deferred deferred = nullptr;
  napi_async_work work = nullptr;
  Status status;

  static void Execute(napi_env, void* data) {
    Flight* f = static_cast<Flight*>(data);
    f->status = f->job->cancelled() ? Status::error(ErrorCode::aborted, "the work was aborted") : f->job->execute();
  }

  // On the JS thread. Never throws; every failure (the environment may be shutting down) is
  // ignored after releasing what can be released.
  static void Complete(napi_env env, napi_status work_status, void* data) {
    std::unique_ptr<Flight> f(static_cast<Flight*>(data));
    napi_handle_scope scope = nullptr;
    const bool scoped = napi_open_handle_scope(env, &scope) == napi_ok;
    try {
      if (work_status == napi_ok && f->status.ok()) {
        Napi::Value v = f->job->result(Napi::Env(env));
        napi_resolve_deferred(env, f->deferred, v);
      } else {
        const bool cancelled = work_status != napi_ok;
        const ErrorCode code = cancelled ? ErrorCode::aborted : f->status.code;
        const char* message = cancelled ? "the work was cancelled" : f->status.message.c_str();
        if (napi_value e = raw_error(env, code, message)) napi_reject_deferred(env, f->deferred, e);
      }
    } catch (const Napi::Error& e) {
      napi_reject_deferred(env, f->deferred, e.Value());
    } catch (...) {
      if (napi_value e = raw_error(env, ErrorCode::internal, "internal error settling an asynchronous job")) {
        napi_reject_deferred(env, f->deferred, e);
      }
    }
    for (napi_ref r : f->job->refs()) napi_delete_reference(env, r);
    f->job->refs().clear();
    napi_delete_async_work(env, f->work);
    if (scoped) napi_close_handle_scope(env, scope);
  }
};

}  // namespace

Napi::Value start_job(Napi::Env env, std::unique_ptr<AsyncJob> job, Napi::Value options) {
  Napi::Promise::Deferred fallback = Napi::Promise::Deferred::New(env);
  auto f = std::make_unique<Flight>();
  f->job = std::move(job);
  try {
    if (options.IsObject()) {
      Napi::Value signal = options.As<Napi::Object>().Get("signal");
      if (signal.IsObject() && signal.As<Napi::Object>().Get("aborted").ToBoolean()) f->job->cancel();
    }
    Napi::String name = Napi::String::New(env, "wengert:job");
    NAPI_THROW_IF_FAILED(env,
                         napi_create_async_work(env, nullptr, name, &Flight::Execute, &Flight::Complete, f.get(),
                                                &f->work),
                         Napi::Value());
    napi_value promise = nullptr;
    napi_status st = napi_create_promise(env, &f->deferred, &promise);
    if (st == napi_ok) st = napi_queue_async_work(env, f->work);
    if (st != napi_ok) {
      napi_delete_async_work(env, f->work);
      NAPI_THROW_IF_FAILED(env, st, Napi::Value());
    }
    f.release();  // owned by the queued work until Complete
    return Napi::Value(env, promise);
  } catch (const Napi::Error& e) {
    fallback.Reject(e.Value());
  } catch (...) {
    fallback.Reject(make_error(env, ErrorCode::internal, "could not start an asynchronous job", ErrorClass::error).Value());
  }
  for (napi_ref r : f->job->refs()) napi_delete_reference(env, r);
  return fallback.Promise();
}

}  // namespace wengert
