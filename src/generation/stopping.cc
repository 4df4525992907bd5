// Stopping: finish reasons and transformers' StopStringCriteria (stopping_criteria.py, 4.57)
// written as a plain string check: a stop string must occur in the text of the last tokens and
// end inside the last token. transformers vectorises the same condition over precomputed
// per-token overlap tables; here the last few token strings are concatenated and searched.
#include <algorithm>

#include "mlhub/generation.h"

namespace mlhub::generation {

std::string_view finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::kNone:
      return "none";
    case FinishReason::kLength:
      return "length";
    case FinishReason::kEos:
      return "eos";
    case FinishReason::kStopString:
      return "stop";
    case FinishReason::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

StopStringMatcher::StopStringMatcher(std::vector<std::string> stop_strings,
                                     std::shared_ptr<const std::vector<std::string>> token_strings)
    : stop_strings_(std::move(stop_strings)), token_strings_(std::move(token_strings)) {
  for (const auto& s : stop_strings_) max_stop_length_ = std::max(max_stop_length_, s.size());
}

bool StopStringMatcher::matches(std::span<const int64_t> tokens) const {
  if (tokens.empty() || stop_strings_.empty()) return false;
  const auto& table = *token_strings_;
  auto text_of = [&](int64_t id) -> std::string_view {
    return id >= 0 && static_cast<size_t>(id) < table.size() ? std::string_view(table[id]) : "";
  };
  const std::string_view last = text_of(tokens.back());
  if (last.empty()) return false;
  // Text before the last token, enough of it to hold any stop string. transformers looks at the
  // last max(len(stop_string)) tokens only (counted in characters there, bytes here: a superset
  // that differs only when tokens of empty text sit inside a stop string).
  std::string before;
  const size_t window = tokens.size() > max_stop_length_ ? tokens.size() - 1 - max_stop_length_ : 0;
  for (size_t i = tokens.size() - 1; i > window && before.size() < max_stop_length_; --i) {
    before.insert(0, text_of(tokens[i - 1]));
  }
  const std::string text = before + std::string(last);
  const size_t last_begin = before.size();
  for (const auto& s : stop_strings_) {
    // An occurrence ending at e with last_begin < e <= text.size().
    for (size_t e = std::max(last_begin + 1, s.size()); e <= text.size(); ++e) {
      if (text.compare(e - s.size(), s.size(), s) == 0) return true;
    }
  }
  return false;
}

Result<std::vector<std::string>> token_strings_for(const tok::Tokenizer& tokenizer) {
  return catch_errors([&]() -> std::vector<std::string> {
    static constexpr std::string_view kPrefix = "abcdef";
    auto enc = tokenizer.encode(kPrefix, /*add_special_tokens=*/false);
    if (!enc.ok()) throw Error(enc.status());
    std::vector<uint32_t> ids = enc->ids;
    const size_t n = tokenizer.vocab_size(true);
    std::vector<std::string> out(n);
    ids.push_back(0);
    for (size_t id = 0; id < n; ++id) {
      ids.back() = static_cast<uint32_t>(id);
      auto text = tokenizer.decode(ids, /*skip_special_tokens=*/false);
      if (!text.ok()) continue;  // ids missing from the vocabulary decode to nothing
      const size_t at = text->find(kPrefix);
      out[id] = at == std::string::npos ? *text : text->substr(at + kPrefix.size());
    }
    return out;
  });
}

}  // namespace mlhub::generation
