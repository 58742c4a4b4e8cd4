// Kernels: one function per (op, element type), chosen once at compile time. A kernel reads its
// inputs and writes its output through the pointers in a KernelCall; it allocates nothing, and
// its loop order is fixed, so a program gives the same bits on every run.
#pragma once

#include "format.h"
#include "parallel.h"

namespace wengert {

// A kernel that meets bad data at run time (an index out of range) records it here and returns;
// the run stops after that step with a coded error naming the node. Kernels that cannot fail
// never touch it. Never allocates: the message is formed by the run, on the error path only.
struct KernelFault {
  ErrorCode code = ErrorCode::ok;
  const char* what = "";  // a static description, e.g. "index"
  int64_t value = 0;      // the offending value
  int64_t position = 0;   // its element offset in the input it was read from
  int64_t limit = 0;      // the valid range is [0, limit) (or as `what` says)
};

struct KernelCall {
  const Node* node;                          // the node computed: dtype, shape, attributes
  const int64_t* iattrs;                     // the node's integer attributes
  const Shape* in_shapes[kMaxInputs];        // shapes of its inputs
  const void* in[kMaxInputs];                // its inputs' values
  void* out;                                 // its value, node->bytes bytes
  KernelFault* fault;                        // where a kernel reports bad data (see above)
  const Parallel* parallel;                  // threads to split large work over, or nullptr (serial)
};

using KernelFn = void (*)(const KernelCall& call);

// The kernel of a computed op for a float dtype, or nullptr for input/constant nodes (and for an
// op this engine has no kernel for, which the build prevents: see kernels.cpp).
KernelFn select_kernel(OpCode code, DType dtype);

}  // namespace wengert
