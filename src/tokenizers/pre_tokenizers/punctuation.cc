// Punctuation pre-tokenizer (pre_tokenizers/punctuation.rs): splits on the BERT punctuation
// predicate with a configurable behaviour (default Isolated).
#include "tokenizers/pre_tokenizers/pre_tokenizers.h"
#include "tokenizers/unicode.h"

namespace mlhub::tok {
namespace {

class Punctuation final : public PreTokenizer {
 public:
  explicit Punctuation(SplitBehavior behavior) : behavior_(behavior) {}

  void pre_tokenize(PreTokenizedString& s) const override {
    static const CharPredicatePattern kPunctuation(unicode::is_bert_punctuation);
    s.split([&](size_t, NormalizedString n) { return n.split(kPunctuation, behavior_); });
  }

 private:
  SplitBehavior behavior_;
};

}  // namespace

std::unique_ptr<PreTokenizer> punctuation_from_json(const JsonRef& j) {
  return std::make_unique<Punctuation>(
      behavior_or_null(j, "behavior").value_or(SplitBehavior::kIsolated));
}

}  // namespace mlhub::tok
