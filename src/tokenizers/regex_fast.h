// Hand-written matchers for the hottest pre-tokenizer regexes (spec 7.2), used by Regex in
// place of Oniguruma when the pattern string is exactly one of them. Each returns exactly what
// Oniguruma's find_iter returns: the character classes (\s, \p{L}, \p{N}) are read from
// Oniguruma's own Unicode tables, and regex_fast_test.cc compares both engines on random text.
#pragma once

#include <cstddef>
#include <string_view>
#include <utility>
#include <vector>

namespace mlhub::tok {

enum class FastMatcher : unsigned char { kNone, kGpt2, kCl100k, kQwen2, kO200k };

// The GPT-2 pre-tokenization pattern hard-coded in the ByteLevel pre-tokenizer.
inline constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
// Llama-3 / GPT-4 (cl100k) and Qwen2 (single digits) Split patterns.
inline constexpr std::string_view kCl100kPattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
inline constexpr std::string_view kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// GPT-4o (o200k) Split pattern.
inline constexpr std::string_view kO200kPattern =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// The matcher that implements `pattern` exactly, or kNone. Also recognizes the cl100k/Qwen2/o200k
// patterns written with literal CR/LF characters instead of the escapes \r \n. Must be called
// after Oniguruma is initialized (the Regex constructor does it).
FastMatcher fast_matcher_for(std::string_view pattern);

// Appends the matches of `m` (not kNone) over `text` to `out`, find_iter semantics. `text`
// should be valid UTF-8; a truncated sequence is treated as a one-byte symbol.
void fast_find_all(FastMatcher m, std::string_view text,
                   std::vector<std::pair<size_t, size_t>>& out);

}  // namespace mlhub::tok
