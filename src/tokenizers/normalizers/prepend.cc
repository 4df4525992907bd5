// Prepend (tokenizers/src/normalizers/prepend.rs): prepends a string to non-empty pieces; the
// prefix is attributed to the first char.
#include "tokenizers/normalizers/normalizers.h"
#include "tokenizers/unicode.h"

namespace mlhub::tok {
namespace {

class Prepend final : public Normalizer {
 public:
  explicit Prepend(std::string prepend) : prepend_(std::move(prepend)) {}

  void normalize(NormalizedString& s) const override {
    if (!s.empty()) s.prepend(prepend_);
  }

 private:
  std::string prepend_;
};

}  // namespace

std::unique_ptr<Normalizer> make_prepend(std::string prepend) {
  return std::make_unique<Prepend>(std::move(prepend));
}

std::unique_ptr<Normalizer> prepend_from_json(const JsonRef& j) {
  JsonRef v = j.at("prepend");
  std::string s = v.str();
  if (unicode::find_invalid_utf8(s)) v.fail("invalid UTF-8");
  return make_prepend(std::move(s));
}

}  // namespace mlhub::tok
