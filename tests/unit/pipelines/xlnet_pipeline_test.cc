// The text-classification, token-classification and question-answering pipelines on XLNet
// (tests/golden/seq2seq/xlnet: the three head checkpoints, an XLNet tokenizer trained for them
// in xlnet/tokenizer/ and transformers 4.57.3's pipeline outputs in xlnet/pipelines.json, all
// written by tools/reference/seq2seq_goldens.py). XLNet's tokenizer pads on the left and puts
// <sep> <cls> at the end, and the classification summary reads the last position: run() and
// run_batch() (which pads rows of different lengths together) must both equal transformers.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "json_compare.h"
#include "mlhub/pipelines.h"

namespace mlhub {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::compare;
using testing::describe;

const fs::path kCase = fs::path(MLHUB_SOURCE_DIR) / "tests" / "golden" / "seq2seq" / "xlnet";

// A model folder as the hub would hold it: the head checkpoint plus the tokenizer files.
fs::path assemble(const std::string& head) {
  const fs::path dir = fs::temp_directory_path() / ("mlhub_xlnet_pipeline_" + head);
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const char* f : {"config.json", "model.safetensors"})
    fs::copy_file(kCase / head / f, dir / f);
  for (const auto& e : fs::directory_iterator(kCase / "tokenizer"))
    fs::copy_file(e.path(), dir / e.path().filename());
  return dir;
}

TEST(XLNetPipelines, MatchTransformersAloneAndBatched) {
  std::ifstream in(kCase / "pipelines.json");
  ASSERT_TRUE(in) << kCase / "pipelines.json";
  const json golden = json::parse(in);
  ASSERT_GE(golden["calls"].size(), 9u);
  for (const json& call : golden["calls"]) {
    const std::string task = call["task"], head = call["model"];
    SCOPED_TRACE(task + " " + call["parameters"].dump());
    const fs::path folder = assemble(head);
    auto p = pipeline(task, folder);
    ASSERT_TRUE(p.ok()) << p.status().to_string();
    const std::vector<json> inputs = call["inputs"].get<std::vector<json>>();
    const json& params = call["parameters"];
    const std::vector<json> batch = (*p)->run_batch(inputs, params);
    ASSERT_EQ(batch.size(), inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      std::vector<std::string> diffs;
      compare((*p)->run(inputs[i], params), call["output"][i], "$", diffs);
      EXPECT_TRUE(diffs.empty()) << "run(" << inputs[i].dump().substr(0, 80) << ")"
                                 << describe(diffs);
      diffs.clear();
      compare(batch[i], call["output"][i], "$", diffs);
      EXPECT_TRUE(diffs.empty()) << "run_batch, input " << i << describe(diffs);
    }
    fs::remove_all(folder);
  }
}

}  // namespace
}  // namespace mlhub
