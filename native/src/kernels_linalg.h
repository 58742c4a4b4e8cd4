// Kernels of the linear algebra ops: matmul (kind `matmul`, on the engine's GEMM) and the ops of
// kind `linalg` (cholesky, triangular_solve, lu, lu_solve).
#pragma once

#include "kernels.h"

namespace wengert {

// The kernel of a `linalg` op for a float dtype, or nullptr for any other op or dtype.
// select_kernel (kernels.cpp) delegates matmul and every `linalg` op here.
KernelFn select_linalg_kernel(OpCode code, DType dtype);

}  // namespace wengert
