#include "status.h"

namespace wengert {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::ok: return "WENGERT_OK";
    case ErrorCode::bad_graph: return "WENGERT_BAD_GRAPH";
    case ErrorCode::arena_limit: return "WENGERT_ARENA_LIMIT";
    case ErrorCode::out_of_memory: return "WENGERT_OUT_OF_MEMORY";
    case ErrorCode::input_count: return "WENGERT_INPUT_COUNT";
    case ErrorCode::input_dtype: return "WENGERT_INPUT_DTYPE";
    case ErrorCode::input_length: return "WENGERT_INPUT_LENGTH";
    case ErrorCode::output_spec: return "WENGERT_OUTPUT_SPEC";
    case ErrorCode::disposed: return "WENGERT_DISPOSED";
    case ErrorCode::index_out_of_range: return "WENGERT_INDEX_OUT_OF_RANGE";
    case ErrorCode::aborted: return "WENGERT_ABORTED";
    case ErrorCode::non_finite: return "WENGERT_NON_FINITE";
    case ErrorCode::invalid_argument: return "WENGERT_INVALID_ARGUMENT";
    case ErrorCode::internal: return "WENGERT_INTERNAL";
  }
  return "WENGERT_INTERNAL";
}

}  // namespace wengert
