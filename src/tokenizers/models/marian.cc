// "MarianSentencePiece" model: an mlhub extension of tokenizer.json written by the Marian
// converter (legacy/marian.cc), not a type of the Rust library. It is transformers 4.57.3
// MarianTokenizer._tokenize + _convert_token_to_id (models/marian/tokenization_marian.py) for
// one piece of text between added tokens:
//   - a leading language code (">>de<<": the text starts with ">>" and holds a "<<") is one
//     token, looked up in the vocabulary like any other;
//   - the rest is encoded by the source SentencePiece model (libsentencepiece, exact), and each
//     piece string is mapped to an id through the added tokens, then vocab.json, then <unk>.
// Offsets are the SentencePiece surface spans (transformers' slow tokenizer has none).
//
// {"type": "MarianSentencePiece",
//  "spm": base64 of source.spm,
//  "vocab": {piece: id} (vocab.json: the source encoder),
//  "target_vocab": {piece: id} or null (target_vocab.json when separate_vocabs: id -> token),
//  "unk_token": "<unk>" (must be in "vocab"),
//  "added_tokens_encoder": {content: id} (the slow tokenizer's added tokens, looked up first)}
#include "tokenizers/models/models.h"
#include "tokenizers/models/vocab.h"
#include "tokenizers/normalizers/normalizers.h"
#include "tokenizers/spm_processor.h"

namespace mlhub::tok {
namespace {

class MarianSentencePiece final : public Model {
 public:
  MarianSentencePiece(std::shared_ptr<const SpmProcessor> spm, Vocab vocab,
                      std::optional<Vocab> target_vocab, Vocab added, std::string unk,
                      uint32_t unk_id)
      : spm_(std::move(spm)),
        vocab_(std::move(vocab)),
        target_vocab_(std::move(target_vocab)),
        added_(std::move(added)),
        unk_(std::move(unk)),
        unk_id_(unk_id) {}

  std::vector<Token> tokenize(std::string_view piece) const override {
    std::vector<Token> out;
    size_t start = 0;
    // remove_language_code: str.find("<<") counts from the start, so ">><<" is a code too.
    if (piece.substr(0, 2) == ">>") {
      if (size_t end = piece.find("<<"); end != std::string_view::npos) {
        start = end + 2;
        std::string code(piece.substr(0, start));
        out.push_back(Token{id_of(code), std::move(code), {0, start}});
      }
    }
    for (SpmProcessor::Piece& p : spm_->encode(piece.substr(start))) {
      uint32_t id = id_of(p.piece);
      out.push_back(Token{id, std::move(p.piece), {start + p.begin, start + p.end}});
    }
    return out;
  }

  // convert_tokens_to_ids: added tokens, then the source vocabulary (no unk fallback here:
  // callers ask whether the token exists).
  std::optional<uint32_t> token_to_id(std::string_view token) const override {
    uint32_t id;
    if (added_.find(token, &id) || vocab_.find(token, &id)) return id;
    return std::nullopt;
  }

  // _convert_id_to_token: decoder.get(index, unk_token). Ids no token has read as <unk>, as
  // in transformers (so decode shows "<unk>" for them where the Rust library drops them).
  std::optional<std::string_view> id_to_token(uint32_t id) const override {
    const Vocab& v = target_vocab_ ? *target_vocab_ : vocab_;
    if (auto t = v.token(id)) return t;
    return std::string_view(unk_);
  }

  // MarianTokenizer.vocab_size: len(vocab.json).
  size_t vocab_size() const override { return vocab_.size(); }

 private:
  uint32_t id_of(std::string_view piece) const {
    uint32_t id;
    if (added_.find(piece, &id) || vocab_.find(piece, &id)) return id;
    return unk_id_;
  }

  std::shared_ptr<const SpmProcessor> spm_;
  Vocab vocab_;
  std::optional<Vocab> target_vocab_;
  Vocab added_;
  std::string unk_;
  uint32_t unk_id_;
};

}  // namespace

std::unique_ptr<Model> marian_from_json(const JsonRef& j) {
  if (j.type() != "MarianSentencePiece") j.at("type").fail("expected \"MarianSentencePiece\"");
  JsonRef spm_b64 = j.at("spm");
  auto bytes = base64_decode(spm_b64.str_view());
  if (!bytes) spm_b64.fail("invalid base64");
  auto spm = SpmProcessor::load(*bytes, spm_b64.path());
  Vocab vocab = Vocab::from_json_object(j.at("vocab"));
  std::optional<Vocab> target;
  if (auto t = j.get("target_vocab")) target = Vocab::from_json_object(*t);
  Vocab added;
  if (auto a = j.get("added_tokens_encoder")) added = Vocab::from_json_object(*a);
  JsonRef unk_ref = j.at("unk_token");
  std::string unk = unk_ref.str();
  // MarianTokenizer raises KeyError("<unk> token must be in the vocab") otherwise.
  uint32_t unk_id;
  if (!vocab.find(unk, &unk_id)) unk_ref.fail("unk token \"" + unk + "\" is not in the vocab");
  return std::make_unique<MarianSentencePiece>(std::move(spm), std::move(vocab), std::move(target),
                                               std::move(added), std::move(unk), unk_id);
}

}  // namespace mlhub::tok
