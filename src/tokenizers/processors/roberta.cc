// RobertaProcessing (spec 11.3): optional byte-level offset trimming, every type id 0,
// <s> A </s> and </s> B </s>. Mirrors tokenizers/src/processors/roberta.rs.
#include <string>
#include <utility>
#include <vector>

#include "tokenizers/processors/processors.h"

namespace mlhub::tok {
namespace {

class RobertaProcessing final : public PostProcessor {
 public:
  RobertaProcessing(SpecialTokenPair sep, SpecialTokenPair cls, bool trim_offsets,
                    bool add_prefix_space)
      : sep_(std::move(sep)),
        cls_(std::move(cls)),
        trim_offsets_(trim_offsets),
        add_prefix_space_(add_prefix_space) {}

  size_t added_tokens(bool is_pair) const override { return is_pair ? 4 : 2; }

  std::vector<Encoding> process_encodings(std::vector<Encoding> encodings,
                                          bool add_special_tokens) const override {
    if (trim_offsets_) {
      for (Encoding& e : encodings) {
        trim_byte_level_offsets(e, add_prefix_space_);
        for (Encoding& o : e.overflowing) trim_byte_level_offsets(o, add_prefix_space_);
      }
    }
    // Only the top-level encodings: without special tokens the overflows keep their type ids.
    for (Encoding& e : encodings) set_type_ids_shallow(e, 0);
    if (!add_special_tokens) return encodings;
    for (size_t i = 0; i < encodings.size(); ++i) {
      SpecialWrap w;
      w.before = i == 0 ? &cls_ : &sep_;
      w.after = &sep_;
      w.all_types = 0;
      w.sequence_id = i == 0 ? 0 : 1;
      encodings[i] = wrap_with_special_tokens(std::move(encodings[i]), w, true);
    }
    return encodings;
  }

 private:
  SpecialTokenPair sep_;
  SpecialTokenPair cls_;
  bool trim_offsets_;
  bool add_prefix_space_;
};

}  // namespace

std::unique_ptr<PostProcessor> roberta_processing_from_json(const JsonRef& j) {
  return std::make_unique<RobertaProcessing>(special_token_pair_from_json(j.at("sep")),
                                             special_token_pair_from_json(j.at("cls")),
                                             j.at("trim_offsets").boolean(),
                                             j.at("add_prefix_space").boolean());
}

}  // namespace mlhub::tok
