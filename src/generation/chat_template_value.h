// The values of the chat-template interpreter: a small model of the Python objects that Jinja2
// templates see (None, bool, int, float, str, list, tuple, dict, namespace, callables and
// Jinja's Undefined), with Python's str()/repr() spelling, truthiness, equality and ordering,
// and json.dumps as transformers' tojson filter calls it. Private to src/generation.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlhub/core.h"

namespace mlhub::generation::jinja {

// The errors a render can raise, named after the Python exception transformers would see.
enum class ErrorKind : uint8_t {
  kSyntax,     // jinja2.TemplateSyntaxError
  kUndefined,  // jinja2.UndefinedError
  kType,       // TypeError / ValueError / ZeroDivisionError / IndexError ...
  kSecurity,   // jinja2.sandbox.SecurityError (mutating a list/dict in the immutable sandbox)
  kRaised,     // raise_exception(message): jinja2.TemplateError(message)
  kLimit,      // a safety limit of ours (recursion, loop iterations, output size)
};

// Thrown inside the interpreter; converted to a Status by ChatTemplate.
class TemplateError : public std::runtime_error {
 public:
  TemplateError(ErrorKind kind, const std::string& msg) : std::runtime_error(msg), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

[[noreturn]] void fail(ErrorKind kind, const std::string& msg);

// Concatenates string pieces (avoids GCC 12's -Wrestrict false positive on "lit" + temporary).
template <typename... Parts>
std::string cat(const Parts&... parts) {
  std::string out;
  (out.append(std::string_view(parts)), ...);
  return out;
}

// The work budget of the render running on this thread: every statement, call, iterated item
// and decoded string costs fuel; running out raises TemplateError(kLimit). This bounds the time a
// hostile template can take (nested loops, exponential macro recursion, huge filters).
void set_fuel(int64_t fuel);
void consume_fuel(int64_t amount);

class Value;
struct Dict;

// Namespaces are the only mutable containers, so the only way to build a reference cycle
// (`{% set ns.self = ns %}`). While a tracker is alive on this thread, namespace() registers
// each namespace with it; its destructor empties them, freeing any cycle.
class NamespaceTracker {
 public:
  NamespaceTracker();
  ~NamespaceTracker();
  NamespaceTracker(const NamespaceTracker&) = delete;
  NamespaceTracker& operator=(const NamespaceTracker&) = delete;
  static void track(const std::shared_ptr<Dict>& d);

 private:
  std::vector<std::shared_ptr<Dict>> dicts_;
  NamespaceTracker* previous_;
};
struct Callable;
struct CallArgs;
using List = std::vector<Value>;

enum class Kind : uint8_t {
  kUndefined,
  kNone,
  kBool,
  kInt,
  kFloat,
  kString,
  kList,
  kTuple,
  kDict,
  kNamespace,  // namespace(): a dict whose attributes may be assigned with {% set ns.x = ... %}
  kCallable,
};

class Value {
 public:
  Value() = default;  // Undefined
  static Value undefined(std::string hint = "", bool unsafe = false);
  static Value none();
  static Value boolean(bool b);
  static Value integer(int64_t i);
  static Value floating(double f);
  static Value string(std::string s);
  static Value list(List items);
  static Value tuple(List items);
  static Value dict(std::shared_ptr<Dict> d);
  static Value new_dict();
  static Value namespace_of(std::shared_ptr<Dict> d);
  static Value callable(std::shared_ptr<Callable> fn);
  // ordered_json keeps the caller's key order, which Python dicts (and so tojson) expose.
  static Value from_json(const nlohmann::ordered_json& j);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt; }  // not bool
  bool is_float() const { return kind_ == Kind::kFloat; }
  bool is_number() const { return is_bool() || is_int() || is_float(); }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_sequence() const { return kind_ == Kind::kList || kind_ == Kind::kTuple; }
  bool is_mapping() const { return kind_ == Kind::kDict || kind_ == Kind::kNamespace; }
  bool is_callable() const { return kind_ == Kind::kCallable; }

  bool as_bool() const { return b_; }
  int64_t as_int() const { return is_bool() ? (b_ ? 1 : 0) : i_; }  // bool or int
  double as_double() const;                                         // any number
  const std::string& str() const { return *s_; }
  const List& items() const { return *list_; }
  Dict& dict() const { return *dict_; }
  const std::shared_ptr<Dict>& dict_ptr() const { return dict_; }
  const Callable& fn() const { return *fn_; }
  // Undefined: the name shown in "'x' is undefined", and whether it is a sandbox refusal.
  const std::string& undefined_hint() const { return hint_; }
  bool unsafe() const { return b_; }

  // Python bool(x) (Undefined is falsy).
  bool truthy() const;
  // Python str(x) for output (Undefined renders empty).
  std::string to_str() const;
  // Python repr(x).
  std::string repr() const;
  // The Python type name used in error messages ("str", "int", "dict", ...).
  std::string type_name() const;

  // Raises UndefinedError when this value is Undefined (used by operators Undefined fails).
  void require_defined() const;

 private:
  Kind kind_ = Kind::kUndefined;
  bool b_ = false;
  int64_t i_ = 0;
  double f_ = 0;
  std::shared_ptr<const std::string> s_;
  std::shared_ptr<const List> list_;
  std::shared_ptr<Dict> dict_;
  std::shared_ptr<Callable> fn_;
  std::string hint_;
  // Nesting depth of lists/tuples/dicts (a namespace counts as a leaf: it is the only mutable
  // container and its cycles are handled by NamespaceTracker). Bounded by kMaxNesting so that
  // printing, comparing, serialising and destroying values cannot exhaust the stack.
  uint32_t depth_ = 0;
  static uint32_t nested_depth(const List& items);
  friend struct Dict;
};

inline constexpr uint32_t kMaxNesting = 256;

// An insertion-ordered dict (Python 3.7+ semantics); small, so lookups are linear.
struct Dict {
  std::vector<std::pair<Value, Value>> entries;
  const Value* find(const Value& key) const;
  const Value* find(std::string_view key) const;
  void set(const Value& key, Value value);
};

struct CallArgs {
  std::vector<Value> args;
  std::vector<std::pair<std::string, Value>> kwargs;
  // Positional argument i, or keyword `name`, or `fallback` (Undefined: missing).
  Value get(size_t i, std::string_view name, Value fallback = Value()) const;
};

struct Callable {
  std::string name;
  std::function<Value(const CallArgs&)> fn;
};

// Python ==, < (TypeError for unordered types), `in`.
bool equals(const Value& a, const Value& b);
bool less(const Value& a, const Value& b);
bool contains(const Value& container, const Value& item);

// json.dumps(x, ensure_ascii=False, indent=indent, separators=..., sort_keys=sort_keys).
// indent < 0 means None; ensure_ascii escapes non-ASCII as \uXXXX (surrogate pairs past BMP). Separators default as in Python: (", ", ": ") without an indent,
// (",", ": ") with one.
std::string to_json(const Value& v, int indent, const std::string* item_sep,
                    const std::string* key_sep, bool sort_keys, bool ensure_ascii = false);
// Python repr(float).
std::string float_repr(double f);
// Python repr(str).
std::string string_repr(std::string_view s);

// ---- UTF-8 helpers (Python strings index code points) ------------------------------------------

std::vector<char32_t> utf8_decode(std::string_view s);
std::string utf8_encode(const std::u32string_view cps);
void utf8_append(std::string& out, char32_t cp);
// Python str.isspace() for one code point (the characters str.strip() removes by default).
bool is_py_space(char32_t c);

}  // namespace mlhub::generation::jinja
