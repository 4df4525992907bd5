// The public Tokenizer API (include/mlhub/tokenizers.h): loading, and Status-returning
// wrappers around TokenizerImpl. No exception leaves this file.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "mlhub/tokenizers.h"
#include "tokenizers/decoders/decoders.h"
#include "tokenizers/legacy/legacy.h"
#include "tokenizers/tokenizer_impl.h"

namespace mlhub::tok {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) throw Error(StatusCode::kNotFound, path + ": no such file");
    throw Error(StatusCode::kIoError, path + ": cannot open for reading");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw Error(StatusCode::kIoError, path + ": read failed");
  return ss.str();
}

Json parse_json(std::string_view text, const std::string& name) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    throw Error(StatusCode::kInvalidArgument,
                name + ": invalid JSON at byte " + std::to_string(e.byte) + ": " + e.what());
  }
}

// Runs fn, prefixing any error message with `name` (the file the error is about).
template <typename Fn>
auto with_name(const std::string& name, Fn&& fn) {
  try {
    return fn();
  } catch (const Error& e) {
    std::string msg = e.what();
    if (msg.rfind(name, 0) == 0) throw;
    throw Error(e.code(), name + ": " + msg);
  }
}

}  // namespace


Tokenizer::Tokenizer(std::shared_ptr<TokenizerImpl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(const Tokenizer&) = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(const Tokenizer&) = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

TokenizerImpl& Tokenizer::mutable_impl() {
  if (impl_.use_count() > 1) impl_ = std::make_shared<TokenizerImpl>(*impl_);
  return *impl_;
}

Result<Tokenizer> Tokenizer::from_json_string(std::string_view json) {
  return catch_errors([&] {
    return with_name("tokenizer.json", [&] {
      Json doc = parse_json(json, "tokenizer.json");
      return Tokenizer(TokenizerImpl::from_json(doc));
    });
  });
}

Result<Tokenizer> Tokenizer::from_file(const std::string& path) {
  return catch_errors([&] {
    return with_name(path, [&] {
      std::string text = read_file(path);
      Json doc = parse_json(text, path);
      return Tokenizer(TokenizerImpl::from_json(doc));
    });
  });
}

Result<Tokenizer> Tokenizer::from_pretrained(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) return from_file(path);
  return catch_errors([&] {
    if (!fs::is_directory(path, ec)) throw Error(StatusCode::kNotFound, path + ": no such file or folder");
    legacy::FolderConfig cfg = legacy::read_folder_config(path);
    const std::string json_path = (fs::path(path) / "tokenizer.json").string();
    Json doc;
    if (auto slow_only = legacy::convert_slow_only_folder(path, cfg)) {
      doc = std::move(*slow_only);  // MarianTokenizer: the slow class even beside tokenizer.json
    } else if (fs::exists(json_path, ec)) {
      doc = with_name(json_path, [&] { return parse_json(read_file(json_path), json_path); });
    } else if (auto converted = legacy::convert_legacy_folder(path, cfg)) {
      doc = std::move(*converted);
    } else {
      throw Error(StatusCode::kNotFound,
                  path + ": no tokenizer.json, vocab.txt, vocab.json + merges.txt or SentencePiece "
                         ".model file");
    }
    legacy::apply_tokenizer_config(doc, cfg);
    auto impl = with_name(json_path, [&] { return TokenizerImpl::from_json(doc); });
    impl->tokenizer_config_ = cfg.tokenizer_config;
    // transformers' split_special_tokens=True tokenizes special tokens as plain text.
    const Json& tc = cfg.tokenizer_config;
    if (tc.is_object()) {
      auto it = tc.find("split_special_tokens");
      if (it != tc.end() && it->is_boolean() && it->get<bool>()) impl->encode_special_tokens_ = true;
    }
    return Tokenizer(std::move(impl));
  });
}

Result<Encoding> Tokenizer::encode(std::string_view text, bool add_special_tokens,
                                   OffsetType offsets) const {
  return catch_errors([&] { return impl_->encode(text, std::nullopt, add_special_tokens, offsets); });
}

Result<Encoding> Tokenizer::encode_pair(std::string_view first, std::string_view second,
                                        bool add_special_tokens, OffsetType offsets) const {
  return catch_errors([&] { return impl_->encode(first, second, add_special_tokens, offsets); });
}

Result<Encoding> Tokenizer::encode_pretokenized(const std::vector<std::string>& words,
                                                bool add_special_tokens, OffsetType offsets) const {
  return catch_errors([&] {
    std::vector<Encoding> parts;
    parts.reserve(words.size());
    for (size_t i = 0; i < words.size(); ++i) {
      check_utf8(words[i], "word " + std::to_string(i));
      parts.push_back(impl_->encode_sequence(words[i], 0, offsets, static_cast<uint32_t>(i)));
    }
    return impl_->post_process(merge_encodings(std::move(parts)), std::nullopt, add_special_tokens);
  });
}

Result<std::vector<Encoding>> Tokenizer::encode_batch(const std::vector<EncodeInput>& inputs,
                                                      bool add_special_tokens, OffsetType offsets,
                                                      ThreadPool* pool) const {
  return catch_errors([&] {
    std::vector<Encoding> out(inputs.size());
    ThreadPool& p = pool ? *pool : ThreadPool::global();
    p.parallel_for(inputs.size(), [&](size_t i) {
      const EncodeInput& in = inputs[i];
      std::optional<std::string_view> second;
      if (in.second) second = *in.second;
      out[i] = impl_->encode(in.first, second, add_special_tokens, offsets);
    });
    if (impl_->padding_) pad_encodings(out, *impl_->padding_);
    return out;
  });
}

Result<std::string> Tokenizer::decode(std::span<const uint32_t> ids, bool skip_special_tokens,
                                      bool clean_up_tokenization_spaces) const {
  return catch_errors([&] {
    std::string s = impl_->decode(ids, skip_special_tokens);
    if (clean_up_tokenization_spaces) s = clean_up_tokenization(s);
    return s;
  });
}

Result<std::vector<std::string>> Tokenizer::decode_batch(const std::vector<std::vector<uint32_t>>& ids,
                                                         bool skip_special_tokens) const {
  return catch_errors([&] {
    std::vector<std::string> out(ids.size());
    ThreadPool::global().parallel_for(ids.size(), [&](size_t i) {
      out[i] = impl_->decode(ids[i], skip_special_tokens);
    });
    return out;
  });
}

std::optional<uint32_t> Tokenizer::token_to_id(std::string_view token) const {
  return impl_->token_to_id(token);
}

std::optional<std::string> Tokenizer::id_to_token(uint32_t id) const { return impl_->id_to_token(id); }

size_t Tokenizer::vocab_size(bool with_added_tokens) const {
  size_t n = impl_->model_->vocab_size();
  if (!with_added_tokens) return n;
  for (const AddedToken& t : impl_->added_vocabulary_->tokens_by_id()) {
    if (!impl_->model_->token_to_id(t.content)) ++n;
  }
  return n;
}

std::vector<AddedToken> Tokenizer::added_tokens() const {
  return impl_->added_vocabulary_->tokens_by_id();
}

size_t Tokenizer::num_special_tokens_to_add(bool is_pair) const {
  return impl_->added_special_tokens(is_pair);
}

const std::optional<TruncationParams>& Tokenizer::truncation() const { return impl_->truncation_; }
const std::optional<PaddingParams>& Tokenizer::padding() const { return impl_->padding_; }

Status Tokenizer::set_truncation(std::optional<TruncationParams> params) {
  if (params) {
    // As Rust's with_truncation (unsigned arithmetic wraps the same way).
    size_t effective = params->max_length - impl_->added_special_tokens(false);
    if (effective < params->stride) {
      return Status::invalid_argument(
          "truncation stride " + std::to_string(params->stride) +
          " is greater than the effective max length " + std::to_string(effective) + " (= " +
          std::to_string(params->max_length) + " max length - " +
          std::to_string(impl_->added_special_tokens(false)) + " added special tokens)");
    }
  }
  mutable_impl().truncation_ = std::move(params);
  return Status();
}

void Tokenizer::set_padding(std::optional<PaddingParams> params) {
  mutable_impl().padding_ = std::move(params);
}

void Tokenizer::set_encode_special_tokens(bool value) { mutable_impl().encode_special_tokens_ = value; }

std::optional<std::string> Tokenizer::config_value(std::string_view key) const {
  const Json& cfg = impl_->tokenizer_config_;
  if (!cfg.is_object()) return std::nullopt;
  auto it = cfg.find(key);
  if (it == cfg.end()) return std::nullopt;
  return it->dump();
}

// ---- DecodeStream ---------------------------------------------------------------------------

DecodeStream::DecodeStream(const Tokenizer& tokenizer, bool skip_special_tokens)
    : tokenizer_(&tokenizer), skip_special_tokens_(skip_special_tokens) {}

Result<std::optional<std::string>> DecodeStream::step(uint32_t id) {
  return catch_errors([&]() -> std::optional<std::string> {
    const TokenizerImpl& impl = tokenizer_->impl();
    ids_.push_back(id);
    std::string text = impl.decode(ids_, skip_special_tokens_);
    static const std::string kReplacement = "\xEF\xBF\xBD";
    bool ends_incomplete = text.size() >= 3 && text.compare(text.size() - 3, 3, kReplacement) == 0;
    if (text.size() <= prefix_.size() || ends_incomplete) return std::nullopt;
    if (text.compare(0, prefix_.size(), prefix_) != 0) {
      throw Error(StatusCode::kInternal, "decode stream: the decoded text does not extend its prefix");
    }
    std::string new_text = text.substr(prefix_.size());
    size_t new_prefix_index = ids_.size() - prefix_index_;
    ids_.erase(ids_.begin(), ids_.begin() + static_cast<std::ptrdiff_t>(prefix_index_));
    prefix_ = impl.decode(ids_, skip_special_tokens_);
    prefix_index_ = new_prefix_index;
    return new_text;
  });
}

}  // namespace mlhub::tok
