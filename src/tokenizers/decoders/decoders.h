// The decoders of spec section 13, one file each, and the text clean-ups around decoding.
// Each *_from_json builder throws mlhub::Error naming the JSON path when the object does not
// have that decoder's shape; factory.cc dispatches on "type" (with the reference's fallback
// for untagged objects).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "tokenizers/components.h"

namespace mlhub::tok {

// transformers 4.57.3 PreTrainedTokenizerBase.clean_up_tokenization (what
// clean_up_tokenization_spaces=True applies after decoding): removes the space before
// . ? ! , and before the contractions 'm 's 've 're n't, and " ' " -> "'".
std::string clean_up_tokenization(std::string_view text);

// The Rust decoders::wordpiece::cleanup used by the WordPiece and CTC decoders: the same as
// clean_up_tokenization plus " do not" -> " don't" (applied between 'm and 's).
std::string wordpiece_cleanup(std::string_view text);

// Rust str::replace: every non-overlapping occurrence of `from`, left to right, becomes `to`.
// An empty `from` matches before every char and at the end ("ab" -> "XaXbX").
std::string replace_all(std::string_view text, std::string_view from, std::string_view to);

std::unique_ptr<Decoder> byte_level_decoder_from_json(const JsonRef& j);
std::unique_ptr<Decoder> wordpiece_decoder_from_json(const JsonRef& j);
std::unique_ptr<Decoder> metaspace_decoder_from_json(const JsonRef& j);
std::unique_ptr<Decoder> bpe_decoder_from_json(const JsonRef& j);
std::unique_ptr<Decoder> byte_fallback_decoder_from_json(const JsonRef& j);
std::unique_ptr<Decoder> fuse_decoder_from_json(const JsonRef& j);
std::unique_ptr<Decoder> strip_decoder_from_json(const JsonRef& j);
std::unique_ptr<Decoder> replace_decoder_from_json(const JsonRef& j);
std::unique_ptr<Decoder> ctc_decoder_from_json(const JsonRef& j);
std::unique_ptr<Decoder> sequence_decoder_from_json(const JsonRef& j);
// mlhub extension (decoders/marian.cc): MarianTokenizer's decode, written by legacy/marian.cc.
std::unique_ptr<Decoder> marian_decoder_from_json(const JsonRef& j);

// A JSON string holding exactly one char (serde's `char`).
char32_t json_char(const JsonRef& j);
// A non-negative JSON integer (serde's `usize`).
size_t json_usize(const JsonRef& j);

}  // namespace mlhub::tok
