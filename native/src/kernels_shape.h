// Kernels of the slicing, indexing and conversion ops (slice, concat, pad, gather, scatter_add,
// one_hot, cast), for float64, float32 and, where the op allows it, int32; and the int32 kernels
// of the copying shape ops (reshape, broadcast_to, transpose), which move indices unchanged.
#pragma once

#include "kernels.h"

namespace wengert {

// The kernel of one of those ops for `dtype`, or nullptr for any other (op, dtype).
KernelFn select_shape_kernel(OpCode code, DType dtype);

}  // namespace wengert
