// CharDelimiterSplit pre-tokenizer (pre_tokenizers/delimiter.rs): splits on one char, removing
// it. Its JSON "type" is "CharDelimiterSplit" (the wrapper's "Delimiter" tag never loads).
#include "tokenizers/pre_tokenizers/pre_tokenizers.h"

namespace mlhub::tok {
namespace {

class CharDelimiterSplit final : public PreTokenizer {
 public:
  explicit CharDelimiterSplit(char32_t delimiter)
      : pattern_([delimiter](char32_t c) { return c == delimiter; }) {}

  void pre_tokenize(PreTokenizedString& s) const override {
    s.split([&](size_t, NormalizedString n) { return n.split(pattern_, SplitBehavior::kRemoved); });
  }

 private:
  CharPredicatePattern pattern_;
};

}  // namespace

std::unique_ptr<PreTokenizer> char_delimiter_split_from_json(const JsonRef& j) {
  return std::make_unique<CharDelimiterSplit>(json_char(j, "delimiter"));
}

}  // namespace mlhub::tok
