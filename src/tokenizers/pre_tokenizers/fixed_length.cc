// FixedLength pre-tokenizer (pre_tokenizers/fixed_length.rs): chunks of `length` chars.
#include "mlhub/core.h"
#include "tokenizers/pre_tokenizers/pre_tokenizers.h"
#include "tokenizers/unicode.h"

namespace mlhub::tok {
namespace {

class FixedLength final : public PreTokenizer {
 public:
  explicit FixedLength(size_t length) : length_(length) {}

  void pre_tokenize(PreTokenizedString& s) const override {
    s.split([&](size_t, NormalizedString n) {
      std::vector<NormalizedString> out;
      const std::string& text = n.get();
      size_t start = 0;
      while (start < text.size()) {
        size_t end = start;
        for (size_t k = 0; k < length_ && end < text.size(); ++k) {
          end += unicode::utf8_seq_len(static_cast<unsigned char>(text[end]));
        }
        auto piece = n.slice(start, end);
        if (!piece)
          throw Error(StatusCode::kInternal, "FixedLength: failed to slice normalized text");
        out.push_back(std::move(*piece));
        start = end;
      }
      return out;
    });
  }

 private:
  size_t length_;
};

}  // namespace

std::unique_ptr<PreTokenizer> fixed_length_from_json(const JsonRef& j) {
  uint32_t length = j.u32_or("length", 5);
  // Rust accepts 0 at load time and panics on the first non-empty piece; reject it here.
  if (length == 0) j.at("length").fail("length must be greater than 0");
  return std::make_unique<FixedLength>(length);
}

}  // namespace mlhub::tok
