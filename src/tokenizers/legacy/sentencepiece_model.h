// A SentencePiece model file (sentencepiece_model.proto `ModelProto`, proto2) read with a small,
// bounds-checked protobuf wire-format reader: only the fields the transformers converters use
// (spec 15.3). Model files are untrusted input; parsing never reads out of bounds, never
// recurses without a limit, and reports every structural problem as Error(kCorruption).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mlhub::tok::legacy {

// ModelProto.SentencePiece.Type.
enum class PieceType : uint8_t {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

struct SentencePiece {
  std::string piece;  // valid UTF-8 (checked)
  float score = 0.0f;
  PieceType type = PieceType::kNormal;
};

// TrainerSpec.ModelType.
enum class SpmModelType : uint8_t { kUnigram = 1, kBpe = 2, kWord = 3, kChar = 4 };

// The fields of TrainerSpec the converters read, with the proto's defaults.
struct SpmTrainerSpec {
  SpmModelType model_type = SpmModelType::kUnigram;  // field 3
  int32_t vocab_size = 8000;                         // field 4
  bool treat_whitespace_as_suffix = false;           // field 24
  bool split_digits = false;                         // field 25
  bool byte_fallback = false;                        // field 35
  int32_t unk_id = 0;                                // field 40
  int32_t bos_id = 1;                                // field 41
  int32_t eos_id = 2;                                // field 42
  int32_t pad_id = -1;                               // field 43
  std::string unk_piece = "<unk>";                   // field 45
  std::string bos_piece = "<s>";                     // field 46
  std::string eos_piece = "</s>";                    // field 47
  std::string pad_piece = "<pad>";                   // field 48
};

// The fields of NormalizerSpec the converters read, with the proto's defaults.
struct SpmNormalizerSpec {
  std::string name;                      // field 1
  std::string precompiled_charsmap;      // field 2 (raw bytes)
  bool add_dummy_prefix = true;          // field 3
  bool remove_extra_whitespaces = true;  // field 4
  bool escape_whitespaces = true;        // field 5
};

struct SentencePieceModel {
  std::vector<SentencePiece> pieces;  // field 1, in id order
  SpmTrainerSpec trainer_spec;        // field 2
  SpmNormalizerSpec normalizer_spec;  // field 3
  SpmNormalizerSpec denormalizer_spec;  // field 5 (what decoding applies)
};

// Checks a precompiled_charsmap (a Darts-clone double array and its replacement strings) the
// way libsentencepiece will walk it: every node its prefix search can reach, with every byte,
// stays inside the trie, and every replacement offset starts a NUL-terminated string of the
// blob. The library does no bounds checks of its own, so a hostile .spm file would otherwise
// make it read out of bounds. Empty is fine (no charsmap). Throws Error(kCorruption) naming
// `what`.
void check_precompiled_charsmap(std::string_view charsmap, std::string_view what);

// Parses the bytes of a `.model` file. Follows protobuf's rules: unknown fields (of any wire
// type, groups included) are skipped, a repeated scalar keeps its last value, a repeated
// sub-message is merged, an enum value outside its range leaves the field at its default (as
// proto2 does). Throws Error(kCorruption) naming the byte offset on a truncated varint, a
// length past the end, a wire type that does not fit the field, an invalid wire type, groups
// nested too deep, or a piece / string that is not valid UTF-8.
SentencePieceModel parse_sentencepiece_model(std::string_view bytes);

}  // namespace mlhub::tok::legacy
