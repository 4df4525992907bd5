// UnicodeScripts pre-tokenizer (pre_tokenizers/unicode_scripts/, spec 6.6): cuts where the
// script (SentencePiece's frozen table) changes; Any chars never cut and join the run before.
#include <algorithm>

#include "mlhub/core.h"
#include "tokenizers/pre_tokenizers/pre_tokenizers.h"
#include "tokenizers/unicode.h"

namespace mlhub::tok {
namespace {

struct ScriptRange {
  char32_t first;
  char32_t last;
  uint8_t script;
};

#include "tokenizers/pre_tokenizers/unicode_scripts_table.inc"

uint8_t raw_script(char32_t c) {
  const auto* end = std::end(kScriptRanges);
  const auto* it = std::upper_bound(std::begin(kScriptRanges), end, c,
                                    [](char32_t v, const ScriptRange& r) { return v < r.first; });
  if (it == std::begin(kScriptRanges)) return kScriptAny;
  --it;
  return c <= it->last ? it->script : kScriptAny;
}

class UnicodeScripts final : public PreTokenizer {
 public:
  void pre_tokenize(PreTokenizedString& s) const override {
    s.split([](size_t, NormalizedString n) {
      const std::string& text = n.get();
      // A cut before every non-Any char whose script differs from the last non-Any script
      // (none at the start). As in the reference, the first piece starts at the first cut, so
      // leading Any chars (e.g. spaces) are dropped and an all-Any piece vanishes.
      std::vector<size_t> cuts;
      int last = -1;
      size_t i = 0;
      while (i < text.size()) {
        size_t b = i;
        uint8_t script = unicode_script(unicode::decode_utf8(text, i));
        if (script != kScriptAny) {
          if (last != script) cuts.push_back(b);
          last = script;
        }
      }
      cuts.push_back(text.size());
      std::vector<NormalizedString> out;
      out.reserve(cuts.size());
      for (size_t k = 0; k + 1 < cuts.size(); ++k) {
        auto piece = n.slice(cuts[k], cuts[k + 1]);
        if (!piece) throw Error(StatusCode::kInternal, "UnicodeScripts: bad split");
        out.push_back(std::move(*piece));
      }
      return out;
    });
  }
};

}  // namespace

uint8_t unicode_script(char32_t c) {
  if (c == 0x30FC) return kScriptHan;
  if (c == U' ') return kScriptAny;
  uint8_t s = raw_script(c);
  return s == kScriptHiragana || s == kScriptKatakana ? kScriptHan : s;
}

std::unique_ptr<PreTokenizer> unicode_scripts_from_json(const JsonRef&) {
  return std::make_unique<UnicodeScripts>();
}

}  // namespace mlhub::tok
