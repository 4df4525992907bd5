// Oniguruma wrapper with the semantics of the Rust `onig` crate (Regex::new + find_iter), which
// is what tokenizers' SysRegex uses for Split, Replace and the ByteLevel GPT-2 regex.
#include "tokenizers/regex.h"

#include <oniguruma.h>

#include <mutex>

#include "mlhub/core.h"
#include "tokenizers/regex_fast.h"
#include "tokenizers/unicode.h"

namespace mlhub::tok {
namespace {

void init_oniguruma() {
  static std::once_flag once;
  std::call_once(once, [] {
    OnigEncoding encodings[] = {ONIG_ENCODING_UTF8};
    onig_initialize(encodings, 1);
  });
}

std::string onig_message(int code, OnigErrorInfo* info) {
  OnigUChar buf[ONIG_MAX_ERROR_MESSAGE_LEN + 1] = {};
  if (info != nullptr) {
    onig_error_code_to_str(buf, code, info);
  } else {
    onig_error_code_to_str(buf, code);
  }
  return reinterpret_cast<const char*>(buf);
}

// What regex_ points at: the compiled Oniguruma regex plus an optional hand-written matcher
// used instead of Oniguruma for patterns it reproduces exactly.
struct Impl {
  OnigRegex onig = nullptr;
  FastMatcher fast = FastMatcher::kNone;
  bool is_literal = false;  // pattern is a regex-escaped literal (no metacharacter)
  std::string literal;      // the unescaped literal when is_literal

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    if (onig != nullptr) onig_free(onig);
  }
};

// Frees an OnigRegion on scope exit.
struct RegionGuard {
  OnigRegion* region;
  ~RegionGuard() { onig_region_free(region, 1); }
};

}  // namespace

Regex::Regex(std::string_view pattern) : pattern_(pattern) {
  init_oniguruma();
  auto impl = std::make_unique<Impl>();
  const auto* begin = reinterpret_cast<const OnigUChar*>(pattern_.data());
  OnigErrorInfo info{};
  int r = onig_new(&impl->onig, begin, begin + pattern_.size(), ONIG_OPTION_NONE,
                   ONIG_ENCODING_UTF8, ONIG_SYNTAX_ONIGURUMA, &info);
  if (r != ONIG_NORMAL) {
    throw Error(StatusCode::kInvalidArgument,
                "invalid regex /" + pattern_ + "/: " + onig_message(r, &info));
  }
  impl->fast = fast_matcher_for(pattern_);
  regex_ = impl.release();
}

Regex::~Regex() {
  delete static_cast<Impl*>(regex_);
}

std::unique_ptr<Regex> Regex::literal(std::string_view literal) {
  auto re = std::make_unique<Regex>(regex_escape(literal));
  auto* impl = static_cast<Impl*>(re->regex_);
  impl->is_literal = true;
  impl->literal = std::string(literal);
  return re;
}

std::vector<std::pair<size_t, size_t>> Regex::find_all(std::string_view text) const {
  const auto* impl = static_cast<const Impl*>(regex_);
  std::vector<std::pair<size_t, size_t>> out;
  if (impl->fast != FastMatcher::kNone) {
    fast_find_all(impl->fast, text, out);
    return out;
  }
  if (impl->is_literal && !impl->literal.empty()) {
    // A non-empty literal matches where the byte string occurs; on valid UTF-8 such a match
    // always lies on char boundaries, so this equals the Oniguruma result.
    const std::string& lit = impl->literal;
    size_t pos = text.find(lit);
    while (pos != std::string_view::npos) {
      out.emplace_back(pos, pos + lit.size());
      pos = text.find(lit, pos + lit.size());
    }
    return out;
  }

  OnigRegion* region = onig_region_new();
  if (region == nullptr) throw Error(StatusCode::kInternal, "out of memory (OnigRegion)");
  RegionGuard guard{region};
  // Oniguruma needs a real pointer even for empty text.
  const auto* str = reinterpret_cast<const OnigUChar*>(text.empty() ? "" : text.data());
  const OnigUChar* end = str + text.size();
  size_t last_end = 0;
  bool have_last = false;
  size_t last_match_end = 0;
  // onig find_iter: search [last_end, len]; an empty match ending where the previous match
  // ended is dropped and the search restarts one char later.
  while (last_end <= text.size()) {
    int r = onig_search(impl->onig, str, end, str + last_end, end, region, ONIG_OPTION_NONE);
    if (r == ONIG_MISMATCH) break;
    if (r < 0) {
      throw Error(StatusCode::kInvalidArgument,
                  "regex /" + pattern_ + "/: search failed: " + onig_message(r, nullptr));
    }
    size_t s = static_cast<size_t>(region->beg[0]);
    size_t e = static_cast<size_t>(region->end[0]);
    if (s == e && have_last && last_match_end == e) {
      last_end += last_end < text.size()
                      ? unicode::utf8_seq_len(static_cast<unsigned char>(text[last_end]))
                      : 1;
      continue;
    }
    last_end = e;
    last_match_end = e;
    have_last = true;
    out.emplace_back(s, e);
  }
  return out;
}

std::string regex_escape(std::string_view s) {
  // The metacharacters of Rust regex-syntax's is_meta_character (what regex::escape escapes);
  // Oniguruma reads each escaped punctuation char as itself.
  std::string out;
  out.reserve(s.size());
  constexpr std::string_view kMeta = R"(\.+*?()|[]{}^$#&-~)";
  for (char c : s) {
    if (kMeta.find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

}  // namespace mlhub::tok
