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

#include "async_job.h"
#include "isa.h"
#include "napi_util.h"
#include "program.h"

namespace wengert {
namespace {

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

// One asynchronous run. Everything execute() touches is plain C++: the program (shared, so
// dispose() or GC during the run is safe) and the buffer pointers, whose typed arrays are kept
// alive until the promise settles.
class RunJob : public AsyncJob {
 public:
  RunJob(std::shared_ptr<const Program> program, RunArgs& args, bool check_finite)
      : program_(std::move(program)), inputs_(args.inputs.begin(), args.inputs.end()),
        outputs_(args.outputs.begin(), args.outputs.end()), check_finite_(check_finite) {}

  Status execute() override {
    RunOptions options;
    options.cancel = cancel_flag();
    options.check_finite = check_finite_;
    return program_->run(inputs_, outputs_, options);
  }

 private:
  std::shared_ptr<const Program> program_;
  std::vector<InputView> inputs_;
  std::vector<OutputView> outputs_;
  bool check_finite_;
};

// The `checkFinite` flag of a run's options object (RunOptions::check_finite).
bool check_finite_option(Napi::Value options) {
  return options.IsObject() && options.As<Napi::Object>().Get("checkFinite").ToBoolean().Value();
}

// Queues a run and returns its promise (main thread).
Napi::Value queue_run(Napi::Env env, std::shared_ptr<const Program> program, RunArgs args, Napi::Value options) {
  auto job = std::make_unique<RunJob>(std::move(program), args, check_finite_option(options));
  for (Napi::Object& o : args.owners) job->keep_alive(env, o);
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
      RunOptions options;
      options.check_finite = check_finite_option(info[2]);
      const Status s = p->run(args.inputs.span(), args.outputs.span(), options);
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
