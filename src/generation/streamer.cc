// TextStreamer: generated ids -> text pieces that never split a UTF-8 character. The window
// logic is the Rust tokenizers DecodeStream's (decode the unreleased ids with some context, hold
// while the text ends in U+FFFD), so leading-space rules of the decoder apply as in a full
// decode. transformers' TextStreamer instead releases text up to the last space (or newline /
// CJK character): it re-decodes the whole cache each time and must guard against later tokens
// rewriting earlier text; the window makes that unnecessary, so we release every complete
// character, which is what a chat UI wants.
#include "mlhub/generation.h"

namespace mlhub::generation {
namespace {

const std::string kReplacement = "\xEF\xBF\xBD";

bool ends_incomplete(const std::string& text) {
  return text.size() >= 3 && text.compare(text.size() - 3, 3, kReplacement) == 0;
}

}  // namespace

TextStreamer::TextStreamer(const tok::Tokenizer& tokenizer, Callback callback, bool skip_prompt,
                           bool skip_special_tokens)
    : tokenizer_(&tokenizer),
      callback_(std::move(callback)),
      skip_prompt_(skip_prompt),
      skip_special_tokens_(skip_special_tokens) {}

Status TextStreamer::put_prompt(std::span<const int64_t> ids) {
  for (int64_t id : ids) {
    Status s = feed(id, !skip_prompt_);
    if (!s.ok()) return s;
  }
  return Status();
}

Status TextStreamer::put(int64_t id) {
  return feed(id, true);
}

Status TextStreamer::feed(int64_t id, bool emit) {
  if (id < 0 || id > static_cast<int64_t>(UINT32_MAX)) {
    return Status::invalid_argument("streamer: token id out of range");
  }
  ids_.push_back(static_cast<uint32_t>(id));
  auto text = tokenizer_->decode(ids_, skip_special_tokens_);
  if (!text.ok()) return text.status();
  if (text->size() <= prefix_.size() || ends_incomplete(*text)) return Status();
  if (text->compare(0, prefix_.size(), prefix_) != 0) {
    return Status::internal("streamer: the decoded text does not extend its prefix");
  }
  std::string piece = text->substr(prefix_.size());
  // Keep the ids from prefix_index_ on as context for the next token.
  const size_t new_prefix_index = ids_.size() - prefix_index_;
  ids_.erase(ids_.begin(), ids_.begin() + static_cast<std::ptrdiff_t>(prefix_index_));
  auto prefix = tokenizer_->decode(ids_, skip_special_tokens_);
  if (!prefix.ok()) return prefix.status();
  prefix_ = std::move(*prefix);
  prefix_index_ = new_prefix_index;
  if (emit && callback_) callback_(piece);
  return Status();
}

Status TextStreamer::end() {
  auto text = tokenizer_->decode(ids_, skip_special_tokens_);
  if (!text.ok()) return text.status();
  if (text->size() > prefix_.size() && text->compare(0, prefix_.size(), prefix_) == 0) {
    if (callback_) callback_(std::string_view(*text).substr(prefix_.size()));
  }
  ids_.clear();
  prefix_.clear();
  prefix_index_ = 0;
  return Status();
}

}  // namespace mlhub::generation
