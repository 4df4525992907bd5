// PreTokenizedString: the ordered list of pieces of one input sequence, each a NormalizedString
// that may already carry its tokens (added tokens, or after the model ran). Mirrors
// tokenizers/src/tokenizer/pre_tokenizer.rs.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mlhub/tokenizers.h"
#include "tokenizers/normalized_string.h"

namespace mlhub::tok {

// A token produced by a model (or an added token). `offsets` are byte offsets into the
// normalized text of the piece that produced it.
struct Token {
  uint32_t id = 0;
  std::string value;
  Offsets offsets;
};

struct Split {
  NormalizedString normalized;
  std::optional<std::vector<Token>> tokens;
};

class PreTokenizedString {
 public:
  // One piece covering `original` (which must outlive this object).
  explicit PreTokenizedString(std::string_view original);
  explicit PreTokenizedString(NormalizedString normalized);

  std::string_view original() const { return original_; }
  std::vector<Split>& splits() { return splits_; }
  const std::vector<Split>& splits() const { return splits_; }

  // For each piece without tokens, replaces it by f(index, std::move(piece)) — a
  // std::vector<NormalizedString> — dropping empty results. Pieces with tokens are kept as is.
  template <typename F>
  void split(F&& f) {
    std::vector<Split> out;
    out.reserve(splits_.size());
    for (size_t i = 0; i < splits_.size(); ++i) {
      Split& s = splits_[i];
      if (s.tokens) {
        out.push_back(std::move(s));
        continue;
      }
      std::vector<NormalizedString> pieces = f(i, std::move(s.normalized));
      for (auto& p : pieces) {
        if (!p.empty()) out.push_back(Split{std::move(p), std::nullopt});
      }
    }
    splits_ = std::move(out);
  }

  // Calls f(NormalizedString&) on each piece without tokens.
  template <typename F>
  void normalize(F&& f) {
    for (auto& s : splits_) {
      if (!s.tokens) f(s.normalized);
    }
  }

  // Sets each piece's tokens to f(const NormalizedString&) (std::vector<Token>) where unset.
  template <typename F>
  void tokenize(F&& f) {
    for (auto& s : splits_) {
      if (!s.tokens) s.tokens = f(static_cast<const NormalizedString&>(s.normalized));
    }
  }

  // Builds the Encoding (spec section 9): tokens in piece order, offsets mapped back to the
  // original (absolute byte offsets of the sequence, or char offsets), words = piece index
  // (or `word_index` for every token when given), type ids = type_id. All pieces must have
  // tokens.
  Encoding into_encoding(std::optional<uint32_t> word_index, uint32_t type_id,
                         OffsetType offset_type) const;

  // (text, original offsets) of each piece, for tests of pre-tokenizers; byte offsets.
  std::vector<std::pair<std::string, Offsets>> get_splits() const;

 private:
  std::string_view original_;
  std::vector<Split> splits_;
};

}  // namespace mlhub::tok
