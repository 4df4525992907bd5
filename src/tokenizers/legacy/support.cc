// Helpers shared by the legacy loaders: Python AddedToken values, token -> id over a
// tokenizer.json document, TemplateProcessing construction, and file reading with Python's
// text semantics. See converters.h.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "tokenizers/legacy/converters.h"
#include "tokenizers/unicode.h"

namespace mlhub::tok::legacy {

// ---- AddedToken ------------------------------------------------------------------------------

bool PyAddedToken::same_as(const PyAddedToken& o) const {
  return content == o.content && single_word == o.single_word && lstrip == o.lstrip &&
         rstrip == o.rstrip && resolved_normalized() == o.resolved_normalized() &&
         special == o.special;
}

Json PyAddedToken::to_added_json(uint32_t id) const {
  return Json{{"id", id},          {"content", content}, {"single_word", single_word},
              {"lstrip", lstrip},  {"rstrip", rstrip},   {"normalized", resolved_normalized()},
              {"special", special}};
}

Json PyAddedToken::to_config_json() const {
  Json j{{"__type", "AddedToken"}, {"content", content}, {"single_word", single_word},
         {"lstrip", lstrip},       {"rstrip", rstrip},   {"special", special}};
  if (normalized) j["normalized"] = *normalized;
  return j;
}

PyAddedToken py_added_token_from_dict(const Json& d, const std::string& path) {
  if (!d.is_object()) throw Error(StatusCode::kInvalidArgument, path + ": expected an object");
  PyAddedToken t;
  auto it = d.find("content");
  if (it == d.end() || !it->is_string()) {
    throw Error(StatusCode::kInvalidArgument, path + ": \"content\" must be a string");
  }
  t.content = it->get<std::string>();
  auto flag = [&](const char* key, bool& out) {
    auto f = d.find(key);
    if (f == d.end() || f->is_null()) return false;
    if (!f->is_boolean()) {
      throw Error(StatusCode::kInvalidArgument, path + ": \"" + key + "\" must be a boolean");
    }
    out = f->get<bool>();
    return true;
  };
  flag("single_word", t.single_word);
  flag("lstrip", t.lstrip);
  flag("rstrip", t.rstrip);
  flag("special", t.special);
  bool n = false;
  if (flag("normalized", n)) t.normalized = n;
  return t;
}

std::optional<SpecialValue> parse_special_value(const Json& j, const std::string& path) {
  if (j.is_null()) return std::nullopt;
  SpecialValue v;
  if (j.is_string()) {
    v.is_string = true;
    v.token.content = j.get<std::string>();
    return v;
  }
  if (j.is_object() && j.contains("__type") && j["__type"] == "AddedToken") {
    v.token = py_added_token_from_dict(j, path);
    return v;
  }
  throw Error(StatusCode::kInvalidArgument,
              path + ": a special token must be a string or an AddedToken object, got " +
                  std::string(json_type_name(j)));
}

Json special_value_to_json(const SpecialValue& v) {
  return v.is_string ? Json(v.token.content) : v.token.to_config_json();
}

// ---- documents -------------------------------------------------------------------------------

std::string base64_encode(std::string_view bytes) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) |
                 (static_cast<uint8_t>(bytes[i + 1]) << 8) | static_cast<uint8_t>(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  if (i < bytes.size()) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

Json empty_document() {
  return Json{{"version", "1.0"},          {"truncation", nullptr},
              {"padding", nullptr},        {"added_tokens", Json::array()},
              {"normalizer", nullptr},     {"pre_tokenizer", nullptr},
              {"post_processor", nullptr}, {"decoder", nullptr}};
}

DocVocab::DocVocab(const Json& doc) : doc_(&doc) {
  if (doc.contains("added_tokens") && doc["added_tokens"].is_array()) {
    // The replay log: the first entry of a content fixes its id.
    for (const Json& e : doc["added_tokens"]) {
      auto c = e.find("content");
      auto id = e.find("id");
      if (c != e.end() && c->is_string() && id != e.end() && id->is_number_unsigned() &&
          id->get<uint64_t>() <= UINT32_MAX) {
        added_.emplace(c->get<std::string>(), id->get<uint32_t>());
        max_added_ = max_added_ ? std::max(*max_added_, id->get<uint32_t>()) : id->get<uint32_t>();
      }
    }
  }
  const Json* model = doc.contains("model") ? &doc["model"] : nullptr;
  if (!model || !model->is_object() || !model->contains("vocab")) return;
  const Json& vocab = (*model)["vocab"];
  if (vocab.is_object()) {
    model_size_ = vocab.size();
  } else if (vocab.is_array()) {
    // Unigram: [[piece, score], ...]; Rust keeps the last id of a repeated piece.
    model_size_ = vocab.size();
    unigram_.reserve(vocab.size());
    for (size_t i = 0; i < vocab.size(); ++i) {
      const Json& e = vocab[i];
      if (e.is_array() && !e.empty() && e[0].is_string()) {
        unigram_[e[0].get<std::string>()] = static_cast<uint32_t>(i);
      }
    }
  }
}

std::optional<uint32_t> DocVocab::token_to_id(std::string_view token) const {
  std::string key(token);
  if (auto it = added_.find(key); it != added_.end()) return it->second;
  const Json* model = doc_->contains("model") ? &(*doc_)["model"] : nullptr;
  if (!model || !model->is_object() || !model->contains("vocab")) return std::nullopt;
  const Json& vocab = (*model)["vocab"];
  if (vocab.is_object()) {
    auto it = vocab.find(key);
    if (it != vocab.end() && it->is_number_unsigned() && it->get<uint64_t>() <= UINT32_MAX) {
      return it->get<uint32_t>();
    }
    return std::nullopt;
  }
  if (auto it = unigram_.find(key); it != unigram_.end()) return it->second;
  return std::nullopt;
}

void append_added_tokens(Json& doc, const std::vector<PyAddedToken>& tokens) {
  if (!doc.contains("added_tokens") || !doc["added_tokens"].is_array()) {
    doc["added_tokens"] = Json::array();
  }
  std::vector<Json> entries;
  {
    DocVocab vocab(doc);
    std::unordered_map<std::string, uint32_t> fresh;
    std::optional<uint32_t> max = vocab.max_added_id();
    const auto size = static_cast<uint32_t>(vocab.model_vocab_size());
    for (const PyAddedToken& t : tokens) {
      if (t.content.empty()) continue;  // add_tokens ignores empty tokens
      uint32_t id;
      if (auto known = vocab.token_to_id(t.content)) {
        id = *known;
      } else if (auto it = fresh.find(t.content); it != fresh.end()) {
        id = it->second;
      } else {
        // Rust: after the largest added id when that is past the model vocabulary, else right
        // after the model vocabulary.
        id = !max ? size : (*max >= size || size == 0) ? *max + 1 : size;
        fresh.emplace(t.content, id);
      }
      max = max ? std::max(*max, id) : id;
      entries.push_back(t.to_added_json(id));
    }
  }
  for (Json& e : entries) doc["added_tokens"].push_back(std::move(e));
}

Json template_processing(const std::string& single, const std::string& pair,
                         const std::vector<std::pair<std::string, uint32_t>>& special_tokens) {
  // Each piece parsed as tokenizers' Piece::try_from: "id" or "id:type_id"; "$", "$A", "$a",
  // "$B", "$b" or "$<n>" (sequence A with type id n) name sequences, anything else a token.
  auto parse = [](const std::string& tmpl) {
    Json out = Json::array();
    for (std::string_view piece : py_split(tmpl)) {
      auto fail = [&] {
        throw Error(StatusCode::kInvalidArgument,
                    "Cannot build Piece from string \"" + std::string(piece) + "\"");
      };
      auto number = [&](std::string_view n) {
        if (n.empty() || n.size() > 9 ||
            !std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; })) {
          fail();
        }
        return static_cast<uint32_t>(std::stoul(std::string(n)));
      };
      std::string_view id = piece;
      std::optional<uint32_t> type_id;
      if (auto colon = piece.find(':'); colon != std::string_view::npos) {
        if (piece.find(':', colon + 1) != std::string_view::npos) fail();
        id = piece.substr(0, colon);
        type_id = number(piece.substr(colon + 1));
      }
      if (!id.empty() && id[0] == '$') {
        std::string_view rest = id.substr(1);
        std::string seq = "A";
        uint32_t t = 0;
        if (rest == "B" || rest == "b") {
          seq = "B";
        } else if (!rest.empty() && rest != "A" && rest != "a") {
          t = number(rest);
        }
        out.push_back(Json{{"Sequence", Json{{"id", seq}, {"type_id", type_id.value_or(t)}}}});
      } else {
        out.push_back(Json{
            {"SpecialToken", Json{{"id", std::string(id)}, {"type_id", type_id.value_or(0)}}}});
      }
    }
    return out;
  };
  Json specials = Json::object();
  for (const auto& [token, id] : special_tokens) {
    specials[token] =
        Json{{"id", token}, {"ids", Json::array({id})}, {"tokens", Json::array({token})}};
  }
  return Json{{"type", "TemplateProcessing"},
              {"single", parse(single)},
              {"pair", parse(pair)},
              {"special_tokens", std::move(specials)}};
}

// ---- files -----------------------------------------------------------------------------------

bool has_file(const std::string& dir, const char* name) {
  std::error_code ec;
  return std::filesystem::is_regular_file(std::filesystem::path(dir) / name, ec);
}

std::string in_dir(const std::string& dir, const char* name) {
  return (std::filesystem::path(dir) / name).string();
}

std::string read_binary_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw Error(StatusCode::kNotFound, path + ": no such file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(StatusCode::kIoError, path + ": cannot open for reading");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw Error(StatusCode::kIoError, path + ": read failed");
  return ss.str();
}

std::string read_text_file(const std::string& path) {
  std::string raw = read_binary_file(path);
  if (auto bad = unicode::find_invalid_utf8(raw)) {
    throw Error(StatusCode::kInvalidArgument,
                path + ": not valid UTF-8 at byte " + std::to_string(*bad));
  }
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < raw.size() && raw[i + 1] == '\n') ++i;
    } else {
      out.push_back(raw[i]);
    }
  }
  return out;
}

Json read_json_file(const std::string& path) {
  std::string text = read_binary_file(path);
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    throw Error(StatusCode::kInvalidArgument,
                path + ": invalid JSON at byte " + std::to_string(e.byte) + ": " + e.what());
  }
}

bool is_py_space(char32_t c) {
  switch (c) {
    case 0x09:
    case 0x0A:
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x1C:
    case 0x1D:
    case 0x1E:
    case 0x1F:
    case 0x20:
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

namespace {
// Byte length of the whitespace code point at s[i], 0 when none (s is valid UTF-8).
size_t space_len(std::string_view s, size_t i) {
  size_t j = i;
  char32_t c = unicode::decode_utf8(s, j);
  return is_py_space(c) ? j - i : 0;
}
}  // namespace

std::vector<std::string_view> py_split(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0, start = std::string_view::npos;
  while (i < s.size()) {
    size_t n = space_len(s, i);
    if (n) {
      if (start != std::string_view::npos) out.push_back(s.substr(start, i - start));
      start = std::string_view::npos;
      i += n;
    } else {
      if (start == std::string_view::npos) start = i;
      i += unicode::utf8_seq_len(static_cast<unsigned char>(s[i]));
    }
  }
  if (start != std::string_view::npos) out.push_back(s.substr(start));
  return out;
}

std::string_view py_strip(std::string_view s) {
  size_t b = 0;
  while (b < s.size()) {
    size_t n = space_len(s, b);
    if (!n) break;
    b += n;
  }
  size_t e = s.size();
  while (e > b) {
    size_t p = e - 1;
    while (p > b && (static_cast<unsigned char>(s[p]) & 0xC0) == 0x80) --p;
    if (!space_len(s, p)) break;
    e = p;
  }
  return s.substr(b, e - b);
}

}  // namespace mlhub::tok::legacy
