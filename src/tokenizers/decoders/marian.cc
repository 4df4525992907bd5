// "MarianSentencePiece" decoder: an mlhub extension of tokenizer.json written by the Marian
// converter (legacy/marian.cc). It turns the tokens left after the Tokenizer dropped unknown
// and (when asked) special ids into the text transformers 4.57.3 produces:
//   - PreTrainedTokenizer._decode: added tokens that are not special ("legacy added tokens",
//     plus additional special tokens with ids >= vocab_size) stand alone; the runs between them
//     go through convert_tokens_to_string, and the parts are joined with " "
//     (spaces_between_special_tokens=True);
//   - MarianTokenizer.convert_tokens_to_string: special tokens are copied followed by " ", the
//     pieces between them are decoded by the target SentencePiece model (decode_pieces), then
//     every U+2581 becomes " " and the result is str.strip()ed.
// clean_up_tokenization_spaces is applied by Tokenizer::decode when asked.
//
// {"type": "MarianSentencePiece", "spm": base64 of target.spm,
//  "special_tokens": [all_special_tokens...], "added_tokens": [legacy added tokens...]}
#include <string>
#include <unordered_set>
#include <vector>

#include "tokenizers/decoders/decoders.h"
#include "tokenizers/legacy/converters.h"
#include "tokenizers/normalizers/normalizers.h"
#include "tokenizers/spm_processor.h"

namespace mlhub::tok {
namespace {

class MarianSentencePieceDecoder final : public Decoder {
 public:
  MarianSentencePieceDecoder(std::shared_ptr<const SpmProcessor> spm,
                             std::unordered_set<std::string> special,
                             std::unordered_set<std::string> added)
      : spm_(std::move(spm)), special_(std::move(special)), added_(std::move(added)) {}

  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::vector<std::string> parts;
    std::vector<std::string> run;
    for (std::string& t : tokens) {
      if (added_.count(t)) {
        if (!run.empty()) {
          std::string s = tokens_to_string(run);
          if (!s.empty()) parts.push_back(std::move(s));
          run.clear();
        }
        parts.push_back(std::move(t));
      } else {
        run.push_back(std::move(t));
      }
    }
    if (!run.empty()) parts.push_back(tokens_to_string(run));
    std::string text;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (i) text += ' ';
      text += parts[i];
    }
    return {std::move(text)};
  }

 private:
  // MarianTokenizer.convert_tokens_to_string.
  std::string tokens_to_string(const std::vector<std::string>& tokens) const {
    std::string out;
    std::vector<std::string> pieces;
    for (const std::string& t : tokens) {
      if (special_.count(t)) {
        out += spm_->decode_pieces(pieces);
        out += t;
        out += ' ';
        pieces.clear();
      } else {
        pieces.push_back(t);
      }
    }
    out += spm_->decode_pieces(pieces);
    out = replace_all(out, "\xE2\x96\x81", " ");
    return std::string(legacy::py_strip(out));
  }

  std::shared_ptr<const SpmProcessor> spm_;
  std::unordered_set<std::string> special_;
  std::unordered_set<std::string> added_;
};

std::unordered_set<std::string> string_set(const JsonRef& list) {
  std::unordered_set<std::string> out;
  for (size_t i = 0; i < list.size(); ++i) out.insert(list.at(i).str());
  return out;
}

}  // namespace

std::unique_ptr<Decoder> marian_decoder_from_json(const JsonRef& j) {
  if (j.type() != "MarianSentencePiece") j.at("type").fail("expected \"MarianSentencePiece\"");
  JsonRef spm_b64 = j.at("spm");
  auto bytes = base64_decode(spm_b64.str_view());
  if (!bytes) spm_b64.fail("invalid base64");
  auto spm = SpmProcessor::load(*bytes, spm_b64.path());
  std::unordered_set<std::string> special, added;
  if (auto s = j.get("special_tokens")) special = string_set(*s);
  if (auto a = j.get("added_tokens")) added = string_set(*a);
  return std::make_unique<MarianSentencePieceDecoder>(std::move(spm), std::move(special),
                                                      std::move(added));
}

}  // namespace mlhub::tok
