// BertNormalizer (tokenizers/src/normalizers/bert.rs, spec 5.1): clean text, space out CJK
// ideographs, strip accents (NFD then drop Mn, Unicode 8.0), lowercase — in that order.
#include <string>

#include "tokenizers/normalizers/normalizers.h"
#include "tokenizers/unicode.h"

namespace mlhub::tok {
namespace {

bool is_bert_whitespace(char32_t c) { return unicode::is_whitespace(c); }  // \t\n\r included

class BertNormalizer final : public Normalizer {
 public:
  BertNormalizer(bool clean_text, bool handle_chinese_chars, bool strip_accents, bool lowercase)
      : clean_text_(clean_text),
        handle_chinese_chars_(handle_chinese_chars),
        strip_accents_(strip_accents),
        lowercase_(lowercase) {}

  void normalize(NormalizedString& s) const override {
    // One scan decides which steps can be skipped: pure ASCII has no CJK chars, no accents and
    // only C0 controls, DEL and \t\n\r as cleaning work.
    unsigned char acc = 0;
    bool any_removed = false, any_space = false;
    for (char ch : s.get()) {
      auto b = static_cast<unsigned char>(ch);
      acc |= b;
      bool space = b == '\t' || b == '\n' || b == '\r';
      any_space |= space;
      any_removed |= (b < 0x20 && !space) || b == 0x7F;  // NUL, \v and \f are Cc
    }
    const bool ascii = acc < 0x80;
    if (clean_text_) {
      if (!ascii || any_removed) {
        s.filter([](char32_t c) {
          return !(c == 0 || c == 0xFFFD || unicode::is_bert_control(c));
        });
      }
      if (!ascii || any_space) s.map([](char32_t c) { return is_bert_whitespace(c) ? U' ' : c; });
    }
    if (handle_chinese_chars_ && !ascii) handle_chinese_chars(s);
    if (strip_accents_ && !ascii) {
      s.nfd();
      s.filter([](char32_t c) { return !unicode::is_mark_nonspacing_u8(c); });
    }
    if (lowercase_) s.lowercase();
  }

 private:
  static void handle_chinese_chars(NormalizedString& s) {
    const std::string& t = s.get();
    size_t i = 0;
    bool any = false;
    while (i < t.size() && !any) any = unicode::is_chinese_char(unicode::decode_utf8(t, i));
    if (!any) return;
    thread_local std::vector<NormalizedString::Change> changes;
    changes.clear();
    changes.reserve(t.size() + 16);
    i = 0;
    while (i < t.size()) {
      char32_t c = unicode::decode_utf8(t, i);
      if (unicode::is_chinese_char(c)) {
        changes.push_back({U' ', 0});
        changes.push_back({c, 1});
        changes.push_back({U' ', 1});
      } else {
        changes.push_back({c, 0});
      }
    }
    transform_like_reference(s, changes, 0);
  }

  bool clean_text_, handle_chinese_chars_, strip_accents_, lowercase_;
};

}  // namespace

std::unique_ptr<Normalizer> make_bert_normalizer(bool clean_text, bool handle_chinese_chars,
                                                 std::optional<bool> strip_accents,
                                                 bool lowercase) {
  return std::make_unique<BertNormalizer>(clean_text, handle_chinese_chars,
                                          strip_accents.value_or(lowercase), lowercase);
}

std::unique_ptr<Normalizer> bert_normalizer_from_json(const JsonRef& j) {
  bool clean_text = j.at("clean_text").boolean();
  bool handle_chinese_chars = j.at("handle_chinese_chars").boolean();
  std::optional<bool> strip_accents;
  if (auto v = j.get("strip_accents")) strip_accents = v->boolean();
  bool lowercase = j.at("lowercase").boolean();
  return make_bert_normalizer(clean_text, handle_chinese_chars, strip_accents, lowercase);
}

}  // namespace mlhub::tok
