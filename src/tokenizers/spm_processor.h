// A SentencePiece model run by libsentencepiece (Debian's libsentencepiece-dev), for the
// tokenizers transformers only has as slow classes that call the `sentencepiece` package
// directly (MarianTokenizer). Running the library itself is what makes the result exact: the
// SentencePiece normalizer (longest-match charsmap, user-defined symbols, whitespace-as-suffix,
// the denormalizer on decode) has no tokenizer.json equivalent. Debian 12 ships 0.1.97; the
// reference environment's Python package is 0.2.1, and the Marian goldens check they agree.
//
// Immutable after load; encode / decode may be called from any number of threads at once.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace mlhub::tok {

class SpmProcessor {
 public:
  // Loads the bytes of a .model / .spm file (a serialized ModelProto). The bytes are first
  // checked by mlhub's own bounds-checked reader (legacy/sentencepiece_model.h), then handed
  // to the library. Throws Error(kCorruption, "<what>: ...") when either rejects them.
  static std::shared_ptr<const SpmProcessor> load(std::string_view bytes, std::string_view what);

  struct Piece {
    std::string piece;  // what sp.encode(text, out_type=str) gives (the surface for an unknown)
    size_t begin = 0;   // byte span of the piece in the encoded text
    size_t end = 0;
  };
  // sp.encode(text, out_type=str) with the model's defaults (no sampling, no bos/eos).
  std::vector<Piece> encode(std::string_view text) const;
  // sp.decode_pieces(pieces): strings that are not pieces of the model decode as its unknown.
  std::string decode_pieces(const std::vector<std::string>& pieces) const;

  ~SpmProcessor();

 private:
  SpmProcessor();
  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;
  std::string what_;
};

}  // namespace mlhub::tok
