// The Tokenizer API end to end on small tokenizer.json documents: loading errors with JSON
// paths, UTF-8 validation, added-token ids, decode, DecodeStream, batch = one at a time.
#include <gtest/gtest.h>
#include <unistd.h>

#include "mlhub/tokenizers.h"

namespace mlhub::tok {
namespace {

const char* kWordLevel = R"({
  "version": "1.0",
  "added_tokens": [
    {"id": 0, "content": "[CLS]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
    {"id": 1, "content": "[SEP]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}
  ],
  "normalizer": {"type": "Lowercase"},
  "pre_tokenizer": {"type": "Whitespace"},
  "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 1], "cls": ["[CLS]", 0]},
  "decoder": null,
  "model": {"type": "WordLevel", "vocab": {"[CLS]": 0, "[SEP]": 1, "hello": 2, "world": 3, "<unk>": 4, "!": 5}, "unk_token": "<unk>"}
})";

TEST(Tokenizer, EncodesWithPostProcessorAndOffsets) {
  auto t = Tokenizer::from_json_string(kWordLevel);
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  auto e = t->encode("Héllo World!");
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  EXPECT_EQ(e->ids, (std::vector<uint32_t>{0, 4, 3, 5, 1}));
  EXPECT_EQ(e->tokens, (std::vector<std::string>{"[CLS]", "<unk>", "world", "!", "[SEP]"}));
  EXPECT_EQ(e->offsets, (std::vector<Offsets>{{0, 0}, {0, 5}, {6, 11}, {11, 12}, {0, 0}}));
  auto b = t->encode("Héllo World!", true, OffsetType::kByte);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->offsets, (std::vector<Offsets>{{0, 0}, {0, 6}, {7, 12}, {12, 13}, {0, 0}}));
  EXPECT_EQ(e->special_tokens_mask, (std::vector<uint32_t>{1, 0, 0, 0, 1}));
}

TEST(Tokenizer, RejectsInvalidUtf8WithPosition) {
  auto t = Tokenizer::from_json_string(kWordLevel);
  ASSERT_TRUE(t.ok());
  auto e = t->encode(std::string("ok \xC3\x28 no"));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(e.status().message().find("at byte 3"), std::string::npos) << e.status().message();
}

TEST(Tokenizer, LoadErrorsNameTheJsonPath) {
  auto bad_json = Tokenizer::from_json_string("{\"version\": \"1.0\", ");
  ASSERT_FALSE(bad_json.ok());
  EXPECT_NE(bad_json.status().message().find("invalid JSON at byte"), std::string::npos);

  auto no_model = Tokenizer::from_json_string(R"({"version": "1.0"})");
  ASSERT_FALSE(no_model.ok());
  EXPECT_NE(no_model.status().message().find("$: missing required field \"model\""), std::string::npos)
      << no_model.status().message();

  auto bad_version = Tokenizer::from_json_string(R"({"version": "2.0", "model": {}})");
  ASSERT_FALSE(bad_version.ok());
  EXPECT_NE(bad_version.status().message().find("$.version"), std::string::npos);

  auto bad_added = Tokenizer::from_json_string(
      R"({"version": "1.0", "added_tokens": [{"id": -1, "content": "x"}],
          "model": {"type": "WordLevel", "vocab": {}, "unk_token": "<unk>"}})");
  ASSERT_FALSE(bad_added.ok());
  EXPECT_NE(bad_added.status().message().find("$.added_tokens[0].id"), std::string::npos)
      << bad_added.status().message();

  std::string deep = R"({"version": "1.0", "model": )" + std::string(200, '[') + std::string(200, ']') + "}";
  auto too_deep = Tokenizer::from_json_string(deep);
  ASSERT_FALSE(too_deep.ok());
  EXPECT_NE(too_deep.status().message().find("nesting deeper"), std::string::npos);
}

TEST(Tokenizer, DecodeSkipsSpecialAndUnknownIds) {
  auto t = Tokenizer::from_json_string(kWordLevel);
  ASSERT_TRUE(t.ok());
  std::vector<uint32_t> ids = {0, 2, 3, 999, 1};
  EXPECT_EQ(*t->decode(ids), "[CLS] hello world [SEP]");
  EXPECT_EQ(*t->decode(ids, true), "hello world");
}

TEST(Tokenizer, BatchEqualsOneAtATime) {
  auto t = Tokenizer::from_json_string(kWordLevel);
  ASSERT_TRUE(t.ok());
  std::vector<EncodeInput> inputs;
  for (int i = 0; i < 50; ++i) inputs.push_back({std::string(i % 7, ' ') + "hello world !", std::nullopt});
  inputs.push_back({"hello", std::string("world")});
  ThreadPool pool(2);
  auto batch = t->encode_batch(inputs, true, OffsetType::kChar, &pool);
  ASSERT_TRUE(batch.ok());
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto one = inputs[i].second ? t->encode_pair(inputs[i].first, *inputs[i].second) : t->encode(inputs[i].first);
    ASSERT_TRUE(one.ok());
    EXPECT_EQ((*batch)[i].ids, one->ids);
    EXPECT_EQ((*batch)[i].offsets, one->offsets);
    EXPECT_EQ((*batch)[i].type_ids, one->type_ids);
  }
}

TEST(Tokenizer, CopiesAreIndependent) {
  auto t = Tokenizer::from_json_string(kWordLevel);
  ASSERT_TRUE(t.ok());
  Tokenizer copy = *t;
  TruncationParams p;
  p.max_length = 3;
  ASSERT_TRUE(copy.set_truncation(p).ok());
  EXPECT_EQ(copy.encode("hello world !")->ids.size(), 3u);
  EXPECT_EQ(t->encode("hello world !")->ids.size(), 5u);
  p.stride = 2;  // effective max length is 3 - 2 = 1
  EXPECT_FALSE(copy.set_truncation(p).ok());
}

}  // namespace
}  // namespace mlhub::tok

namespace mlhub::tok {
namespace {

std::vector<std::optional<std::string>> stream(const Tokenizer& t, const std::vector<uint32_t>& ids,
                                               bool skip_special) {
  DecodeStream ds(t, skip_special);
  std::vector<std::optional<std::string>> out;
  for (uint32_t id : ids) {
    auto r = ds.step(id);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    out.push_back(r.ok() ? *r : std::nullopt);
  }
  return out;
}

// from tokenizers.decoders import DecodeStream; ds = DecodeStream(skip_special_tokens=False)
// [ds.step(gpt2, i) for i in [19567, 255, 19567, 109, 50256, 31373]]
//   -> [None, 'อ', None, 'ั', '<|endoftext|>', 'hello']
TEST(DecodeStream, NeverSplitsAByteLevelCharacter) {
  auto t = Tokenizer::from_file(std::string(MLHUB_SHARED_DIR) + "/data/tokenizers/gpt2/tokenizer.json");
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  std::vector<std::optional<std::string>> want = {std::nullopt, "\u0E2D", std::nullopt, "\u0E31",
                                                  "<|endoftext|>", "hello"};
  EXPECT_EQ(stream(*t, {19567, 255, 19567, 109, 50256, 31373}, false), want);
}

// llama-2 'Hi 🤗 there' -> ids [1, 6324, 29871, 243, 162, 167, 154, 727]; with
// skip_special_tokens=True the steps are [None, 'Hi', ' ', None, None, None, '🤗', ' there'].
TEST(DecodeStream, WaitsForWholeByteFallbackSequences) {
  auto t = Tokenizer::from_file(std::string(MLHUB_SHARED_DIR) + "/data/tokenizers/llama-2/tokenizer.json");
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  auto ids = t->encode("Hi \U0001F917 there")->ids;
  ASSERT_EQ(ids, (std::vector<uint32_t>{1, 6324, 29871, 243, 162, 167, 154, 727}));
  std::vector<std::optional<std::string>> want = {std::nullopt, "Hi", " ", std::nullopt,
                                                  std::nullopt, std::nullopt, "\U0001F917", " there"};
  EXPECT_EQ(stream(*t, ids, true), want);
}

}  // namespace
}  // namespace mlhub::tok

#include <filesystem>
#include <fstream>

namespace mlhub::tok {
namespace {

// transformers' tokenizer_config.json "split_special_tokens": true makes special tokens in the
// text plain text (Rust's encode_special_tokens).
TEST(Tokenizer, FolderConfigSplitSpecialTokens) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("mlhub_split_special_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "tokenizer.json") << kWordLevel;
  auto plain = Tokenizer::from_pretrained(dir.string());
  ASSERT_TRUE(plain.ok()) << plain.status().to_string();
  EXPECT_EQ(plain->encode("[CLS]hello")->ids, (std::vector<uint32_t>{0, 0, 2, 1}));
  std::ofstream(dir / "tokenizer_config.json") << R"({"split_special_tokens": true})";
  auto split = Tokenizer::from_pretrained(dir.string());
  ASSERT_TRUE(split.ok()) << split.status().to_string();
  EXPECT_EQ(split->encode("[CLS]hello")->ids, (std::vector<uint32_t>{0, 4, 4, 4, 2, 1}));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace mlhub::tok
