// SpmProcessor: a thin wrapper over libsentencepiece's SentencePieceProcessor (see the header).
#include "tokenizers/spm_processor.h"

#include <sentencepiece_processor.h>

#include <algorithm>

#include "mlhub/core.h"
#include "tokenizers/legacy/sentencepiece_model.h"

namespace mlhub::tok {

SpmProcessor::SpmProcessor() : sp_(std::make_unique<sentencepiece::SentencePieceProcessor>()) {}
SpmProcessor::~SpmProcessor() = default;

std::shared_ptr<const SpmProcessor> SpmProcessor::load(std::string_view bytes,
                                                       std::string_view what) {
  // The library parses with protobuf (safe on any bytes) but trusts the structure it then
  // builds on; our reader rejects truncated or malformed protos first, with a byte offset.
  try {
    const legacy::SentencePieceModel model = legacy::parse_sentencepiece_model(bytes);
    legacy::check_precompiled_charsmap(model.normalizer_spec.precompiled_charsmap,
                                       "normalizer_spec");
    legacy::check_precompiled_charsmap(model.denormalizer_spec.precompiled_charsmap,
                                       "denormalizer_spec");
    // The library builds a trie of the pieces as C strings and aborts (an exception it cannot
    // pass on) on an empty key or keys out of order, which a NUL byte in a piece makes; a
    // trained model has neither.
    for (size_t i = 0; i < model.pieces.size(); ++i) {
      const std::string& piece = model.pieces[i].piece;
      if (piece.empty() || piece.find('\0') != std::string::npos)
        throw Error(StatusCode::kCorruption,
                    "piece " + std::to_string(i) + " is empty or holds a NUL byte");
    }
  } catch (const Error& e) {
    throw Error(StatusCode::kCorruption, std::string(what) + ": " + e.what());
  }
  std::shared_ptr<SpmProcessor> p(new SpmProcessor());
  p->what_ = what;
  auto status = p->sp_->LoadFromSerializedProto(bytes);
  if (!status.ok()) {
    throw Error(StatusCode::kCorruption,
                std::string(what) + ": sentencepiece rejects the model: " + status.ToString());
  }
  return p;
}

std::vector<SpmProcessor::Piece> SpmProcessor::encode(std::string_view text) const {
  sentencepiece::ImmutableSentencePieceText spt;
  auto status = sp_->Encode(text, spt.mutable_proto());
  if (!status.ok()) {
    throw Error(StatusCode::kInternal,
                what_ + ": sentencepiece encode failed: " + status.ToString());
  }
  std::vector<Piece> out;
  out.reserve(spt.pieces_size());
  for (const auto& p : spt.pieces()) {
    // Spans are byte offsets into `text`; clamp so a library quirk cannot make them invalid.
    size_t end = std::min<size_t>(p.end(), text.size());
    size_t begin = std::min<size_t>(p.begin(), end);
    out.push_back(Piece{p.piece(), begin, end});
  }
  return out;
}

std::string SpmProcessor::decode_pieces(const std::vector<std::string>& pieces) const {
  std::string text;
  auto status = sp_->Decode(pieces, &text);
  if (!status.ok()) {
    throw Error(StatusCode::kInternal,
                what_ + ": sentencepiece decode failed: " + status.ToString());
  }
  return text;
}

}  // namespace mlhub::tok
