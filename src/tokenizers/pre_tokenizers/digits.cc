// Digits pre-tokenizer (pre_tokenizers/digits.rs): numeric chars (Rust char::is_numeric:
// Nd, Nl, No) are split off one by one (individual_digits) or as runs.
#include "tokenizers/pre_tokenizers/pre_tokenizers.h"
#include "tokenizers/unicode.h"

namespace mlhub::tok {
namespace {

class Digits final : public PreTokenizer {
 public:
  explicit Digits(bool individual_digits)
      : behavior_(individual_digits ? SplitBehavior::kIsolated : SplitBehavior::kContiguous) {}

  void pre_tokenize(PreTokenizedString& s) const override {
    static const CharPredicatePattern kNumeric(unicode::is_numeric);
    s.split([&](size_t, NormalizedString n) { return n.split(kNumeric, behavior_); });
  }

 private:
  SplitBehavior behavior_;
};

}  // namespace

std::unique_ptr<PreTokenizer> digits_from_json(const JsonRef& j) {
  return std::make_unique<Digits>(j.at("individual_digits").boolean());
}

}  // namespace mlhub::tok
