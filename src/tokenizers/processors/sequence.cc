// Sequence of post-processors (spec 11.5): each one's process_encodings runs on the previous
// one's output; added_tokens is the sum. Mirrors tokenizers/src/processors/sequence.rs.
#include <utility>
#include <vector>

#include "tokenizers/processors/processors.h"

namespace mlhub::tok {
namespace {

class SequenceProcessor final : public PostProcessor {
 public:
  explicit SequenceProcessor(std::vector<std::unique_ptr<PostProcessor>> processors)
      : processors_(std::move(processors)) {}

  size_t added_tokens(bool is_pair) const override {
    size_t n = 0;
    for (const auto& p : processors_) n += p->added_tokens(is_pair);
    return n;
  }

  std::vector<Encoding> process_encodings(std::vector<Encoding> encodings,
                                          bool add_special_tokens) const override {
    for (const auto& p : processors_) {
      encodings = p->process_encodings(std::move(encodings), add_special_tokens);
    }
    return encodings;
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> processors_;
};

}  // namespace

std::unique_ptr<PostProcessor> sequence_processor_from_json(const JsonRef& j) {
  if (!j.has("type") || j.at("type").str_view() != "Sequence") j.fail("not a Sequence object");
  const JsonRef list = j.at("processors");
  if (!list.is_array()) list.fail("expected an array");
  std::vector<std::unique_ptr<PostProcessor>> processors;
  processors.reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    processors.push_back(post_processor_from_json(list.at(i)));
  }
  return std::make_unique<SequenceProcessor>(std::move(processors));
}

}  // namespace mlhub::tok
