// Split pre-tokenizer (pre_tokenizers/split.rs): splits on a literal string or an Oniguruma
// regex with one of the five delimiter behaviours, optionally inverting the matches.
#include <string>

#include "mlhub/core.h"
#include "tokenizers/pre_tokenizers/pre_tokenizers.h"
#include "tokenizers/regex.h"

namespace mlhub::tok {
namespace {

class SplitPreTokenizer final : public PreTokenizer {
 public:
  SplitPreTokenizer(std::unique_ptr<Regex> regex, SplitBehavior behavior, bool invert)
      : regex_(std::move(regex)), behavior_(behavior), invert_(invert) {}

  void pre_tokenize(PreTokenizedString& s) const override {
    const RegexPattern pattern(*regex_);
    const InvertedPattern inverted(pattern);
    const Pattern& p = invert_ ? static_cast<const Pattern&>(inverted) : pattern;
    s.split([&](size_t, NormalizedString n) { return n.split(p, behavior_); });
  }

 private:
  std::unique_ptr<Regex> regex_;
  SplitBehavior behavior_;
  bool invert_;
};

}  // namespace

// Reads a {"String": s} / {"Regex": r} pattern object (exactly one key) and compiles it; a
// compile error names the path of the pattern string.
std::unique_ptr<Regex> regex_from_pattern_json(const JsonRef& pattern) {
  if (!pattern.is_object() || pattern.size() != 1) {
    pattern.fail("expected an object with a single key \"String\" or \"Regex\"");
  }
  const bool is_string = pattern.raw().contains("String");
  if (!is_string && !pattern.raw().contains("Regex")) {
    pattern.fail("expected an object with a single key \"String\" or \"Regex\"");
  }
  JsonRef value = pattern.at(is_string ? "String" : "Regex");
  std::string_view text = value.str_view();
  try {
    if (is_string) return Regex::literal(text);
    return std::make_unique<Regex>(text);
  } catch (const Error& e) {
    value.fail(e.what());
  }
}

std::unique_ptr<PreTokenizer> split_from_json(const JsonRef& j) {
  std::unique_ptr<Regex> regex = regex_from_pattern_json(j.at("pattern"));
  if (!j.raw().contains("behavior")) j.at("behavior");  // throws "missing required field"
  auto behavior = behavior_or_null(j, "behavior");
  if (!behavior) j.at("behavior").fail("expected a split behavior, got null");
  bool invert = j.at("invert").boolean();
  return std::make_unique<SplitPreTokenizer>(std::move(regex), *behavior, invert);
}

}  // namespace mlhub::tok
