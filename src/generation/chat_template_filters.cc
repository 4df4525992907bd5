// Chat-template filters: Jinja2's builtin filters (semantics from the Jinja2 3.1 documentation
// and observed behaviour), with tojson replaced by transformers' json.dumps-based version.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "chat_template_builtins.h"

namespace mlhub::generation::jinja {
namespace {

using A = const CallArgs&;
using FilterFn = Value (*)(const Value&, A);

// Python's regex \w approximated: ASCII alphanumerics and '_', and non-ASCII code points outside
// the punctuation, symbol and emoji blocks.
bool is_word_char(char32_t c) {
  if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  if (c < 0xc0) return c == 0xaa || c == 0xb2 || c == 0xb3 || c == 0xb5 || c == 0xb9 || c == 0xba || (c >= 0xbc && c <= 0xbe);
  if (c == 0xd7 || c == 0xf7) return false;
  if (is_py_space(c)) return false;
  if (c >= 0x2000 && c <= 0x2bff) return false;   // punctuation, symbols, arrows, shapes
  if (c >= 0x3000 && c <= 0x303f) return false;   // CJK punctuation
  if (c >= 0xfe30 && c <= 0xfe4f) return false;
  if (c >= 0xff00 && c <= 0xff0f) return false;
  if (c >= 0x1f000 && c <= 0x1faff) return false; // emoji and pictographs
  return true;
}

Value str_value(const Value& v) { return Value::string(v.to_str()); }

bool arg_bool(A a, size_t i, std::string_view name, bool fallback) {
  const Value v = a.get(i, name);
  return v.is_undefined() ? fallback : v.truthy();
}

// Jinja's attribute getter for filters: dotted path, integer parts index, item access.
Value attr_path(const Value& item, const Value& path) {
  if (path.is_int()) return get_item(item, path);
  Value cur = item;
  const std::string p = path.to_str();
  size_t start = 0;
  while (true) {
    const size_t dot = p.find('.', start);
    const std::string part = p.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!part.empty() && part.find_first_not_of("0123456789") == std::string::npos && part.size() < 10) {
      cur = get_item(cur, Value::integer(std::stoll(part)));
    } else {
      cur = get_item(cur, Value::string(part));
    }
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
}

// Sort key: strings lowercased unless case_sensitive.
Value sort_key(const Value& v, bool case_sensitive) {
  if (!case_sensitive && v.is_string()) return Value::string(py_lower(v.str()));
  return v;
}

std::vector<Value> sorted(std::vector<Value> items, const Value& attribute, bool case_sensitive,
                          bool reverse) {
  std::vector<std::pair<Value, Value>> keyed;
  for (auto& v : items) {
    Value k = attribute.is_undefined() || attribute.is_none() ? v : attr_path(v, attribute);
    keyed.emplace_back(sort_key(k, case_sensitive), std::move(v));
  }
  std::stable_sort(keyed.begin(), keyed.end(), [reverse](const auto& x, const auto& y) {
    return reverse ? less(y.first, x.first) : less(x.first, y.first);
  });
  std::vector<Value> out;
  for (auto& [k, v] : keyed) out.push_back(std::move(v));
  return out;
}

Value f_join(const Value& v, A a) {
  const std::string sep = a.get(0, "d", Value::string("")).to_str();
  const Value attribute = a.get(1, "attribute");
  std::string out;
  bool first = true;
  for (const Value& item : iterate(v)) {
    if (!first) out += sep;
    first = false;
    out += (attribute.is_undefined() || attribute.is_none() ? item : attr_path(item, attribute)).to_str();
    check_string_size(out.size());
  }
  return Value::string(std::move(out));
}

Value f_default(const Value& v, A a) {
  const bool boolean = arg_bool(a, 1, "boolean", false);
  if (v.is_undefined() || (boolean && !v.truthy())) return a.get(0, "default_value", Value::string(""));
  return v;
}

Value f_first(const Value& v, A) {
  const auto items = iterate(v);
  if (items.empty()) return Value::undefined("No first item, sequence was empty.");
  return items.front();
}

Value f_last(const Value& v, A) {
  const auto items = iterate(v);
  if (items.empty()) return Value::undefined("No last item, sequence was empty.");
  return items.back();
}

Value f_tojson(const Value& v, A a) {
  // transformers: tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)
  const bool ensure_ascii = arg_bool(a, 0, "ensure_ascii", false);
  const Value indent = a.get(1, "indent");
  int ind = -1;
  if (indent.is_int()) ind = static_cast<int>(std::clamp<int64_t>(indent.as_int(), 0, 64));
  else if (!indent.is_undefined() && !indent.is_none()) fail(ErrorKind::kType, "tojson: indent must be an int");
  const Value seps = a.get(2, "separators");
  std::string item_sep, key_sep;
  const bool custom = !seps.is_undefined() && !seps.is_none();
  if (custom) {
    if (!seps.is_sequence() || seps.items().size() != 2 || !seps.items()[0].is_string() ||
        !seps.items()[1].is_string()) {
      fail(ErrorKind::kType, "tojson: separators must be a pair of strings");
    }
    item_sep = seps.items()[0].str();
    key_sep = seps.items()[1].str();
  }
  std::string out = to_json(v, ind, custom ? &item_sep : nullptr, custom ? &key_sep : nullptr,
                            arg_bool(a, 3, "sort_keys", false), ensure_ascii);
  check_string_size(out.size());
  return Value::string(std::move(out));
}

Value f_int(const Value& v, A a) {
  const Value dflt = a.get(0, "default", Value::integer(0));
  if (v.is_bool() || v.is_int()) return Value::integer(v.as_int());
  if (v.is_float()) {
    const double f = v.as_double();
    if (!std::isfinite(f) || std::fabs(f) > 9.2e18) return dflt;
    return Value::integer(static_cast<int64_t>(f));
  }
  if (v.is_string()) {
    std::string s = py_strip(v.str(), Value(), true, true);
    s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
    if (s.empty()) return dflt;
    char* end = nullptr;
    errno = 0;
    const long long i = std::strtoll(s.c_str(), &end, 10);
    if (end && *end == '\0' && errno == 0) return Value::integer(i);
    const double f = std::strtod(s.c_str(), &end);
    if (end && *end == '\0' && std::isfinite(f) && std::fabs(f) < 9.2e18) {
      return Value::integer(static_cast<int64_t>(f));
    }
  }
  return dflt;
}

Value f_float(const Value& v, A a) {
  const Value dflt = a.get(0, "default", Value::floating(0.0));
  if (v.is_number()) return Value::floating(v.as_double());
  if (v.is_string()) {
    const std::string s = py_strip(v.str(), Value(), true, true);
    char* end = nullptr;
    const double f = std::strtod(s.c_str(), &end);
    if (!s.empty() && end && *end == '\0') return Value::floating(f);
  }
  return dflt;
}

Value f_round(const Value& v, A a) {
  const int64_t precision = a.get(0, "precision", Value::integer(0)).as_int();
  const std::string method = a.get(1, "method", Value::string("common")).to_str();
  if (!v.is_number()) fail(ErrorKind::kType, "type " + v.type_name() + " doesn't define __round__ method");
  if (method == "common") {
    if (!v.is_float()) return Value::integer(v.as_int());
    char buf[512];
    std::snprintf(buf, sizeof(buf), "%.*f", static_cast<int>(std::clamp<int64_t>(precision, 0, 300)),
                  v.as_double());
    return Value::floating(std::strtod(buf, nullptr));
  }
  if (method != "floor" && method != "ceil") fail(ErrorKind::kType, "method must be common, ceil or floor");
  const double scale = std::pow(10.0, static_cast<double>(precision));
  const double x = v.as_double() * scale;
  return Value::floating((method == "floor" ? std::floor(x) : std::ceil(x)) / scale);
}

Value f_indent(const Value& v, A a) {
  const Value width = a.get(0, "width", Value::integer(4));
  const std::string ind = width.is_string() ? width.str() : std::string(static_cast<size_t>(std::clamp<int64_t>(width.as_int(), 0, 1024)), ' ');
  const bool first = arg_bool(a, 1, "first", false);
  const bool blank = arg_bool(a, 2, "blank", false);
  const auto lines = py_splitlines(v.to_str() + "\n");
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) {
      out += "\n";
      if (blank || !lines[i].empty()) out += ind;
    }
    out += lines[i];
    check_string_size(out.size());
  }
  if (first) out = ind + out;
  return Value::string(std::move(out));
}

// select / reject / selectattr / rejectattr.
Value select_impl(const Value& v, A a, bool by_attr, bool keep) {
  size_t next = 0;
  Value attribute;
  if (by_attr) attribute = a.get(next++, "\x01");
  const Value test = a.get(next++, "\x01");
  CallArgs test_args;
  for (size_t i = next; i < a.args.size(); ++i) test_args.args.push_back(a.args[i]);
  List out;
  for (const Value& item : iterate(v)) {
    const Value x = by_attr ? attr_path(item, attribute) : item;
    const bool ok = test.is_undefined() ? x.truthy() : apply_test(test.to_str(), x, test_args);
    if (ok == keep) out.push_back(item);
  }
  return Value::list(std::move(out));
}

Value f_map(const Value& v, A a) {
  List out;
  const Value attribute = a.get(SIZE_MAX, "attribute");
  if (!attribute.is_undefined()) {
    const Value dflt = a.get(SIZE_MAX, "default");
    for (const Value& item : iterate(v)) {
      Value x = attr_path(item, attribute);
      out.push_back(x.is_undefined() && !dflt.is_undefined() ? dflt : x);
    }
    return Value::list(std::move(out));
  }
  if (a.args.empty()) return Value::list({});
  const std::string name = a.args[0].to_str();
  CallArgs rest;
  rest.args.assign(a.args.begin() + 1, a.args.end());
  rest.kwargs = a.kwargs;
  for (const Value& item : iterate(v)) out.push_back(apply_filter(name, item, rest));
  return Value::list(std::move(out));
}

Value f_unique(const Value& v, A a) {
  const bool cs = arg_bool(a, 0, "case_sensitive", false);
  const Value attribute = a.get(1, "attribute");
  List out, seen;
  for (const Value& item : iterate(v)) {
    const Value k = sort_key(attribute.is_undefined() ? item : attr_path(item, attribute), cs);
    if (std::any_of(seen.begin(), seen.end(), [&](const Value& s) { return equals(s, k); })) continue;
    seen.push_back(k);
    out.push_back(item);
  }
  return Value::list(std::move(out));
}

Value min_max(const Value& v, A a, bool want_max) {
  const bool cs = arg_bool(a, 0, "case_sensitive", false);
  const Value attribute = a.get(1, "attribute");
  const auto items = iterate(v);
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  const Value* best = &items[0];
  Value best_key = sort_key(attribute.is_undefined() ? items[0] : attr_path(items[0], attribute), cs);
  for (const Value& item : items) {
    Value k = sort_key(attribute.is_undefined() ? item : attr_path(item, attribute), cs);
    if (want_max ? less(best_key, k) : less(k, best_key)) {
      best = &item;
      best_key = k;
    }
  }
  return *best;
}

Value f_sum(const Value& v, A a) {
  const Value attribute = a.get(0, "attribute");
  Value total = a.get(1, "start", Value::integer(0));
  for (const Value& item : iterate(v)) {
    const Value x = attribute.is_undefined() || attribute.is_none() ? item : attr_path(item, attribute);
    if (!x.is_number() || !total.is_number()) fail(ErrorKind::kType, "unsupported operand type(s) for +");
    total = (x.is_float() || total.is_float()) ? Value::floating(total.as_double() + x.as_double())
                                               : Value::integer(total.as_int() + x.as_int());
  }
  return total;
}

Value f_dictsort(const Value& v, A a) {
  if (v.kind() != Kind::kDict) fail(ErrorKind::kType, "dictsort expects a dict");
  const bool cs = arg_bool(a, 0, "case_sensitive", false);
  const std::string by = a.get(1, "by", Value::string("key")).to_str();
  const bool reverse = arg_bool(a, 2, "reverse", false);
  const size_t pos = by == "key" ? 0 : by == "value" ? 1 : 2;
  if (pos == 2) fail(ErrorKind::kType, "You can only sort by either \"key\" or \"value\"");
  std::vector<Value> items;
  for (const auto& [k, e] : v.dict().entries) items.push_back(Value::tuple({k, e}));
  return Value::list(sorted(std::move(items), Value::integer(static_cast<int64_t>(pos)), cs, reverse));
}

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// printf-style `fmt % args` for the conversions templates use: %s %r %d %i %f %%.
Value f_format(const Value& v, A a) {
  const std::string fmt = v.to_str();
  std::string out;
  size_t next = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out += fmt[i];
      continue;
    }
    if (++i >= fmt.size()) fail(ErrorKind::kType, "incomplete format");
    const char c = fmt[i];
    if (c == '%') {
      out += '%';
      continue;
    }
    if (next >= a.args.size()) fail(ErrorKind::kType, "not enough arguments for format string");
    const Value& x = a.args[next++];
    if (c == 's') out += x.to_str();
    else if (c == 'r') out += x.repr();
    else if ((c == 'd' || c == 'i') && x.is_number()) out += std::to_string(x.is_float() ? static_cast<int64_t>(x.as_double()) : x.as_int());
    else if (c == 'f' && x.is_number()) {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%f", x.as_double());
      out += buf;
    } else {
      fail(ErrorKind::kType, std::string("unsupported format character '") + c + "'");
    }
  }
  if (next < a.args.size()) fail(ErrorKind::kType, "not all arguments converted during string formatting");
  return Value::string(std::move(out));
}

Value f_title(const Value& v, A) {
  // Jinja splits on runs of [-\s({[<] and capitalizes each piece.
  const auto cps = utf8_decode(v.to_str());
  std::string out;
  size_t i = 0;
  auto is_sep = [](char32_t c) { return c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || is_py_space(c); };
  while (i < cps.size()) {
    size_t j = i;
    const bool sep = is_sep(cps[i]);
    while (j < cps.size() && is_sep(cps[j]) == sep) ++j;
    std::string piece = utf8_encode(std::u32string(cps.begin() + static_cast<ptrdiff_t>(i), cps.begin() + static_cast<ptrdiff_t>(j)));
    if (sep) {
      out += piece;
    } else {
      const auto pc = utf8_decode(piece);
      out += py_upper(utf8_encode(std::u32string(1, pc[0])));
      out += py_lower(utf8_encode(std::u32string(pc.begin() + 1, pc.end())));
    }
    i = j;
  }
  return Value::string(std::move(out));
}

const std::vector<std::pair<std::string_view, FilterFn>>& filter_table() {
  static const std::vector<std::pair<std::string_view, FilterFn>> kFilters = {
      {"trim", [](const Value& v, A a) { return Value::string(py_strip(v.to_str(), a.get(0, "chars"), true, true)); }},
      {"upper", [](const Value& v, A) { return Value::string(py_upper(v.to_str())); }},
      {"lower", [](const Value& v, A) { return Value::string(py_lower(v.to_str())); }},
      {"capitalize", [](const Value& v, A) { return Value::string(py_capitalize(v.to_str())); }},
      {"title", f_title},
      {"length", [](const Value& v, A) { return Value::integer(length_of(v)); }},
      {"count", [](const Value& v, A) { return Value::integer(length_of(v)); }},
      {"first", f_first},
      {"last", f_last},
      {"join", f_join},
      {"default", f_default},
      {"d", f_default},
      {"tojson", f_tojson},
      {"string", [](const Value& v, A) { return str_value(v); }},
      {"int", f_int},
      {"float", f_float},
      {"list", [](const Value& v, A) { return Value::list(iterate(v)); }},
      {"items",
       [](const Value& v, A) {
         if (v.is_undefined()) return Value::list({});
         if (v.kind() != Kind::kDict) fail(ErrorKind::kType, "Can only get item pairs from a mapping.");
         List out;
         for (const auto& [k, e] : v.dict().entries) out.push_back(Value::tuple({k, e}));
         return Value::list(std::move(out));
       }},
      {"select", [](const Value& v, A a) { return select_impl(v, a, false, true); }},
      {"reject", [](const Value& v, A a) { return select_impl(v, a, false, false); }},
      {"selectattr", [](const Value& v, A a) { return select_impl(v, a, true, true); }},
      {"rejectattr", [](const Value& v, A a) { return select_impl(v, a, true, false); }},
      {"map", f_map},
      {"attr", [](const Value& v, A a) { return get_attr(v, a.get(0, "name").to_str()); }},
      {"replace",
       [](const Value& v, A a) {
         const Value count = a.get(2, "count");
         return Value::string(py_replace(v.to_str(), a.get(0, "old").to_str(), a.get(1, "new").to_str(),
                                         count.is_undefined() || count.is_none() ? -1 : count.as_int()));
       }},
      {"indent", f_indent},
      {"safe", [](const Value& v, A) { return v; }},
      {"escape", [](const Value& v, A) { return Value::string(html_escape(v.to_str())); }},
      {"e", [](const Value& v, A) { return Value::string(html_escape(v.to_str())); }},
      {"forceescape", [](const Value& v, A) { return Value::string(html_escape(v.to_str())); }},
      {"round", f_round},
      {"abs",
       [](const Value& v, A) {
         if (v.is_float()) return Value::floating(std::fabs(v.as_double()));
         if (v.is_int() || v.is_bool()) return Value::integer(v.as_int() < 0 ? -v.as_int() : v.as_int());
         fail(ErrorKind::kType, "bad operand type for abs(): '" + v.type_name() + "'");
       }},
      {"unique", f_unique},
      {"sort",
       [](const Value& v, A a) {
         return Value::list(sorted(iterate(v), a.get(3, "attribute"), arg_bool(a, 1, "case_sensitive", false),
                                   arg_bool(a, 0, "reverse", false)));
       }},
      {"dictsort", f_dictsort},
      {"reverse",
       [](const Value& v, A) {
         if (v.is_string()) {
           auto cps = utf8_decode(v.str());
           std::reverse(cps.begin(), cps.end());
           return Value::string(utf8_encode(std::u32string(cps.begin(), cps.end())));
         }
         auto items = iterate(v);
         std::reverse(items.begin(), items.end());
         return Value::list(std::move(items));
       }},
      {"min", [](const Value& v, A a) { return min_max(v, a, false); }},
      {"max", [](const Value& v, A a) { return min_max(v, a, true); }},
      {"sum", f_sum},
      {"format", f_format},
      {"wordcount",
       [](const Value& v, A) {
         int64_t n = 0;
         bool in_word = false;
         for (char32_t c : utf8_decode(v.to_str())) {
           const bool w = is_word_char(c);
           if (w && !in_word) ++n;
           in_word = w;
         }
         return Value::integer(n);
       }},
      {"center",
       [](const Value& v, A a) {
         const std::string s = v.to_str();
         const int64_t width = std::min<int64_t>(a.get(0, "width", Value::integer(80)).as_int(), 1 << 20);
         const auto n = static_cast<int64_t>(utf8_decode(s).size());
         if (width <= n) return Value::string(s);
         const int64_t pad = width - n;
         const int64_t left = pad / 2 + (pad & width & 1);
         return Value::string(std::string(static_cast<size_t>(left), ' ') + s +
                              std::string(static_cast<size_t>(pad - left), ' '));
       }},
  };
  return kFilters;
}

}  // namespace

bool has_filter(std::string_view name) {
  for (const auto& [n, fn] : filter_table()) {
    if (n == name) return true;
  }
  return false;
}

Value apply_filter(std::string_view name, const Value& v, const CallArgs& args) {
  for (const auto& [n, fn] : filter_table()) {
    if (n == name) return fn(v, args);
  }
  fail(ErrorKind::kSyntax, "No filter named '" + std::string(name) + "'.");
}

}  // namespace mlhub::generation::jinja
