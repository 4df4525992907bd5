// Chat-template builtins: attribute/item access, slicing, Python methods, tests and globals.
// Filters live in chat_template_filters.cc.
#include "chat_template_builtins.h"

#include <chrono>
#include <cmath>
#include <ctime>

namespace mlhub::generation::jinja {
namespace {

// Jinja's object_type_repr: "dict object", "None", ...
std::string object_type_repr(const Value& v) {
  if (v.is_none()) return "None";
  return v.type_name() + " object";
}

Value missing(const Value& obj, const std::string& name) {
  return Value::undefined(cat("'", object_type_repr(obj), "' has no attribute '", name, "'"));
}

Value unsafe_attr(const Value& obj, std::string_view name) {
  return Value::undefined("access to attribute '" + std::string(name) + "' of '" +
                              obj.type_name() + "' object is unsafe.",
                          /*unsafe=*/true);
}

Value method(std::string name, std::function<Value(const CallArgs&)> fn) {
  auto c = std::make_shared<Callable>();
  c->name = std::move(name);
  c->fn = std::move(fn);
  return Value::callable(std::move(c));
}

std::string arg_str(const CallArgs& a, size_t i, std::string_view name, const char* method) {
  Value v = a.get(i, name);
  if (!v.is_string()) {
    fail(ErrorKind::kType, std::string(method) + "() argument must be str, not " + v.type_name());
  }
  return v.str();
}

int64_t arg_int(const CallArgs& a, size_t i, std::string_view name, int64_t fallback) {
  Value v = a.get(i, name);
  if (v.is_undefined() || v.is_none()) return fallback;
  if (!v.is_int() && !v.is_bool()) {
    fail(ErrorKind::kType, "'" + v.type_name() + "' object cannot be interpreted as an integer");
  }
  return v.as_int();
}

// ---- case mapping (ASCII, Latin-1, Greek, Cyrillic) ----

char32_t upper_cp(char32_t c) {
  if (c >= 'a' && c <= 'z') return c - 32;
  if (c >= 0xe0 && c <= 0xfe && c != 0xf7) return c - 32;
  if (c == 0xff) return 0x178;
  if (c >= 0x3b1 && c <= 0x3c9 && c != 0x3c2) return c - 32;
  if (c >= 0x430 && c <= 0x44f) return c - 32;
  if (c >= 0x450 && c <= 0x45f) return c - 80;
  return c;
}
char32_t lower_cp(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c >= 0xc0 && c <= 0xde && c != 0xd7) return c + 32;
  if (c == 0x178) return 0xff;
  if (c >= 0x391 && c <= 0x3a9 && c != 0x3a2) return c + 32;
  if (c >= 0x410 && c <= 0x42f) return c + 32;
  if (c >= 0x400 && c <= 0x40f) return c + 80;
  return c;
}
bool is_cased(char32_t c) { return upper_cp(c) != c || lower_cp(c) != c || c == 0xdf; }

std::string map_cps(std::string_view s, char32_t (*f)(char32_t)) {
  std::u32string out;
  for (char32_t c : utf8_decode(s)) out.push_back(f(c));
  return utf8_encode(out);
}

std::string py_title(std::string_view s) {
  std::u32string out;
  bool prev_cased = false;
  for (char32_t c : utf8_decode(s)) {
    out.push_back(prev_cased ? lower_cp(c) : upper_cp(c));
    prev_cased = is_cased(c);
  }
  return utf8_encode(out);
}

bool all_cps(std::string_view s, bool (*pred)(char32_t)) {
  const auto cps = utf8_decode(s);
  if (cps.empty()) return false;
  for (char32_t c : cps) {
    if (!pred(c)) return false;
  }
  return true;
}

// Python str.split(sep=None, maxsplit=-1) and rsplit.
std::vector<std::string> py_split(std::string_view s, const Value& sep, int64_t maxsplit,
                                  bool from_right) {
  std::vector<std::string> parts;
  if (sep.is_undefined() || sep.is_none()) {
    auto cps = utf8_decode(s);
    std::vector<std::u32string> words;
    if (from_right) std::reverse(cps.begin(), cps.end());
    size_t i = 0;
    while (i < cps.size()) {
      while (i < cps.size() && is_py_space(cps[i])) ++i;
      if (i >= cps.size()) break;
      if (maxsplit >= 0 && static_cast<int64_t>(words.size()) == maxsplit) {
        size_t end = cps.size();
        while (end > i && is_py_space(cps[end - 1])) --end;
        words.emplace_back(cps.begin() + static_cast<ptrdiff_t>(i),
                           cps.begin() + static_cast<ptrdiff_t>(end));
        break;
      }
      size_t j = i;
      while (j < cps.size() && !is_py_space(cps[j])) ++j;
      words.emplace_back(cps.begin() + static_cast<ptrdiff_t>(i),
                         cps.begin() + static_cast<ptrdiff_t>(j));
      i = j;
    }
    if (from_right) {
      std::reverse(words.begin(), words.end());
      for (auto& w : words) std::reverse(w.begin(), w.end());
    }
    for (auto& w : words) parts.push_back(utf8_encode(w));
    return parts;
  }
  if (!sep.is_string()) fail(ErrorKind::kType, "must be str or None, not " + sep.type_name());
  const std::string& d = sep.str();
  if (d.empty()) fail(ErrorKind::kType, "empty separator");
  if (!from_right) {
    size_t start = 0;
    while (true) {
      const size_t hit = s.find(d, start);
      if (hit == std::string_view::npos ||
          (maxsplit >= 0 && static_cast<int64_t>(parts.size()) == maxsplit)) {
        parts.emplace_back(s.substr(start));
        return parts;
      }
      parts.emplace_back(s.substr(start, hit - start));
      start = hit + d.size();
    }
  }
  size_t end = s.size();
  while (true) {
    const size_t hit = end >= d.size() ? s.rfind(d, end - d.size()) : std::string_view::npos;
    if (hit == std::string_view::npos ||
        (maxsplit >= 0 && static_cast<int64_t>(parts.size()) == maxsplit)) {
      parts.emplace_back(s.substr(0, end));
      break;
    }
    parts.emplace_back(s.substr(hit + d.size(), end - hit - d.size()));
    end = hit;
  }
  std::reverse(parts.begin(), parts.end());
  return parts;
}

Value string_list(const std::vector<std::string>& parts) {
  List out;
  for (const auto& p : parts) out.push_back(Value::string(p));
  return Value::list(std::move(out));
}

// startswith / endswith with a str or a tuple of str.
bool affix_match(std::string_view s, const Value& affix, bool prefix) {
  auto one = [&](const Value& a) {
    if (!a.is_string()) {
      fail(ErrorKind::kType, std::string(prefix ? "startswith" : "endswith") +
                                 " first arg must be str or a tuple of str, not " + a.type_name());
    }
    const std::string& x = a.str();
    if (x.size() > s.size()) return false;
    return prefix ? s.substr(0, x.size()) == x : s.substr(s.size() - x.size()) == x;
  };
  if (affix.kind() == Kind::kTuple) {
    for (const auto& a : affix.items()) {
      if (one(a)) return true;
    }
    return false;
  }
  return one(affix);
}

// str.format with positional ({} / {0}) and keyword ({name}) fields, no format specs.
std::string py_format(std::string_view fmt, const CallArgs& a) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    const char c = fmt[i];
    if (c == '{' && i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out += '{';
      ++i;
    } else if (c == '}' && i + 1 < fmt.size() && fmt[i + 1] == '}') {
      out += '}';
      ++i;
    } else if (c == '{') {
      const size_t close = fmt.find('}', i);
      if (close == std::string_view::npos) fail(ErrorKind::kType, "Single '{' encountered in format string");
      const std::string field(fmt.substr(i + 1, close - i - 1));
      if (field.find_first_of(":!.[") != std::string::npos) {
        fail(ErrorKind::kType, "format specs are not supported in str.format");
      }
      Value v;
      if (field.empty()) {
        v = a.get(auto_index++, "\x01");
      } else if (field.find_first_not_of("0123456789") == std::string::npos) {
        v = a.get(std::stoul(field.substr(0, 6)), "\x01");
      } else {
        v = a.get(SIZE_MAX, field);
      }
      if (v.is_undefined()) fail(ErrorKind::kType, "Replacement index out of range: {" + field + "}");
      out += v.to_str();
      i = close;
    } else if (c == '}') {
      fail(ErrorKind::kType, "Single '}' encountered in format string");
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<Value> str_method(const Value& obj, std::string_view name) {
  const std::string s = obj.str();
  using A = const CallArgs&;
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    const bool l = name != "rstrip", r = name != "lstrip";
    return method(std::string(name), [s, l, r](A a) {
      return Value::string(py_strip(s, a.get(0, "chars"), l, r));
    });
  }
  if (name == "split" || name == "rsplit") {
    const bool right = name == "rsplit";
    return method(std::string(name), [s, right](A a) {
      return string_list(py_split(s, a.get(0, "sep"), arg_int(a, 1, "maxsplit", -1), right));
    });
  }
  if (name == "splitlines") return method("splitlines", [s](A) { return string_list(py_splitlines(s)); });
  if (name == "startswith" || name == "endswith") {
    const bool prefix = name == "startswith";
    return method(std::string(name), [s, prefix](A a) {
      return Value::boolean(affix_match(s, a.get(0, "\x01"), prefix));
    });
  }
  if (name == "replace") {
    return method("replace", [s](A a) {
      return Value::string(py_replace(s, arg_str(a, 0, "old", "replace"),
                                      arg_str(a, 1, "new", "replace"), arg_int(a, 2, "count", -1)));
    });
  }
  if (name == "upper") return method("upper", [s](A) { return Value::string(py_upper(s)); });
  if (name == "lower") return method("lower", [s](A) { return Value::string(py_lower(s)); });
  if (name == "title") return method("title", [s](A) { return Value::string(py_title(s)); });
  if (name == "capitalize") {
    return method("capitalize", [s](A) { return Value::string(py_capitalize(s)); });
  }
  if (name == "find" || name == "rfind" || name == "count") {
    const std::string n(name);
    return method(n, [s, n](A a) {
      const std::string sub = arg_str(a, 0, "sub", n.c_str());
      const auto cps = utf8_decode(s);
      if (n == "count") {
        if (sub.empty()) return Value::integer(static_cast<int64_t>(cps.size()) + 1);
        int64_t k = 0;
        for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++k;
        return Value::integer(k);
      }
      const size_t p = n == "find" ? s.find(sub) : s.rfind(sub);
      if (p == std::string::npos) return Value::integer(-1);
      return Value::integer(static_cast<int64_t>(utf8_decode(s.substr(0, p)).size()));
    });
  }
  if (name == "join") {
    return method("join", [s](A a) {
      std::string out;
      bool first = true;
      for (const Value& v : iterate(a.get(0, "iterable"))) {
        if (!v.is_string()) {
          fail(ErrorKind::kType, "sequence item: expected str instance, " + v.type_name() + " found");
        }
        if (!first) out += s;
        first = false;
        out += v.str();
        check_string_size(out.size());
      }
      return Value::string(std::move(out));
    });
  }
  if (name == "format") return method("format", [s](A a) { return Value::string(py_format(s, a)); });
  using Pred = bool (*)(char32_t);
  static const std::pair<std::string_view, Pred> kPredicates[] = {
      {"isspace", [](char32_t c) { return is_py_space(c); }},
      {"isdigit", [](char32_t c) { return c >= '0' && c <= '9'; }},
      {"isalpha", [](char32_t c) { return is_cased(c) || c > 0x2000; }},
      {"isalnum", [](char32_t c) { return (c >= '0' && c <= '9') || is_cased(c) || c > 0x2000; }},
  };
  for (const auto& [pname, pred] : kPredicates) {
    if (name == pname) {
      Pred p = pred;
      return method(std::string(name), [s, p](A) { return Value::boolean(all_cps(s, p)); });
    }
  }
  if (name == "islower" || name == "isupper") {
    const bool want_lower = name == "islower";
    return method(std::string(name), [s, want_lower](A) {
      bool any = false;
      for (char32_t c : utf8_decode(s)) {
        if (!is_cased(c)) continue;
        any = true;
        if ((want_lower ? lower_cp(c) : upper_cp(c)) != c) return Value::boolean(false);
      }
      return Value::boolean(any);
    });
  }
  return std::nullopt;
}

std::optional<Value> dict_method(const Value& obj, std::string_view name) {
  using A = const CallArgs&;
  const auto d = obj.dict_ptr();
  if (name == "items") {
    return method("items", [d](A) {
      List out;
      for (const auto& [k, v] : d->entries) out.push_back(Value::tuple({k, v}));
      return Value::list(std::move(out));
    });
  }
  if (name == "keys" || name == "values") {
    const bool keys = name == "keys";
    return method(std::string(name), [d, keys](A) {
      List out;
      for (const auto& [k, v] : d->entries) out.push_back(keys ? k : v);
      return Value::list(std::move(out));
    });
  }
  if (name == "get") {
    return method("get", [d](A a) {
      const Value* v = d->find(a.get(0, "\x01"));
      return v ? *v : a.get(1, "\x01", Value::none());
    });
  }
  if (name == "copy") {
    return method("copy", [d](A) { return Value::dict(std::make_shared<Dict>(*d)); });
  }
  if (name == "clear" || name == "pop" || name == "popitem" || name == "setdefault" ||
      name == "update") {
    return unsafe_attr(obj, name);
  }
  return std::nullopt;
}

std::optional<Value> list_method(const Value& obj, std::string_view name) {
  using A = const CallArgs&;
  if (name == "index" || name == "count") {
    const bool count = name == "count";
    const List items = obj.items();
    return method(std::string(name), [items, count](A a) {
      const Value x = a.get(0, "\x01");
      int64_t n = 0;
      for (size_t i = 0; i < items.size(); ++i) {
        if (!equals(items[i], x)) continue;
        if (!count) return Value::integer(static_cast<int64_t>(i));
        ++n;
      }
      if (!count) fail(ErrorKind::kType, x.repr() + " is not in list");
      return Value::integer(n);
    });
  }
  if (obj.kind() == Kind::kList &&
      (name == "append" || name == "clear" || name == "extend" || name == "insert" ||
       name == "pop" || name == "remove" || name == "reverse" || name == "sort")) {
    return unsafe_attr(obj, name);
  }
  return std::nullopt;
}

// The Python attribute `name` of obj (a bound method), if the type has one.
std::optional<Value> python_attr(const Value& obj, std::string_view name) {
  if (!name.empty() && name[0] == '_') return unsafe_attr(obj, name);
  switch (obj.kind()) {
    case Kind::kString: return str_method(obj, name);
    case Kind::kDict: return dict_method(obj, name);
    case Kind::kList:
    case Kind::kTuple: return list_method(obj, name);
    case Kind::kNamespace: {
      const Value* v = obj.dict().find(name);
      if (v) return *v;
      return std::nullopt;
    }
    default: return std::nullopt;
  }
}

// Python-style index normalisation; nullopt when out of range.
std::optional<size_t> norm_index(int64_t i, size_t n) {
  if (i < 0) i += static_cast<int64_t>(n);
  if (i < 0 || i >= static_cast<int64_t>(n)) return std::nullopt;
  return static_cast<size_t>(i);
}

}  // namespace

void check_string_size(size_t bytes) {
  if (bytes > kMaxStringBytes) {
    fail(ErrorKind::kLimit, "string longer than " + std::to_string(kMaxStringBytes) + " bytes");
  }
}

void check_list_size(size_t items) {
  if (items > kMaxListItems) {
    fail(ErrorKind::kLimit, "list longer than " + std::to_string(kMaxListItems) + " items");
  }
}

Value get_attr(const Value& obj, std::string_view name) {
  obj.require_defined();
  if (auto v = python_attr(obj, name)) return *v;
  if (obj.kind() == Kind::kDict) {
    if (const Value* v = obj.dict().find(name)) return *v;
  }
  return missing(obj, std::string(name));
}

Value get_item(const Value& obj, const Value& key) {
  obj.require_defined();
  switch (obj.kind()) {
    case Kind::kDict:
      if (const Value* v = obj.dict().find(key)) return *v;
      break;
    case Kind::kList:
    case Kind::kTuple:
      if (key.is_int() || key.is_bool()) {
        if (auto i = norm_index(key.as_int(), obj.items().size())) return obj.items()[*i];
      }
      break;
    case Kind::kString:
      if (key.is_int() || key.is_bool()) {
        const auto cps = utf8_decode(obj.str());
        if (auto i = norm_index(key.as_int(), cps.size())) {
          return Value::string(utf8_encode(std::u32string(1, cps[*i])));
        }
      }
      break;
    default:
      break;
  }
  if (key.is_string()) {
    if (auto v = python_attr(obj, key.str())) return *v;
  }
  return missing(obj, key.to_str());
}

Value slice(const Value& obj, const Value& start, const Value& stop, const Value& step) {
  obj.require_defined();
  auto opt = [](const Value& v) -> std::optional<int64_t> {
    if (v.is_undefined() || v.is_none()) return std::nullopt;
    if (!v.is_int() && !v.is_bool()) {
      fail(ErrorKind::kType, "slice indices must be integers or None");
    }
    return v.as_int();
  };
  const int64_t st = opt(step).value_or(1);
  if (st == 0) fail(ErrorKind::kType, "slice step cannot be zero");
  std::vector<char32_t> cps;
  size_t n;
  if (obj.is_string()) {
    cps = utf8_decode(obj.str());
    n = cps.size();
  } else if (obj.is_sequence()) {
    n = obj.items().size();
  } else {
    return missing(obj, "slice");
  }
  const auto len = static_cast<int64_t>(n);
  auto clamp = [&](std::optional<int64_t> v, int64_t dflt) {
    if (!v) return dflt;
    int64_t x = *v < 0 ? *v + len : *v;
    if (st > 0) return std::clamp<int64_t>(x, 0, len);
    return std::clamp<int64_t>(x, -1, len - 1);
  };
  const int64_t b = clamp(opt(start), st > 0 ? 0 : len - 1);
  const int64_t e = clamp(opt(stop), st > 0 ? len : -1);
  std::vector<size_t> picks;
  for (int64_t i = b; st > 0 ? i < e : i > e; i += st) picks.push_back(static_cast<size_t>(i));
  if (obj.is_string()) {
    std::u32string out;
    for (size_t i : picks) out.push_back(cps[i]);
    return Value::string(utf8_encode(out));
  }
  List out;
  for (size_t i : picks) out.push_back(obj.items()[i]);
  return obj.kind() == Kind::kTuple ? Value::tuple(std::move(out)) : Value::list(std::move(out));
}

std::vector<Value> iterate(const Value& v) {
  consume_fuel(v.is_sequence() ? static_cast<int64_t>(v.items().size()) + 1 : 1);
  switch (v.kind()) {
    case Kind::kUndefined:
      if (v.unsafe()) v.require_defined();
      return {};
    case Kind::kString: {
      std::vector<Value> out;
      for (char32_t c : utf8_decode(v.str())) out.push_back(Value::string(utf8_encode(std::u32string(1, c))));
      return out;
    }
    case Kind::kList:
    case Kind::kTuple:
      return v.items();
    case Kind::kDict: {
      std::vector<Value> out;
      for (const auto& [k, e] : v.dict().entries) out.push_back(k);
      return out;
    }
    default:
      fail(ErrorKind::kType, "'" + v.type_name() + "' object is not iterable");
  }
}

int64_t length_of(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined: return 0;
    case Kind::kString: return static_cast<int64_t>(utf8_decode(v.str()).size());
    case Kind::kList:
    case Kind::kTuple: return static_cast<int64_t>(v.items().size());
    case Kind::kDict: return static_cast<int64_t>(v.dict().entries.size());
    default: fail(ErrorKind::kType, "object of type '" + v.type_name() + "' has no len()");
  }
}

// ---- string helpers ----------------------------------------------------------------------------

std::string py_strip(std::string_view s, const Value& chars, bool left, bool right) {
  auto cps = utf8_decode(s);
  std::vector<char32_t> set;
  const bool custom = !(chars.is_undefined() || chars.is_none());
  if (custom) {
    if (!chars.is_string()) fail(ErrorKind::kType, "strip arg must be None or str");
    set = utf8_decode(chars.str());
  }
  auto strip_it = [&](char32_t c) {
    return custom ? std::find(set.begin(), set.end(), c) != set.end() : is_py_space(c);
  };
  size_t b = 0, e = cps.size();
  if (left) {
    while (b < e && strip_it(cps[b])) ++b;
  }
  if (right) {
    while (e > b && strip_it(cps[e - 1])) --e;
  }
  return utf8_encode(std::u32string(cps.begin() + static_cast<ptrdiff_t>(b),
                                    cps.begin() + static_cast<ptrdiff_t>(e)));
}

std::string py_upper(std::string_view s) { return map_cps(s, upper_cp); }
std::string py_lower(std::string_view s) { return map_cps(s, lower_cp); }

std::string py_capitalize(std::string_view s) {
  auto cps = utf8_decode(s);
  for (size_t i = 0; i < cps.size(); ++i) cps[i] = i == 0 ? upper_cp(cps[i]) : lower_cp(cps[i]);
  return utf8_encode(std::u32string(cps.begin(), cps.end()));
}

std::vector<std::string> py_splitlines(std::string_view s) {
  std::vector<std::string> out;
  const auto cps = utf8_decode(s);
  std::u32string line;
  for (size_t i = 0; i < cps.size(); ++i) {
    const char32_t c = cps[i];
    const bool brk = c == '\n' || c == '\r' || c == 0x0b || c == 0x0c || c == 0x1c || c == 0x1d ||
                     c == 0x1e || c == 0x85 || c == 0x2028 || c == 0x2029;
    if (!brk) {
      line.push_back(c);
      continue;
    }
    if (c == '\r' && i + 1 < cps.size() && cps[i + 1] == '\n') ++i;
    out.push_back(utf8_encode(line));
    line.clear();
  }
  if (!line.empty()) out.push_back(utf8_encode(line));
  return out;
}

std::string py_replace(std::string_view s, std::string_view old, std::string_view with,
                       int64_t count) {
  std::string out;
  if (old.empty()) {  // Python inserts `with` between code points (and at both ends)
    const auto cps = utf8_decode(s);
    int64_t done = 0;
    for (size_t i = 0; i <= cps.size(); ++i) {
      if (count < 0 || done < count) {
        out += with;
        ++done;
      }
      if (i < cps.size()) utf8_append(out, cps[i]);
      check_string_size(out.size());
    }
    return out;
  }
  size_t start = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    const size_t hit = s.find(old, start);
    if (hit == std::string_view::npos) break;
    out.append(s.substr(start, hit - start));
    out.append(with);
    check_string_size(out.size());
    start = hit + old.size();
    ++done;
  }
  out.append(s.substr(start));
  check_string_size(out.size());
  return out;
}

// ---- globals -----------------------------------------------------------------------------------

void add_globals(Dict& g) {
  using A = const CallArgs&;
  g.set(Value::string("range"), method("range", [](A a) {
    int64_t start = 0, stop, step = 1;
    if (a.args.empty()) fail(ErrorKind::kType, "range expected at least 1 argument, got 0");
    auto as_int = [](const Value& v) {
      if (!v.is_int() && !v.is_bool()) {
        fail(ErrorKind::kType, "'" + v.type_name() + "' object cannot be interpreted as an integer");
      }
      return v.as_int();
    };
    if (a.args.size() == 1) {
      stop = as_int(a.args[0]);
    } else {
      start = as_int(a.args[0]);
      stop = as_int(a.args[1]);
      if (a.args.size() > 2) step = as_int(a.args[2]);
    }
    if (step == 0) fail(ErrorKind::kType, "range() arg 3 must not be zero");
    const double count = std::ceil((static_cast<double>(stop) - static_cast<double>(start)) /
                                   static_cast<double>(step));
    if (count > static_cast<double>(kMaxRange)) {
      fail(ErrorKind::kLimit,
           "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
    }
    List out;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) out.push_back(Value::integer(i));
    return Value::list(std::move(out));
  }));
  g.set(Value::string("dict"), method("dict", [](A a) {
    auto d = std::make_shared<Dict>();
    for (const auto& [k, v] : a.kwargs) d->set(Value::string(k), v);
    return Value::dict(std::move(d));
  }));
  g.set(Value::string("namespace"), method("namespace", [](A a) {
    auto d = std::make_shared<Dict>();
    if (!a.args.empty() && a.args[0].kind() == Kind::kDict) *d = a.args[0].dict();
    for (const auto& [k, v] : a.kwargs) d->set(Value::string(k), v);
    return Value::namespace_of(std::move(d));
  }));
  g.set(Value::string("joiner"), method("joiner", [](A a) {
    const std::string sep = a.get(0, "sep", Value::string(", ")).to_str();
    auto used = std::make_shared<bool>(false);
    return method("joiner", [sep, used](A) {
      if (!*used) {
        *used = true;
        return Value::string("");
      }
      return Value::string(sep);
    });
  }));
  g.set(Value::string("raise_exception"), method("raise_exception", [](A a) -> Value {
    fail(ErrorKind::kRaised, a.get(0, "message").to_str());
  }));
  g.set(Value::string("strftime_now"), method("strftime_now", [](A a) {
    const std::string fmt = a.get(0, "format").to_str();
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    localtime_r(&now, &tm);
    std::string buf(256 + fmt.size() * 8, '\0');
    const size_t n = fmt.empty() ? 0 : std::strftime(buf.data(), buf.size(), fmt.c_str(), &tm);
    buf.resize(n);
    return Value::string(std::move(buf));
  }));
}

}  // namespace mlhub::generation::jinja
