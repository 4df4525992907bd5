// WordPiece decoder (spec 13): strips the continuing-subword prefix or inserts a space before
// every token but the first, then optionally cleans up. Mirrors
// tokenizers/src/decoders/wordpiece.rs.
#include <string>
#include <utility>
#include <vector>

#include "tokenizers/decoders/decoders.h"

namespace mlhub::tok {
namespace {

class WordPieceDecoder final : public Decoder {
 public:
  WordPieceDecoder(std::string prefix, bool cleanup)
      : prefix_(std::move(prefix)), cleanup_(cleanup) {}

  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string& t = tokens[i];
      if (i != 0) {
        if (t.starts_with(prefix_)) {
          t.erase(0, prefix_.size());
        } else {
          t.insert(t.begin(), ' ');
        }
      }
      if (cleanup_) t = wordpiece_cleanup(t);
    }
    return tokens;
  }

 private:
  std::string prefix_;
  bool cleanup_;
};

}  // namespace

std::unique_ptr<Decoder> wordpiece_decoder_from_json(const JsonRef& j) {
  return std::make_unique<WordPieceDecoder>(j.at("prefix").str(), j.at("cleanup").boolean());
}

}  // namespace mlhub::tok
