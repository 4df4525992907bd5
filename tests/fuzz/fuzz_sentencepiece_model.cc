// libFuzzer target: arbitrary bytes as a SentencePiece `.model` file. parse_sentencepiece_model
// must either throw mlhub::Error or return a model whose pieces are valid UTF-8; a parsed model
// then goes through the Llama / T5 / Gemma converters, and a converted document must load as a
// tokenizer (or fail with a Status) and encode without crashing.
// Seeds: corpus/fuzz_sentencepiece_model (small models written with the sentencepiece trainer).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "mlhub/core.h"
#include "mlhub/tokenizers.h"
#include "tokenizers/json.h"
#include "tokenizers/legacy/converters.h"
#include "tokenizers/legacy/sentencepiece_model.h"

namespace {

namespace legacy = mlhub::tok::legacy;

// The converters read a path, so a parsed input is written to a per-process file first.
const std::string& model_path() {
  static const std::string path =
      (std::getenv("TMPDIR") ? std::string(std::getenv("TMPDIR")) : std::string("/tmp")) +
      "/mlhub_fuzz_spm_" + std::to_string(getpid()) + ".model";
  return path;
}

void convert_and_encode(std::string_view bytes) {
  FILE* f = std::fopen(model_path().c_str(), "wb");
  if (!f) return;
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  for (const auto cls : {legacy::TokClass::kLlama, legacy::TokClass::kT5,
                         legacy::TokClass::kGemma}) {
    std::string json;
    try {
      json = legacy::convert_sentencepiece(cls, model_path(), mlhub::tok::Json::object()).dump();
    } catch (const mlhub::Error&) {
      continue;  // a model the converter refuses: an error, fine
    }
    auto tok = mlhub::tok::Tokenizer::from_json_string(json);
    if (!tok.ok()) continue;
    for (const std::string_view text : {"Hello world! héllo 123", " ▁a  b\t\n", "你好🤗", ""}) {
      auto enc = tok->encode(text);
      if (!enc.ok()) continue;
      mlhub::fuzz::check_encoding(*enc, mlhub::fuzz::char_count(text));
      (void)tok->decode(enc->ids, false);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  legacy::SentencePieceModel model;
  try {
    model = legacy::parse_sentencepiece_model(bytes);
  } catch (const mlhub::Error&) {
    return 0;
  }
  for (const auto& piece : model.pieces) {
    MLHUB_FUZZ_CHECK(mlhub::fuzz::valid_utf8(piece.piece));
    const auto type = static_cast<int>(piece.type);
    MLHUB_FUZZ_CHECK(type >= 1 && type <= 6);
  }
  convert_and_encode(bytes);
  return 0;
}
