// Kernels: one function per (op, element type), chosen once at compile time. A kernel reads its
// inputs and writes its output through the pointers in a KernelCall; it allocates nothing, and
// its loop order is fixed, so a program gives the same bits on every run.
#pragma once

#include "format.h"

namespace wengert {

struct KernelCall {
  const Node* node;                          // the node computed: dtype, shape, attributes
  const int64_t* iattrs;                     // the node's integer attributes
  const Shape* in_shapes[kMaxInputs];        // shapes of its inputs
  const void* in[kMaxInputs];                // its inputs' values
  void* out;                                 // its value, node->bytes bytes
};

using KernelFn = void (*)(const KernelCall& call);

// The kernel of a computed op for a float dtype, or nullptr for input/constant nodes (and for an
// op this engine has no kernel for, which the build prevents: see kernels.cpp).
KernelFn select_kernel(OpCode code, DType dtype);

}  // namespace wengert
