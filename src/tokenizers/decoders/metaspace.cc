// Metaspace decoder (spec 13): the replacement char becomes a space, except in the first token
// where it is dropped unless prepend_scheme is "never". Mirrors the Decoder impl and the JSON
// rules of tokenizers/src/pre_tokenizers/metaspace.rs.
#include <string>
#include <vector>

#include "tokenizers/decoders/decoders.h"
#include "tokenizers/unicode.h"
#include "tokenizers/utf8_lossy.h"

namespace mlhub::tok {
namespace {

class MetaspaceDecoder final : public Decoder {
 public:
  MetaspaceDecoder(char32_t replacement, bool prepend)
      : replacement_(unicode::to_utf8(replacement)), prepend_(prepend) {}

  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string& t = tokens[i];
      if (t.find(replacement_) == std::string::npos) continue;
      // Replacing the encoded char is exact: UTF-8 never matches inside another char.
      t = replace_all(t, replacement_, i == 0 && prepend_ ? "" : " ");
    }
    return tokens;
  }

 private:
  std::string replacement_;
  bool prepend_;  // prepend_scheme != never
};

}  // namespace

std::unique_ptr<Decoder> metaspace_decoder_from_json(const JsonRef& j) {
  if (!j.has("type") || j.at("type").str_view() != "Metaspace") j.fail("not a Metaspace object");
  const char32_t replacement = json_char(j.at("replacement"));
  std::string scheme = "always";
  if (auto s = j.get("prepend_scheme")) {
    scheme = s->str();
    if (scheme != "always" && scheme != "first" && scheme != "never") {
      s->fail("expected \"always\", \"first\" or \"never\", got \"" + scheme + "\"");
    }
  }
  if (auto a = j.get("add_prefix_space"); a && !a->boolean()) {
    // Legacy field: false means "never"; it must agree with an explicit (or the default) scheme.
    if (scheme != "never") a->fail("add_prefix_space does not match declared prepend_scheme");
  }
  if (auto s = j.get("split")) s->boolean();
  if (auto s = j.get("str_rep")) s->str();
  return std::make_unique<MetaspaceDecoder>(replacement, scheme != "never");
}

}  // namespace mlhub::tok
