# Hand-written C++ gradients for the W1–W6 workloads: the floor that bench/run.mjs compares
# wengert against, in the same process. Built on demand by bench/run.mjs (node-gyp), never at
# package install. Same optimisation as wengert's own build: -O3, no -march flags.
{
  "targets": [
    {
      "target_name": "reference",
      "sources": ["reference.cpp"],
      "defines": ["NAPI_VERSION=8"],
      "cflags!": ["-O2"],
      "cflags_cc!": ["-std=gnu++17", "-O2"],
      "cflags_cc": ["-std=c++20", "-O3"],
      "xcode_settings": { "CLANG_CXX_LANGUAGE_STANDARD": "c++20", "GCC_OPTIMIZATION_LEVEL": "3" }
    }
  ]
}
