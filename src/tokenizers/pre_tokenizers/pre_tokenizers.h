// The pre-tokenizers of spec section 6.2 (tokenizers/src/pre_tokenizers/*.rs), one file each.
// Each *_from_json builds the component from its tokenizer.json object (whose "type" the
// factory already checked) and throws mlhub::Error(kInvalidArgument) naming the JSON path on
// bad input, with the same required/optional fields as the Rust deserializer. The other
// constructors are for code that builds pipelines without JSON (legacy loaders, tests).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "tokenizers/components.h"
#include "tokenizers/regex.h"

namespace mlhub::tok {

enum class PrependScheme : uint8_t { kAlways, kFirst, kNever };

std::unique_ptr<PreTokenizer> bert_pre_tokenizer_from_json(const JsonRef& j);
std::unique_ptr<PreTokenizer> whitespace_from_json(const JsonRef& j);
std::unique_ptr<PreTokenizer> whitespace_split_from_json(const JsonRef& j);
std::unique_ptr<PreTokenizer> byte_level_from_json(const JsonRef& j);
std::unique_ptr<PreTokenizer> metaspace_from_json(const JsonRef& j);
std::unique_ptr<PreTokenizer> split_from_json(const JsonRef& j);
std::unique_ptr<PreTokenizer> punctuation_from_json(const JsonRef& j);
std::unique_ptr<PreTokenizer> digits_from_json(const JsonRef& j);
std::unique_ptr<PreTokenizer> unicode_scripts_from_json(const JsonRef& j);
std::unique_ptr<PreTokenizer> char_delimiter_split_from_json(const JsonRef& j);
std::unique_ptr<PreTokenizer> fixed_length_from_json(const JsonRef& j);
std::unique_ptr<PreTokenizer> sequence_from_json(const JsonRef& j);

std::unique_ptr<PreTokenizer> make_bert_pre_tokenizer();
std::unique_ptr<PreTokenizer> make_whitespace_split();
std::unique_ptr<PreTokenizer> make_byte_level(bool add_prefix_space, bool use_regex);
std::unique_ptr<PreTokenizer> make_metaspace(char32_t replacement, PrependScheme scheme,
                                             bool split);
std::unique_ptr<PreTokenizer> make_sequence(std::vector<std::unique_ptr<PreTokenizer>> items);

// The script id of `c` in SentencePiece's frozen table, with UnicodeScripts' fix-ups
// (U+30FC, Hiragana and Katakana -> Han; U+0020 -> Any). 0 is Any.
uint8_t unicode_script(char32_t c);

// Compiles a {"String": s} (literal) or {"Regex": r} pattern object; errors name the path.
std::unique_ptr<Regex> regex_from_pattern_json(const JsonRef& pattern);

// Reads an optional "behavior" string at j[key] (nullopt when absent).
std::optional<SplitBehavior> behavior_or_null(const JsonRef& j, std::string_view key);
// Reads a required one-char string (Rust `char`) at j[key].
char32_t json_char(const JsonRef& j, std::string_view key);

}  // namespace mlhub::tok
