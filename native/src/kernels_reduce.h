// Kernels of the arg reductions (argmax, argmin): int32 indices out of a float input.
#pragma once

#include "kernels.h"

namespace wengert {

// The kernel of an arg_reduce op, or nullptr for any other op. The node is int32 (the validator
// ensures it); the kernel reads its float input as the node's from_dtype attribute says, so the
// same kernel serves every `dtype` asked for.
KernelFn select_reduce_kernel(OpCode code, DType dtype);

}  // namespace wengert
