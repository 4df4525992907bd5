// BPEDecoder (spec 13): the end-of-word suffix becomes a space, or nothing in the last token.
// Mirrors tokenizers/src/decoders/bpe.rs.
#include <string>
#include <utility>
#include <vector>

#include "tokenizers/decoders/decoders.h"

namespace mlhub::tok {
namespace {

class BpeDecoder final : public Decoder {
 public:
  explicit BpeDecoder(std::string suffix) : suffix_(std::move(suffix)) {}

  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      const bool last = i + 1 == tokens.size();
      if (suffix_.empty() || tokens[i].find(suffix_) != std::string::npos) {
        tokens[i] = replace_all(tokens[i], suffix_, last ? "" : " ");
      }
    }
    return tokens;
  }

 private:
  std::string suffix_;
};

}  // namespace

std::unique_ptr<Decoder> bpe_decoder_from_json(const JsonRef& j) {
  return std::make_unique<BpeDecoder>(j.at("suffix").str());
}

}  // namespace mlhub::tok
