// The checks that guard libsentencepiece (which trusts the model it is given) from hostile .spm
// files: real models pass; the fuzzer-found models that crashed it (a charsmap trie its prefix
// search leaves, empty / NUL pieces its trie builder throws on) are refused with a clear error
// instead of crashing MarianTokenizer loading; hand-broken charsmaps are caught.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "mlhub/core.h"
#include "tokenizers/legacy/sentencepiece_model.h"
#include "tokenizers/spm_processor.h"

namespace mlhub::tok {
namespace {

namespace fs = std::filesystem;

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const fs::path kTokenizers = fs::path(MLHUB_SHARED_DIR) / "data" / "tokenizers";

TEST(SpmCharsmap, RealModelsPass) {
  for (const fs::path& file : {kTokenizers / "marian-nmt" / "vocab.joint.spm",
                               kTokenizers / "llama-2" / "tokenizer.model"}) {
    const std::string bytes = read_bytes(file);
    const auto model = legacy::parse_sentencepiece_model(bytes);
    EXPECT_NO_THROW(legacy::check_precompiled_charsmap(model.normalizer_spec.precompiled_charsmap,
                                                       file.string()));
    EXPECT_NO_THROW(legacy::check_precompiled_charsmap(
        model.denormalizer_spec.precompiled_charsmap, file.string()));
    EXPECT_NO_THROW(SpmProcessor::load(bytes, file.string()));
  }
  // The Marian fixture really has a charsmap (nmt_nfkc), so the check walked a real trie.
  EXPECT_GT(legacy::parse_sentencepiece_model(read_bytes(kTokenizers / "marian-nmt" / "vocab.joint.spm"))
                .normalizer_spec.precompiled_charsmap.size(),
            1000u);
}

TEST(SpmCharsmap, FuzzerFoundModelsAreRefusedNotCrashed) {
  // Found by fuzz_sentencepiece_model, each crashing libsentencepiece before the checks: a trie
  // that sends Normalizer::NormalizePrefix out of bounds (SEGV while encoding), and pieces that
  // are empty or hold a NUL byte (Darts' builder throws through the library: std::terminate).
  for (const char* name : {"regression-charsmap-out-of-bounds", "regression-empty-piece",
                           "regression-nul-piece"}) {
    const std::string bytes = read_bytes(fs::path(MLHUB_SOURCE_DIR) / "tests" / "fuzz" / "corpus" /
                                         "fuzz_sentencepiece_model" / name);
    try {
      (void)SpmProcessor::load(bytes, "hostile.spm");
      ADD_FAILURE() << name << ": a model the library would crash on was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), StatusCode::kCorruption) << name;
      EXPECT_NE(std::string(e.what()).find("hostile.spm"), std::string::npos) << e.what();
    }
  }
}

TEST(SpmCharsmap, BrokenCharsmapsAreCaught) {
  const std::string good =
      legacy::parse_sentencepiece_model(read_bytes(kTokenizers / "marian-nmt" / "vocab.joint.spm"))
          .normalizer_spec.precompiled_charsmap;
  EXPECT_NO_THROW(legacy::check_precompiled_charsmap("", "empty"));
  EXPECT_THROW(legacy::check_precompiled_charsmap(good.substr(0, 3), "short"), Error);
  // A trie size past the end.
  std::string big = good;
  big[3] = static_cast<char>(0x7F);
  EXPECT_THROW(legacy::check_precompiled_charsmap(big, "big"), Error);
  // The blob cut off: some replacement no longer has its string (or its NUL).
  EXPECT_THROW(legacy::check_precompiled_charsmap(good.substr(0, good.size() - 1), "cut"), Error);
  // The root's offset pointed far away.
  std::string root = good;
  root[4 + 3] = static_cast<char>(0x7F);
  EXPECT_THROW(legacy::check_precompiled_charsmap(root, "root"), Error);
}

}  // namespace
}  // namespace mlhub::tok
