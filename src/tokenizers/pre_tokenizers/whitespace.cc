// Whitespace and WhitespaceSplit (pre_tokenizers/whitespace.rs).
#include "tokenizers/pre_tokenizers/pre_tokenizers.h"
#include "tokenizers/unicode.h"

namespace mlhub::tok {
namespace {

// Inverse of the Rust `regex` crate's `\w+|[^\w\s]+` (\w = Alphabetic, M, Nd, Pc,
// Join_Control; \s = White_Space): runs of word chars and runs of other non-space chars are
// `false` segments (kept by Removed), whitespace runs are `true` (removed).
class WordOrSymbolRuns final : public Pattern {
 public:
  std::vector<std::tuple<size_t, size_t, bool>> find_matches(std::string_view text) const override {
    enum Kind { kSpace, kWord, kSymbol };
    std::vector<std::tuple<size_t, size_t, bool>> out;
    if (text.empty()) {
      out.emplace_back(0, 0, true);
      return out;
    }
    size_t run_start = 0;
    int run_kind = -1;
    size_t i = 0;
    while (i < text.size()) {
      size_t b = i;
      char32_t c = unicode::decode_utf8(text, i);
      int kind = unicode::is_word_char(c) ? kWord : unicode::is_whitespace(c) ? kSpace : kSymbol;
      if (kind != run_kind) {
        if (run_kind >= 0) out.emplace_back(run_start, b, run_kind == kSpace);
        run_start = b;
        run_kind = kind;
      }
    }
    out.emplace_back(run_start, text.size(), run_kind == kSpace);
    return out;
  }
};

class Whitespace final : public PreTokenizer {
 public:
  void pre_tokenize(PreTokenizedString& s) const override {
    static const WordOrSymbolRuns kPattern;
    s.split([](size_t, NormalizedString n) { return n.split(kPattern, SplitBehavior::kRemoved); });
  }
};

class WhitespaceSplit final : public PreTokenizer {
 public:
  void pre_tokenize(PreTokenizedString& s) const override {
    static const CharPredicatePattern kWhitespace(unicode::is_whitespace);
    s.split(
        [](size_t, NormalizedString n) { return n.split(kWhitespace, SplitBehavior::kRemoved); });
  }
};

}  // namespace

std::unique_ptr<PreTokenizer> make_whitespace_split() {
  return std::make_unique<WhitespaceSplit>();
}

std::unique_ptr<PreTokenizer> whitespace_from_json(const JsonRef&) {
  return std::make_unique<Whitespace>();
}

std::unique_ptr<PreTokenizer> whitespace_split_from_json(const JsonRef&) {
  return make_whitespace_split();
}

}  // namespace mlhub::tok
