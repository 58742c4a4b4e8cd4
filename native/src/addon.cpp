// The Node-API boundary. Context-aware (per-environment state lives in the Addon instance), so
// the addon loads in worker threads. Every entry point catches everything: no C++ exception,
// abort or exit crosses into Node; failures become JS errors with a string `code`.
//
// Built with node-addon-api C++ exceptions (NAPI_CPP_EXCEPTIONS): a Napi::Error thrown here
// becomes a JS exception in node-addon-api's callback wrapper; every other exception is turned
// into a Napi::Error by guarded() first.
#include <napi.h>

#include <array>
#include <chrono>
#include <thread>
#include <atomic>
#include <cmath>
#include <cstring>
#include <cstddef>
#include <cstdint>
#include <span>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <vector>

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#include <malloc.h>
#define WENGERT_HAVE_MALLINFO2 1
#endif

#include "addon_optim.h"
#include "async_job.h"
#include "isa.h"
#include "napi_util.h"
#include "program.h"
#include "threadpool.h"

namespace wengert {
namespace {

// Refuses an output array that shares memory with an input or with an earlier output: the engine
// may write an output before it has read all of its inputs, and two outputs in one place would
// overwrite each other.
void check_no_aliasing(Napi::Env env, std::span<const InputView> inputs, std::span<const OutputView> outputs) {
  const auto overlap = [](const void* a, uint64_t na, const void* b, uint64_t nb) {
    const auto pa = reinterpret_cast<std::uintptr_t>(a), pb = reinterpret_cast<std::uintptr_t>(b);
    return na != 0 && nb != 0 && pa < pb + nb && pb < pa + na;
  };
  for (std::size_t o = 0; o < outputs.size(); ++o) {
    const OutputView& out = outputs[o];
    const uint64_t bytes = out.length * dtype_size(out.dtype);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      if (overlap(out.data, bytes, inputs[i].data, inputs[i].length * dtype_size(inputs[i].dtype))) {
        throw make_error(env, ErrorCode::invalid_argument,
                         "output " + std::to_string(o) + " shares memory with input " + std::to_string(i) +
                             "; pass separate arrays",
                         ErrorClass::error);
      }
    }
    for (std::size_t k = 0; k < o; ++k) {
      if (overlap(out.data, bytes, outputs[k].data, outputs[k].length * dtype_size(outputs[k].dtype))) {
        throw make_error(env, ErrorCode::invalid_argument,
                         "output " + std::to_string(o) + " shares memory with output " + std::to_string(k) +
                             "; pass separate arrays",
                         ErrorClass::error);
      }
    }
  }
}

// The validated buffers of one run, and the JS arrays that own them (inputs first, then outputs).
struct RunArgs {
  explicit RunArgs(std::size_t n_in, std::size_t n_out) : inputs(n_in), outputs(n_out), owners(n_in + n_out) {}
  SmallList<InputView> inputs;
  SmallList<OutputView> outputs;
  SmallList<Napi::Object> owners;
};

// One input or output typed array checked against its spec (main thread only): `what` names it
// in messages ("input", "output"); a wrong dtype fails with dtype_code, a wrong length with
// length_code.
TypedView checked_view(Napi::Env env, const IoSpec& spec, const char* what, std::size_t i, Napi::Value v,
                       ErrorCode dtype_code, ErrorCode length_code) {
  const TypedView t = typed_view(env, v);
  if (!t.ok || t.dtype != spec.dtype) {
    throw make_error(env, dtype_code,
                     std::string(what) + " " + std::to_string(i) + " must be a " + js_array_name(spec.dtype) +
                         ", got " + t.type_name,
                     ErrorClass::type);
  }
  if (t.length != spec.length) {
    throw make_error(env, length_code,
                     std::string(what) + " " + std::to_string(i) + " must have " + std::to_string(spec.length) +
                         " elements, got " + std::to_string(t.length),
                     ErrorClass::range);
  }
  return t;
}

InputView check_input(Napi::Env env, const IoSpec& spec, std::size_t i, Napi::Value v) {
  const TypedView t = checked_view(env, spec, "input", i, v, ErrorCode::input_dtype, ErrorCode::input_length);
  return InputView{t.data, t.dtype, t.length};
}

OutputView check_output(Napi::Env env, const IoSpec& spec, std::size_t i, Napi::Value v) {
  const TypedView t = checked_view(env, spec, "output", i, v, ErrorCode::output_spec, ErrorCode::output_spec);
  return OutputView{t.data, t.dtype, t.length};
}

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
    r.inputs[i] = check_input(env, args[i], i, in_vals[i]);
    r.owners[i] = in_vals[i].As<Napi::Object>();
  }
  for (uint32_t i = 0; i < outs.size(); ++i) {
    r.outputs[i] = check_output(env, outs[i], i, out_vals[i]);
    r.owners[args.size() + i] = out_vals[i].As<Napi::Object>();
  }
  check_no_aliasing(env, r.inputs.span(), r.outputs.span());
  return r;
}

// The `checkFinite` flag of a run's options object (RunOptions::check_finite).
bool check_finite_option(Napi::Value options) {
  return options.IsObject() && options.As<Napi::Object>().Get("checkFinite").ToBoolean().Value();
}

// The arguments of a call, read with one napi_get_cb_info: up to kInline of them without touching
// the heap (node-addon-api's CallbackInfo allocates beyond 6). Missing ones read as undefined.
class CallArgs {
 public:
  static constexpr std::size_t kInline = 16;
  CallArgs(Napi::Env env, napi_callback_info cbinfo, void** data) : env_(env) {
    std::size_t n = kInline;
    NAPI_THROW_IF_FAILED_VOID(env, napi_get_cb_info(env, cbinfo, &n, inline_.data(), nullptr, data));
    size_ = n;
    if (n > kInline) {
      heap_.resize(n);
      NAPI_THROW_IF_FAILED_VOID(env, napi_get_cb_info(env, cbinfo, &n, heap_.data(), nullptr, nullptr));
    }
  }
  std::size_t size() const { return size_; }
  Napi::Value operator[](std::size_t i) const {
    if (i >= size_) return env_.Undefined();
    return Napi::Value(env_, size_ > kInline ? heap_[i] : inline_[i]);
  }

 private:
  Napi::Env env_;
  std::size_t size_ = 0;
  std::array<napi_value, kInline> inline_;
  std::vector<napi_value> heap_;
};

// A synchronous run in the flat calling convention: run(input0, ..., output0, ...), the typed
// arrays themselves as arguments. No array is read element by element, so no JavaScript runs
// while the pointers are taken, and nothing but the views is collected: a tiny program costs
// one Node-API call per array.
Status run_flat(Napi::Env env, const Program& p, const CallArgs& info) {
  const auto& args = p.arg_specs();
  const auto& outs = p.output_specs();
  if (info.size() != args.size() + outs.size()) {
    throw make_error(env, ErrorCode::input_count,
                     "expected " + std::to_string(args.size()) + " inputs and " + std::to_string(outs.size()) +
                         " outputs as arguments, got " + std::to_string(info.size()),
                     ErrorClass::range);
  }
  SmallList<InputView> inputs(args.size());
  SmallList<OutputView> outputs(outs.size());
  for (std::size_t i = 0; i < args.size(); ++i) inputs[i] = check_input(env, args[i], i, info[i]);
  for (std::size_t i = 0; i < outs.size(); ++i) outputs[i] = check_output(env, outs[i], i, info[args.size() + i]);
  check_no_aliasing(env, inputs.span(), outputs.span());
  RunOptions options;
  options.parallel = &engine_threads();
  return p.run(inputs.span(), outputs.span(), options);
}

// The program of one JS NativeProgram object, shared by the object and its run function: set by
// compile(), emptied by dispose().
struct ProgramSlot {
  std::shared_ptr<const Program> program;
};

// A synchronous run, flat run(input0, ..., output0, ...) or run(inputs[], outputs[], options?).
void run_sync(Napi::Env env, const ProgramSlot& slot, const CallArgs& info) {
  if (!slot.program) throw make_error(env, ErrorCode::disposed, "the program was disposed", ErrorClass::error);
  // A local owner: an element getter run by collect_run_args may call dispose().
  const std::shared_ptr<const Program> p = slot.program;
  Status s;
  if (info.size() == 0 || !info[0].IsArray()) {
    s = run_flat(env, *p, info);
  } else {
    RunArgs args = collect_run_args(env, *p, info[0], info[1]);
    RunOptions options;
    options.parallel = &engine_threads();
    options.check_finite = check_finite_option(info[2]);
    s = p->run(args.inputs.span(), args.outputs.span(), options);
  }
  if (!s.ok()) throw make_error(env, s);
}

// The `run` function of one compiled program, its ProgramSlot as data: calling it needs no
// unwrapping of `this` (a property lookup on the object), the largest fixed cost of a tiny run.
napi_value run_callback(napi_env raw_env, napi_callback_info cbinfo) {
  Napi::Env env(raw_env);
  try {
    guarded(env, [&]() -> Napi::Value {
      void* data = nullptr;
      const CallArgs info(env, cbinfo, &data);
      run_sync(env, **static_cast<const std::shared_ptr<ProgramSlot>*>(data), info);
      return Napi::Value();
    });
  } catch (const Napi::Error& e) {
    e.ThrowAsJavaScriptException();
  } catch (...) {
    napi_throw_error(raw_env, error_code_name(ErrorCode::internal), "internal error");
  }
  return nullptr;
}

// Compiled programs alive in this process (all environments): a program is counted until the last
// owner (its JS wrapper, or an async run still holding it) lets go. Read by tests through
// livePrograms() to show that programs are freed by dispose() and by garbage collection.
std::atomic<int64_t> g_live_programs{0};

struct CountedProgram {
  explicit CountedProgram(std::shared_ptr<const Program> p) : program(std::move(p)) { g_live_programs.fetch_add(1); }
  ~CountedProgram() { g_live_programs.fetch_sub(1); }
  CountedProgram(const CountedProgram&) = delete;
  CountedProgram& operator=(const CountedProgram&) = delete;
  std::shared_ptr<const Program> program;
};

// The same program, owned through a counter.
std::shared_ptr<const Program> counted(std::shared_ptr<const Program> p) {
  auto holder = std::make_shared<CountedProgram>(std::move(p));
  const Program* raw = holder->program.get();
  return std::shared_ptr<const Program>(std::move(holder), raw);
}

// One asynchronous run. It snapshots the inputs (one copy, made on the JS thread before the
// promise is returned, so the caller may reuse its arrays at once) and computes into buffers of
// its own, copied into the caller's output arrays on the JS thread when the promise settles. So
// the pool thread never touches JavaScript memory: a worker torn down mid-run, or an array
// detached meanwhile, cannot be written after it is freed.
class RunJob : public AsyncJob {
 public:
  RunJob(std::shared_ptr<const Program> program, RunArgs& args, bool check_finite)
      : program_(std::move(program)), check_finite_(check_finite) {
    std::size_t bytes = 0;
    auto room = [&](DType t, uint64_t n) {
      const std::size_t b = static_cast<std::size_t>(n) * dtype_size(t);
      const std::size_t at = bytes;
      bytes += (b + kAlign - 1) / kAlign * kAlign;
      return at;
    };
    std::vector<std::size_t> in_at, out_at;
    for (const InputView& v : args.inputs) in_at.push_back(room(v.dtype, v.length));
    for (const OutputView& v : args.outputs) out_at.push_back(room(v.dtype, v.length));
    storage_ = AlignedBuffer(bytes == 0 ? kAlign : bytes);
    std::size_t k = 0;
    for (const InputView& v : args.inputs) {
      uint8_t* dst = storage_.data() + in_at[k++];
      if (v.length != 0) std::memcpy(dst, v.data, static_cast<std::size_t>(v.length) * dtype_size(v.dtype));
      inputs_.push_back(InputView{dst, v.dtype, v.length});
    }
    k = 0;
    for (const OutputView& v : args.outputs) outputs_.push_back(OutputView{storage_.data() + out_at[k++], v.dtype, v.length});
  }

  Status execute() override {
    RunOptions options;
    options.cancel = cancel_flag();
    options.check_finite = check_finite_;
    options.parallel = &engine_threads();
    const Status s = program_->run(inputs_, outputs_, options);
    program_.reset();  // let go of the program before the promise settles (execute runs once)
    return s;
  }

  // Copies the results into the caller's output arrays (kept alive by keep_alive, in order).
  Napi::Value result(Napi::Env env) override {
    for (std::size_t i = 0; i < outputs_.size(); ++i) {
      napi_value v = nullptr;
      NAPI_THROW_IF_FAILED(env, napi_get_reference_value(env, refs()[i], &v), Napi::Value());
      const TypedView t = typed_view(env, Napi::Value(env, v));
      if (!t.ok || t.dtype != outputs_[i].dtype || t.length != outputs_[i].length) {
        throw make_error(env, ErrorCode::output_spec,
                         "output " + std::to_string(i) + " changed (detached or resized) while the run was in flight",
                         ErrorClass::range);
      }
      if (t.length != 0) std::memcpy(t.data, outputs_[i].data, static_cast<std::size_t>(t.length) * dtype_size(t.dtype));
    }
    return env.Undefined();
  }

 private:
  std::shared_ptr<const Program> program_;
  AlignedBuffer storage_;
  std::vector<InputView> inputs_;
  std::vector<OutputView> outputs_;
  bool check_finite_;
};

// For tests of start_job: reports progress `steps` times, `us` microseconds apart, polling the
// cancel flag before each, and resolves with `steps`.
class ProgressJob : public AsyncJob {
 public:
  ProgressJob(uint32_t steps, uint32_t us) : steps_(steps), us_(us) {}
  Status execute() override {
    for (uint32_t i = 1; i <= steps_; ++i) {
      if (cancelled()) return Status::error(ErrorCode::aborted, "the operation was aborted");
      if (us_ != 0) std::this_thread::sleep_for(std::chrono::microseconds(us_));
      report_progress(i, steps_);
    }
    return {};
  }
  Napi::Value result(Napi::Env env) override { return Napi::Number::New(env, steps_); }

 private:
  uint32_t steps_, us_;
};

// Queues a run and returns its promise (main thread).
Napi::Value queue_run(Napi::Env env, std::shared_ptr<const Program> program, RunArgs args, Napi::Value options) {
  auto job = std::make_unique<RunJob>(std::move(program), args, check_finite_option(options));
  const std::size_t n_in = args.inputs.size();
  for (std::size_t i = 0; i < args.outputs.size(); ++i) job->keep_alive(env, args.owners[n_in + i]);
  return start_job(env, std::move(job), options);
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

  // Gives this object its program, and an own `run` property: a function bound to the program's
  // slot (run_callback), so a run skips the unwrapping of `this` that the prototype method needs.
  void set_program(Napi::Env env, Napi::Object self, std::shared_ptr<const Program> p) {
    slot_->program = std::move(p);
    auto* data = new std::shared_ptr<ProgramSlot>(slot_);
    napi_value fn = nullptr;
    napi_status st = napi_create_function(env, "run", NAPI_AUTO_LENGTH, run_callback, data, &fn);
    if (st == napi_ok) {
      st = napi_add_finalizer(
          env, fn, data, [](napi_env, void* d, void*) { delete static_cast<std::shared_ptr<ProgramSlot>*>(d); },
          nullptr, nullptr);
    }
    if (st != napi_ok) {
      delete data;
      NAPI_THROW_IF_FAILED_VOID(env, st);
    }
    const napi_property_descriptor run = {"run", nullptr, nullptr, nullptr, nullptr, fn, napi_default, nullptr};
    NAPI_THROW_IF_FAILED_VOID(env, napi_define_properties(env, self, 1, &run));
  }

 private:
  const std::shared_ptr<const Program>& require(Napi::Env env) const {
    if (!slot_->program) throw make_error(env, ErrorCode::disposed, "the program was disposed", ErrorClass::error);
    return slot_->program;
  }

  // The prototype's run, reached only by an object compile() did not make (inert: it throws
  // WENGERT_DISPOSED) or by NativeProgram.prototype.run.call(program, ...).
  Napi::Value Run(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      const CallArgs args(env, static_cast<napi_callback_info>(info), nullptr);
      run_sync(env, *slot_, args);
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
        return queue_run(env, std::move(p), std::move(args), info[2]);
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
    slot_->program.reset();
    return info.Env().Undefined();
  }

  std::shared_ptr<ProgramSlot> slot_ = std::make_shared<ProgramSlot>();
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
                             InstanceMethod<&Addon::SetThreads>("setThreads", napi_enumerable),
                             InstanceMethod<&Addon::Threads>("threads", napi_enumerable),
                             InstanceMethod<&Addon::LivePrograms>("livePrograms", napi_enumerable),
                             InstanceMethod<&Addon::MallocInUse>("mallocInUse", napi_enumerable),
                             InstanceMethod<&Addon::TestProgressJob>("testProgressJob", napi_enumerable),
                         });
    register_optim(env, exports);
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

  // setThreads(n): the engine's process-wide thread count (threadpool.h), an integer in [1, 256].
  Napi::Value SetThreads(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      const double n = info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : -1;
      if (!(n >= 1 && n <= kMaxEngineThreads && n == std::floor(n)) || !set_engine_threads(static_cast<unsigned>(n))) {
        throw make_error(env, ErrorCode::invalid_argument,
                         "threads must be an integer from 1 to " + std::to_string(kMaxEngineThreads), ErrorClass::range);
      }
      return env.Undefined();
    });
  }

  Napi::Value Threads(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), engine_threads().threads());
  }

  // For tests: testProgressJob(steps, us, options) runs a ProgressJob through start_job.
  Napi::Value TestProgressJob(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const auto arg = [&](std::size_t i) {
      const double v = info[i].IsNumber() ? info[i].As<Napi::Number>().DoubleValue() : 0;
      return v >= 0 && v <= 1e6 ? static_cast<uint32_t>(v) : 0u;
    };
    return start_job(env, std::make_unique<ProgressJob>(arg(0), arg(1)), info[2]);
  }

  // For tests: how many compiled programs are alive in the process.
  Napi::Value LivePrograms(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(g_live_programs.load()));
  }

  // For the soak test: bytes the C allocator has handed out and not had back (the process's
  // malloc heap, whoever allocated), or -1 where the C library cannot say (glibc < 2.33, others).
  // Unlike resident memory it does not move with where the allocator places free memory.
  Napi::Value MallocInUse(const Napi::CallbackInfo& info) {
#ifdef WENGERT_HAVE_MALLINFO2
    const struct mallinfo2 m = mallinfo2();
    return Napi::Number::New(info.Env(), static_cast<double>(m.uordblks + m.hblkhd));
#else
    return Napi::Number::New(info.Env(), -1);
#endif
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
      ProgramWrap::Unwrap(obj)->set_program(env, obj, counted(std::move(program)));
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
