// The body of one instruction set's translation unit. An isa_<name>.cpp includes the standard
// and engine headers, opens its target pragma, defines
//   WENGERT_ISA_NS           its namespace (isa_avx2, ...)
//   WENGERT_PACKET_F64/_F32  its packet types (simd/packet_*.h)
//   WENGERT_ISA_LOOPS        1 to also compile the plain elementwise loops for this target
// and includes this file, so everything below is compiled for that target.
#include <type_traits>

#include "../elementwise_loops.h"
#include "../scalar_tape_run.h"
#include "vecmath.h"

namespace wengert {
namespace WENGERT_ISA_NS {
namespace {

using PD = WENGERT_PACKET_F64;
using PF = WENGERT_PACKET_F32;

// y = F(x) over n elements: whole packets, then the tail through a padded packet.
template <class P, class F>
void vec_map(const typename P::Scalar* x, typename P::Scalar* y, uint64_t n) {
  using T = typename P::Scalar;
  uint64_t i = 0;
  for (; i + P::N <= n; i += P::N) store(y + i, F::apply(P::load(x + i)));
  if (i < n) {
    T buf[P::N];
    const uint64_t rest = n - i;
    for (int j = 0; j < P::N; ++j) buf[j] = uint64_t(j) < rest ? x[i + j] : T(1);
    store(buf, F::apply(P::load(buf)));
    for (uint64_t j = 0; j < rest; ++j) y[i + j] = buf[j];
  }
}

#define WENGERT_VEC_FUNCTOR(op, fn)       \
  struct V_##fn {                         \
    template <class P>                    \
    static P apply(P x) {                 \
      return vm::fn(x);                   \
    }                                     \
  };
WENGERT_FOR_EACH_SIMD_OP(WENGERT_VEC_FUNCTOR)
#undef WENGERT_VEC_FUNCTOR

template <class P, class F>
void vec_kernel(const KernelCall& c) {
  using T = typename P::Scalar;
  const T* x = static_cast<const T*>(c.in[0]);
  T* y = static_cast<T*>(c.out);
  // kChunk is a multiple of every packet width, so only the last chunk has a padded tail.
  for_chunks(c.parallel, c.node->numel, [&](uint64_t b, uint64_t e) { vec_map<P, F>(x + b, y + b, e - b); });
}

template <class P, class F>
void vec_array(const void* x, void* y, uint64_t n) {
  using T = typename P::Scalar;
  vec_map<P, F>(static_cast<const T*>(x), static_cast<T*>(y), n);
}

}  // namespace

KernelFn select(OpCode code, DType dtype) {
  const bool f64 = dtype == DType::f64;
  if (!f64 && dtype != DType::f32) return nullptr;
  switch (code) {
#define WENGERT_VEC_CASE(op, fn) \
  case OpCode::op: return f64 ? &vec_kernel<PD, V_##fn> : &vec_kernel<PF, V_##fn>;
    WENGERT_FOR_EACH_SIMD_OP(WENGERT_VEC_CASE)
#undef WENGERT_VEC_CASE
    default: break;
  }
#if WENGERT_ISA_LOOPS
  switch (code) {
#define WENGERT_UNARY_CASE(name) \
  case OpCode::name: return f64 ? &unary_kernel<double, scalar::name> : &unary_kernel<float, scalar::name>;
#define WENGERT_BINARY_CASE(name) \
  case OpCode::name: return f64 ? &binary_kernel<double, scalar::name> : &binary_kernel<float, scalar::name>;
    WENGERT_FOR_EACH_UNARY_OP(WENGERT_UNARY_CASE)
    WENGERT_FOR_EACH_BINARY_OP(WENGERT_BINARY_CASE)
#undef WENGERT_UNARY_CASE
#undef WENGERT_BINARY_CASE
    default: break;
  }
#endif
  return nullptr;
}

VecArrayFn vec_fn(VecOp op, DType dtype) {
  const bool f64 = dtype == DType::f64;
  if (!f64 && dtype != DType::f32) return nullptr;
  switch (op) {
#define WENGERT_VEC_FN_CASE(opname, fn) \
  case VecOp::fn: return f64 ? &vec_array<PD, V_##fn> : &vec_array<PF, V_##fn>;
    WENGERT_FOR_EACH_SIMD_OP(WENGERT_VEC_FN_CASE)
#undef WENGERT_VEC_FN_CASE
  }
  return nullptr;
}

namespace {
// Vector math function k on one element, as vec_kernel computes it for a one-element value.
struct TapeVec {
  template <class T, int k>
  static T apply(T x) {
    using P = std::conditional_t<std::is_same_v<T, double>, PD, PF>;
    T y = x;
#define WENGERT_TAPE_VEC_CALL(op, fn) \
  if constexpr (k == int(VecOp::fn)) vec_map<P, V_##fn>(&x, &y, 1);
    WENGERT_FOR_EACH_SIMD_OP(WENGERT_TAPE_VEC_CALL)
#undef WENGERT_TAPE_VEC_CALL
    return y;
  }
};
}  // namespace

// The scalar fast path's runners for this instruction set (scalar_tape.h).
void run_tape(const TapeOp* ops, std::size_t n, uint8_t* slots) { run_tape_with<TapeVec>(ops, n, slots); }
void run_tape_portable(const TapeOp* ops, std::size_t n, uint8_t* slots) {
  run_tape_switch<TapeVec>(ops, n, slots);
}

}  // namespace WENGERT_ISA_NS
}  // namespace wengert
