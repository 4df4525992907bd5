// The chat-template builtins: Jinja2's filters and tests, the Python methods templates call on
// str / dict / list values (mutating ones refused, as transformers' ImmutableSandboxedEnvironment
// does), attribute and item access, and the globals transformers adds (raise_exception,
// strftime_now) next to Jinja's (range, dict, namespace, joiner). Private to src/generation.
#pragma once

#include <string_view>
#include <vector>

#include "chat_template_value.h"

namespace mlhub::generation::jinja {

// Safety limits shared by the interpreter and the builtins.
inline constexpr size_t kMaxStringBytes = size_t{16} << 20;  // any single string, the output
inline constexpr size_t kMaxListItems = size_t{1} << 20;     // any single list
inline constexpr int64_t kMaxRange = 100000;                 // Jinja's sandbox MAX_RANGE

// Throws TemplateError(kLimit) when a string or list would exceed the limits above.
void check_string_size(size_t bytes);
void check_list_size(size_t items);

// `obj.name` with Jinja's sandboxed getattr: Python attribute (a bound method) first, then item;
// a missing one is Undefined; a mutating method is an Undefined that raises SecurityError when
// called.
Value get_attr(const Value& obj, std::string_view name);
// `obj[key]`: item first, then attribute (for string keys). Missing: Undefined.
Value get_item(const Value& obj, const Value& key);
// obj[start:stop:step] on str, list, tuple (missing parts are Undefined).
Value slice(const Value& obj, const Value& start, const Value& stop, const Value& step);
// Python iter(v) materialised: str -> characters, dict -> keys, Undefined -> empty.
std::vector<Value> iterate(const Value& v);
// Python len(v) (Undefined: 0).
int64_t length_of(const Value& v);

bool has_filter(std::string_view name);
bool has_test(std::string_view name);
Value apply_filter(std::string_view name, const Value& v, const CallArgs& args);
bool apply_test(std::string_view name, const Value& v, const CallArgs& args);

// Adds range, dict, namespace, joiner, raise_exception and strftime_now to `globals`.
void add_globals(Dict& globals);

// Python str methods used by filters as well.
std::string py_strip(std::string_view s, const Value& chars, bool left, bool right);
std::string py_upper(std::string_view s);
std::string py_lower(std::string_view s);
std::string py_capitalize(std::string_view s);
std::vector<std::string> py_splitlines(std::string_view s);
std::string py_replace(std::string_view s, std::string_view old, std::string_view with,
                       int64_t count);

}  // namespace mlhub::generation::jinja
