// Hand-written matchers for the hottest pre-tokenizer regexes (spec 7.2), used by Regex in
// place of Oniguruma when the pattern string is exactly one of them. Each must return exactly
// what Oniguruma's find_iter returns; regex_fast_test.cc checks that on random text.
#pragma once

#include <cstddef>
#include <string_view>
#include <utility>
#include <vector>

namespace mlhub::tok {

enum class FastMatcher : unsigned char { kNone, kGpt2 };

// The GPT-2 pre-tokenization pattern hard-coded in the ByteLevel pre-tokenizer.
inline constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// The matcher that implements `pattern` exactly, or kNone.
FastMatcher fast_matcher_for(std::string_view pattern);

// Appends the matches of `m` over valid UTF-8 `text` to `out` (find_iter semantics).
void fast_find_all(FastMatcher m, std::string_view text,
                   std::vector<std::pair<size_t, size_t>>& out);

}  // namespace mlhub::tok
