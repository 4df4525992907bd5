// gguf_tokenizer_json against transformers 4.57.3 (tools/reference/gguf_tokenizer_goldens.py):
// on SmolLM2-135M-Instruct.Q4_1.gguf the tokenizer.json equals the backend tokenizer
// AutoTokenizer.from_pretrained(dir, gguf_file=...) builds (vocab and merges by sha256), and
// mlhub's Tokenizer loaded from it encodes the corpus lines to transformers' ids and decodes
// them back to transformers' text.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "gguf_test_util.h"
#include "mlhub/tokenizers.h"

namespace mlhub::io::testing {
namespace {

using json = nlohmann::json;

// The golden's form of a tokenizer.json: vocab and merges as {length, sha256 of compact JSON}.
json summarized(json doc) {
  for (const char* key : {"vocab", "merges"}) {
    const json& v = doc["model"][key];
    doc["model"][key] = {{"length", v.size()}, {"sha256", sha256_hex(v.dump())}};
  }
  return doc;
}

// One case per golden: "smollm2" (the real file, byte-level BPE), "llama_spm" (a 1200-piece
// SentencePiece vocabulary from llama-2 written as llama.cpp does, merges rebuilt from scores),
// "phi3_spm" (the same pieces plus Phi-3's chat tokens in a phi3 file) and "qwen2_bpe" /
// "gpt2_bpe" (SmolLM2's first 1000 tokens in qwen2 / gpt2 files).
class GgufTokenizerCase : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    golden_ = json::parse(read_bytes(gguf_dir() / (GetParam() + "_tokenizer.json")));
    const std::filesystem::path path =
        GetParam() == "smollm2" ? smollm2_gguf() : gguf_dir() / (GetParam() + ".gguf");
    ASSERT_TRUE(std::filesystem::exists(path)) << path << " is missing: run scripts/setup";
    auto f = GgufFile::open(path);
    ASSERT_TRUE(f.ok()) << f.status().to_string();
    auto tok = gguf_tokenizer_json(*f);
    ASSERT_TRUE(tok.ok()) << tok.status().to_string();
    tok_ = *tok;
  }
  json golden_;
  GgufTokenizer tok_;
};

TEST_P(GgufTokenizerCase, DocumentEqualsTransformers) {
  const json got = summarized(tok_.tokenizer);
  for (const auto& [key, want] : golden_["tokenizer"].items())
    EXPECT_EQ(got[key], want) << key << ": got " << got[key].dump();
  EXPECT_EQ(got, golden_["tokenizer"]);
  EXPECT_EQ(tok_.tokenizer_config, golden_["tokenizer_config"]) << tok_.tokenizer_config.dump();
}

TEST_P(GgufTokenizerCase, CorpusIdsAndDecodeEqualTransformers) {
  auto tok = tok::Tokenizer::from_json_string(tok_.tokenizer.dump());
  ASSERT_TRUE(tok.ok()) << tok.status().to_string();
  const bool clean_up = golden_["decode_clean_up"].get<bool>();
  std::vector<std::string> corpus;
  {
    std::ifstream in(std::filesystem::path(MLHUB_SOURCE_DIR) / "tests/data/tokenizer_corpus.jsonl");
    for (std::string line; std::getline(in, line);) corpus.push_back(json::parse(line));
  }
  std::ifstream golden(gguf_dir() / (GetParam() + "_tokenizer_ids.jsonl"));
  size_t checked = 0;
  for (std::string line; std::getline(golden, line); ++checked) {
    const json g = json::parse(line);
    const std::string& text = corpus.at(g["line"].get<size_t>());
    SCOPED_TRACE("corpus line " + g["line"].dump() + ": " + json(text).dump());
    auto enc = tok->encode(text, /*add_special_tokens=*/true);
    ASSERT_TRUE(enc.ok()) << enc.status().to_string();
    const auto want = g["ids"].get<std::vector<uint32_t>>();
    EXPECT_EQ(enc->ids, want);
    auto dec = tok->decode(want, /*skip_special_tokens=*/true, clean_up);
    ASSERT_TRUE(dec.ok()) << dec.status().to_string();
    EXPECT_EQ(*dec, g.contains("decoded") ? g["decoded"].get<std::string>() : text);
  }
  EXPECT_GE(checked, GetParam() == "smollm2" ? 300u : 90u);
}

INSTANTIATE_TEST_SUITE_P(Files, GgufTokenizerCase,
                         ::testing::Values("smollm2", "llama_spm", "phi3_spm", "qwen2_bpe",
                                           "gpt2_bpe"));

TEST(GgufTokenizer, UnsupportedAndBrokenMetadata) {
  GgufBuilder gemma2, no_tokens, bad_bos, spm_no_scores;
  gemma2.header(0, 1).kv_str("general.architecture", "gemma2");
  no_tokens.header(0, 1).kv_str("general.architecture", "llama");
  bad_bos.header(0, 4)
      .kv_str("general.architecture", "llama")
      .kv_str("tokenizer.ggml.model", "gpt2")
      .str("tokenizer.ggml.tokens")
      .u32(9)
      .u32(8)
      .u64(1)
      .str("a")
      .kv_u32("tokenizer.ggml.bos_token_id", 5);
  spm_no_scores.header(0, 3)
      .kv_str("general.architecture", "llama")
      .kv_str("tokenizer.ggml.model", "llama")
      .str("tokenizer.ggml.tokens")
      .u32(9)
      .u32(8)
      .u64(1)
      .str("a");
  EXPECT_STATUS(gguf_tokenizer_json(*GgufFile::parse(gemma2.bytes())).status(),
                StatusCode::kUnimplemented, "gemma2");
  EXPECT_STATUS(gguf_tokenizer_json(*GgufFile::parse(no_tokens.bytes())).status(),
                StatusCode::kCorruption, "tokenizer.ggml.tokens");
  EXPECT_STATUS(gguf_tokenizer_json(*GgufFile::parse(bad_bos.bytes())).status(),
                StatusCode::kCorruption, "bos_token_id 5 is outside the vocabulary of 1");
  EXPECT_STATUS(gguf_tokenizer_json(*GgufFile::parse(spm_no_scores.bytes())).status(),
                StatusCode::kCorruption, "scores are absent");
}

}  // namespace
}  // namespace mlhub::io::testing
