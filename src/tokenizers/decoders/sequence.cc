// Sequence of decoders (spec 13): each decode_chain runs on the previous one's output.
// Mirrors tokenizers/src/decoders/sequence.rs.
#include <string>
#include <utility>
#include <vector>

#include "tokenizers/decoders/decoders.h"

namespace mlhub::tok {
namespace {

class SequenceDecoder final : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> decoders)
      : decoders_(std::move(decoders)) {}

  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (const auto& d : decoders_) tokens = d->decode_chain(std::move(tokens));
    return tokens;
  }

 private:
  std::vector<std::unique_ptr<Decoder>> decoders_;
};

}  // namespace

std::unique_ptr<Decoder> sequence_decoder_from_json(const JsonRef& j) {
  if (!j.has("type") || j.at("type").str_view() != "Sequence") j.fail("not a Sequence object");
  const JsonRef list = j.at("decoders");
  if (!list.is_array()) list.fail("expected an array");
  std::vector<std::unique_ptr<Decoder>> decoders;
  decoders.reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i) decoders.push_back(decoder_from_json(list.at(i)));
  return std::make_unique<SequenceDecoder>(std::move(decoders));
}

}  // namespace mlhub::tok
