#include "tokenizers/tokenizer_impl.h"

#include <cstdio>

#include "tokenizers/unicode.h"

namespace mlhub::tok {
namespace {

// Hostile files may nest arrays/objects deeply; components recurse over "Sequence" members,
// so the depth is bounded before anything is built.
constexpr size_t kMaxJsonDepth = 128;

void check_depth(const Json& doc) {
  std::vector<std::pair<const Json*, size_t>> stack{{&doc, 1}};
  while (!stack.empty()) {
    auto [j, depth] = stack.back();
    stack.pop_back();
    if (depth > kMaxJsonDepth) {
      throw Error(StatusCode::kInvalidArgument,
                  "$: nesting deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    }
    if (j->is_structured()) {
      for (const auto& child : *j) {
        if (child.is_structured()) stack.push_back({&child, depth + 1});
      }
    }
  }
}

AddedToken added_token_from_json(const JsonRef& j) {
  AddedToken t;
  t.content = j.at("content").str();
  t.id = j.at("id").u32();
  t.special = j.bool_or("special", false);
  t.single_word = j.bool_or("single_word", false);
  t.lstrip = j.bool_or("lstrip", false);
  t.rstrip = j.bool_or("rstrip", false);
  t.normalized = j.bool_or("normalized", !t.special);
  return t;
}

}  // namespace

void check_utf8(std::string_view text, std::string_view what) {
  if (auto pos = unicode::find_invalid_utf8(text)) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(text[*pos]));
    throw Error(StatusCode::kInvalidArgument, std::string(what) + " is not valid UTF-8: invalid byte " +
                                                  hex + " at byte " + std::to_string(*pos));
  }
}

TruncationParams truncation_from_json(const JsonRef& j) {
  TruncationParams p;
  std::string dir = j.str_or("direction", "Right");
  if (dir == "Right") {
    p.direction = TruncationDirection::kRight;
  } else if (dir == "Left") {
    p.direction = TruncationDirection::kLeft;
  } else {
    j.at("direction").fail("unknown truncation direction \"" + dir + "\"");
  }
  p.max_length = j.at("max_length").u32();
  p.stride = j.at("stride").u32();
  std::string strategy = j.at("strategy").str();
  if (strategy == "LongestFirst") {
    p.strategy = TruncationStrategy::kLongestFirst;
  } else if (strategy == "OnlyFirst") {
    p.strategy = TruncationStrategy::kOnlyFirst;
  } else if (strategy == "OnlySecond") {
    p.strategy = TruncationStrategy::kOnlySecond;
  } else {
    j.at("strategy").fail("unknown truncation strategy \"" + strategy + "\"");
  }
  return p;
}

PaddingParams padding_from_json(const JsonRef& j) {
  PaddingParams p;
  JsonRef strategy = j.at("strategy");
  if (strategy.is_string()) {
    if (strategy.str() != "BatchLongest") strategy.fail("unknown padding strategy \"" + strategy.str() + "\"");
  } else if (strategy.is_object() && strategy.has("Fixed")) {
    p.fixed_length = strategy.at("Fixed").u32();
  } else {
    strategy.fail("expected \"BatchLongest\" or {\"Fixed\": N}");
  }
  std::string dir = j.str_or("direction", "Right");
  if (dir == "Right") {
    p.direction = PaddingDirection::kRight;
  } else if (dir == "Left") {
    p.direction = PaddingDirection::kLeft;
  } else {
    j.at("direction").fail("unknown padding direction \"" + dir + "\"");
  }
  if (auto m = j.opt_u32("pad_to_multiple_of")) p.pad_to_multiple_of = *m;
  p.pad_id = j.u32_or("pad_id", 0);
  p.pad_type_id = j.u32_or("pad_type_id", 0);
  p.pad_token = j.str_or("pad_token", "[PAD]");
  return p;
}

std::shared_ptr<TokenizerImpl> TokenizerImpl::from_json(const Json& doc) {
  check_depth(doc);
  JsonRef root(doc, "$");
  if (!root.is_object()) root.fail("expected an object, got " + std::string(json_type_name(doc)));
  if (auto v = root.get("version"); v && v->str() != "1.0") {
    v->fail("unsupported tokenizer.json version \"" + v->str() + "\" (expected \"1.0\")");
  }
  auto impl = std::make_shared<TokenizerImpl>();
  if (auto n = root.get("normalizer")) impl->normalizer_ = normalizer_from_json(*n);
  if (auto p = root.get("pre_tokenizer")) impl->pre_tokenizer_ = pre_tokenizer_from_json(*p);
  impl->model_ = model_from_json(root.at("model"));
  if (auto p = root.get("post_processor")) impl->post_processor_ = post_processor_from_json(*p);
  if (auto d = root.get("decoder")) impl->decoder_ = decoder_from_json(*d);

  auto added = std::make_shared<AddedVocabulary>();
  if (auto list = root.get("added_tokens")) {
    std::vector<AddedToken> tokens;
    tokens.reserve(list->size());
    for (size_t i = 0; i < list->size(); ++i) tokens.push_back(added_token_from_json(list->at(i)));
    added->add_tokens(tokens, *impl->model_, impl->normalizer_.get());
    for (size_t i = 0; i < tokens.size(); ++i) {
      auto got = added->token_to_id(tokens[i].content);
      if (got && *got != tokens[i].id) {
        log(LogLevel::kWarning, list->child_path(i) + ": added token \"" + tokens[i].content +
                                    "\" declared with id " + std::to_string(tokens[i].id) +
                                    " gets id " + std::to_string(*got) + " (as in the Rust library)");
      }
    }
  }
  impl->added_vocabulary_ = std::move(added);
  if (auto t = root.get("truncation")) impl->truncation_ = truncation_from_json(*t);
  if (auto p = root.get("padding")) impl->padding_ = padding_from_json(*p);
  return impl;
}

Encoding TokenizerImpl::encode_sequence(std::string_view text, uint32_t type_id, OffsetType offsets,
                                        std::optional<uint32_t> word_index) const {
  PreTokenizedString pts =
      added_vocabulary_->extract_and_normalize(normalizer_.get(), text, encode_special_tokens_);
  if (pre_tokenizer_) pre_tokenizer_->pre_tokenize(pts);
  pts.tokenize([&](const NormalizedString& n) { return model_->tokenize(n.get()); });
  return pts.into_encoding(word_index, type_id, offsets);
}

Encoding TokenizerImpl::post_process(Encoding first, std::optional<Encoding> second,
                                     bool add_special_tokens) const {
  if (truncation_) {
    TruncationParams p = *truncation_;
    size_t n_added = added_special_tokens(second.has_value());
    // Unsigned wrap-around on purpose: the Rust library (release build) computes
    // max_length - n_added in usize and wraps the same way when max_length < n_added.
    if (add_special_tokens && n_added > 0) p.max_length = p.max_length - n_added;
    truncate_encodings(first, second, p);
  }
  Encoding out = tok::post_process(post_processor_.get(), std::move(first), std::move(second),
                                   add_special_tokens);
  if (padding_) {
    std::vector<Encoding> one;
    one.push_back(std::move(out));
    pad_encodings(one, *padding_);
    out = std::move(one[0]);
  }
  return out;
}

Encoding TokenizerImpl::encode(std::string_view first, std::optional<std::string_view> second,
                               bool add_special_tokens, OffsetType offsets) const {
  check_utf8(first, second ? "first sequence" : "input");
  Encoding a = encode_sequence(first, 0, offsets, std::nullopt);
  std::optional<Encoding> b;
  if (second) {
    check_utf8(*second, "second sequence");
    b = encode_sequence(*second, 1, offsets, std::nullopt);
  }
  return post_process(std::move(a), std::move(b), add_special_tokens);
}

std::optional<uint32_t> TokenizerImpl::token_to_id(std::string_view token) const {
  if (auto id = added_vocabulary_->token_to_id(token)) return id;
  return model_->token_to_id(token);
}

std::optional<std::string> TokenizerImpl::id_to_token(uint32_t id) const {
  if (const AddedToken* t = added_vocabulary_->by_id(id)) return t->content;
  if (auto s = model_->id_to_token(id)) return std::string(*s);
  return std::nullopt;
}

std::string TokenizerImpl::decode(std::span<const uint32_t> ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (uint32_t id : ids) {
    auto t = id_to_token(id);
    if (!t) continue;  // unknown ids are dropped, as in the Rust library
    if (skip_special_tokens && added_vocabulary_->is_special(*t)) continue;
    tokens.push_back(std::move(*t));
  }
  std::string out;
  if (!decoder_) {
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i) out += ' ';
      out += tokens[i];
    }
    return out;
  }
  for (const std::string& s : decoder_->decode_chain(std::move(tokens))) out += s;
  return out;
}

}  // namespace mlhub::tok
