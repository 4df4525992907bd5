// Replace (tokenizers/src/normalizers/replace.rs): replaces every non-overlapping match of a
// literal ({"String": s}) or Oniguruma regex ({"Regex": r}) with `content`.
#include "tokenizers/normalizers/normalizers.h"
#include "tokenizers/pre_tokenizers/pre_tokenizers.h"
#include "tokenizers/regex.h"
#include "tokenizers/unicode.h"

namespace mlhub::tok {
namespace {

class Replace final : public Normalizer {
 public:
  Replace(std::unique_ptr<Regex> regex, std::string content)
      : regex_(std::move(regex)), content_(std::move(content)) {}

  void normalize(NormalizedString& s) const override { s.replace(*regex_, content_); }

 private:
  std::unique_ptr<Regex> regex_;
  std::string content_;
};

}  // namespace

std::unique_ptr<Normalizer> make_replace(std::string_view pattern, bool is_regex,
                                         std::string content) {
  auto regex = is_regex ? std::make_unique<Regex>(pattern) : Regex::literal(pattern);
  return std::make_unique<Replace>(std::move(regex), std::move(content));
}

std::unique_ptr<Normalizer> replace_from_json(const JsonRef& j) {
  std::unique_ptr<Regex> regex = regex_from_pattern_json(j.at("pattern"));
  JsonRef content = j.at("content");
  std::string text = content.str();
  if (unicode::find_invalid_utf8(text)) content.fail("invalid UTF-8");
  return std::make_unique<Replace>(std::move(regex), std::move(text));
}

}  // namespace mlhub::tok
