// Fuse decoder (spec 13): joins all tokens into one. Mirrors tokenizers/src/decoders/fuse.rs.
#include <string>
#include <vector>

#include "tokenizers/decoders/decoders.h"

namespace mlhub::tok {
namespace {

class FuseDecoder final : public Decoder {
 public:
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    size_t total = 0;
    for (const std::string& t : tokens) total += t.size();
    std::string joined;
    joined.reserve(total);
    for (const std::string& t : tokens) joined.append(t);
    std::vector<std::string> out;
    out.push_back(std::move(joined));
    return out;
  }
};

}  // namespace

std::unique_ptr<Decoder> fuse_decoder_from_json(const JsonRef& j) {
  if (!j.has("type") || j.at("type").str_view() != "Fuse") j.fail("not a Fuse object");
  return std::make_unique<FuseDecoder>();
}

}  // namespace mlhub::tok
