// Oniguruma regular expressions with the semantics of the Rust `onig` crate that the reference
// uses: ONIG_SYNTAX_ONIGURUMA, UTF-8, no options, and find_iter's rule for empty matches.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mlhub::tok {

class Regex {
 public:
  // Compiles `pattern`; throws mlhub::Error(kInvalidArgument) with Oniguruma's message.
  explicit Regex(std::string_view pattern);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // A regex matching `literal` exactly (what the reference does for {"String": ...} patterns).
  static std::unique_ptr<Regex> literal(std::string_view literal);

  // All matches as [start, end) byte ranges, iterated as the onig crate's find_iter does:
  // search from the end of the last match; an empty match that ends where the previous match
  // ended is skipped by advancing one character. Thread-safe.
  std::vector<std::pair<size_t, size_t>> find_all(std::string_view text) const;

  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;
  void* regex_ = nullptr;  // OnigRegex
};

// Escapes `s` so that it matches literally in an Oniguruma pattern.
std::string regex_escape(std::string_view s);

}  // namespace mlhub::tok
