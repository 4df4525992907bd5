// WordPiece model (spec section 8.2), mirroring tokenizers/src/models/wordpiece/mod.rs of
// huggingface/tokenizers 0.22.2: greedy longest-match-first, whole word -> unk when any
// position has no match or the word has more than max_input_chars_per_word chars.
#include "tokenizers/models/models.h"
#include "tokenizers/models/vocab.h"

namespace mlhub::tok {

namespace {

bool is_continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

class WordPiece final : public Model {
 public:
  WordPiece(Vocab vocab, std::string unk, std::string prefix, uint64_t max_chars)
      : vocab_(std::move(vocab)), unk_(std::move(unk)), prefix_(std::move(prefix)),
        max_chars_(max_chars) {}

  std::vector<Token> tokenize(std::string_view piece) const override;
  std::optional<uint32_t> token_to_id(std::string_view token) const override {
    return vocab_.get(token);
  }
  std::optional<std::string_view> id_to_token(uint32_t id) const override {
    return vocab_.token(id);
  }
  size_t vocab_size() const override { return vocab_.size(); }

 private:
  std::vector<Token> unk_word(size_t len) const {
    uint32_t id;
    if (!vocab_.find(unk_, &id)) {
      throw Error(StatusCode::kInvalidArgument,
                  "WordPiece: unk token \"" + unk_ + "\" is missing from the vocabulary");
    }
    return {Token{id, unk_, {0, len}}};
  }

  Vocab vocab_;
  std::string unk_;
  std::string prefix_;
  uint64_t max_chars_;
};

std::vector<Token> WordPiece::tokenize(std::string_view piece) const {
  const size_t n = piece.size();
  // Char count, stopping as soon as it exceeds the limit ("a" x 50000 costs 101 steps).
  uint64_t chars = 0;
  for (size_t i = 0; i < n && chars <= max_chars_; ++i) chars += !is_continuation_byte(piece[i]);
  if (chars > max_chars_) return unk_word(n);

  std::vector<Token> out;
  // Continuation lookups need prefix + piece[start..end) contiguous: `buf` holds prefix +
  // piece[start..] and each try looks at a shorter view of it.
  thread_local std::string buf;
  const size_t max_len = vocab_.max_token_len();
  size_t start = 0;
  while (start < n) {
    std::string_view rest = piece.substr(start);
    size_t pre = 0;
    if (start > 0) {
      buf.assign(prefix_);
      buf.append(rest);
      rest = buf;
      pre = prefix_.size();
    }
    // Substrings longer than the longest vocabulary entry cannot match: start below that.
    size_t end = n;
    if (pre + (end - start) > max_len) {
      end = max_len >= pre ? start + (max_len - pre) : start;
      while (end > start && is_continuation_byte(piece[end])) --end;
    }
    bool found = false;
    while (start < end) {
      std::string_view key = rest.substr(0, pre + (end - start));
      uint32_t id;
      if (vocab_.find(key, &id)) {
        out.push_back(Token{id, std::string(key), {start, end}});
        found = true;
        break;
      }
      do --end; while (end > start && is_continuation_byte(piece[end]));
    }
    if (!found) return unk_word(n);
    start = end;
  }
  return out;
}

}  // namespace

std::unique_ptr<Model> wordpiece_from_json(const JsonRef& j) {
  if (auto t = j.get("type"); t && t->str_view() != "WordPiece") t->fail("expected \"WordPiece\"");
  // All four fields are required by the Rust loader (only "type" may be missing).
  std::string unk = j.at("unk_token").str();
  std::string prefix = j.at("continuing_subword_prefix").str();
  JsonRef max_json = j.at("max_input_chars_per_word");
  int64_t max_chars = max_json.integer();
  if (max_chars < 0) max_json.fail("expected a non-negative integer");
  Vocab vocab = Vocab::from_json_object(j.at("vocab"));
  return std::make_unique<WordPiece>(std::move(vocab), std::move(unk), std::move(prefix),
                                     static_cast<uint64_t>(max_chars));
}

}  // namespace mlhub::tok
