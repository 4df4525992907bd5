// NormalizedString: a piece of input text as the normalizers have rewritten it, with one
// alignment per byte of the normalized text pointing back at the original bytes it came from.
// Mirrors tokenizers/src/tokenizer/normalizer.rs; every normalizer is a "change stream" fed to
// transform() so offsets match the reference exactly (spec section 3).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "mlhub/tokenizers.h"

namespace mlhub::tok {

class Regex;

// Original byte range [start, end) relative to NormalizedString::original().
struct Alignment {
  uint32_t start = 0;
  uint32_t end = 0;
  bool operator==(const Alignment&) const = default;
};

// How a split keeps the delimiters it found (SplitDelimiterBehavior).
enum class SplitBehavior : uint8_t { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

// Parses "Removed", "Isolated", ... ; nullopt for anything else.
std::optional<SplitBehavior> split_behavior_from_string(std::string_view s);

// What a split looks for: classifies text into a contiguous cover of (start, end, is_match)
// byte segments (tokenizers' Pattern::find_matches).
class Pattern {
 public:
  virtual ~Pattern() = default;
  virtual std::vector<std::tuple<size_t, size_t, bool>> find_matches(std::string_view text) const = 0;
};

// Every char for which the predicate is true is its own match.
class CharPredicatePattern final : public Pattern {
 public:
  explicit CharPredicatePattern(std::function<bool(char32_t)> pred) : pred_(std::move(pred)) {}
  std::vector<std::tuple<size_t, size_t, bool>> find_matches(std::string_view text) const override;

 private:
  std::function<bool(char32_t)> pred_;
};

// Every regex match (onig find_iter semantics, empty matches included) is a match.
class RegexPattern final : public Pattern {
 public:
  explicit RegexPattern(const Regex& regex) : regex_(regex) {}
  std::vector<std::tuple<size_t, size_t, bool>> find_matches(std::string_view text) const override;

 private:
  const Regex& regex_;
};

// Flips is_match of another pattern (Split's "invert").
class InvertedPattern final : public Pattern {
 public:
  explicit InvertedPattern(const Pattern& inner) : inner_(inner) {}
  std::vector<std::tuple<size_t, size_t, bool>> find_matches(std::string_view text) const override;

 private:
  const Pattern& inner_;
};

class NormalizedString {
 public:
  // One (char, change) item of a change stream; see spec 3.2.
  struct Change {
    char32_t c;
    int32_t change;
  };

  NormalizedString() = default;
  // A piece whose normalized text equals `original` (which must outlive this object and
  // every slice made from it), at byte `original_shift` of the whole input.
  explicit NormalizedString(std::string_view original, size_t original_shift = 0);

  const std::string& get() const { return normalized_; }
  std::string_view original() const { return original_; }
  size_t original_shift() const { return original_shift_; }
  const std::vector<Alignment>& alignments() const { return alignments_; }
  size_t len() const { return normalized_.size(); }
  bool empty() const { return normalized_.empty(); }

  // Absolute original range of the whole piece: (shift, shift + original().size()).
  Offsets offsets_original() const { return {original_shift_, original_shift_ + original_.size()}; }

  // Original range (relative to original()) of normalized bytes [start, end), following the
  // reference quirks: an empty range is returned unchanged; nullopt when out of range.
  std::optional<Offsets> convert_offsets(size_t start, size_t end) const;

  // The sub-piece for normalized bytes [start, end) (must lie on char boundaries); its
  // original is the matching slice of original(). nullopt when out of range.
  std::optional<NormalizedString> slice(size_t start, size_t end) const;

  // Rewrites normalized bytes [start, end) with a change stream; `initial_skip` chars at the
  // start of the range are removed first.
  void transform_range(size_t start, size_t end, std::span<const Change> changes, size_t initial_skip);
  void transform(std::span<const Change> changes, size_t initial_skip) {
    transform_range(0, normalized_.size(), changes, initial_skip);
  }

  // ---- operations used by normalizers (each a change stream, spec 3.3) ----
  void nfd();
  void nfkd();
  void nfc();
  void nfkc();
  void lowercase();
  void filter(const std::function<bool(char32_t)>& keep);
  void map(const std::function<char32_t(char32_t)>& f);
  void prepend(std::string_view s);  // only when non-empty
  void append(std::string_view s);   // only when non-empty
  void replace(const Regex& pattern, std::string_view content);
  void lstrip();
  void rstrip();

  // Splits with `pattern` and `behavior` (spec 6.1); empty pieces are kept (callers drop them).
  std::vector<NormalizedString> split(const Pattern& pattern, SplitBehavior behavior) const;

 private:
  std::string_view original_;
  size_t original_shift_ = 0;
  std::string normalized_;
  std::vector<Alignment> alignments_;
};

}  // namespace mlhub::tok
