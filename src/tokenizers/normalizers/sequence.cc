// Sequence (tokenizers/src/normalizers/utils.rs): applies its normalizers in order.
#include "tokenizers/normalizers/normalizers.h"

namespace mlhub::tok {
namespace {

class NormalizerSequence final : public Normalizer {
 public:
  explicit NormalizerSequence(std::vector<std::unique_ptr<Normalizer>> items)
      : items_(std::move(items)) {}

  void normalize(NormalizedString& s) const override {
    for (const auto& n : items_) n->normalize(s);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> items_;
};

}  // namespace

std::unique_ptr<Normalizer> make_normalizer_sequence(
    std::vector<std::unique_ptr<Normalizer>> items) {
  return std::make_unique<NormalizerSequence>(std::move(items));
}

std::unique_ptr<Normalizer> normalizer_sequence_from_json(const JsonRef& j) {
  JsonRef list = j.at("normalizers");
  if (!list.is_array()) {
    list.fail("expected an array, got " + std::string(json_type_name(list.raw())));
  }
  std::vector<std::unique_ptr<Normalizer>> items;
  items.reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i) items.push_back(normalizer_from_json(list.at(i)));
  return make_normalizer_sequence(std::move(items));
}

}  // namespace mlhub::tok
