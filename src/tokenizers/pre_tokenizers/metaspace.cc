// Metaspace pre-tokenizer (pre_tokenizers/metaspace.rs, spec 6.5): spaces become the
// replacement char, a replacement is prepended per the prepend scheme, then the piece is split
// before every replacement char.
#include <string>

#include "tokenizers/pre_tokenizers/pre_tokenizers.h"
#include "tokenizers/regex.h"
#include "tokenizers/unicode.h"

namespace mlhub::tok {
namespace {

class Metaspace final : public PreTokenizer {
 public:
  Metaspace(char32_t replacement, PrependScheme scheme, bool split)
      : replacement_(replacement),
        str_rep_(unicode::to_utf8(replacement)),
        scheme_(scheme),
        split_(split),
        space_(Regex::literal(" ")),
        is_replacement_([replacement](char32_t c) { return c == replacement; }) {}

  void pre_tokenize(PreTokenizedString& s) const override {
    s.split([&](size_t, NormalizedString n) {
      n.replace(*space_, str_rep_);
      bool starts_with_rep = n.get().starts_with(str_rep_);
      // "first" only prefixes the piece that begins the input (original offset 0), so text
      // after an added token gets no prefix.
      if (!starts_with_rep &&
          (scheme_ == PrependScheme::kAlways ||
           (scheme_ == PrependScheme::kFirst && n.offsets_original().first == 0))) {
        n.prepend(str_rep_);
      }
      if (split_) return n.split(is_replacement_, SplitBehavior::kMergedWithNext);
      std::vector<NormalizedString> out;
      out.push_back(std::move(n));
      return out;
    });
  }

 private:
  char32_t replacement_;
  std::string str_rep_;
  PrependScheme scheme_;
  bool split_;
  std::unique_ptr<Regex> space_;
  CharPredicatePattern is_replacement_;
};

}  // namespace

std::unique_ptr<PreTokenizer> make_metaspace(char32_t replacement, PrependScheme scheme,
                                             bool split) {
  return std::make_unique<Metaspace>(replacement, scheme, split);
}

std::unique_ptr<PreTokenizer> metaspace_from_json(const JsonRef& j) {
  char32_t replacement = json_char(j, "replacement");
  PrependScheme scheme = PrependScheme::kAlways;
  if (auto v = j.get("prepend_scheme")) {
    std::string_view s = v->str_view();
    if (s == "always") {
      scheme = PrependScheme::kAlways;
    } else if (s == "first") {
      scheme = PrependScheme::kFirst;
    } else if (s == "never") {
      scheme = PrependScheme::kNever;
    } else {
      v->fail("unknown prepend_scheme \"" + std::string(s) +
              "\" (expected first, never or always)");
    }
  }
  // Legacy files: add_prefix_space false means "never" and must agree with prepend_scheme,
  // whose default is "always" (so {"add_prefix_space": false} alone is rejected, as in Rust).
  if (auto v = j.get("add_prefix_space"); v && !v->boolean()) {
    if (scheme != PrependScheme::kNever)
      v->fail("add_prefix_space does not match declared prepend_scheme");
  }
  return make_metaspace(replacement, scheme, j.bool_or("split", true));
}

}  // namespace mlhub::tok
