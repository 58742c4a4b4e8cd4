// The Node-API boundary. Context-aware (per-environment state lives in the Addon instance), so
// the addon loads in worker threads. Every entry point catches everything: no C++ exception,
// abort or exit crosses into Node; failures become JS errors with a string `code`.
//
// Built with node-addon-api C++ exceptions (NAPI_CPP_EXCEPTIONS): a Napi::Error thrown here
// becomes a JS exception in node-addon-api's callback wrapper; every other exception is turned
// into a Napi::Error by guarded() first.
#include <napi.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <span>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "isa.h"
#include "program.h"

namespace wengert {
namespace {

enum class ErrorClass { error, type, range };

ErrorClass default_class(ErrorCode code) {
  switch (code) {
    case ErrorCode::input_dtype: return ErrorClass::type;
    case ErrorCode::input_count:
    case ErrorCode::input_length:
    case ErrorCode::index_out_of_range:
    case ErrorCode::output_spec: return ErrorClass::range;
    default: return ErrorClass::error;
  }
}

Napi::Error make_error(Napi::Env env, ErrorCode code, const std::string& message, ErrorClass cls) {
  Napi::Error e = cls == ErrorClass::type    ? Napi::TypeError::New(env, message)
                  : cls == ErrorClass::range ? Napi::RangeError::New(env, message)
                                             : Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, error_code_name(code)));
  return e;
}

Napi::Error make_error(Napi::Env env, const Status& s) { return make_error(env, s.code, s.message, default_class(s.code)); }

// Runs f, turning any C++ exception other than a Napi::Error into one.
template <class F>
Napi::Value guarded(Napi::Env env, F&& f) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw make_error(env, ErrorCode::out_of_memory, "out of memory", ErrorClass::error);
  } catch (const std::exception& e) {
    throw make_error(env, ErrorCode::internal, std::string("internal error: ") + e.what(), ErrorClass::error);
  } catch (...) {
    throw make_error(env, ErrorCode::internal, "internal error", ErrorClass::error);
  }
}

const char* js_array_name(DType t) {
  switch (t) {
    case DType::f64: return "Float64Array";
    case DType::f32: return "Float32Array";
    case DType::i32: return "Int32Array";
  }
  return "?";
}

// A typed array's element type, data and length, read on the main thread.
struct TypedView {
  bool ok = false;  // a Float64Array, Float32Array or Int32Array
  DType dtype = DType::f64;
  void* data = nullptr;
  uint64_t length = 0;
  const char* type_name = "not a typed array";
};

TypedView typed_view(Napi::Env env, Napi::Value v) {
  TypedView t;
  if (!v.IsTypedArray()) {
    t.type_name = v.IsUndefined() ? "undefined" : v.IsNull() ? "null" : v.IsArray() ? "an Array" : "not a typed array";
    return t;
  }
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  napi_status st = napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr);
  NAPI_THROW_IF_FAILED(env, st, t);
  t.data = data;
  t.length = length;
  switch (type) {
    case napi_float64_array: t = {true, DType::f64, data, length, "Float64Array"}; break;
    case napi_float32_array: t = {true, DType::f32, data, length, "Float32Array"}; break;
    case napi_int32_array: t = {true, DType::i32, data, length, "Int32Array"}; break;
    default: t.type_name = "a typed array of another element type"; break;
  }
  return t;
}

// A fixed-length list that keeps up to N elements inline and goes to the heap only beyond, so a
// synchronous run of a program with up to 16 inputs and outputs allocates nothing on the C++ heap.
template <class T, std::size_t N = 16>
class SmallList {
 public:
  explicit SmallList(std::size_t n) : size_(n) {
    if (n > N) heap_.resize(n);
  }
  T& operator[](std::size_t i) { return size_ > N ? heap_[i] : inline_[i]; }
  T* begin() { return size_ > N ? heap_.data() : inline_.data(); }
  T* end() { return begin() + size_; }
  std::size_t size() const { return size_; }
  std::span<const T> span() { return {begin(), size_}; }

 private:
  std::size_t size_;
  std::array<T, N> inline_{};
  std::vector<T> heap_;
};

// The validated buffers of one run, and the JS arrays that own them (inputs first, then outputs).
struct RunArgs {
  explicit RunArgs(std::size_t n_in, std::size_t n_out) : inputs(n_in), outputs(n_out), owners(n_in + n_out) {}
  SmallList<InputView> inputs;
  SmallList<OutputView> outputs;
  SmallList<Napi::Object> owners;
};

// Checks inputs/outputs against the program and collects their data pointers (main thread only).
// All elements are read from the arrays first, then the typed arrays are inspected: an element
// getter may run JavaScript (and detach a buffer), but nothing runs after a pointer is taken.
RunArgs collect_run_args(Napi::Env env, const Program& p, Napi::Value in_v, Napi::Value out_v) {
  if (!in_v.IsArray()) {
    throw make_error(env, ErrorCode::input_count, "inputs must be an array of typed arrays", ErrorClass::type);
  }
  if (!out_v.IsArray()) {
    throw make_error(env, ErrorCode::output_spec, "outputs must be an array of typed arrays", ErrorClass::type);
  }
  Napi::Array in = in_v.As<Napi::Array>(), out = out_v.As<Napi::Array>();
  const auto& args = p.arg_specs();
  const auto& outs = p.output_specs();
  if (in.Length() != args.size()) {
    throw make_error(env, ErrorCode::input_count,
                     "expected " + std::to_string(args.size()) + " inputs, got " + std::to_string(in.Length()),
                     ErrorClass::range);
  }
  if (out.Length() != outs.size()) {
    throw make_error(env, ErrorCode::output_spec,
                     "expected " + std::to_string(outs.size()) + " output arrays, got " + std::to_string(out.Length()),
                     ErrorClass::range);
  }
  SmallList<Napi::Value> in_vals(args.size()), out_vals(outs.size());
  for (uint32_t i = 0; i < args.size(); ++i) in_vals[i] = in.Get(i);
  for (uint32_t i = 0; i < outs.size(); ++i) out_vals[i] = out.Get(i);

  RunArgs r(args.size(), outs.size());
  for (uint32_t i = 0; i < args.size(); ++i) {
    const TypedView t = typed_view(env, in_vals[i]);
    if (!t.ok || t.dtype != args[i].dtype) {
      throw make_error(env, ErrorCode::input_dtype,
                       "input " + std::to_string(i) + " must be a " + js_array_name(args[i].dtype) + ", got " +
                           t.type_name,
                       ErrorClass::type);
    }
    if (t.length != args[i].length) {
      throw make_error(env, ErrorCode::input_length,
                       "input " + std::to_string(i) + " must have " + std::to_string(args[i].length) +
                           " elements, got " + std::to_string(t.length),
                       ErrorClass::range);
    }
    r.inputs[i] = InputView{t.data, t.dtype, t.length};
    r.owners[i] = in_vals[i].As<Napi::Object>();
  }
  for (uint32_t i = 0; i < outs.size(); ++i) {
    const TypedView t = typed_view(env, out_vals[i]);
    if (!t.ok || t.dtype != outs[i].dtype) {
      throw make_error(env, ErrorCode::output_spec,
                       "output " + std::to_string(i) + " must be a " + js_array_name(outs[i].dtype) + ", got " +
                           t.type_name,
                       ErrorClass::type);
    }
    if (t.length != outs[i].length) {
      throw make_error(env, ErrorCode::output_spec,
                       "output " + std::to_string(i) + " must have " + std::to_string(outs[i].length) +
                           " elements, got " + std::to_string(t.length),
                       ErrorClass::range);
    }
    r.outputs[i] = OutputView{t.data, t.dtype, t.length};
    r.owners[args.size() + i] = out_vals[i].As<Napi::Object>();
  }
  return r;
}

// An error object built with the plain C API, for the completion callback, which must not throw:
// it can run while the environment shuts down, when every call may fail. nullptr on failure.
napi_value raw_error(napi_env env, ErrorCode code, const char* message) {
  napi_value c = nullptr, m = nullptr, e = nullptr;
  if (napi_create_string_utf8(env, error_code_name(code), NAPI_AUTO_LENGTH, &c) != napi_ok) return nullptr;
  if (napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &m) != napi_ok) return nullptr;
  switch (default_class(code)) {
    case ErrorClass::type: napi_create_type_error(env, c, m, &e); break;
    case ErrorClass::range: napi_create_range_error(env, c, m, &e); break;
    case ErrorClass::error: napi_create_error(env, c, m, &e); break;
  }
  return e;
}

// One asynchronous run. Everything the worker thread touches is plain C++: the program (shared,
// so dispose() or GC during the run is safe) and the buffer pointers, whose typed arrays are held
// by references until the promise settles on the main thread. Program::run does not depend on
// the threading mechanism (a libuv pool thread here).
struct RunJob {
  std::shared_ptr<const Program> program;
  std::vector<InputView> inputs;
  std::vector<OutputView> outputs;
  std::vector<napi_ref> refs;
  napi_deferred deferred = nullptr;
  napi_async_work work = nullptr;
  Status status;

  static void Execute(napi_env, void* data) {
    RunJob* job = static_cast<RunJob*>(data);
    try {
      job->status = job->program->run(job->inputs, job->outputs);
    } catch (...) {
      job->status.code = ErrorCode::internal;
    }
  }

  // On the main thread. Never throws; every failure (the environment may be shutting down) is
  // ignored after releasing what can be released.
  static void Complete(napi_env env, napi_status work_status, void* data) {
    std::unique_ptr<RunJob> job(static_cast<RunJob*>(data));
    napi_handle_scope scope = nullptr;
    const bool scoped = napi_open_handle_scope(env, &scope) == napi_ok;
    try {
      if (work_status == napi_ok && job->status.ok()) {
        napi_value undefined = nullptr;
        if (napi_get_undefined(env, &undefined) == napi_ok) napi_resolve_deferred(env, job->deferred, undefined);
      } else {
        const bool cancelled = work_status != napi_ok;
        const ErrorCode code = cancelled ? ErrorCode::internal : job->status.code;
        const char* message = cancelled ? "the run was cancelled" : job->status.message.c_str();
        if (napi_value e = raw_error(env, code, message)) napi_reject_deferred(env, job->deferred, e);
      }
    } catch (...) {
    }
    for (napi_ref r : job->refs) napi_delete_reference(env, r);
    napi_delete_async_work(env, job->work);
    if (scoped) napi_close_handle_scope(env, scope);
  }
};

// Queues a run and returns its promise (main thread).
Napi::Value queue_run(Napi::Env env, std::shared_ptr<const Program> program, RunArgs args) {
  auto job = std::make_unique<RunJob>();
  job->program = std::move(program);
  job->inputs.assign(args.inputs.begin(), args.inputs.end());
  job->outputs.assign(args.outputs.begin(), args.outputs.end());
  job->refs.reserve(args.owners.size());
  struct RefGuard {  // releases the references if queueing fails
    napi_env env;
    RunJob* job;
    ~RefGuard() {
      if (job) {
        for (napi_ref r : job->refs) napi_delete_reference(env, r);
        if (job->work) napi_delete_async_work(env, job->work);
      }
    }
  } guard{env, job.get()};
  for (Napi::Object& o : args.owners) {
    napi_ref r = nullptr;
    NAPI_THROW_IF_FAILED(env, napi_create_reference(env, o, 1, &r), Napi::Value());
    job->refs.push_back(r);
  }
  Napi::String name = Napi::String::New(env, "wengert:run");
  NAPI_THROW_IF_FAILED(env,
                       napi_create_async_work(env, nullptr, name, &RunJob::Execute, &RunJob::Complete, job.get(),
                                              &job->work),
                       Napi::Value());
  napi_value promise = nullptr;
  NAPI_THROW_IF_FAILED(env, napi_create_promise(env, &job->deferred, &promise), Napi::Value());
  NAPI_THROW_IF_FAILED(env, napi_queue_async_work(env, job->work), Napi::Value());
  guard.job = nullptr;
  job.release();  // owned by the queued work until Complete
  return Napi::Value(env, promise);
}

class ProgramWrap : public Napi::ObjectWrap<ProgramWrap> {
 public:
  static Napi::Function DefineClass(Napi::Env env) {
    return Napi::ObjectWrap<ProgramWrap>::DefineClass(env, "NativeProgram",
                                                      {
                                                          InstanceMethod<&ProgramWrap::Run>("run"),
                                                          InstanceMethod<&ProgramWrap::RunAsync>("runAsync"),
                                                          InstanceMethod<&ProgramWrap::ArenaBytes>("arenaBytes"),
                                                          InstanceMethod<&ProgramWrap::Dispose>("dispose"),
                                                      });
  }

  // Constructed empty (as if disposed); compile() fills it in. A program made with `new` from
  // JavaScript is therefore inert.
  explicit ProgramWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ProgramWrap>(info) {}

  void set_program(std::shared_ptr<const Program> p) { program_ = std::move(p); }

 private:
  const std::shared_ptr<const Program>& require(Napi::Env env) const {
    if (!program_) throw make_error(env, ErrorCode::disposed, "the program was disposed", ErrorClass::error);
    return program_;
  }

  Napi::Value Run(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      // A local owner: an element getter run by collect_run_args may call dispose().
      const std::shared_ptr<const Program> p = require(env);
      RunArgs args = collect_run_args(env, *p, info[0], info[1]);
      const Status s = p->run(args.inputs.span(), args.outputs.span());
      if (!s.ok()) throw make_error(env, s);
      return env.Undefined();
    });
  }

  // Validation failures reject the promise; nothing is thrown synchronously.
  Napi::Value RunAsync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    try {
      return guarded(env, [&]() -> Napi::Value {
        std::shared_ptr<const Program> p = require(env);
        RunArgs args = collect_run_args(env, *p, info[0], info[1]);
        return queue_run(env, std::move(p), std::move(args));
      });
    } catch (const Napi::Error& e) {
      Napi::Promise::Deferred d = Napi::Promise::Deferred::New(env);
      d.Reject(e.Value());
      return d.Promise();
    }
  }

  Napi::Value ArenaBytes(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      return Napi::Number::New(env, static_cast<double>(require(env)->arena_bytes()));
    });
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    program_.reset();
    return info.Env().Undefined();
  }

  std::shared_ptr<const Program> program_;
};

class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports) {
    program_class_ = Napi::Persistent(ProgramWrap::DefineClass(env));
    DefineAddon(exports, {
                             InstanceValue("formatVersion", Napi::Number::New(env, kFormatVersion), napi_enumerable),
                             InstanceMethod<&Addon::OpNames>("opNames", napi_enumerable),
                             InstanceMethod<&Addon::Compile>("compile", napi_enumerable),
                             InstanceMethod<&Addon::IsaInUse>("isa", napi_enumerable),
                             InstanceMethod<&Addon::IsaAvailable>("isaAvailable", napi_enumerable),
                         });
  }

 private:
  Napi::Value OpNames(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      Napi::Array names = Napi::Array::New(env);
      uint32_t k = 0;
      for (const OpInfo& op : kOps) {
        const bool leaf = op.kind == OpKind::input || op.kind == OpKind::constant;
        const OpCode code = static_cast<OpCode>(op.code);
        if (leaf || (select_kernel(code, DType::f64) && select_kernel(code, DType::f32))) {
          names.Set(k++, Napi::String::New(env, op.name));
        }
      }
      return names;
    });
  }

  // The instruction set the elementwise kernels use (native/src/isa.h): { isa, requested, note }.
  Napi::Value IsaInUse(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      const IsaChoice& c = isa_choice();
      Napi::Object o = Napi::Object::New(env);
      o.Set("isa", Napi::String::New(env, isa_name(c.isa)));
      o.Set("requested", c.forced ? Napi::Value(Napi::String::New(env, c.requested)) : env.Null());
      o.Set("note", Napi::String::New(env, c.note));
      return o;
    });
  }

  // The instruction sets this build and this CPU support, best first.
  Napi::Value IsaAvailable(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      Napi::Array a = Napi::Array::New(env);
      uint32_t k = 0;
      for (Isa isa : {Isa::avx512, Isa::avx2, Isa::neon, Isa::sse2, Isa::scalar}) {
        if (isa_supported(isa)) a.Set(k++, Napi::String::New(env, isa_name(isa)));
      }
      return a;
    });
  }

  Napi::Value Compile(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      Napi::Value g = info[0];
      if (!g.IsTypedArray() || g.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
        throw make_error(env, ErrorCode::bad_graph, "the graph must be a Uint8Array", ErrorClass::type);
      }
      Napi::Uint8Array bytes = g.As<Napi::Uint8Array>();
      Napi::Value lim = info[1];
      if (!lim.IsNumber()) {
        throw make_error(env, ErrorCode::arena_limit, "maxArenaBytes must be a number", ErrorClass::type);
      }
      const double l = lim.As<Napi::Number>().DoubleValue();
      if (!(l >= 0)) {
        throw make_error(env, ErrorCode::arena_limit, "maxArenaBytes must be >= 0", ErrorClass::range);
      }
      const std::size_t limit = l >= 18446744073709551615.0 ? std::numeric_limits<std::size_t>::max()
                                                            : static_cast<std::size_t>(std::floor(l));
      std::shared_ptr<const Program> program;
      const Status s = Program::compile(bytes.Data(), bytes.ByteLength(), limit, &program);
      if (!s.ok()) throw make_error(env, s);
      Napi::Object obj = program_class_.New({});
      ProgramWrap::Unwrap(obj)->set_program(std::move(program));
      return obj;
    });
  }

  Napi::FunctionReference program_class_;
};

}  // namespace
}  // namespace wengert

// NODE_API_ADDON pastes its argument into a name, so it takes an unqualified one.
using WengertAddon = wengert::Addon;
NODE_API_ADDON(WengertAddon)
