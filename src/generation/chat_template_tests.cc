// Chat-template tests (`x is defined`, `x is divisibleby 3`, ...): Jinja2's builtin tests.
#include <cmath>

#include "chat_template_builtins.h"

namespace mlhub::generation::jinja {

// ---- tests -------------------------------------------------------------------------------------

namespace {

using TestFn = bool (*)(const Value&, const CallArgs&);

Value arg0(const CallArgs& a) { return a.get(0, "\x01"); }

bool test_divisible(const Value& v, const CallArgs& a) {
  const Value n = arg0(a);
  v.require_defined();
  n.require_defined();
  if (!v.is_number() || !n.is_number()) fail(ErrorKind::kType, "unsupported operand type(s) for %");
  if (v.is_float() || n.is_float()) {
    if (n.as_double() == 0) fail(ErrorKind::kType, "float modulo");
    return std::fmod(v.as_double(), n.as_double()) == 0;
  }
  if (n.as_int() == 0) fail(ErrorKind::kType, "integer division or modulo by zero");
  return v.as_int() % n.as_int() == 0;
}

bool parity(const Value& v, bool want_even) {
  v.require_defined();
  if (!v.is_number()) fail(ErrorKind::kType, "not all arguments converted during string formatting");
  if (v.is_float()) return (std::fmod(std::fabs(v.as_double()), 2.0) == 0) == want_even;
  return (v.as_int() % 2 == 0) == want_even;
}

bool same_as(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Kind::kNone:
    case Kind::kUndefined: return a.kind() == Kind::kNone;
    case Kind::kBool: return a.as_bool() == b.as_bool();
    case Kind::kInt: return a.as_int() == b.as_int() && a.as_int() >= -5 && a.as_int() <= 256;
    case Kind::kDict:
    case Kind::kNamespace: return a.dict_ptr() == b.dict_ptr();
    case Kind::kList:
    case Kind::kTuple: return &a.items() == &b.items();
    default: return false;
  }
}

const std::vector<std::pair<std::string_view, TestFn>>& test_table() {
  static const std::vector<std::pair<std::string_view, TestFn>> kTests = {
      {"defined", [](const Value& v, const CallArgs&) { return !v.is_undefined(); }},
      {"undefined", [](const Value& v, const CallArgs&) { return v.is_undefined(); }},
      {"none", [](const Value& v, const CallArgs&) { return v.is_none(); }},
      {"boolean", [](const Value& v, const CallArgs&) { return v.is_bool(); }},
      {"true", [](const Value& v, const CallArgs&) { return v.is_bool() && v.as_bool(); }},
      {"false", [](const Value& v, const CallArgs&) { return v.is_bool() && !v.as_bool(); }},
      {"integer", [](const Value& v, const CallArgs&) { return v.is_int(); }},
      {"float", [](const Value& v, const CallArgs&) { return v.is_float(); }},
      {"number", [](const Value& v, const CallArgs&) { return v.is_number(); }},
      {"string", [](const Value& v, const CallArgs&) { return v.is_string(); }},
      {"mapping", [](const Value& v, const CallArgs&) { return v.kind() == Kind::kDict; }},
      {"iterable",
       [](const Value& v, const CallArgs&) {
         return v.is_undefined() || v.is_string() || v.is_sequence() || v.kind() == Kind::kDict;
       }},
      {"sequence",
       [](const Value& v, const CallArgs&) {
         return v.is_undefined() || v.is_string() || v.is_sequence() || v.kind() == Kind::kDict;
       }},
      {"callable", [](const Value& v, const CallArgs&) { return v.is_callable(); }},
      {"escaped", [](const Value&, const CallArgs&) { return false; }},
      {"even", [](const Value& v, const CallArgs&) { return parity(v, true); }},
      {"odd", [](const Value& v, const CallArgs&) { return parity(v, false); }},
      {"divisibleby", test_divisible},
      {"sameas", [](const Value& v, const CallArgs& a) { return same_as(v, arg0(a)); }},
      {"eq", [](const Value& v, const CallArgs& a) { return equals(v, arg0(a)); }},
      {"equalto", [](const Value& v, const CallArgs& a) { return equals(v, arg0(a)); }},
      {"==", [](const Value& v, const CallArgs& a) { return equals(v, arg0(a)); }},
      {"ne", [](const Value& v, const CallArgs& a) { return !equals(v, arg0(a)); }},
      {"!=", [](const Value& v, const CallArgs& a) { return !equals(v, arg0(a)); }},
      {"lt", [](const Value& v, const CallArgs& a) { return less(v, arg0(a)); }},
      {"lessthan", [](const Value& v, const CallArgs& a) { return less(v, arg0(a)); }},
      {"<", [](const Value& v, const CallArgs& a) { return less(v, arg0(a)); }},
      {"gt", [](const Value& v, const CallArgs& a) { return less(arg0(a), v); }},
      {"greaterthan", [](const Value& v, const CallArgs& a) { return less(arg0(a), v); }},
      {">", [](const Value& v, const CallArgs& a) { return less(arg0(a), v); }},
      {"le", [](const Value& v, const CallArgs& a) { return !less(arg0(a), v); }},
      {"<=", [](const Value& v, const CallArgs& a) { return !less(arg0(a), v); }},
      {"ge", [](const Value& v, const CallArgs& a) { return !less(v, arg0(a)); }},
      {">=", [](const Value& v, const CallArgs& a) { return !less(v, arg0(a)); }},
      {"in", [](const Value& v, const CallArgs& a) { return contains(arg0(a), v); }},
      {"lower",
       [](const Value& v, const CallArgs&) {
         const std::string s = v.to_str();
         return py_lower(s) == s && py_upper(s) != s;
       }},
      {"upper",
       [](const Value& v, const CallArgs&) {
         const std::string s = v.to_str();
         return py_upper(s) == s && py_lower(s) != s;
       }},
      {"filter", [](const Value& v, const CallArgs&) { return v.is_string() && has_filter(v.str()); }},
      {"test", [](const Value& v, const CallArgs&) { return v.is_string() && has_test(v.str()); }},
  };
  return kTests;
}

}  // namespace

bool has_test(std::string_view name) {
  for (const auto& [n, fn] : test_table()) {
    if (n == name) return true;
  }
  return false;
}

bool apply_test(std::string_view name, const Value& v, const CallArgs& args) {
  for (const auto& [n, fn] : test_table()) {
    if (n == name) return fn(v, args);
  }
  fail(ErrorKind::kSyntax, "No test named '" + std::string(name) + "'.");
}

}  // namespace mlhub::generation::jinja
