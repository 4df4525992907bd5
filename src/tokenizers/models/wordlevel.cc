// WordLevel model (spec section 8.3), mirroring tokenizers/src/models/wordlevel/mod.rs of
// huggingface/tokenizers 0.22.2: the whole piece is one token, or the unk token.
#include "tokenizers/models/models.h"
#include "tokenizers/models/vocab.h"

namespace mlhub::tok {

namespace {

class WordLevel final : public Model {
 public:
  WordLevel(Vocab vocab, std::string unk) : vocab_(std::move(vocab)), unk_(std::move(unk)) {}

  std::vector<Token> tokenize(std::string_view piece) const override {
    uint32_t id;
    if (vocab_.find(piece, &id)) return {Token{id, std::string(piece), {0, piece.size()}}};
    if (vocab_.find(unk_, &id)) return {Token{id, unk_, {0, piece.size()}}};
    throw Error(StatusCode::kInvalidArgument,
                "WordLevel: unk token \"" + unk_ + "\" is missing from the vocabulary");
  }
  std::optional<uint32_t> token_to_id(std::string_view token) const override {
    return vocab_.get(token);
  }
  std::optional<std::string_view> id_to_token(uint32_t id) const override {
    return vocab_.token(id);
  }
  size_t vocab_size() const override { return vocab_.size(); }

 private:
  Vocab vocab_;
  std::string unk_;
};

}  // namespace

std::unique_ptr<Model> wordlevel_from_json(const JsonRef& j) {
  if (auto t = j.get("type"); t && t->str_view() != "WordLevel") t->fail("expected \"WordLevel\"");
  // Both fields are required by the Rust loader.
  std::string unk = j.at("unk_token").str();
  Vocab vocab = Vocab::from_json_object(j.at("vocab"));
  return std::make_unique<WordLevel>(std::move(vocab), std::move(unk));
}

}  // namespace mlhub::tok
