// BertProcessing (spec 11.2): [CLS] A [SEP] and B [SEP], type ids 0 / 1.
// Mirrors tokenizers/src/processors/bert.rs.
#include <string>
#include <utility>
#include <vector>

#include "tokenizers/processors/processors.h"

namespace mlhub::tok {
namespace {

class BertProcessing final : public PostProcessor {
 public:
  BertProcessing(SpecialTokenPair sep, SpecialTokenPair cls)
      : sep_(std::move(sep)), cls_(std::move(cls)) {}

  size_t added_tokens(bool is_pair) const override { return is_pair ? 3 : 2; }

  std::vector<Encoding> process_encodings(std::vector<Encoding> encodings,
                                          bool add_special_tokens) const override {
    if (!add_special_tokens) return encodings;
    for (size_t i = 0; i < encodings.size(); ++i) {
      SpecialWrap w;
      if (i == 0) {
        w.before = &cls_;
        w.after = &sep_;
        w.sequence_id = 0;
      } else {
        // The reference treats every encoding after the first as the pair: B [SEP]:1.
        w.after = &sep_;
        w.after_type = 1;
        w.sequence_id = 1;
      }
      encodings[i] = wrap_with_special_tokens(std::move(encodings[i]), w, true);
    }
    return encodings;
  }

 private:
  SpecialTokenPair sep_;
  SpecialTokenPair cls_;
};

}  // namespace

SpecialTokenPair special_token_pair_from_json(const JsonRef& j) {
  if (!j.is_array() || j.size() != 2) j.fail("expected a [token, id] pair");
  return {j.at(size_t{0}).str(), j.at(size_t{1}).u32()};
}

Encoding wrap_with_special_tokens(Encoding enc, const SpecialWrap& w, bool wrap_overflowing) {
  const size_t n_before = w.before ? 1 : 0;
  const size_t len = enc.size();
  const size_t total = len + n_before + 1;
  Encoding out;
  out.ids.reserve(total);
  out.type_ids.reserve(total);
  out.tokens.reserve(total);
  out.words.reserve(total);
  out.offsets.reserve(total);
  out.special_tokens_mask.reserve(total);
  auto push_special = [&out, &w](const SpecialTokenPair& t, uint32_t type_id) {
    out.ids.push_back(t.second);
    out.type_ids.push_back(w.all_types.value_or(type_id));
    out.tokens.push_back(t.first);
    out.words.push_back(std::nullopt);
    out.offsets.push_back({0, 0});
    out.special_tokens_mask.push_back(1);
  };
  if (w.before) push_special(*w.before, w.before_type);
  out.ids.insert(out.ids.end(), enc.ids.begin(), enc.ids.end());
  if (w.all_types) {
    out.type_ids.insert(out.type_ids.end(), len, *w.all_types);
  } else {
    out.type_ids.insert(out.type_ids.end(), enc.type_ids.begin(), enc.type_ids.end());
  }
  out.tokens.insert(out.tokens.end(), std::make_move_iterator(enc.tokens.begin()),
                    std::make_move_iterator(enc.tokens.end()));
  out.words.insert(out.words.end(), enc.words.begin(), enc.words.end());
  out.offsets.insert(out.offsets.end(), enc.offsets.begin(), enc.offsets.end());
  out.special_tokens_mask.insert(out.special_tokens_mask.end(), len, 0u);
  push_special(*w.after, w.after_type);
  out.attention_mask.assign(out.ids.size(), 1u);
  out.sequence_ranges[w.sequence_id] = {n_before, out.ids.size() - 1};
  if (wrap_overflowing) {
    out.overflowing.reserve(enc.overflowing.size());
    for (Encoding& o : enc.overflowing) {
      out.overflowing.push_back(wrap_with_special_tokens(std::move(o), w, false));
    }
  }
  return out;
}

std::unique_ptr<PostProcessor> bert_processing_from_json(const JsonRef& j) {
  return std::make_unique<BertProcessing>(special_token_pair_from_json(j.at("sep")),
                                          special_token_pair_from_json(j.at("cls")));
}

}  // namespace mlhub::tok
