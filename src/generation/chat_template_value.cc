// Values of the chat-template interpreter: construction, Python spelling, comparisons, JSON.
#include "chat_template_value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace mlhub::generation::jinja {

void fail(ErrorKind kind, const std::string& msg) { throw TemplateError(kind, msg); }

namespace {
thread_local int64_t t_fuel = INT64_MAX;
}  // namespace

void set_fuel(int64_t fuel) { t_fuel = fuel; }

void consume_fuel(int64_t amount) {
  t_fuel -= amount;
  if (t_fuel < 0) {
    t_fuel = 0;
    fail(ErrorKind::kLimit, "template rendering exceeded its work budget");
  }
}

// ---- namespaces ----

namespace {
thread_local NamespaceTracker* t_tracker = nullptr;
thread_local std::vector<const Dict*> t_repr_stack;  // dicts being printed (cycle guard)
}  // namespace

NamespaceTracker::NamespaceTracker() : previous_(t_tracker) { t_tracker = this; }

NamespaceTracker::~NamespaceTracker() {
  t_tracker = previous_;
  for (auto& d : dicts_) {
    auto entries = std::move(d->entries);  // destroyed after d is emptied
    d->entries.clear();
  }
}

void NamespaceTracker::track(const std::shared_ptr<Dict>& d) {
  if (t_tracker) t_tracker->dicts_.push_back(d);
}

// ---- construction ------------------------------------------------------------------------------

Value Value::undefined(std::string hint, bool unsafe) {
  Value v;
  v.hint_ = std::move(hint);
  v.b_ = unsafe;
  return v;
}
Value Value::none() {
  Value v;
  v.kind_ = Kind::kNone;
  return v;
}
Value Value::boolean(bool b) {
  Value v;
  v.kind_ = Kind::kBool;
  v.b_ = b;
  return v;
}
Value Value::integer(int64_t i) {
  Value v;
  v.kind_ = Kind::kInt;
  v.i_ = i;
  return v;
}
Value Value::floating(double f) {
  Value v;
  v.kind_ = Kind::kFloat;
  v.f_ = f;
  return v;
}
Value Value::string(std::string s) {
  Value v;
  v.kind_ = Kind::kString;
  v.s_ = std::make_shared<const std::string>(std::move(s));
  return v;
}
uint32_t Value::nested_depth(const List& items) {
  uint32_t d = 0;
  for (const auto& e : items) d = std::max(d, e.kind_ == Kind::kNamespace ? 0u : e.depth_);
  if (d + 1 > kMaxNesting) fail(ErrorKind::kLimit, "values nested deeper than " + std::to_string(kMaxNesting));
  return d + 1;
}

Value Value::list(List items) {
  Value v;
  v.depth_ = nested_depth(items);
  v.kind_ = Kind::kList;
  v.list_ = std::make_shared<const List>(std::move(items));
  return v;
}
Value Value::tuple(List items) {
  Value v = list(std::move(items));
  v.kind_ = Kind::kTuple;
  return v;
}
Value Value::dict(std::shared_ptr<Dict> d) {
  Value v;
  uint32_t depth = 0;
  for (const auto& [k, e] : d->entries) {
    depth = std::max({depth, k.depth_, e.kind_ == Kind::kNamespace ? 0u : e.depth_});
  }
  if (depth + 1 > kMaxNesting) fail(ErrorKind::kLimit, "values nested deeper than " + std::to_string(kMaxNesting));
  v.depth_ = depth + 1;
  v.kind_ = Kind::kDict;
  v.dict_ = std::move(d);
  return v;
}
Value Value::new_dict() { return dict(std::make_shared<Dict>()); }
Value Value::namespace_of(std::shared_ptr<Dict> d) {
  NamespaceTracker::track(d);
  Value v = dict(std::move(d));
  v.kind_ = Kind::kNamespace;
  return v;
}
Value Value::callable(std::shared_ptr<Callable> fn) {
  Value v;
  v.kind_ = Kind::kCallable;
  v.fn_ = std::move(fn);
  return v;
}

Value Value::from_json(const nlohmann::ordered_json& j) {
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null:
    case nlohmann::ordered_json::value_t::discarded:
      return none();
    case nlohmann::ordered_json::value_t::boolean:
      return boolean(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer:
      return integer(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      const auto u = j.get<uint64_t>();
      // Python ints are unbounded; past int64 we fall back to a float (documented gap).
      if (u > static_cast<uint64_t>(INT64_MAX)) return floating(static_cast<double>(u));
      return integer(static_cast<int64_t>(u));
    }
    case nlohmann::ordered_json::value_t::number_float:
      return floating(j.get<double>());
    case nlohmann::ordered_json::value_t::string:
      return string(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      List items;
      items.reserve(j.size());
      for (const auto& e : j) items.push_back(from_json(e));
      return list(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      auto d = std::make_shared<Dict>();
      d->entries.reserve(j.size());
      for (const auto& [k, e] : j.items()) d->entries.emplace_back(string(k), from_json(e));
      return dict(std::move(d));
    }
    case nlohmann::ordered_json::value_t::binary:
      break;
  }
  fail(ErrorKind::kType, "binary JSON values are not supported in chat templates");
}

// ---- basic queries -----------------------------------------------------------------------------

double Value::as_double() const {
  if (is_float()) return f_;
  return static_cast<double>(as_int());
}

bool Value::truthy() const {
  switch (kind_) {
    case Kind::kUndefined:
    case Kind::kNone:
      return false;
    case Kind::kBool:
      return b_;
    case Kind::kInt:
      return i_ != 0;
    case Kind::kFloat:
      return f_ != 0.0;
    case Kind::kString:
      return !s_->empty();
    case Kind::kList:
    case Kind::kTuple:
      return !list_->empty();
    case Kind::kDict:
      return !dict_->entries.empty();
    case Kind::kNamespace:
    case Kind::kCallable:
      return true;
  }
  return false;
}

std::string Value::type_name() const {
  switch (kind_) {
    case Kind::kUndefined: return "Undefined";
    case Kind::kNone: return "NoneType";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kFloat: return "float";
    case Kind::kString: return "str";
    case Kind::kList: return "list";
    case Kind::kTuple: return "tuple";
    case Kind::kDict: return "dict";
    case Kind::kNamespace: return "Namespace";
    case Kind::kCallable: return "function";
  }
  return "object";
}

void Value::require_defined() const {
  if (!is_undefined()) return;
  if (unsafe()) fail(ErrorKind::kSecurity, hint_);
  fail(ErrorKind::kUndefined, hint_.empty() ? "value is undefined" : hint_);
}

// ---- Python spelling ---------------------------------------------------------------------------

std::string float_repr(double f) {
  if (std::isnan(f)) return "nan";
  if (std::isinf(f)) return f < 0 ? "-inf" : "inf";
  char buf[64];
  // Shortest round-trip digits, as Python's repr picks them; then Python's layout rule:
  // fixed notation for 1e-4 <= |f| < 1e16, scientific with a 2+ digit exponent otherwise.
  auto res = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  std::string sign;
  if (!sci.empty() && sci[0] == '-') {
    sign = "-";
    sci.erase(0, 1);
  }
  const size_t e_pos = sci.find('e');
  std::string digits = sci.substr(0, e_pos);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  const int exp = std::stoi(sci.substr(e_pos + 1));
  if (exp >= -4 && exp < 16) {
    std::string out;
    if (exp < 0) {
      out = "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
    } else {
      const auto int_len = static_cast<size_t>(exp + 1);
      if (digits.size() <= int_len) {
        out = digits + std::string(int_len - digits.size(), '0') + ".0";
      } else {
        out = digits.substr(0, int_len) + "." + digits.substr(int_len);
      }
    }
    return sign + out;
  }
  std::string mant = digits.substr(0, 1);
  if (digits.size() > 1) mant += "." + digits.substr(1);
  char ebuf[16];
  std::snprintf(ebuf, sizeof(ebuf), "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
  return sign + mant + ebuf;
}

// Python's str.isprintable() approximated for the code points templates meet: controls,
// the Latin-1 controls, soft hyphen, Unicode spaces other than ' ', format characters.
static bool is_py_printable(char32_t c) {
  if (c < 0x20 || c == 0x7f) return false;
  if (c >= 0x80 && c <= 0xa0) return false;
  if (c == 0xad || c == 0x1680 || c == 0x180e) return false;
  if (c >= 0x2000 && c <= 0x200f) return false;
  if (c >= 0x2028 && c <= 0x202f) return false;
  if (c >= 0x205f && c <= 0x2064) return false;
  if (c == 0x3000 || c == 0xfeff) return false;
  if (c >= 0xd800 && c <= 0xdfff) return false;
  if (c >= 0xe000 && c <= 0xf8ff) return false;  // private use
  return true;
}

std::string string_repr(std::string_view s) {
  const bool has_single = s.find('\'') != std::string_view::npos;
  const bool has_double = s.find('"') != std::string_view::npos;
  const char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, quote);
  for (char32_t c : utf8_decode(s)) {
    char buf[16];
    if (c == static_cast<char32_t>(quote) || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (is_py_printable(c)) {
      utf8_append(out, c);
    } else {
      if (c < 0x100) {
        std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned>(c));
      } else if (c < 0x10000) {
        std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
      } else {
        std::snprintf(buf, sizeof(buf), "\\U%08x", static_cast<unsigned>(c));
      }
      out += buf;
    }
  }
  out += quote;
  return out;
}

static std::string join_repr(const List& items, const char* open, const char* close) {
  std::string out = open;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += items[i].repr();
  }
  return out + close;
}

static std::string dict_repr(const Dict& d) {
  // Python prints a dict that contains itself as {...}.
  if (std::find(t_repr_stack.begin(), t_repr_stack.end(), &d) != t_repr_stack.end()) return "{...}";
  if (t_repr_stack.size() > 200) fail(ErrorKind::kLimit, "value nested too deeply to print");
  t_repr_stack.push_back(&d);
  struct Pop {
    ~Pop() { t_repr_stack.pop_back(); }
  } pop;
  std::string out = "{";
  for (size_t i = 0; i < d.entries.size(); ++i) {
    if (i) out += ", ";
    out += d.entries[i].first.repr() + ": " + d.entries[i].second.repr();
  }
  return out + "}";
}

std::string Value::to_str() const {
  switch (kind_) {
    case Kind::kUndefined: return "";
    case Kind::kString: return *s_;
    default: return repr();
  }
}

std::string Value::repr() const {
  switch (kind_) {
    case Kind::kUndefined: return "Undefined";
    case Kind::kNone: return "None";
    case Kind::kBool: return b_ ? "True" : "False";
    case Kind::kInt: return std::to_string(i_);
    case Kind::kFloat: return float_repr(f_);
    case Kind::kString: return string_repr(*s_);
    case Kind::kList: return join_repr(*list_, "[", "]");
    case Kind::kTuple:
      return list_->size() == 1 ? "(" + (*list_)[0].repr() + ",)" : join_repr(*list_, "(", ")");
    case Kind::kDict: return dict_repr(*dict_);
    case Kind::kNamespace: return "<Namespace " + dict_repr(*dict_) + ">";
    case Kind::kCallable: return "<function " + fn_->name + ">";
  }
  return "";
}

// ---- dict / args -------------------------------------------------------------------------------

const Value* Dict::find(const Value& key) const {
  for (const auto& [k, v] : entries) {
    if (equals(k, key)) return &v;
  }
  return nullptr;
}

const Value* Dict::find(std::string_view key) const {
  for (const auto& [k, v] : entries) {
    if (k.is_string() && k.str() == key) return &v;
  }
  return nullptr;
}

void Dict::set(const Value& key, Value value) {
  for (auto& [k, v] : entries) {
    if (equals(k, key)) {
      v = std::move(value);
      return;
    }
  }
  entries.emplace_back(key, std::move(value));
}

Value CallArgs::get(size_t i, std::string_view name, Value fallback) const {
  if (i < args.size()) return args[i];
  for (const auto& [k, v] : kwargs) {
    if (k == name) return v;
  }
  return fallback;
}

// ---- comparisons -------------------------------------------------------------------------------

bool equals(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_double() == b.as_double();
    return a.as_int() == b.as_int();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Kind::kUndefined:
    case Kind::kNone:
      return true;
    case Kind::kString:
      return a.str() == b.str();
    case Kind::kList:
    case Kind::kTuple: {
      const auto& x = a.items();
      const auto& y = b.items();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!equals(x[i], y[i])) return false;
      }
      return true;
    }
    case Kind::kDict: {
      const auto& x = a.dict().entries;
      if (x.size() != b.dict().entries.size()) return false;
      for (const auto& [k, v] : x) {
        const Value* other = b.dict().find(k);
        if (!other || !equals(v, *other)) return false;
      }
      return true;
    }
    case Kind::kNamespace:
      return a.dict_ptr() == b.dict_ptr();
    case Kind::kCallable:
      return &a.fn() == &b.fn();
    default:
      return false;
  }
}

bool less(const Value& a, const Value& b) {
  a.require_defined();
  b.require_defined();
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_double() < b.as_double();
    return a.as_int() < b.as_int();
  }
  if (a.is_string() && b.is_string()) return a.str() < b.str();  // UTF-8 order = code point order
  if (a.kind() == b.kind() && a.is_sequence()) {
    const auto& x = a.items();
    const auto& y = b.items();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (!equals(x[i], y[i])) return less(x[i], y[i]);
    }
    return x.size() < y.size();
  }
  fail(ErrorKind::kType, "'<' not supported between instances of '" + a.type_name() + "' and '" +
                             b.type_name() + "'");
}

bool contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Kind::kUndefined:
      return false;
    case Kind::kString:
      if (!item.is_string()) {
        fail(ErrorKind::kType,
             "'in <string>' requires string as left operand, not " + item.type_name());
      }
      return container.str().find(item.str()) != std::string::npos;
    case Kind::kList:
    case Kind::kTuple:
      for (const auto& e : container.items()) {
        if (equals(e, item)) return true;
      }
      return false;
    case Kind::kDict:
    case Kind::kNamespace:
      return container.dict().find(item) != nullptr;
    default:
      fail(ErrorKind::kType, "argument of type '" + container.type_name() + "' is not iterable");
  }
}

// ---- JSON --------------------------------------------------------------------------------------

static void json_string_byte(std::string& out, unsigned char c);

static void json_string(std::string& out, std::string_view s, bool ensure_ascii) {
  out += '"';
  if (ensure_ascii) {
    for (char32_t cp : utf8_decode(s)) {
      if (cp < 0x80) {
        json_string_byte(out, static_cast<unsigned char>(cp));
        continue;
      }
      char buf[16];
      if (cp < 0x10000) {
        std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(cp));
      } else {
        const char32_t v = cp - 0x10000;
        std::snprintf(buf, sizeof(buf), "\\u%04x\\u%04x", static_cast<unsigned>(0xd800 + (v >> 10)),
                      static_cast<unsigned>(0xdc00 + (v & 0x3ff)));
      }
      out += buf;
    }
    out += '"';
    return;
  }
  for (unsigned char c : s) json_string_byte(out, c);
  out += '"';
}

static void json_string_byte(std::string& out, unsigned char c) {
  {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
}

namespace {
struct JsonWriter {
  int indent;
  std::string item_sep;
  std::string key_sep;
  bool sort_keys;
  bool ensure_ascii;
  std::string out;

  void newline(int depth) {
    if (indent < 0) return;
    out += '\n';
    out.append(static_cast<size_t>(indent) * static_cast<size_t>(depth), ' ');
  }

  static std::string key_string(const Value& k) {
    if (k.is_string()) return k.str();
    if (k.is_bool()) return k.as_bool() ? "true" : "false";
    if (k.is_none()) return "null";
    if (k.is_int()) return std::to_string(k.as_int());
    if (k.is_float()) return float_repr(k.as_double());
    fail(ErrorKind::kType, "keys must be str, int, float, bool or None, not " + k.type_name());
  }

  void write(const Value& v, int depth) {
    if (depth > 512) fail(ErrorKind::kLimit, "tojson: value nested too deeply");
    switch (v.kind()) {
      case Kind::kNone: out += "null"; return;
      case Kind::kBool: out += v.as_bool() ? "true" : "false"; return;
      case Kind::kInt: out += std::to_string(v.as_int()); return;
      case Kind::kFloat: {
        const double f = v.as_double();
        if (std::isnan(f)) out += "NaN";
        else if (std::isinf(f)) out += f < 0 ? "-Infinity" : "Infinity";
        else out += float_repr(f);
        return;
      }
      case Kind::kString: json_string(out, v.str(), ensure_ascii); return;
      case Kind::kList:
      case Kind::kTuple: {
        const auto& items = v.items();
        if (items.empty()) {
          out += "[]";
          return;
        }
        out += '[';
        for (size_t i = 0; i < items.size(); ++i) {
          if (i) out += item_sep;
          newline(depth + 1);
          write(items[i], depth + 1);
        }
        newline(depth);
        out += ']';
        return;
      }
      case Kind::kDict: {
        std::vector<std::pair<std::string, const Value*>> entries;
        for (const auto& [k, e] : v.dict().entries) entries.emplace_back(key_string(k), &e);
        if (sort_keys) {
          std::stable_sort(entries.begin(), entries.end(),
                           [](const auto& a, const auto& b) { return a.first < b.first; });
        }
        if (entries.empty()) {
          out += "{}";
          return;
        }
        out += '{';
        for (size_t i = 0; i < entries.size(); ++i) {
          if (i) out += item_sep;
          newline(depth + 1);
          json_string(out, entries[i].first, ensure_ascii);
          out += key_sep;
          write(*entries[i].second, depth + 1);
        }
        newline(depth);
        out += '}';
        return;
      }
      default:
        fail(ErrorKind::kType, "Object of type " + v.type_name() + " is not JSON serializable");
    }
  }
};
}  // namespace

std::string to_json(const Value& v, int indent, const std::string* item_sep,
                    const std::string* key_sep, bool sort_keys, bool ensure_ascii) {
  JsonWriter w{indent, item_sep ? *item_sep : (indent < 0 ? ", " : ","),
               key_sep ? *key_sep : ": ", sort_keys, ensure_ascii, {}};
  w.write(v, 0);
  return std::move(w.out);
}

// ---- UTF-8 -------------------------------------------------------------------------------------

std::vector<char32_t> utf8_decode(std::string_view s) {
  // Lenient: an invalid byte stands for itself (templates are validated UTF-8 at parse time,
  // but strings built by slicing bytes never exist, so this only matters for hostile input).
  consume_fuel(static_cast<int64_t>(s.size() / 16) + 1);
  std::vector<char32_t> out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) {
      out.push_back(c);
      ++i;
      continue;
    }
    char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
    bool ok = true;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) ok = false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (!ok) {
      out.push_back(c);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

void utf8_append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

std::string utf8_encode(const std::u32string_view cps) {
  std::string out;
  out.reserve(cps.size());
  for (char32_t c : cps) utf8_append(out, c);
  return out;
}

bool is_py_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
         c == 0x202f || c == 0x205f || c == 0x3000;
}

}  // namespace mlhub::generation::jinja
