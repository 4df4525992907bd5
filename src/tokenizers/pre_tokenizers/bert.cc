// BertPreTokenizer (pre_tokenizers/bert.rs): split on whitespace (removed), then isolate every
// punctuation char (ASCII punctuation or General Category P*, Unicode 8.0).
#include "tokenizers/pre_tokenizers/pre_tokenizers.h"
#include "tokenizers/unicode.h"

namespace mlhub::tok {
namespace {

class BertPreTokenizer final : public PreTokenizer {
 public:
  void pre_tokenize(PreTokenizedString& s) const override {
    static const CharPredicatePattern kWhitespace(unicode::is_whitespace);
    static const CharPredicatePattern kPunctuation(unicode::is_bert_punctuation);
    s.split(
        [](size_t, NormalizedString n) { return n.split(kWhitespace, SplitBehavior::kRemoved); });
    s.split(
        [](size_t, NormalizedString n) { return n.split(kPunctuation, SplitBehavior::kIsolated); });
  }
};

}  // namespace

std::unique_ptr<PreTokenizer> make_bert_pre_tokenizer() {
  return std::make_unique<BertPreTokenizer>();
}

std::unique_ptr<PreTokenizer> bert_pre_tokenizer_from_json(const JsonRef&) {
  return make_bert_pre_tokenizer();
}

}  // namespace mlhub::tok
