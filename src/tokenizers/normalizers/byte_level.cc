// ByteLevel as a normalizer (tokenizers/src/normalizers/byte_level.rs): every byte of the text
// becomes its GPT-2 byte-level char; the L chars of an L-byte char share its alignment.
#include "tokenizers/byte_level.h"
#include "tokenizers/normalizers/normalizers.h"
#include "tokenizers/unicode.h"

namespace mlhub::tok {
namespace {

class ByteLevelNormalizer final : public Normalizer {
 public:
  void normalize(NormalizedString& s) const override {
    if (s.empty()) return;
    const std::string& t = s.get();
    thread_local std::vector<NormalizedString::Change> changes;
    changes.clear();
    changes.reserve(t.size());
    size_t i = 0;
    while (i < t.size()) {
      size_t len = unicode::utf8_seq_len(static_cast<unsigned char>(t[i]));
      for (size_t k = 0; k < len && i + k < t.size(); ++k) {
        changes.push_back({byte_to_char(static_cast<uint8_t>(t[i + k])), k > 0 ? 1 : 0});
      }
      i += len;
    }
    transform_like_reference(s, changes, 0);
  }
};

}  // namespace

std::unique_ptr<Normalizer> make_byte_level_normalizer() {
  return std::make_unique<ByteLevelNormalizer>();
}

}  // namespace mlhub::tok
