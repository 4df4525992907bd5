// libFuzzer target: arbitrary bytes as a SentencePiece `.model` file. parse_sentencepiece_model
// must either throw mlhub::Error or return a model whose pieces are valid UTF-8; a parsed model
// is then loaded the way a user would load it, Tokenizer::from_pretrained on a folder holding it
// with a tokenizer_config.json naming LlamaTokenizer / T5Tokenizer / GemmaTokenizer, and a
// tokenizer that loads must encode and decode without crashing. The same bytes also go to the
// SentencePiece library the way MarianTokenizer folders use it (SpmProcessor: mlhub's check,
// then libsentencepiece), which must refuse them with mlhub::Error or encode and decode.
// Seeds: corpus/fuzz_sentencepiece_model (small models written with the sentencepiece trainer).
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "mlhub/core.h"
#include "mlhub/tokenizers.h"
#include "tokenizers/legacy/sentencepiece_model.h"
#include "tokenizers/spm_processor.h"

namespace {

namespace legacy = mlhub::tok::legacy;

struct Folder {
  const char* tokenizer_class;
  const char* model_file;
};
constexpr Folder kFolders[] = {{"LlamaTokenizer", "tokenizer.model"},
                               {"T5Tokenizer", "spiece.model"},
                               {"GemmaTokenizer", "tokenizer.model"}};

bool write_file(const std::string& path, std::string_view bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return false;
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  return std::fclose(f) == 0 && ok;
}

// One folder per tokenizer class under a per-process directory; returns its path.
std::string folder(size_t i) {
  static const std::string root = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string r = std::string(tmp ? tmp : "/tmp") + "/mlhub_fuzz_spm_" + std::to_string(getpid());
    mkdir(r.c_str(), 0700);
    for (const Folder& f : kFolders) {
      const std::string dir = r + "/" + f.tokenizer_class;
      mkdir(dir.c_str(), 0700);
      write_file(dir + "/tokenizer_config.json",
                 std::string("{\"tokenizer_class\": \"") + f.tokenizer_class + "\"}");
    }
    return r;
  }();
  return root + "/" + kFolders[i].tokenizer_class;
}

void load_and_encode(std::string_view bytes) {
  for (size_t i = 0; i < std::size(kFolders); ++i) {
    const std::string dir = folder(i);
    if (!write_file(dir + "/" + kFolders[i].model_file, bytes)) continue;
    auto tok = mlhub::tok::Tokenizer::from_pretrained(dir);
    if (!tok.ok()) continue;  // a model the converter refuses: an error, fine
    for (const std::string_view text : {"Hello world! héllo 123", " ▁a  b\t\n",
                                        "你好🤗", ""}) {
      auto enc = tok->encode(text);
      if (!enc.ok()) continue;
      mlhub::fuzz::check_encoding(*enc, mlhub::fuzz::char_count(text));
      (void)tok->decode(enc->ids, false);
    }
  }
}

void round_trip(const mlhub::tok::SpmProcessor& spm, std::string_view text) {
  std::vector<std::string> pieces;
  for (const auto& p : spm.encode(text)) {
    MLHUB_FUZZ_CHECK(p.begin <= p.end && p.end <= text.size());
    pieces.push_back(p.piece);
  }
  pieces.push_back("not-a-piece");
  (void)spm.decode_pieces(pieces);
}

void library_encode(std::string_view bytes) {
  std::shared_ptr<const mlhub::tok::SpmProcessor> spm;
  try {
    spm = mlhub::tok::SpmProcessor::load(bytes, "fuzz.spm");
  } catch (const mlhub::Error&) {
    return;
  }
  for (const std::string_view text : {"Hello world! héllo 123", " ▁a  b\t\n", "你好🤗", ""}) {
    try {
      round_trip(*spm, text);
    } catch (const mlhub::Error&) {
      // The library's own refusal, passed on as an error.
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
  load_and_encode(bytes);
  library_encode(bytes);
  return 0;
}
