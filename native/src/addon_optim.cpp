// Node-API bindings of the native optimizers (optim/optim.h): minimize, leastSquares and fitMany
// all arrive here as one call, "fit these problems", so a single problem is a batch of one.
//
// JavaScript traces the user's function and serializes the programs the optimizer needs; this
// file compiles them, binds every problem's data once, and runs each problem's optimizer on the
// engine's threads with its own state and stopping decision. A problem sees its model only through
// ProgramObjective / ProgramResiduals, which run compiled programs (Program::run is thread-safe,
// each run takes its own arena), so no JavaScript runs while an optimization is in progress.
//
// Argument layout (built by ts/optim.ts):
//   groups:  [{ main: Uint8Array, aux: Uint8Array | null, problems: [{ index, x0, data, weights }] }]
//            One group per distinct data shape; its programs take (x, ...data).
//            minimize:     main -> [value, grad]            aux (newton) -> [value, grad, hessian]
//            leastSquares: main -> [residuals, jacobian]    aux -> [residuals]
//   options: { kind: 'minimize' | 'leastSquares', count, method, lower, upper, maxIterations, ... }
#include <napi.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "addon_optim.h"
#include "async_job.h"
#include "napi_util.h"
#include "optim/optim.h"
#include "program.h"
#include "threadpool.h"

namespace wengert {
namespace {

using optim::LeastSquaresOptions;
using optim::LeastSquaresResult;
using optim::MinimizeOptions;
using optim::MinimizeResult;

// One problem's data, copied out of JavaScript so the optimization never reads memory that JS can
// change or detach. Stored as doubles, so the bytes are aligned for every dtype.
struct DataBuffer {
  std::vector<double> storage;
  DType dtype = DType::f64;
  uint64_t length = 0;
};

struct Problem {
  uint32_t index = 0;  // position in the caller's problem list
  std::vector<double> x0;
  std::vector<DataBuffer> data;
  std::vector<double> weights;  // empty: all ones
};

struct Group {
  std::shared_ptr<const Program> main;
  std::shared_ptr<const Program> aux;  // newton's Hessian program, or the residual-only program
  std::vector<Problem> problems;
  int n = 0;
  int m = 0;  // residuals (leastSquares)
};

// The inputs of one run: x, then the problem's data.
std::vector<InputView> bind_inputs(const Problem& p, int n) {
  std::vector<InputView> in;
  in.reserve(1 + p.data.size());
  in.push_back(InputView{nullptr, DType::f64, static_cast<uint64_t>(n)});
  for (const DataBuffer& d : p.data) in.push_back(InputView{d.storage.data(), d.dtype, d.length});
  return in;
}

class ProgramObjective final : public optim::Objective {
 public:
  ProgramObjective(const Group& g, const Problem& p, RunOptions run)
      : g_(g), inputs_(bind_inputs(p, g.n)), run_(run), scratch_(static_cast<std::size_t>(g.n)) {}
  int n() const override { return g_.n; }
  Status value_grad(const double* x, double* f, double* g) override {
    inputs_[0].data = x;
    const OutputView out[2] = {{f, DType::f64, 1}, {g, DType::f64, static_cast<uint64_t>(g_.n)}};
    return g_.main->run(inputs_, out, run_);
  }
  Status hessian(const double* x, double* h) override {
    if (!g_.aux) return Status::error(ErrorCode::internal, "no Hessian program was compiled for this problem");
    inputs_[0].data = x;
    double f = 0;
    const uint64_t n = static_cast<uint64_t>(g_.n);
    const OutputView out[3] = {{&f, DType::f64, 1}, {scratch_.data(), DType::f64, n}, {h, DType::f64, n * n}};
    return g_.aux->run(inputs_, out, run_);
  }

 private:
  const Group& g_;
  std::vector<InputView> inputs_;
  RunOptions run_;
  std::vector<double> scratch_;  // the gradient the Hessian program also returns
};

class ProgramResiduals final : public optim::Residuals {
 public:
  ProgramResiduals(const Group& g, const Problem& p, RunOptions run) : g_(g), inputs_(bind_inputs(p, g.n)), run_(run) {}
  int n() const override { return g_.n; }
  int m() const override { return g_.m; }
  Status residuals(const double* x, double* r) override {
    inputs_[0].data = x;
    const OutputView out[1] = {{r, DType::f64, static_cast<uint64_t>(g_.m)}};
    return g_.aux->run(inputs_, out, run_);
  }
  Status residuals_jacobian(const double* x, double* r, double* jac) override {
    inputs_[0].data = x;
    const uint64_t m = static_cast<uint64_t>(g_.m), n = static_cast<uint64_t>(g_.n);
    const OutputView out[2] = {{r, DType::f64, m}, {jac, DType::f64, m * n}};
    return g_.main->run(inputs_, out, run_);
  }

 private:
  const Group& g_;
  std::vector<InputView> inputs_;
  RunOptions run_;
};

enum class Kind { minimize, least_squares };

// Everything one call needs, parsed on the JS thread; run() touches no JavaScript.
struct FitWork {
  Kind kind = Kind::least_squares;
  std::vector<Group> groups;
  std::size_t count = 0;  // problems over all groups
  MinimizeOptions min_opts;
  LeastSquaresOptions lsq_opts;
  std::vector<double> lower, upper;  // shared bounds (empty: none)
  // Results by problem index.
  std::vector<MinimizeResult> min_results;
  std::vector<LeastSquaresResult> lsq_results;
  std::vector<Status> statuses;

  Status run(const std::atomic<bool>* cancel, AsyncJob* job) {
    if (kind == Kind::minimize) {
      min_results.resize(count);
    } else {
      lsq_results.resize(count);
    }
    statuses.assign(count, Status{});
    // Flatten (group, problem) so the threads share one index space.
    std::vector<std::pair<uint32_t, uint32_t>> order;
    order.reserve(count);
    for (uint32_t gi = 0; gi < groups.size(); ++gi) {
      for (uint32_t pi = 0; pi < groups[gi].problems.size(); ++pi) order.emplace_back(gi, pi);
    }
    std::atomic<uint64_t> done{0};
    const uint64_t total = order.size();
    if (job) job->report_progress(0, total);
    RunOptions run_opts;
    run_opts.cancel = cancel;  // kernels run serially: the problems are the parallel work
    parallel_for(&engine_threads(), order.size(), [&](uint64_t k) {
      const Group& g = groups[order[k].first];
      const Problem& p = g.problems[order[k].second];
      Status& st = statuses[p.index];
      try {
        if (cancel && cancel->load(std::memory_order_relaxed)) {
          st = Status::error(ErrorCode::aborted, "the work was aborted");
        } else if (kind == Kind::minimize) {
          ProgramObjective obj(g, p, run_opts);
          MinimizeOptions o = min_opts;
          o.cancel = cancel;
          st = optim::minimize(obj, p.x0.data(), o, &min_results[p.index]);
        } else {
          ProgramResiduals res(g, p, run_opts);
          LeastSquaresOptions o = lsq_opts;
          o.cancel = cancel;
          o.weights = p.weights.empty() ? nullptr : p.weights.data();
          st = optim::least_squares(res, p.x0.data(), o, &lsq_results[p.index]);
        }
      } catch (const std::bad_alloc&) {
        st = Status::error(ErrorCode::out_of_memory, "out of memory");
      } catch (...) {
        st = Status::error(ErrorCode::internal, "internal error in an optimization");
      }
      const uint64_t d = done.fetch_add(1, std::memory_order_relaxed) + 1;
      if (job) job->report_progress(d, total);
    });
    if (cancel && cancel->load(std::memory_order_relaxed)) return Status::error(ErrorCode::aborted, "the work was aborted");
    for (std::size_t i = 0; i < count; ++i) {
      if (!statuses[i].ok()) {
        return Status::error(statuses[i].code, "problem " + std::to_string(i) + ": " + statuses[i].message);
      }
    }
    return Status{};
  }

  Napi::Value to_js(Napi::Env env) const {
    Napi::Array out = Napi::Array::New(env, count);
    for (std::size_t i = 0; i < count; ++i) {
      const MinimizeResult& r = kind == Kind::minimize ? min_results[i] : static_cast<const MinimizeResult&>(lsq_results[i]);
      Napi::Object o = Napi::Object::New(env);
      o.Set("x", f64_array(env, r.x));
      o.Set("value", Napi::Number::New(env, r.value));
      o.Set("grad", f64_array(env, r.grad));
      o.Set("iterations", Napi::Number::New(env, r.iterations));
      o.Set("evaluations", Napi::Number::New(env, r.evaluations));
      o.Set("status", Napi::String::New(env, optim::stop_reason_name(r.status)));
      o.Set("message", Napi::String::New(env, r.message));
      if (kind == Kind::least_squares) {
        const LeastSquaresResult& l = lsq_results[i];
        o.Set("cost", Napi::Number::New(env, l.cost));
        o.Set("residuals", f64_array(env, l.residuals));
        o.Set("jacobian", f64_array(env, l.jacobian));
        o.Set("covariance", f64_array(env, l.covariance));
        o.Set("stdErrors", f64_array(env, l.std_errors));
      }
      out.Set(static_cast<uint32_t>(i), o);
    }
    return out;
  }

  static Napi::Float64Array f64_array(Napi::Env env, const std::vector<double>& v) {
    Napi::Float64Array a = Napi::Float64Array::New(env, v.size());
    if (!v.empty()) std::memcpy(a.Data(), v.data(), v.size() * sizeof(double));
    return a;
  }
};

Napi::Error arg_error(Napi::Env env, const std::string& message) {
  return make_error(env, ErrorCode::invalid_argument, message, ErrorClass::type);
}

std::vector<double> read_f64(Napi::Env env, Napi::Value v, const std::string& what) {
  const TypedView t = typed_view(env, v);
  if (!t.ok || t.dtype != DType::f64) throw arg_error(env, what + " must be a Float64Array, got " + t.type_name);
  const double* d = static_cast<const double*>(t.data);
  return std::vector<double>(d, d + t.length);
}

std::shared_ptr<const Program> compile_bytes(Napi::Env env, Napi::Value v, std::size_t limit) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw make_error(env, ErrorCode::bad_graph, "an optimizer program must be a Uint8Array", ErrorClass::type);
  }
  Napi::Uint8Array bytes = v.As<Napi::Uint8Array>();
  std::shared_ptr<const Program> p;
  const Status s = Program::compile(bytes.Data(), bytes.ByteLength(), limit, &p);
  if (!s.ok()) throw make_error(env, s);
  return p;
}

// Checks that `p` has outputs of the given lengths, all float64.
void check_outputs(Napi::Env env, const Program& p, std::initializer_list<uint64_t> lengths, const char* what) {
  const auto& outs = p.output_specs();
  bool ok = outs.size() == lengths.size();
  std::size_t k = 0;
  for (uint64_t len : lengths) {
    if (!ok) break;
    ok = outs[k].dtype == DType::f64 && outs[k].length == len;
    ++k;
  }
  if (!ok) throw make_error(env, ErrorCode::invalid_argument, std::string("the ") + what + " program has unexpected outputs", ErrorClass::error);
}

double num_opt(Napi::Object o, const char* key, double fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
}

int int_opt(Napi::Object o, const char* key, int fallback) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) return fallback;
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0)) return fallback;
  return d >= 2147483647.0 ? 2147483647 : static_cast<int>(d);
}

std::unique_ptr<FitWork> parse(Napi::Env env, Napi::Value groups_v, Napi::Value options_v) {
  if (!groups_v.IsArray() || !options_v.IsObject()) throw arg_error(env, "optimizer call: expected (groups, options)");
  auto w = std::make_unique<FitWork>();
  Napi::Object opts = options_v.As<Napi::Object>();
  const std::string kind = opts.Get("kind").ToString().Utf8Value();
  if (kind == "minimize") {
    w->kind = Kind::minimize;
  } else if (kind == "leastSquares") {
    w->kind = Kind::least_squares;
  } else {
    throw arg_error(env, "options.kind must be 'minimize' or 'leastSquares'");
  }
  const double limit_d = num_opt(opts, "maxArenaBytes", 4294967296.0);
  const std::size_t limit = limit_d >= 1.8e19 ? std::numeric_limits<std::size_t>::max() : static_cast<std::size_t>(limit_d);

  // Options shared by every problem. Anything not given keeps optim.h's default.
  MinimizeOptions& mo = w->min_opts;
  LeastSquaresOptions& lo = w->lsq_opts;
  const std::string method = opts.Has("method") ? opts.Get("method").ToString().Utf8Value() : "lbfgs";
  if (method == "lbfgs") {
    mo.method = optim::Method::lbfgs;
  } else if (method == "newton") {
    mo.method = optim::Method::newton;
  } else if (method == "adam") {
    mo.method = optim::Method::adam;
  } else {
    throw arg_error(env, "options.method must be 'lbfgs', 'newton' or 'adam', got '" + method + "'");
  }
  const std::string loss = opts.Has("loss") ? opts.Get("loss").ToString().Utf8Value() : "linear";
  if (loss == "linear") {
    lo.loss = optim::Loss::linear;
  } else if (loss == "huber") {
    lo.loss = optim::Loss::huber;
  } else if (loss == "cauchy") {
    lo.loss = optim::Loss::cauchy;
  } else {
    throw arg_error(env, "options.loss must be 'linear', 'huber' or 'cauchy', got '" + loss + "'");
  }
  mo.max_iterations = lo.max_iterations = int_opt(opts, "maxIterations", mo.max_iterations);
  mo.max_evaluations = lo.max_evaluations = int_opt(opts, "maxEvaluations", mo.max_evaluations);
  mo.gtol = num_opt(opts, "gtol", mo.gtol);
  mo.ftol = num_opt(opts, "ftol", mo.ftol);
  mo.xtol = num_opt(opts, "xtol", mo.xtol);
  lo.gtol = num_opt(opts, "gtol", lo.gtol);
  lo.ftol = num_opt(opts, "ftol", lo.ftol);
  lo.xtol = num_opt(opts, "xtol", lo.xtol);
  mo.memory = int_opt(opts, "memory", mo.memory);
  mo.lr = num_opt(opts, "lr", mo.lr);
  mo.steps = int_opt(opts, "steps", mo.steps);
  mo.beta1 = num_opt(opts, "beta1", mo.beta1);
  mo.beta2 = num_opt(opts, "beta2", mo.beta2);
  mo.eps = num_opt(opts, "eps", mo.eps);
  lo.f_scale = num_opt(opts, "fScale", lo.f_scale);
  if (opts.Get("lower").IsTypedArray()) w->lower = read_f64(env, opts.Get("lower"), "bounds.lower");
  if (opts.Get("upper").IsTypedArray()) w->upper = read_f64(env, opts.Get("upper"), "bounds.upper");
  mo.bounds = lo.bounds = optim::Bounds{w->lower.empty() ? nullptr : w->lower.data(), w->upper.empty() ? nullptr : w->upper.data()};

  Napi::Array groups = groups_v.As<Napi::Array>();
  const bool newton = w->kind == Kind::minimize && mo.method == optim::Method::newton;
  for (uint32_t gi = 0; gi < groups.Length(); ++gi) {
    Napi::Value gv = groups.Get(gi);
    if (!gv.IsObject()) throw arg_error(env, "optimizer call: a group must be an object");
    Napi::Object go = gv.As<Napi::Object>();
    Group g;
    g.main = compile_bytes(env, go.Get("main"), limit);
    const bool needs_aux = w->kind == Kind::least_squares || newton;
    if (needs_aux) g.aux = compile_bytes(env, go.Get("aux"), limit);
    const auto& args = g.main->arg_specs();
    if (args.empty() || args[0].dtype != DType::f64) throw arg_error(env, "the optimizer's first argument must be float64");
    if (args[0].length == 0 || args[0].length > 1000000) throw arg_error(env, "the parameter vector must have 1 to 1000000 elements");
    g.n = static_cast<int>(args[0].length);
    const uint64_t n = static_cast<uint64_t>(g.n);
    if (w->kind == Kind::minimize) {
      check_outputs(env, *g.main, {1, n}, "value-and-gradient");
      if (newton) check_outputs(env, *g.aux, {1, n, n * n}, "Hessian");
    } else {
      const auto& outs = g.main->output_specs();
      if (outs.size() != 2 || outs[0].length == 0 || outs[0].length > 100000000) {
        throw make_error(env, ErrorCode::invalid_argument, "the residual program has unexpected outputs", ErrorClass::error);
      }
      g.m = static_cast<int>(outs[0].length);
      check_outputs(env, *g.main, {outs[0].length, outs[0].length * n}, "residual-and-Jacobian");
      check_outputs(env, *g.aux, {outs[0].length}, "residual");
    }
    for (std::size_t a = 0; a < args.size(); ++a) {
      if (g.aux && (g.aux->arg_specs().size() != args.size() || g.aux->arg_specs()[a].dtype != args[a].dtype ||
                    g.aux->arg_specs()[a].length != args[a].length)) {
        throw arg_error(env, "the optimizer's programs take different arguments");
      }
    }
    if (w->lower.size() > 0 && w->lower.size() != n) throw arg_error(env, "bounds.lower must have " + std::to_string(n) + " elements");
    if (w->upper.size() > 0 && w->upper.size() != n) throw arg_error(env, "bounds.upper must have " + std::to_string(n) + " elements");

    Napi::Value pv = go.Get("problems");
    if (!pv.IsArray()) throw arg_error(env, "optimizer call: group.problems must be an array");
    Napi::Array probs = pv.As<Napi::Array>();
    for (uint32_t pi = 0; pi < probs.Length(); ++pi) {
      Napi::Value v = probs.Get(pi);
      if (!v.IsObject()) throw arg_error(env, "optimizer call: a problem must be an object");
      Napi::Object po = v.As<Napi::Object>();
      Problem p;
      const double idx = num_opt(po, "index", -1);
      if (!(idx >= 0 && idx < 4294967295.0)) throw arg_error(env, "optimizer call: a problem needs an index");
      p.index = static_cast<uint32_t>(idx);
      const std::string name = "problem " + std::to_string(p.index);
      p.x0 = read_f64(env, po.Get("x0"), name + ": x0");
      if (p.x0.size() != n) {
        throw make_error(env, ErrorCode::input_length,
                         name + ": x0 must have " + std::to_string(n) + " elements, got " + std::to_string(p.x0.size()),
                         ErrorClass::range);
      }
      Napi::Value dv = po.Get("data");
      if (!dv.IsArray() || dv.As<Napi::Array>().Length() + 1 != args.size()) {
        throw make_error(env, ErrorCode::input_count,
                         name + ": expected " + std::to_string(args.size() - 1) + " data arrays", ErrorClass::range);
      }
      Napi::Array da = dv.As<Napi::Array>();
      for (uint32_t k = 0; k < da.Length(); ++k) {
        const TypedView t = typed_view(env, da.Get(k));
        const IoSpec& spec = args[k + 1];
        if (!t.ok || t.dtype != spec.dtype) {
          throw make_error(env, ErrorCode::input_dtype,
                           name + ": data " + std::to_string(k) + " must be a " + js_array_name(spec.dtype) + ", got " + t.type_name,
                           ErrorClass::type);
        }
        if (t.length != spec.length) {
          throw make_error(env, ErrorCode::input_length,
                           name + ": data " + std::to_string(k) + " must have " + std::to_string(spec.length) + " elements, got " +
                               std::to_string(t.length),
                           ErrorClass::range);
        }
        DataBuffer b;
        b.dtype = t.dtype;
        b.length = t.length;
        const std::size_t bytes = t.length * dtype_size(t.dtype);
        b.storage.resize((bytes + 7) / 8 + 1);
        if (bytes > 0) std::memcpy(b.storage.data(), t.data, bytes);
        p.data.push_back(std::move(b));
      }
      if (po.Get("weights").IsTypedArray()) {
        p.weights = read_f64(env, po.Get("weights"), name + ": weights");
        if (w->kind != Kind::least_squares || p.weights.size() != static_cast<std::size_t>(g.m)) {
          throw make_error(env, ErrorCode::invalid_argument,
                           name + ": weights must have one element per residual (" + std::to_string(g.m) + "), got " +
                               std::to_string(p.weights.size()),
                           ErrorClass::range);
        }
      }
      g.problems.push_back(std::move(p));
      ++w->count;
    }
    w->groups.push_back(std::move(g));
  }
  // Every index in [0, count) exactly once.
  std::vector<bool> seen(w->count, false);
  for (const Group& g : w->groups) {
    for (const Problem& p : g.problems) {
      if (p.index >= w->count || seen[p.index]) throw arg_error(env, "optimizer call: problem indices must be 0..count-1, each once");
      seen[p.index] = true;
    }
  }
  return w;
}

class FitJob final : public AsyncJob {
 public:
  explicit FitJob(std::unique_ptr<FitWork> work) : work_(std::move(work)) {}
  Status execute() override { return work_->run(cancel_flag(), this); }
  Napi::Value result(Napi::Env env) override { return work_->to_js(env); }

 private:
  std::unique_ptr<FitWork> work_;
};

Napi::Value OptimFit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    std::unique_ptr<FitWork> w = parse(env, info[0], info[1]);
    const Status s = w->run(nullptr, nullptr);
    if (!s.ok()) throw make_error(env, s);
    return w->to_js(env);
  });
}

// Validation failures reject the promise; nothing is thrown synchronously.
Napi::Value OptimFitAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  try {
    return guarded(env, [&]() -> Napi::Value {
      std::unique_ptr<FitWork> w = parse(env, info[0], info[1]);
      return start_job(env, std::make_unique<FitJob>(std::move(w)), info[2]);
    });
  } catch (const Napi::Error& e) {
    Napi::Promise::Deferred d = Napi::Promise::Deferred::New(env);
    d.Reject(e.Value());
    return d.Promise();
  }
}

}  // namespace

void register_optim(Napi::Env env, Napi::Object exports) {
  exports.Set("optimFit", Napi::Function::New<OptimFit>(env, "optimFit"));
  exports.Set("optimFitAsync", Napi::Function::New<OptimFitAsync>(env, "optimFitAsync"));
}

}  // namespace wengert
