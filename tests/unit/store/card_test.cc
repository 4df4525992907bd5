#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "mlhub/store.h"

namespace mlhub::store {
namespace {

TEST(Card, DerivesCardDataAndTagsLikeTheHub) {
  const std::string readme =
      "---\nlicense: apache-2.0\nlanguage:\n- en\n- fr\ntags:\n- sentence-similarity\nlibrary_name: sentence-transformers\n"
      "pipeline_tag: feature-extraction\ndatasets:\n- s2orc\nbase_model: org/base\nmetrics: 0.5\n---\n# Model\n";
  auto card = parse_card(readme, "model", {"model.safetensors", "onnx/model.onnx"}, R"({"model_type": "bert"})");
  ASSERT_TRUE(card.ok()) << card.status().to_string();
  const auto j = nlohmann::json::parse(card->card_json);
  EXPECT_EQ(j["license"], "apache-2.0");
  EXPECT_EQ(j["language"], nlohmann::json::array({"en", "fr"}));
  EXPECT_EQ(j["metrics"], 0.5);
  EXPECT_EQ(card->pipeline_tag, "feature-extraction");
  EXPECT_EQ(card->library_name, "sentence-transformers");
  const std::vector<std::string> expected = {"sentence-similarity", "sentence-transformers", "feature-extraction",
                                             "license:apache-2.0", "dataset:s2orc", "base_model:org/base", "en", "fr",
                                             "safetensors", "onnx", "bert"};
  EXPECT_EQ(card->tags, expected);
}

TEST(Card, DatasetTagsUseTheDatasetPrefixes) {
  auto card = parse_card("---\nlanguage: en\ntask_categories:\n- text-classification\nlicense: mit\n---\n", "dataset",
                         {"data/train.csv"}, "");
  ASSERT_TRUE(card.ok());
  const std::vector<std::string> expected = {"task_categories:text-classification", "license:mit", "language:en", "format:csv"};
  EXPECT_EQ(card->tags, expected);
}

TEST(Card, NoFrontMatterIsAnEmptyCard) {
  for (const char* text : {"", "# Title\n", "---", "--- not yaml start\n", "---\nlicense: mit\n(no closing line)"}) {
    auto card = parse_card(text, "model", {}, "");
    ASSERT_TRUE(card.ok()) << text;
    EXPECT_EQ(card->card_json, "{}") << text;
    EXPECT_TRUE(card->tags.empty()) << text;
  }
}

TEST(Card, InvalidYamlIsAnErrorWithTheLine) {
  auto card = parse_card("---\nlicense: mit\ntags: [a, b\n---\n", "model", {}, "");
  ASSERT_FALSE(card.ok());
  EXPECT_EQ(card.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(card.status().message().find("line"), std::string::npos);
  auto list = parse_card("---\n- a\n- b\n---\n", "model", {}, "");
  EXPECT_FALSE(list.ok());
}

TEST(Card, QuotedScalarsStayStrings) {
  auto card = parse_card("---\nversion: \"1.0\"\ncount: 3\nflag: true\n---\n", "model", {}, "");
  ASSERT_TRUE(card.ok());
  const auto j = nlohmann::json::parse(card->card_json);
  EXPECT_EQ(j["version"], "1.0");
  EXPECT_EQ(j["count"], 3);
  EXPECT_EQ(j["flag"], true);
}

}  // namespace
}  // namespace mlhub::store
