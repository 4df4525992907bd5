// Lowercase (tokenizers/src/normalizers/utils.rs): Rust char::to_lowercase per char, no context.
#include "tokenizers/normalizers/normalizers.h"

namespace mlhub::tok {
namespace {

class Lowercase final : public Normalizer {
 public:
  void normalize(NormalizedString& s) const override { s.lowercase(); }
};

}  // namespace

std::unique_ptr<Normalizer> make_lowercase() { return std::make_unique<Lowercase>(); }

}  // namespace mlhub::tok
