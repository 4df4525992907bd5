// Every case of tests/golden/pipelines/<task>.jsonl (written by
// tools/reference/pipeline_goldens.py with transformers 4.57.3 / sentence-transformers 5.1.2):
// pipeline(task, models/<model>, init).run(input, params) must equal the recorded output —
// labels, words, tokens, answers, offsets and sequences identical, floats within 1e-4 — and
// run_batch over a file's cases must equal run() on each. The real all-MiniLM-L6-v2 (in
// MLHUB_MODELS_DIR) is checked against tests/golden/minilm/*.jsonl the same way.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "json_compare.h"
#include "mlhub/pipelines.h"

namespace mlhub {
namespace {

namespace fs = std::filesystem;
using testing::compare;
using testing::describe;
using nlohmann::json;

const fs::path kGoldenDir = fs::path(MLHUB_SOURCE_DIR) / "tests/golden/pipelines";
const fs::path kMiniLmGoldens = fs::path(MLHUB_SOURCE_DIR) / "tests/golden/minilm";
const fs::path kMiniLm = fs::path(MLHUB_MODELS_DIR) / "all-MiniLM-L6-v2";

std::vector<json> read_jsonl(const fs::path& file) {
  std::vector<json> out;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(json::parse(line));
  }
  return out;
}

// Pipelines are loaded once per (task, model, init).
class PipelineCache {
 public:
  const Pipeline* get(const std::string& task, const fs::path& model, const json& init) {
    const std::string key = task + "|" + model.string() + "|" + init.dump();
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second.get();
    auto p = pipeline(task, model, init);
    if (!p.ok()) {
      ADD_FAILURE() << "pipeline(" << task << ", " << model << ", " << init.dump()
                    << "): " << p.status().to_string();
      return nullptr;
    }
    return (cache_[key] = std::move(*p)).get();
  }

 private:
  std::map<std::string, std::unique_ptr<Pipeline>> cache_;
};

PipelineCache& cache() {
  static PipelineCache c;
  return c;
}

class GoldenTask : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTask, MatchesTransformers) {
  const fs::path file = kGoldenDir / (GetParam() + ".jsonl");
  ASSERT_TRUE(fs::exists(file)) << file;
  const std::vector<json> cases = read_jsonl(file);
  ASSERT_FALSE(cases.empty()) << file << " has no cases";

  // Cases sharing model, init and params form one run_batch call.
  std::map<std::string, std::vector<size_t>> groups;
  std::vector<json> got(cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    const json& c = cases[i];
    SCOPED_TRACE(file.filename().string() + " line " + std::to_string(i + 1));
    const Pipeline* p =
        cache().get(c["task"], kGoldenDir / "models" / c["model"].get<std::string>(), c["init"]);
    ASSERT_NE(p, nullptr);
    try {
      got[i] = p->run(c["input"], c["params"]);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "run threw: " << e.what();
      continue;
    }
    std::vector<std::string> diffs;
    compare(got[i], c["output"], "$", diffs);
    EXPECT_TRUE(diffs.empty()) << "input " << c["input"].dump().substr(0, 200) << " params "
                               << c["params"].dump() << describe(diffs);
    groups[c["task"].get<std::string>() + c["model"].get<std::string>() + c["init"].dump() +
           c["params"].dump()]
        .push_back(i);
  }

  for (const auto& [key, members] : groups) {
    const json& first = cases[members.front()];
    const Pipeline* p = cache().get(
        first["task"], kGoldenDir / "models" / first["model"].get<std::string>(), first["init"]);
    ASSERT_NE(p, nullptr);
    std::vector<json> inputs;
    for (size_t i : members) inputs.push_back(cases[i]["input"]);
    std::vector<json> batch = p->run_batch(inputs, first["params"]);
    ASSERT_EQ(batch.size(), inputs.size());
    for (size_t k = 0; k < members.size(); ++k) {
      std::vector<std::string> diffs;
      compare(batch[k], got[members[k]], "$", diffs);
      EXPECT_TRUE(diffs.empty()) << "run_batch differs from run on line " << members[k] + 1
                                 << describe(diffs);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Pipelines, GoldenTask,
                         ::testing::Values("text-classification", "token-classification",
                                           "question-answering", "fill-mask", "feature-extraction",
                                           "zero-shot-classification", "text-ranking"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) c = c == '-' ? '_' : c;
                           return n;
                         });

// ---- the real all-MiniLM-L6-v2 -------------------------------------------------------------

void check_minilm(const std::string& task, const std::string& golden,
                  const std::function<json(const json&)>& input_of,
                  const std::function<json(const json&)>& output_of) {
  ASSERT_TRUE(fs::exists(kMiniLm / "config.json"))
      << kMiniLm << " is missing: scripts/setup links the all-MiniLM-L6-v2 checkpoint there";
  const std::vector<json> cases = read_jsonl(kMiniLmGoldens / golden);
  ASSERT_FALSE(cases.empty()) << golden << " has no cases";
  const Pipeline* p = cache().get(task, kMiniLm, json::object());
  ASSERT_NE(p, nullptr);
  std::vector<json> inputs;
  for (const json& c : cases) inputs.push_back(input_of(c));
  std::vector<json> batch = p->run_batch(inputs, json::object());
  ASSERT_EQ(batch.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(golden + " line " + std::to_string(i + 1));
    std::vector<std::string> diffs;
    compare(p->run(inputs[i]), output_of(cases[i]), "$", diffs);
    EXPECT_TRUE(diffs.empty()) << describe(diffs);
    diffs.clear();
    compare(batch[i], output_of(cases[i]), "$", diffs);
    EXPECT_TRUE(diffs.empty()) << "run_batch:" << describe(diffs);
  }
}

TEST(MiniLm, SentenceEmbeddings) {
  check_minilm(
      "sentence-embeddings", "embeddings.jsonl", [](const json& c) { return c["input"]; },
      [](const json& c) { return c["embedding"]; });
}

TEST(MiniLm, SentenceSimilarity) {
  check_minilm(
      "sentence-similarity", "similarity.jsonl",
      [](const json& c) {
        return json{{"source_sentence", c["source_sentence"]}, {"sentences", c["sentences"]}};
      },
      [](const json& c) { return c["output"]; });
}

TEST(MiniLm, FeatureExtraction) {
  check_minilm(
      "feature-extraction", "feature_extraction.jsonl", [](const json& c) { return c["input"]; },
      [](const json& c) { return c["output"]; });
}

// raw_scores=true skips the cross-encoder's activation: the logits CrossEncoder.predict
// recorded as "raw_scores" (TEI's /rerank option).
TEST(TextRanking, RawScoresAreTheLogits) {
  const std::vector<json> cases = read_jsonl(kGoldenDir / "text-ranking.jsonl");
  ASSERT_FALSE(cases.empty());
  for (const json& c : cases) {
    ASSERT_TRUE(c.contains("raw_scores"));
    const Pipeline* p = cache().get("text-ranking", kGoldenDir / "models" / c["model"].get<std::string>(), c["init"]);
    ASSERT_NE(p, nullptr);
    std::vector<std::string> diffs;
    compare(p->run(c["input"], json{{"raw_scores", true}})["scores"], c["raw_scores"], "$", diffs);
    EXPECT_TRUE(diffs.empty()) << describe(diffs);
    diffs.clear();
    compare(p->run(c["input"], json{{"raw_scores", false}}), c["output"], "$", diffs);
    EXPECT_TRUE(diffs.empty()) << describe(diffs);
  }
  const Pipeline* p = cache().get("text-ranking", kGoldenDir / "models/bert-tiny-reranker", json::object());
  ASSERT_NE(p, nullptr);
  EXPECT_THROW(p->run(cases[0]["input"], json{{"raw_scores", "yes"}}), Error);
}

// ---- errors ---------------------------------------------------------------------------------

TEST(PipelineErrors, UnknownTaskAndBadInput) {
  auto unknown = pipeline("summarize-everything", kGoldenDir / "models/bert-tiny-sentiment");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kUnimplemented);
  auto missing = pipeline("text-classification", kGoldenDir / "models/no-such-model");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);

  const Pipeline* qa =
      cache().get("question-answering", kGoldenDir / "models/bert-tiny-qa", json::object());
  ASSERT_NE(qa, nullptr);
  EXPECT_THROW(qa->run("just a string"), Error);
  EXPECT_THROW(qa->run(json{{"question", ""}, {"context", "x"}}), Error);
  const Pipeline* fm =
      cache().get("fill-mask", kGoldenDir / "models/bert-tiny-mlm", json::object());
  ASSERT_NE(fm, nullptr);
  EXPECT_THROW(fm->run("no mask here"), Error);
  const Pipeline* tc =
      cache().get("text-classification", kGoldenDir / "models/bert-tiny-sentiment", json::object());
  ASSERT_NE(tc, nullptr);
  EXPECT_THROW(tc->run("x", json{{"function_to_apply", "cube"}}), Error);
  // + text-generation, chat, text2text-generation, summarization, translation
  EXPECT_EQ(supported_tasks().size(), 16u);
}

}  // namespace
}  // namespace mlhub
