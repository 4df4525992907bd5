// Replace decoder (spec 13): every match of the pattern in each token becomes `content`.
// Mirrors the Decoder impl of tokenizers/src/normalizers/replace.rs.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tokenizers/decoders/decoders.h"
#include "tokenizers/regex.h"

namespace mlhub::tok {
namespace {

class ReplaceDecoder final : public Decoder {
 public:
  ReplaceDecoder(std::unique_ptr<Regex> regex, std::string content)
      : regex_(std::move(regex)), content_(std::move(content)) {}

  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (std::string& t : tokens) {
      // The reference reports an empty token as one non-matching segment, whatever the regex.
      if (t.empty()) continue;
      const auto matches = regex_->find_all(t);
      if (matches.empty()) continue;
      std::string out;
      out.reserve(t.size() + matches.size() * content_.size());
      size_t prev = 0;
      for (const auto& [start, end] : matches) {
        out.append(t, prev, start - prev);
        out.append(content_);
        prev = end;
      }
      out.append(t, prev, std::string::npos);
      t = std::move(out);
    }
    return tokens;
  }

 private:
  std::unique_ptr<Regex> regex_;
  std::string content_;
};

}  // namespace

std::unique_ptr<Decoder> replace_decoder_from_json(const JsonRef& j) {
  const JsonRef pattern = j.at("pattern");
  if (!pattern.is_object() || pattern.size() != 1) {
    pattern.fail("expected {\"String\": ...} or {\"Regex\": ...}");
  }
  const bool literal = pattern.has("String");
  if (!literal && !pattern.has("Regex")) {
    pattern.fail("expected {\"String\": ...} or {\"Regex\": ...}");
  }
  const JsonRef source = pattern.at(literal ? "String" : "Regex");
  const std::string_view text = source.str_view();
  std::unique_ptr<Regex> regex;
  try {
    regex = literal ? Regex::literal(text) : std::make_unique<Regex>(text);
  } catch (const Error& e) {
    source.fail(e.what());
  }
  return std::make_unique<ReplaceDecoder>(std::move(regex), j.at("content").str());
}

}  // namespace mlhub::tok
