// CTC decoder (spec 13): drops consecutive duplicates and pad tokens, optionally cleans up and
// turns the word delimiter into a space; empty results are dropped. Mirrors
// tokenizers/src/decoders/ctc.rs.
#include <string>
#include <utility>
#include <vector>

#include "tokenizers/decoders/decoders.h"

namespace mlhub::tok {
namespace {

class CtcDecoder final : public Decoder {
 public:
  CtcDecoder(std::string pad_token, std::string word_delimiter_token, bool cleanup)
      : pad_token_(std::move(pad_token)),
        word_delimiter_token_(std::move(word_delimiter_token)),
        cleanup_(cleanup) {}

  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::vector<std::string> out;
    out.reserve(tokens.size());
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i > 0 && tokens[i] == tokens[i - 1]) continue;  // itertools dedup
      std::string t = replace_all(tokens[i], pad_token_, "");
      if (cleanup_) t = replace_all(wordpiece_cleanup(t), word_delimiter_token_, " ");
      if (!t.empty()) out.push_back(std::move(t));
    }
    return out;
  }

 private:
  std::string pad_token_;
  std::string word_delimiter_token_;
  bool cleanup_;
};

}  // namespace

std::unique_ptr<Decoder> ctc_decoder_from_json(const JsonRef& j) {
  return std::make_unique<CtcDecoder>(j.at("pad_token").str(), j.at("word_delimiter_token").str(),
                                      j.at("cleanup").boolean());
}

}  // namespace mlhub::tok
