// The normalizers of spec section 5 (tokenizers/src/normalizers/*.rs), one file each. Each
// *_from_json builds the component from its tokenizer.json object and throws
// mlhub::Error(kInvalidArgument) naming the JSON path on bad input, with the same required and
// optional fields as the Rust deserializer (unknown fields are ignored). The make_* functions
// are for code that builds pipelines without JSON (legacy loaders, tests).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizers/components.h"

namespace mlhub::tok {

std::unique_ptr<Normalizer> bert_normalizer_from_json(const JsonRef& j);
std::unique_ptr<Normalizer> strip_from_json(const JsonRef& j);
std::unique_ptr<Normalizer> replace_from_json(const JsonRef& j);
std::unique_ptr<Normalizer> prepend_from_json(const JsonRef& j);
std::unique_ptr<Normalizer> precompiled_from_json(const JsonRef& j);
std::unique_ptr<Normalizer> normalizer_sequence_from_json(const JsonRef& j);

enum class UnicodeForm : uint8_t { kNFC, kNFD, kNFKC, kNFKD };

std::unique_ptr<Normalizer> make_bert_normalizer(bool clean_text, bool handle_chinese_chars,
                                                 std::optional<bool> strip_accents, bool lowercase);
std::unique_ptr<Normalizer> make_unicode_normalizer(UnicodeForm form);
std::unique_ptr<Normalizer> make_lowercase();
std::unique_ptr<Normalizer> make_strip(bool left, bool right);
std::unique_ptr<Normalizer> make_strip_accents();
std::unique_ptr<Normalizer> make_nmt();
std::unique_ptr<Normalizer> make_byte_level_normalizer();
// `is_regex` false: `pattern` is a literal string. Throws Error on a bad regex.
std::unique_ptr<Normalizer> make_replace(std::string_view pattern, bool is_regex,
                                         std::string content);
std::unique_ptr<Normalizer> make_prepend(std::string prepend);
// `charsmap`: the decoded precompiled_charsmap bytes. Throws Error when malformed.
std::unique_ptr<Normalizer> make_precompiled(std::string charsmap);
std::unique_ptr<Normalizer> make_normalizer_sequence(
    std::vector<std::unique_ptr<Normalizer>> items);

// Rust NormalizedString::transform: rewrites the normalized range that the whole *original*
// maps to (convert_offsets(Range::Original(..))), which differs from the whole normalized text
// when leading bytes have zero-width alignments (or the original is empty). The operations of
// normalized_ops.cc all go through this; normalizers that build their own stream use it too.
void transform_like_reference(NormalizedString& s,
                              std::span<const NormalizedString::Change> changes,
                              size_t initial_skip);

// Strict standard-alphabet base64 decoding as the reference's `base64` crate does it: padding
// optional, trailing bits must be zero, no whitespace. nullopt on malformed input.
std::optional<std::string> base64_decode(std::string_view s);

}  // namespace mlhub::tok
