// Error reporting for the engine: every failure is a Status with a stable code and a message a
// user can act on. Nothing in the engine throws for bad input, and nothing aborts the process.
#pragma once

#include <cstdint>
#include <string>

namespace wengert {

enum class ErrorCode : uint8_t {
  ok,
  bad_graph,      // the graph buffer breaks a rule of docs/FORMAT.md
  arena_limit,    // the memory plan needs more than maxArenaBytes
  out_of_memory,  // an allocation failed
  input_count,    // wrong number of inputs
  input_dtype,    // an input of the wrong element type
  input_length,   // an input of the wrong element count
  output_spec,    // wrong number, element type or length of output buffers
  disposed,       // the program was disposed
  index_out_of_range,  // an index input or constant names an element that does not exist
  aborted,        // the caller's AbortSignal fired; the work stopped at a safe point
  non_finite,     // checkFinite: a step produced NaN or an infinity
  invalid_argument,  // an option or argument outside its documented range
  internal,       // a bug in the engine
};

// The stable name of a code, e.g. "WENGERT_BAD_GRAPH" (the `code` property of the JS error).
const char* error_code_name(ErrorCode code);

struct Status {
  ErrorCode code = ErrorCode::ok;
  std::string message;

  bool ok() const { return code == ErrorCode::ok; }
  static Status error(ErrorCode code, std::string message) { return Status{code, std::move(message)}; }
};

}  // namespace wengert
