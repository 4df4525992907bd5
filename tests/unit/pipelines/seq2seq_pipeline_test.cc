// The summarization / translation / text2text-generation pipelines against transformers 4.57.3's
// (tests/golden/seq2seq/<case>/case.json "pipelines", written by
// tools/reference/seq2seq_goldens.py): every recorded call -- the pipeline defaults (4 beams,
// 256 new tokens, task_specific_params), greedy, beams with no_repeat_ngram_size and
// length_penalty, max_length / min_length with 2 returned sequences, batch_size 2 and
// return_tensors -- must give the recorded output exactly (texts and token ids).
//
// A model folder is assembled the way the Hub serves it: the golden's config, generation config,
// weights and tokenizer_config.json, plus the real tokenizer files of ../shared/data/tokenizers
// (tokenizer.json for T5 and BART; for Marian the opus-mt layout source.spm / target.spm /
// vocab.json and no tokenizer.json, so MarianTokenizer's rules apply).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlhub/pipelines.h"

namespace mlhub {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kGolden = fs::path(MLHUB_SOURCE_DIR) / "tests" / "golden" / "seq2seq";
const fs::path kShared = fs::path(MLHUB_SHARED_DIR);

json read_json(const fs::path& file) {
  std::ifstream in(file);
  return json::parse(in);
}

// A temporary model folder for `name` (removed by the destructor).
struct ModelFolder {
  fs::path dir;
  explicit ModelFolder(const std::string& name, const json& meta) {
    dir = fs::temp_directory_path() / ("mlhub-seq2seq-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    for (const char* f : {"config.json", "generation_config.json", "model.safetensors",
                          "tokenizer_config.json", "special_tokens_map.json"}) {
      if (fs::exists(kGolden / name / f)) fs::create_symlink(kGolden / name / f, dir / f);
    }
    // case.json names the tokenizer folder as "shared/data/tokenizers/<folder>".
    const std::string tok = meta["tokenizer"].get<std::string>();
    const fs::path src = kShared / fs::path(tok).lexically_relative("shared");
    if (meta.value("tokenizer_class", "") == "MarianTokenizer") {
      fs::create_symlink(src / "vocab.json", dir / "vocab.json");
      fs::create_symlink(src / "vocab.joint.spm", dir / "source.spm");
      fs::create_symlink(src / "vocab.joint.spm", dir / "target.spm");
    } else {
      fs::create_symlink(src / "tokenizer.json", dir / "tokenizer.json");
    }
  }
  ~ModelFolder() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

// The pipeline's output for input i as the golden records it: transformers flattens a list
// input's results to one dict each when every input returned one record.
json expected_for(const json& output, size_t i) {
  const json& o = output.at(i);
  return o.is_object() ? json::array({o}) : o;
}

class Seq2SeqPipeline : public ::testing::TestWithParam<std::string> {};

TEST_P(Seq2SeqPipeline, EveryRecordedCallMatchesTransformers) {
  const std::string name = GetParam();
  const json meta = read_json(kGolden / name / "case.json");
  ModelFolder folder(name, meta);
  ASSERT_TRUE(meta.contains("pipelines"));
  for (const json& rec : meta["pipelines"]) {
    const std::string task = rec["task"];
    auto p = pipeline(task, folder.dir);
    ASSERT_TRUE(p.ok()) << name << " " << task << ": " << p.status().to_string();
    for (const json& call : rec["calls"]) {
      json params = call["parameters"];
      const bool batched = params.contains("batch_size");
      const std::vector<json> inputs = call["inputs"].get<std::vector<json>>();
      std::vector<json> got;
      if (batched) {
        got = (*p)->run_batch(inputs, params);
      } else {
        for (const json& in : inputs) got.push_back((*p)->run(in, params));
      }
      ASSERT_EQ(got.size(), inputs.size());
      for (size_t i = 0; i < inputs.size(); ++i) {
        EXPECT_EQ(got[i], expected_for(call["output"], i))
            << name << " " << task << " " << params.dump() << " input " << i;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Goldens, Seq2SeqPipeline, ::testing::Values("t5", "bart", "marian"));

TEST(Seq2SeqPipelineErrors, BadInputsAreClearErrors) {
  const json meta = read_json(kGolden / "t5" / "case.json");
  ModelFolder folder("t5", meta);
  auto p = pipeline("summarization", folder.dir);
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  EXPECT_THROW((*p)->run(json(42)), Error);
  EXPECT_THROW((*p)->run("text", json{{"num_beams", -1}}), Error);
  EXPECT_THROW((*p)->run("text", json{{"no_such_parameter", 1}}), Error);
  // A task name transformers does not have, and a translation name it does.
  EXPECT_FALSE(pipeline("translation_en", folder.dir).ok());
  EXPECT_TRUE(pipeline("translation_en_to_fr", folder.dir).ok());
  // src_lang / tgt_lang do nothing for T5's tokenizer, as in transformers' TranslationPipeline.
  auto t = pipeline("translation_en_to_de", folder.dir);
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  const json greedy = {{"max_new_tokens", 3}, {"num_beams", 1}};
  json with_langs = greedy;
  with_langs["src_lang"] = "en";
  with_langs["tgt_lang"] = "de";
  EXPECT_EQ((*t)->run("Hello world!", with_langs), (*t)->run("Hello world!", greedy));
}

}  // namespace
}  // namespace mlhub
