// Sequence pre-tokenizer (pre_tokenizers/sequence.rs): applies its pre-tokenizers in order.
#include "tokenizers/pre_tokenizers/pre_tokenizers.h"

namespace mlhub::tok {
namespace {

class Sequence final : public PreTokenizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<PreTokenizer>> items) : items_(std::move(items)) {}

  void pre_tokenize(PreTokenizedString& s) const override {
    for (const auto& p : items_) p->pre_tokenize(s);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> items_;
};

}  // namespace

std::unique_ptr<PreTokenizer> make_sequence(std::vector<std::unique_ptr<PreTokenizer>> items) {
  return std::make_unique<Sequence>(std::move(items));
}

std::unique_ptr<PreTokenizer> sequence_from_json(const JsonRef& j) {
  JsonRef list = j.at("pretokenizers");
  if (!list.is_array())
    list.fail("expected an array, got " + std::string(json_type_name(list.raw())));
  std::vector<std::unique_ptr<PreTokenizer>> items;
  items.reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i) items.push_back(pre_tokenizer_from_json(list.at(i)));
  return make_sequence(std::move(items));
}

}  // namespace mlhub::tok
