// Added tokens (tokenizer.json "added_tokens"): id assignment, and their extraction from the
// input before and after normalization (spec section 4; tokenizer/added_vocabulary.rs).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "mlhub/tokenizers.h"
#include "tokenizers/pre_tokenized_string.h"

namespace mlhub::tok {

class Model;
class Normalizer;

// A set of strings matched leftmost-longest, non-overlapping (the aho-corasick MatchKind
// LeftmostLongest semantics) with a byte trie.
class TokenMatcher {
 public:
  struct Match {
    size_t start, end;
    uint32_t pattern;  // index into the pattern list given to build()
  };
  void build(const std::vector<std::string>& patterns);
  // All matches in `text`, leftmost-longest, non-overlapping, in order.
  std::vector<Match> find_all(std::string_view text) const;
  bool empty() const { return nodes_.size() <= 1; }

 private:
  struct Node {
    std::vector<std::pair<uint8_t, uint32_t>> children;  // sorted by byte
    int32_t pattern = -1;
  };
  uint32_t child(uint32_t node, uint8_t b) const;  // 0 when absent (0 is the root)
  std::vector<Node> nodes_;
  std::vector<uint32_t> root_next_;  // 256 entries: child of the root per first byte
};

class AddedVocabulary {
 public:
  // Rust AddedVocabulary::add_tokens: assigns ids (reusing ids of contents already known to
  // this vocabulary or the model, else the next free id), records special tokens, and
  // rebuilds the matchers (normalized tokens are matched in their normalized form).
  // Returns the number of tokens added.
  size_t add_tokens(const std::vector<AddedToken>& tokens, const Model& model,
                    const Normalizer* normalizer);

  std::optional<uint32_t> token_to_id(std::string_view token) const;
  // The content of added token `id`, or nullptr.
  const AddedToken* by_id(uint32_t id) const;
  bool is_special(std::string_view content) const { return special_set_.count(std::string(content)) > 0; }
  size_t size() const { return by_content_.size(); }
  // All added tokens ordered by id.
  std::vector<AddedToken> tokens_by_id() const;

  // Pass 1 (non-normalized tokens on the raw text), normalization of the remaining pieces,
  // pass 2 (normalized tokens). `sequence` must outlive the result.
  PreTokenizedString extract_and_normalize(const Normalizer* normalizer, std::string_view sequence,
                                           bool encode_special_tokens) const;

 private:
  struct MatchingSet {
    TokenMatcher matcher;
    std::vector<uint32_t> ids;
  };
  void refresh(const Model& model, const Normalizer* normalizer);
  std::optional<uint32_t> lookup(std::string_view content, const Model& model) const;
  void split_with_matches(NormalizedString piece, const MatchingSet& set, bool encode_special_tokens,
                          std::vector<Split>& out) const;

  std::unordered_map<std::string, uint32_t> by_content_;
  std::unordered_map<uint32_t, AddedToken> by_id_;
  std::vector<AddedToken> classic_;  // non-special, in insertion order
  std::vector<AddedToken> special_;  // special, in insertion order
  std::unordered_set<std::string> special_set_;
  MatchingSet raw_set_;
  MatchingSet normalized_set_;
};

}  // namespace mlhub::tok
