// Strip and StripAccents (tokenizers/src/normalizers/strip.rs). Strip removes leading/trailing
// White_Space chars; StripAccents removes every General Category M char (Unicode 9.0) without
// decomposing first.
#include "tokenizers/normalizers/normalizers.h"
#include "tokenizers/unicode.h"

namespace mlhub::tok {
namespace {

class Strip final : public Normalizer {
 public:
  Strip(bool left, bool right) : left_(left), right_(right) {}

  void normalize(NormalizedString& s) const override {
    // The reference strips both sides in one transform when both are set; that gives the same
    // text and alignments as the two one-sided passes.
    if (left_) s.lstrip();
    if (right_) s.rstrip();
  }

 private:
  bool left_, right_;
};

class StripAccents final : public Normalizer {
 public:
  void normalize(NormalizedString& s) const override {
    s.filter([](char32_t c) { return !unicode::is_mark_u9(c); });
  }
};

}  // namespace

std::unique_ptr<Normalizer> make_strip(bool left, bool right) {
  return std::make_unique<Strip>(left, right);
}

std::unique_ptr<Normalizer> make_strip_accents() { return std::make_unique<StripAccents>(); }

std::unique_ptr<Normalizer> strip_from_json(const JsonRef& j) {
  bool left = j.at("strip_left").boolean();
  bool right = j.at("strip_right").boolean();
  return make_strip(left, right);
}

}  // namespace mlhub::tok
