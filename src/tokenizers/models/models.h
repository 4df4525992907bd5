// The four tokenization models of tokenizer.json (spec section 8), one file each:
// bpe.cc, wordpiece.cc, wordlevel.cc, unigram.cc. model_from_json (factory.cc) picks one by
// "type", or by shape for old files without "type".
#pragma once

#include <cstdint>
#include <memory>

#include "tokenizers/components.h"

namespace mlhub::tok {

// Each builds its model from the "model" object (the "type" key, when present, must name it).
// Throw mlhub::Error(kInvalidArgument) naming the JSON path on malformed or inconsistent data.
std::unique_ptr<Model> bpe_from_json(const JsonRef& j);
std::unique_ptr<Model> wordpiece_from_json(const JsonRef& j);
std::unique_ptr<Model> wordlevel_from_json(const JsonRef& j);
std::unique_ptr<Model> unigram_from_json(const JsonRef& j);
// mlhub extension (marian.cc): MarianTokenizer's encode, written by legacy/marian.cc. Never
// tried for a model object without "type".
std::unique_ptr<Model> marian_from_json(const JsonRef& j);

// BPE dropout draws from a per-model random generator, seeded randomly at load. This reseeds
// it (for reproducible tests); returns false when `model` is not a BPE model. The draws of
// concurrent tokenize calls interleave, so only single-threaded use is reproducible.
bool set_bpe_dropout_seed(const Model& model, uint64_t seed);

}  // namespace mlhub::tok
