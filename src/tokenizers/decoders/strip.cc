// Strip decoder (spec 13): removes up to `start` leading and `stop` trailing `content` chars
// from every token. Mirrors tokenizers/src/decoders/strip.rs, where a token made only of
// `content` chars, or an empty one, can make the reference panic; here it just becomes empty.
#include <string>
#include <vector>

#include "tokenizers/decoders/decoders.h"
#include "tokenizers/utf8_lossy.h"

namespace mlhub::tok {
namespace {

class StripDecoder final : public Decoder {
 public:
  StripDecoder(char32_t content, size_t start, size_t stop)
      : content_(content), start_(start), stop_(stop) {}

  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::vector<size_t> bounds;  // byte offset of every char, plus the end
    for (std::string& t : tokens) {
      bounds.clear();
      std::vector<char32_t> chars;
      for (size_t i = 0; i < t.size();) {
        bounds.push_back(i);
        chars.push_back(next_char(t, i));
      }
      bounds.push_back(t.size());
      const size_t n = chars.size();
      size_t start_cut = 0;
      while (start_cut < start_ && start_cut < n && chars[start_cut] == content_) ++start_cut;
      size_t stop_cut = n;
      for (size_t k = 0; k < stop_ && stop_cut > 0 && chars[stop_cut - 1] == content_; ++k) {
        --stop_cut;
      }
      if (stop_cut <= start_cut) {
        t.clear();
      } else if (start_cut > 0 || stop_cut < n) {
        t = t.substr(bounds[start_cut], bounds[stop_cut] - bounds[start_cut]);
      }
    }
    return tokens;
  }

 private:
  char32_t content_;
  size_t start_;
  size_t stop_;
};

}  // namespace

std::unique_ptr<Decoder> strip_decoder_from_json(const JsonRef& j) {
  return std::make_unique<StripDecoder>(json_char(j.at("content")), json_usize(j.at("start")),
                                        json_usize(j.at("stop")));
}

}  // namespace mlhub::tok
