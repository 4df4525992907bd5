// NFC, NFD, NFKC, NFKD (tokenizers/src/normalizers/unicode.rs): Unicode 9.0 normalization with
// alignments, see NormalizedString::nfc() and friends.
#include "tokenizers/normalizers/normalizers.h"

namespace mlhub::tok {
namespace {

class UnicodeNormalizer final : public Normalizer {
 public:
  explicit UnicodeNormalizer(UnicodeForm form) : form_(form) {}

  void normalize(NormalizedString& s) const override {
    switch (form_) {
      case UnicodeForm::kNFC: s.nfc(); break;
      case UnicodeForm::kNFD: s.nfd(); break;
      case UnicodeForm::kNFKC: s.nfkc(); break;
      case UnicodeForm::kNFKD: s.nfkd(); break;
    }
  }

 private:
  UnicodeForm form_;
};

}  // namespace

std::unique_ptr<Normalizer> make_unicode_normalizer(UnicodeForm form) {
  return std::make_unique<UnicodeNormalizer>(form);
}

}  // namespace mlhub::tok
