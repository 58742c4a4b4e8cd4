// Helpers shared by the Node-API entry points (addon.cpp and the files that add bindings to it):
// coded JS errors, the exception guard, typed-array views and a small inline list.
#pragma once

#include <napi.h>

#include <array>
#include <cstddef>
#include <new>
#include <span>
#include <string>
#include <vector>

#include "format.h"
#include "status.h"

namespace wengert {

enum class ErrorClass { error, type, range };

inline ErrorClass default_class(ErrorCode code) {
  switch (code) {
    case ErrorCode::input_dtype: return ErrorClass::type;
    case ErrorCode::input_count:
    case ErrorCode::input_length:
    case ErrorCode::index_out_of_range:
    case ErrorCode::output_spec: return ErrorClass::range;
    default: return ErrorClass::error;
  }
}

inline Napi::Error make_error(Napi::Env env, ErrorCode code, const std::string& message, ErrorClass cls) {
  Napi::Error e = cls == ErrorClass::type    ? Napi::TypeError::New(env, message)
                  : cls == ErrorClass::range ? Napi::RangeError::New(env, message)
                                             : Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, error_code_name(code)));
  return e;
}

inline Napi::Error make_error(Napi::Env env, const Status& s) { return make_error(env, s.code, s.message, default_class(s.code)); }

// Runs f, turning any C++ exception other than a Napi::Error into one.
template <class F>
Napi::Value guarded(Napi::Env env, F&& f) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw make_error(env, ErrorCode::out_of_memory, "out of memory", ErrorClass::error);
  } catch (const std::exception& e) {
    throw make_error(env, ErrorCode::internal, std::string("internal error: ") + e.what(), ErrorClass::error);
  } catch (...) {
    throw make_error(env, ErrorCode::internal, "internal error", ErrorClass::error);
  }
}

inline const char* js_array_name(DType t) {
  switch (t) {
    case DType::f64: return "Float64Array";
    case DType::f32: return "Float32Array";
    case DType::i32: return "Int32Array";
  }
  return "?";
}

// A typed array's element type, data and length, read on the main thread.
//   Detached ArrayBuffer (transferred by postMessage or structuredClone): a view of no elements,
//     length 0 and data nullptr, so a run expecting elements fails with a length error
//     (WENGERT_INPUT_LENGTH, WENGERT_OUTPUT_SPEC) and nothing is ever read through it.
//   SharedArrayBuffer: accepted, read and written in place like any other buffer; its memory
//     cannot be detached or freed while the typed array is alive. Writes by other threads during
//     a run are the caller's race, as for any input (docs/ERRORS.md).
struct TypedView {
  bool ok = false;  // a Float64Array, Float32Array or Int32Array
  DType dtype = DType::f64;
  void* data = nullptr;
  uint64_t length = 0;
  const char* type_name = "not a typed array";
};

// One Node-API call when `v` is a typed array: napi_get_typedarray_info fails on anything else
// (nothing is thrown; only then is the value looked at again, to name it in the message). A
// detached buffer needs no call of its own: V8 reports every view on one as empty (length 0), and
// an empty view is given data nullptr whatever the buffer.
inline TypedView typed_view(Napi::Env env, Napi::Value v) {
  TypedView t;
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr) != napi_ok) {
    if (v.IsTypedArray()) throw make_error(env, ErrorCode::internal, "a typed array could not be read", ErrorClass::error);
    t.type_name = v.IsUndefined() ? "undefined"
                  : v.IsNull()      ? "null"
                  : v.IsArray()     ? "an Array"
                                    : "not a typed array";
    return t;
  }
  if (length == 0) data = nullptr;
  switch (type) {
    case napi_float64_array: t = {true, DType::f64, data, length, "Float64Array"}; break;
    case napi_float32_array: t = {true, DType::f32, data, length, "Float32Array"}; break;
    case napi_int32_array: t = {true, DType::i32, data, length, "Int32Array"}; break;
    default: t.type_name = "a typed array of another element type"; break;
  }
  return t;
}

// A fixed-length list that keeps up to N elements inline and goes to the heap only beyond, so a
// synchronous run of a program with up to 16 inputs and outputs allocates nothing on the C++ heap.
template <class T, std::size_t N = 16>
class SmallList {
 public:
  explicit SmallList(std::size_t n) : size_(n) {
    if (n > N) heap_.resize(n);
  }
  T& operator[](std::size_t i) { return size_ > N ? heap_[i] : inline_[i]; }
  T* begin() { return size_ > N ? heap_.data() : inline_.data(); }
  T* end() { return begin() + size_; }
  std::size_t size() const { return size_; }
  std::span<const T> span() { return {begin(), size_}; }

 private:
  std::size_t size_;
  std::array<T, N> inline_;  // not zeroed: every element is assigned before it is read
  std::vector<T> heap_;
};

// An error object built with the plain C API, for the completion callback, which must not throw:
// it can run while the environment shuts down, when every call may fail. nullptr on failure.
inline napi_value raw_error(napi_env env, ErrorCode code, const char* message) {
  napi_value c = nullptr, m = nullptr, e = nullptr;
  if (napi_create_string_utf8(env, error_code_name(code), NAPI_AUTO_LENGTH, &c) != napi_ok) return nullptr;
  if (napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &m) != napi_ok) return nullptr;
  switch (default_class(code)) {
    case ErrorClass::type: napi_create_type_error(env, c, m, &e); break;
    case ErrorClass::range: napi_create_range_error(env, c, m, &e); break;
    case ErrorClass::error: napi_create_error(env, c, m, &e); break;
  }
  return e;
}

}  // namespace wengert
