# The wengert Node-API addon, built by node-gyp (`npm install` via node-gyp-build, `prebuildify --napi`).
# CMakeLists.txt lists the same sources for development builds; test/native-build.test.ts checks
# that the two lists agree. Keep this file strict JSON apart from whole-line '#' comments.
#
# C++ exceptions are enabled (NAPI_CPP_EXCEPTIONS): the engine reports allocation failure as
# std::bad_alloc, and node-addon-api turns a thrown Napi::Error into a JS exception. The addon
# catches every exception at the boundary (native/src/addon.cpp), so none reaches Node.
# NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS: while an environment shuts down (a worker terminated
# mid-call) node-addon-api drops an error it cannot throw instead of aborting the process.
# No -march flags: one binary runs on any x86-64 or arm64 CPU. The isa_*.cpp files compile their
# own instruction sets through target pragmas and are chosen at run time (native/src/isa.h).
{
  "targets": [
    {
      "target_name": "wengert",
      "sources": [
        "native/src/addon.cpp",
        "native/src/async_job.cpp",
        "native/src/addon_optim.cpp",
        "native/src/status.cpp",
        "native/src/optim/common.cpp",
        "native/src/optim/lbfgs.cpp",
        "native/src/optim/newton.cpp",
        "native/src/optim/adam.cpp",
        "native/src/format.cpp",
        "native/src/optim/least_squares.cpp",
        "native/src/kernels.cpp",
        "native/src/kernels_linalg.cpp",
        "native/src/gemm.cpp",
        "native/src/kernels_reduce.cpp",
        "native/src/kernels_shape.cpp",
        "native/src/program.cpp",
        "native/src/fused.cpp",
        "native/src/threadpool.cpp",
        "native/src/isa.cpp",
        "native/src/isa_scalar.cpp",
        "native/src/isa_sse2.cpp",
        "native/src/isa_avx2.cpp",
        "native/src/isa_avx512.cpp",
        "native/src/isa_neon.cpp"
      ],
      "include_dirs": [
        "<!@(node -p \"require('node-addon-api').include\")",
        "native/src"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions", "-O2"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-O2"],
      "cflags_cc": ["-std=c++20", "-fexceptions", "-O3"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++20",
        "CLANG_CXX_LIBRARY": "libc++",
        "MACOSX_DEPLOYMENT_TARGET": "11.0",
        "GCC_OPTIMIZATION_LEVEL": "3"
      },
      "msvs_settings": {
        "VCCLCompilerTool": {
          "ExceptionHandling": 1,
          "AdditionalOptions": ["/std:c++20"]
        }
      }
    }
  ]
}
