// Pipeline::count_tokens of the encoder pipelines: the tokens of every row the model sees for one
// input, special tokens included, with the call's truncation.
#include <gtest/gtest.h>

#include <filesystem>

#include "mlhub/pipelines.h"
#include "mlhub/tokenizers.h"

namespace mlhub {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kModels = fs::path(MLHUB_SOURCE_DIR) / "tests/golden/pipelines/models";

std::unique_ptr<Pipeline> load(const std::string& task, const std::string& model) {
  auto p = pipeline(task, kModels / model);
  EXPECT_TRUE(p.ok()) << p.status().to_string();
  return std::move(*p);
}

// What the tokenizer alone gives for one text (with [CLS] ... [SEP]).
int64_t tokens_of(const std::string& model, const std::string& text,
                  std::optional<std::string> pair = std::nullopt) {
  auto tk = tok::Tokenizer::from_pretrained((kModels / model).string());
  EXPECT_TRUE(tk.ok());
  auto e = pair ? tk->encode_pair(text, *pair) : tk->encode(text);
  EXPECT_TRUE(e.ok());
  return static_cast<int64_t>(e->ids.size());
}

TEST(CountTokens, TextClassificationCountsSpecialTokensAndTruncation) {
  auto p = load("text-classification", "bert-tiny-sentiment");
  const std::string text = "the movie was surprisingly good";
  const int64_t n = tokens_of("bert-tiny-sentiment", text);
  EXPECT_GT(n, 4);
  EXPECT_EQ(p->count_tokens(text), n);
  EXPECT_EQ(p->count_tokens(json{{"text", "a question"}, {"text_pair", text}}),
            tokens_of("bert-tiny-sentiment", "a question", text));
  EXPECT_EQ(p->count_tokens(text, {{"truncation", true}, {"max_length", 4}}), 4);
  EXPECT_THROW(p->count_tokens(42), Error);
}

TEST(CountTokens, ZeroShotCountsOneRowPerLabel) {
  auto p = load("zero-shot-classification", "bert-tiny-nli");
  const std::string text = "Barack Obama met Angela Merkel";
  const json params = {{"candidate_labels", {"politics", "sports"}}};
  EXPECT_EQ(p->count_tokens(text, params),
            tokens_of("bert-tiny-nli", text, "This example is politics.") +
                tokens_of("bert-tiny-nli", text, "This example is sports."));
}

TEST(CountTokens, FeatureExtractionAndSentenceEmbeddings) {
  auto p = load("feature-extraction", "bert-tiny-encoder");
  EXPECT_EQ(p->count_tokens("hello world"), tokens_of("bert-tiny-encoder", "hello world"));
  auto s = load("sentence-embeddings", "bert-tiny-encoder");
  EXPECT_EQ(s->count_tokens("hello world"), tokens_of("bert-tiny-encoder", "hello world"));
}

}  // namespace
}  // namespace mlhub
