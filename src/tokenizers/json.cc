#include "tokenizers/json.h"

#include <limits>

namespace mlhub::tok {

std::string_view json_type_name(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::object: return "an object";
    case Json::value_t::array: return "an array";
    case Json::value_t::string: return "a string";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "an integer";
    case Json::value_t::number_float: return "a number";
    default: return "an unsupported value";
  }
}

void JsonRef::fail(std::string_view message) const {
  throw Error(StatusCode::kInvalidArgument, path_ + ": " + std::string(message));
}

std::string JsonRef::child_path(std::string_view key) const {
  bool plain = !key.empty();
  for (char c : key) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) plain = false;
  }
  if (plain) return path_ + "." + std::string(key);
  return path_ + "[" + Json(std::string(key)).dump() + "]";
}

std::string JsonRef::child_path(size_t index) const {
  return path_ + "[" + std::to_string(index) + "]";
}

bool JsonRef::has(std::string_view key) const {
  if (!j_->is_object()) return false;
  auto it = j_->find(key);
  return it != j_->end() && !it->is_null();
}

JsonRef JsonRef::at(std::string_view key) const {
  if (!j_->is_object()) fail("expected an object, got " + std::string(json_type_name(*j_)));
  auto it = j_->find(key);
  if (it == j_->end()) fail("missing required field \"" + std::string(key) + "\"");
  return JsonRef(*it, child_path(key));
}

std::optional<JsonRef> JsonRef::get(std::string_view key) const {
  if (!j_->is_object()) fail("expected an object, got " + std::string(json_type_name(*j_)));
  auto it = j_->find(key);
  if (it == j_->end() || it->is_null()) return std::nullopt;
  return JsonRef(*it, child_path(key));
}

JsonRef JsonRef::at(size_t i) const {
  if (!j_->is_array()) fail("expected an array, got " + std::string(json_type_name(*j_)));
  if (i >= j_->size()) fail("index " + std::to_string(i) + " out of range");
  return JsonRef((*j_)[i], child_path(i));
}

size_t JsonRef::size() const {
  if (!j_->is_array() && !j_->is_object()) {
    fail("expected an array or object, got " + std::string(json_type_name(*j_)));
  }
  return j_->size();
}

std::string JsonRef::str() const { return std::string(str_view()); }

std::string_view JsonRef::str_view() const {
  if (!j_->is_string()) fail("expected a string, got " + std::string(json_type_name(*j_)));
  return j_->get_ref<const std::string&>();
}

bool JsonRef::boolean() const {
  if (!j_->is_boolean()) fail("expected a boolean, got " + std::string(json_type_name(*j_)));
  return j_->get<bool>();
}

int64_t JsonRef::integer() const {
  if (j_->is_number_unsigned()) {
    uint64_t v = j_->get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) fail("integer too large");
    return static_cast<int64_t>(v);
  }
  if (!j_->is_number_integer()) fail("expected an integer, got " + std::string(json_type_name(*j_)));
  return j_->get<int64_t>();
}

uint32_t JsonRef::u32() const {
  int64_t v = integer();
  if (v < 0 || v > std::numeric_limits<uint32_t>::max()) {
    fail("expected an integer in [0, 4294967295], got " + std::to_string(v));
  }
  return static_cast<uint32_t>(v);
}

double JsonRef::number() const {
  if (!j_->is_number()) fail("expected a number, got " + std::string(json_type_name(*j_)));
  return j_->get<double>();
}

std::string JsonRef::str_or(std::string_view key, std::string_view def) const {
  auto v = get(key);
  return v ? v->str() : std::string(def);
}

bool JsonRef::bool_or(std::string_view key, bool def) const {
  auto v = get(key);
  return v ? v->boolean() : def;
}

uint32_t JsonRef::u32_or(std::string_view key, uint32_t def) const {
  auto v = get(key);
  return v ? v->u32() : def;
}

std::optional<std::string> JsonRef::opt_str(std::string_view key) const {
  auto v = get(key);
  if (!v) return std::nullopt;
  return v->str();
}

std::optional<uint32_t> JsonRef::opt_u32(std::string_view key) const {
  auto v = get(key);
  if (!v) return std::nullopt;
  return v->u32();
}

}  // namespace mlhub::tok
