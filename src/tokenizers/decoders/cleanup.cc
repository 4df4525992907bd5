// Text clean-ups applied around decoding, and Rust's str::replace.
#include <array>
#include <string>
#include <string_view>
#include <utility>

#include "tokenizers/decoders/decoders.h"
#include "tokenizers/utf8_lossy.h"

namespace mlhub::tok {
namespace {

using Rule = std::pair<std::string_view, std::string_view>;

// Applies the rules one after another over the whole text, as chained .replace() calls do.
template <size_t N>
std::string apply_rules(std::string_view text, const std::array<Rule, N>& rules) {
  std::string s(text);
  for (const auto& [from, to] : rules) {
    if (s.find(from) != std::string::npos) s = replace_all(s, from, to);
  }
  return s;
}

constexpr std::array<Rule, 10> kTransformersRules = {{
    {" .", "."},
    {" ?", "?"},
    {" !", "!"},
    {" ,", ","},
    {" ' ", "'"},
    {" n't", "n't"},
    {" 'm", "'m"},
    {" 's", "'s"},
    {" 've", "'ve"},
    {" 're", "'re"},
}};

constexpr std::array<Rule, 11> kWordPieceRules = {{
    {" .", "."},
    {" ?", "?"},
    {" !", "!"},
    {" ,", ","},
    {" ' ", "'"},
    {" n't", "n't"},
    {" 'm", "'m"},
    {" do not", " don't"},
    {" 's", "'s"},
    {" 've", "'ve"},
    {" 're", "'re"},
}};

}  // namespace

std::string replace_all(std::string_view text, std::string_view from, std::string_view to) {
  std::string out;
  if (from.empty()) {
    // Rust matches the empty pattern at every char boundary, the end included.
    out.reserve(text.size() + (text.size() + 1) * to.size());
    size_t i = 0;
    out.append(to);
    while (i < text.size()) {
      size_t n = utf8_valid_seq_len(text, i);
      if (n == 0) n = 1;
      out.append(text.substr(i, n));
      out.append(to);
      i += n;
    }
    return out;
  }
  out.reserve(text.size());
  size_t pos = 0;
  while (true) {
    const size_t hit = text.find(from, pos);
    if (hit == std::string_view::npos) break;
    out.append(text.substr(pos, hit - pos));
    out.append(to);
    pos = hit + from.size();
  }
  out.append(text.substr(pos));
  return out;
}

std::string clean_up_tokenization(std::string_view text) {
  return apply_rules(text, kTransformersRules);
}

std::string wordpiece_cleanup(std::string_view text) { return apply_rules(text, kWordPieceRules); }

}  // namespace mlhub::tok
