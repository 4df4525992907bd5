// Hand-written matchers for the GPT-2, cl100k (Llama-3), Qwen2 and o200k pre-tokenization
// regexes; see regex_fast.h. Each reproduces Oniguruma's leftmost-first backtracking for its
// pattern: every position of the text starts a match (each alternative set covers all chars), so
// the matches tile the text and find_iter's empty-match rule never applies.
#include "tokenizers/regex_fast.h"

#include <oniguruma.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "mlhub/core.h"

namespace mlhub::tok {
namespace {

// Class bits of a code point.
constexpr uint8_t kL = 1;   // \p{L}
constexpr uint8_t kN = 2;   // \p{N}
constexpr uint8_t kS = 4;   // \s
constexpr uint8_t kU = 8;   // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] (o200k's upper-case-ish class)
constexpr uint8_t kW = 16;  // [\p{Ll}\p{Lm}\p{Lo}\p{M}] (o200k's lower-case-ish class)

// The classes above as Oniguruma's UTF-8 encoding defines them, copied from its own tables so
// that the matchers agree with the engine on every code point (Unicode version included).
class CharClasses {
 public:
  CharClasses() {
    std::vector<uint8_t> all(0x110000, 0);
    OnigEncoding enc = ONIG_ENCODING_UTF8;
    auto add = [&](int ctype, uint8_t bit) {
      OnigCodePoint sb_out = 0;
      const OnigCodePoint* ranges = nullptr;
      if (ctype < 0 ||
          enc->get_ctype_code_range(static_cast<OnigCtype>(ctype), &sb_out, &ranges) != 0 ||
          ranges == nullptr) {
        throw Error(StatusCode::kInternal,
                    "Oniguruma: no code ranges for ctype " + std::to_string(ctype));
      }
      for (OnigCodePoint k = 0; k < ranges[0]; ++k) {
        for (OnigCodePoint c = ranges[1 + 2 * k]; c <= ranges[2 + 2 * k] && c < all.size(); ++c)
          all[c] |= bit;
      }
    };
    auto property = [&](const char* name) {
      auto* p = reinterpret_cast<OnigUChar*>(const_cast<char*>(name));
      return enc->property_name_to_ctype(enc, p, p + std::char_traits<char>::length(name));
    };
    add(ONIGENC_CTYPE_SPACE, kS);
    add(property("L"), kL);
    add(property("N"), kN);
    for (const char* name : {"Lu", "Lt", "Lm", "Lo", "M"}) add(property(name), kU);
    for (const char* name : {"Ll", "Lm", "Lo", "M"}) add(property(name), kW);
    for (size_t c = 0; c < bmp_.size(); ++c) bmp_[c] = all[c];
    for (size_t c = 0x10000; c < all.size(); ++c) {
      if (astral_.empty() || astral_.back().cls != all[c])
        astral_.push_back({static_cast<char32_t>(c), all[c]});
    }
  }

  // Class bits of the char at t[i]; sets len to its byte length.
  uint8_t at(std::string_view t, size_t i, size_t& len) const {
    auto b0 = static_cast<unsigned char>(t[i]);
    if (b0 < 0x80) {
      len = 1;
      return bmp_[b0];
    }
    size_t n = b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : 4;
    if (b0 < 0xC0 || i + n > t.size()) {  // not a valid lead byte: a one-byte symbol
      len = 1;
      return 0;
    }
    len = n;
    auto cont = [&](size_t k) {
      return static_cast<char32_t>(static_cast<unsigned char>(t[i + k]) & 0x3F);
    };
    if (n == 2) return bmp_[((b0 & 0x1F) << 6) | cont(1)];
    if (n == 3) return bmp_[((b0 & 0x0F) << 12) | (cont(1) << 6) | cont(2)];
    return astral(((b0 & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3));
  }

 private:
  struct Run {
    char32_t first;
    uint8_t cls;
  };

  uint8_t astral(char32_t c) const {
    size_t lo = 0, hi = astral_.size();  // last run with first <= c
    while (hi - lo > 1) {
      size_t mid = (lo + hi) / 2;
      (astral_[mid].first <= c ? lo : hi) = mid;
    }
    return astral_.empty() || c > 0x10FFFF ? 0 : astral_[lo].cls;
  }

  std::array<uint8_t, 0x10000> bmp_{};
  std::vector<Run> astral_;
};

const CharClasses& classes() {
  static const CharClasses cc;
  return cc;
}

constexpr bool is_other(uint8_t k) {
  return (k & (kL | kN | kS)) == 0;
}  // [^\s\p{L}\p{N}]

// End of the run of chars from i whose class satisfies pred.
template <typename Pred>
size_t run(const CharClasses& cc, std::string_view t, size_t i, Pred pred) {
  size_t len;
  while (i < t.size() && pred(cc.at(t, i, len))) i += len;
  return i;
}

// The whitespace alternatives at p (a \s char): `\s*[\r\n]+` when `crlf_alt`, then
// `\s+(?!\S)`, then `\s+`.
size_t whitespace_at(const CharClasses& cc, std::string_view t, size_t p, bool crlf_alt) {
  size_t e = p, last = p, count = 0, len;
  size_t last_crlf = std::string_view::npos;
  while (e < t.size() && (cc.at(t, e, len) & kS)) {
    if (t[e] == '\r' || t[e] == '\n') last_crlf = e;
    last = e;
    e += len;
    ++count;
  }
  // \s* gives chars back until [\r\n]+ can match: it ends right after the run's last CR/LF.
  if (crlf_alt && last_crlf != std::string_view::npos) return last_crlf + 1;
  // \s+(?!\S): the whole run at the end of the text, else the run minus its last char (the
  // next char is \S); a one-char run before \S falls through to plain \s+.
  if (e == t.size() || count < 2) return e;
  return last;
}

// 's|'t|'re|'ve|'m|'ll|'d at p, case-sensitive; returns the end or 0.
size_t contraction_at(std::string_view t, size_t p) {
  if (t[p] != '\'' || p + 1 >= t.size()) return 0;
  char c1 = t[p + 1];
  if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return p + 2;
  if (p + 2 < t.size()) {
    char c2 = t[p + 2];
    if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l'))
      return p + 3;
  }
  return 0;
}

// (?i:'s|'t|'re|'ve|'m|'ll|'d) at p; returns the end or 0. Besides ASCII case, Unicode case
// folding maps U+017F (long s) to s; no other char folds to these letters.
size_t contraction_ci_at(std::string_view t, size_t p) {
  const size_t n = t.size();
  if (t[p] != '\'' || p + 1 >= n) return 0;
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
  char c1 = lower(t[p + 1]);
  if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return p + 2;
  if (t[p + 1] == '\xC5' && p + 2 < n && t[p + 2] == '\xBF') return p + 3;  // 'ſ
  if (p + 2 < n) {
    char c2 = lower(t[p + 2]);
    if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l'))
      return p + 3;
  }
  return 0;
}

// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
size_t gpt2_at(const CharClasses& cc, std::string_view t, size_t p) {
  if (size_t e = contraction_at(t, p)) return e;
  size_t len0;
  const uint8_t k0 = cc.at(t, p, len0);
  if (t[p] == ' ' && p + 1 < t.size()) {
    size_t len1;
    const uint8_t k1 = cc.at(t, p + 1, len1);
    if (k1 & kL) return run(cc, t, p + 1, [](uint8_t k) { return (k & kL) != 0; });
    if (k1 & kN) return run(cc, t, p + 1, [](uint8_t k) { return (k & kN) != 0; });
    if (is_other(k1)) return run(cc, t, p + 1, is_other);
  }
  if (k0 & kL) return run(cc, t, p, [](uint8_t k) { return (k & kL) != 0; });
  if (k0 & kN) return run(cc, t, p, [](uint8_t k) { return (k & kN) != 0; });
  if (is_other(k0)) return run(cc, t, p, is_other);
  return whitespace_at(cc, t, p, /*crlf_alt=*/false);
}

// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,max_digits}|
//  ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
size_t cl100k_at(const CharClasses& cc, std::string_view t, size_t p, int max_digits) {
  if (size_t e = contraction_ci_at(t, p)) return e;
  const size_t n = t.size();
  auto letters = [](uint8_t k) { return (k & kL) != 0; };
  auto crlf_run = [&](size_t i) {
    while (i < n && (t[i] == '\r' || t[i] == '\n')) ++i;
    return i;
  };
  size_t len0, len1;
  const char c0 = t[p];
  const uint8_t k0 = cc.at(t, p, len0);
  // [^\r\n\p{L}\p{N}]?\p{L}+ : first with the optional prefix char, then without.
  if (c0 != '\r' && c0 != '\n' && !(k0 & (kL | kN)) && p + len0 < n &&
      (cc.at(t, p + len0, len1) & kL)) {
    return run(cc, t, p + len0, letters);
  }
  if (k0 & kL) return run(cc, t, p, letters);
  if (k0 & kN) {
    size_t e = p + len0;
    for (int d = 1; d < max_digits && e < n && (cc.at(t, e, len1) & kN); ++d) e += len1;
    return e;
  }
  if (c0 == ' ' && p + 1 < n && is_other(cc.at(t, p + 1, len1))) {
    return crlf_run(run(cc, t, p + 1, is_other));
  }
  if (is_other(k0)) return crlf_run(run(cc, t, p, is_other));
  return whitespace_at(cc, t, p, /*crlf_alt=*/true);
}

// [^\r\n\p{L}\p{N}]?[U]*[W]+(?i:'s|...)? and [^\r\n\p{L}\p{N}]?[U]+[W]*(?i:'s|...)? of
// o200k, from q (after the optional prefix char): the end of the letters, or npos.
size_t o200k_letters(const CharClasses& cc, std::string_view t, size_t q, bool upper_star) {
  constexpr size_t npos = std::string_view::npos;
  size_t u_end = q, last_w_end = npos, len;
  while (u_end < t.size()) {
    uint8_t k = cc.at(t, u_end, len);
    if (!(k & kU)) break;
    u_end += len;
    if (k & kW) last_w_end = u_end;
  }
  auto lower = [](uint8_t k) { return (k & kW) != 0; };
  if (upper_star) {
    // [U]*[W]+: W+ right after the U run, else U* gives back chars until one is also W.
    if (u_end < t.size() && (cc.at(t, u_end, len) & kW)) return run(cc, t, u_end, lower);
    return last_w_end;
  }
  return u_end == q ? npos : run(cc, t, u_end, lower);  // [U]+[W]*
}

// [^\r\n\p{L}\p{N}]?[U]*[W]+C?|[^\r\n\p{L}\p{N}]?[U]+[W]*C?|\p{N}{1,3}|
//  ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+   (C = the case-insensitive contractions)
size_t o200k_at(const CharClasses& cc, std::string_view t, size_t p) {
  const size_t n = t.size();
  size_t len0, len1;
  const char c0 = t[p];
  const uint8_t k0 = cc.at(t, p, len0);
  const bool prefix = c0 != '\r' && c0 != '\n' && !(k0 & (kL | kN)) && p + len0 < n;
  auto with_contraction = [&](size_t e) {
    size_t c = e < n ? contraction_ci_at(t, e) : 0;
    return c ? c : e;
  };
  for (bool upper_star : {true, false}) {
    if (prefix) {
      size_t e = o200k_letters(cc, t, p + len0, upper_star);
      if (e != std::string_view::npos) return with_contraction(e);
    }
    size_t e = o200k_letters(cc, t, p, upper_star);
    if (e != std::string_view::npos) return with_contraction(e);
  }
  if (k0 & kN) {
    size_t e = p + len0;
    for (int d = 1; d < 3 && e < n && (cc.at(t, e, len1) & kN); ++d) e += len1;
    return e;
  }
  auto crlf_slash_run = [&](size_t i) {
    while (i < n && (t[i] == '\r' || t[i] == '\n' || t[i] == '/')) ++i;
    return i;
  };
  if (c0 == ' ' && p + 1 < n && is_other(cc.at(t, p + 1, len1))) {
    return crlf_slash_run(run(cc, t, p + 1, is_other));
  }
  if (is_other(k0)) return crlf_slash_run(run(cc, t, p, is_other));
  return whitespace_at(cc, t, p, /*crlf_alt=*/true);
}

std::string with_literal_crlf(std::string_view pattern) {
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern.substr(i, 4) == R"(\r\n)") {
      out += "\r\n";
      i += 3;
    } else {
      out += pattern[i];
    }
  }
  return out;
}

}  // namespace

FastMatcher fast_matcher_for(std::string_view pattern) {
  static const std::string kCl100kLiteral = with_literal_crlf(kCl100kPattern);
  static const std::string kQwen2Literal = with_literal_crlf(kQwen2Pattern);
  static const std::string kO200kLiteral = with_literal_crlf(kO200kPattern);
  FastMatcher m = FastMatcher::kNone;
  if (pattern == kGpt2Pattern) {
    m = FastMatcher::kGpt2;
  } else if (pattern == kCl100kPattern || pattern == kCl100kLiteral) {
    m = FastMatcher::kCl100k;
  } else if (pattern == kQwen2Pattern || pattern == kQwen2Literal) {
    m = FastMatcher::kQwen2;
  } else if (pattern == kO200kPattern || pattern == kO200kLiteral) {
    m = FastMatcher::kO200k;
  }
  if (m != FastMatcher::kNone) classes();  // build the tables now, not inside a search
  return m;
}

void fast_find_all(FastMatcher m, std::string_view text,
                   std::vector<std::pair<size_t, size_t>>& out) {
  const CharClasses& cc = classes();
  out.reserve(out.size() + text.size() / 4 + 1);
  size_t p = 0;
  while (p < text.size()) {
    size_t e = 0;
    switch (m) {
      case FastMatcher::kGpt2:
        e = gpt2_at(cc, text, p);
        break;
      case FastMatcher::kCl100k:
        e = cl100k_at(cc, text, p, 3);
        break;
      case FastMatcher::kO200k:
        e = o200k_at(cc, text, p);
        break;
      case FastMatcher::kQwen2:
        e = cl100k_at(cc, text, p, 1);
        break;
      case FastMatcher::kNone:
        return;
    }
    out.emplace_back(p, e);
    p = e;
  }
}

}  // namespace mlhub::tok
