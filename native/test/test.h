// A tiny test framework: tests register themselves by group; the runner (test_main.cpp) runs the
// groups named on its command line. CHECK records a failure and continues; REQUIRE returns.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

namespace wt {

struct TestCase {
  const char* group;
  const char* name;
  void (*fn)();
};

std::vector<TestCase>& registry();
bool add_test(const char* group, const char* name, void (*fn)());
void fail(const char* file, int line, const std::string& what);
// Heap allocations (operator new, all forms) since the process started.
uint64_t allocation_count();

template <class A, class B>
std::string describe_eq(const char* ea, const char* eb, const A& a, const B& b) {
  std::ostringstream s;
  s << ea << " == " << eb << " (" << a << " vs " << b << ")";
  return s.str();
}

}  // namespace wt

#define WT_CAT2(a, b) a##b
#define WT_CAT(a, b) WT_CAT2(a, b)
#define TEST(group, name)                                                                          \
  static void test_##group##_##name();                                                             \
  [[maybe_unused]] static const bool WT_CAT(reg_##group##_##name, __LINE__) =                      \
      wt::add_test(#group, #name, &test_##group##_##name);                                         \
  static void test_##group##_##name()

#define CHECK(cond) ((cond) ? (void)0 : wt::fail(__FILE__, __LINE__, #cond))
// The operands are copied: a reference bound to `f().at(0)` would outlive f's temporary.
#define CHECK_EQ(a, b)                                                               \
  do {                                                                               \
    const auto wt_a = (a);                                                           \
    const auto wt_b = (b);                                                           \
    if (!(wt_a == wt_b)) wt::fail(__FILE__, __LINE__, wt::describe_eq(#a, #b, wt_a, wt_b)); \
  } while (0)
#define REQUIRE(cond)                          \
  do {                                         \
    if (!(cond)) {                             \
      wt::fail(__FILE__, __LINE__, #cond);     \
      return;                                  \
    }                                          \
  } while (0)
