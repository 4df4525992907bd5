// text-generation and chat against tests/golden/pipelines/text-generation.jsonl (transformers
// 4.57.3's TextGenerationPipeline, tools/reference/text_generation_goldens.py): every case must
// give identical output (texts, messages, token ids); run_batch over the cases sharing params
// must equal run() on each; and ChatSession must reply what the chat pipeline replies, reusing
// its KV cache on the second turn.
//
// The tiny model's folder (tests/golden/pipelines/models/llama-tiny-qwen-tok) has no
// tokenizer.json (7 MB): the test assembles a folder of links to the committed files and
// MLHUB_SHARED_DIR's Qwen2.5 tokenizer.json.
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>

#include "mlhub/pipelines.h"

namespace mlhub {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kGoldens =
    fs::path(MLHUB_SOURCE_DIR) / "tests/golden/pipelines/text-generation.jsonl";
const fs::path kModel =
    fs::path(MLHUB_SOURCE_DIR) / "tests/golden/pipelines/models/llama-tiny-qwen-tok";
const fs::path kTokenizer = fs::path(MLHUB_SHARED_DIR) / "data/tokenizers/qwen2.5/tokenizer.json";

// The committed model files plus the shared tokenizer.json, linked into a temporary folder.
const fs::path& model_folder() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("mlhub-textgen-" + std::to_string(::getpid()));
    fs::remove_all(d);
    fs::create_directories(d);
    for (const auto& e : fs::directory_iterator(kModel)) {
      fs::create_symlink(fs::absolute(e.path()), d / e.path().filename());
    }
    fs::create_symlink(kTokenizer, d / "tokenizer.json");
    return d;
  }();
  return dir;
}

std::vector<json> read_jsonl(const fs::path& file) {
  std::vector<json> out;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(json::parse(line));
  }
  return out;
}

const Pipeline& get_pipeline(const std::string& task) {
  static std::map<std::string, std::unique_ptr<Pipeline>> cache;
  auto& p = cache[task];
  if (!p) {
    auto r = pipeline(task, model_folder());
    if (!r.ok()) throw std::runtime_error(r.status().to_string());
    p = std::move(*r);
  }
  return *p;
}

class TextGenerationGolden : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(kTokenizer)) << kTokenizer;
    cases_ = read_jsonl(kGoldens);
    ASSERT_GE(cases_.size(), 30u) << kGoldens;
  }
  std::vector<json> cases_;
};

TEST_F(TextGenerationGolden, EveryCaseMatchesTransformers) {
  for (size_t i = 0; i < cases_.size(); ++i) {
    const json& c = cases_[i];
    SCOPED_TRACE("line " + std::to_string(i + 1) + " " + c["task"].get<std::string>() + " " +
                 c["params"].dump());
    json got;
    try {
      got = get_pipeline(c["task"]).run(c["input"], c["params"]);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "run threw: " << e.what();
      continue;
    }
    EXPECT_EQ(got, c["output"]) << "got  " << got.dump() << "\nwant " << c["output"].dump();
  }
}

TEST_F(TextGenerationGolden, RunBatchEqualsRun) {
  std::map<std::string, std::vector<size_t>> groups;
  for (size_t i = 0; i < cases_.size(); ++i) {
    groups[cases_[i]["task"].get<std::string>() + cases_[i]["params"].dump()].push_back(i);
  }
  size_t batched = 0;
  for (const auto& [key, members] : groups) {
    if (members.size() < 2) continue;
    const json& first = cases_[members.front()];
    std::vector<json> inputs;
    for (size_t i : members) inputs.push_back(cases_[i]["input"]);
    const std::vector<json> got = get_pipeline(first["task"]).run_batch(inputs, first["params"]);
    ASSERT_EQ(got.size(), inputs.size());
    for (size_t k = 0; k < members.size(); ++k) {
      EXPECT_EQ(got[k], cases_[members[k]]["output"]) << key << " line " << members[k] + 1;
    }
    ++batched;
  }
  EXPECT_GE(batched, 5u);
}

TEST(TextGeneration, RejectsBadInputAndParameters) {
  const Pipeline& p = get_pipeline("text-generation");
  const json greedy = {{"do_sample", false}, {"max_new_tokens", 2}};
  EXPECT_THROW(p.run(json(42), greedy), Error);
  EXPECT_THROW(p.run(json::array({json{{"role", "user"}}}), greedy), Error);  // no content
  json both = greedy;
  both["return_full_text"] = false;
  both["return_tensors"] = true;
  EXPECT_THROW(p.run("Hi", both), Error);
  json unknown = greedy;
  unknown["no_such_generate_kwarg"] = 1;
  EXPECT_THROW(p.run("Hi", unknown), Error);
  EXPECT_THROW(get_pipeline("chat").run("Hi", {{"return_full_text", true}}), Error);
}

TEST(TextGeneration, SamplingIsReproducibleWithASeedAndBatchEqualsSingle) {
  const Pipeline& p = get_pipeline("text-generation");
  const json params = {{"max_new_tokens", 12}, {"seed", 7}};  // do_sample=True by default
  const json a = p.run("Hello, my name is", params);
  EXPECT_EQ(p.run("Hello, my name is", params), a);
  const std::vector<json> batch =
      p.run_batch({"The capital of France is", "Hello, my name is"}, params);
  EXPECT_EQ(batch[1], a);
  const json greedy = p.run("Hello, my name is", {{"max_new_tokens", 12}, {"do_sample", false}});
  EXPECT_NE(a, greedy) << "the pipeline's default should sample (temperature 0.7)";
}

TEST(TextGeneration, ChatTaskTakesMessagesObjectAndString) {
  const Pipeline& chat = get_pipeline("chat");
  const json greedy = {{"do_sample", false}, {"max_new_tokens", 5}};
  const json messages = json::array({json{{"role", "user"}, {"content", "Hi there!"}}});
  const json a = chat.run(messages, greedy);
  EXPECT_EQ(chat.run(json{{"messages", messages}}, greedy), a);
  EXPECT_EQ(chat.run("Hi there!", greedy), a);
  EXPECT_EQ(a["role"], "assistant");
}

// ChatSession on the golden conversation: each reply equals the chat pipeline's recorded reply
// for the conversation so far, the streamed pieces concatenate to it, and the second turn runs
// only the tokens after what the cache already holds.
TEST_F(TextGenerationGolden, ChatSessionRepliesAsThePipelineAndReusesItsCache) {
  std::vector<json> turns;  // chat cases whose input starts with the conversation's system prompt
  for (const json& c : cases_) {
    if (c["task"] == "chat" && c["input"].size() >= 2 &&
        c["input"][0]["content"] == "You are a terse assistant." &&
        c["input"][1]["content"] == "Hi there!") {
      turns.push_back(c);
    }
  }
  ASSERT_EQ(turns.size(), 2u);
  ChatSession::Options opts;
  opts.system = "You are a terse assistant.";
  opts.generate = {{"do_sample", false}, {"max_new_tokens", 20}};
  auto session = ChatSession::open(model_folder(), opts);
  ASSERT_TRUE(session.ok()) << session.status().to_string();
  for (size_t t = 0; t < turns.size(); ++t) {
    const json& input = turns[t]["input"];
    std::string streamed;
    auto reply = (*session)->send(input.back()["content"].get<std::string>(),
                                  [&](std::string_view piece) { streamed += piece; });
    ASSERT_TRUE(reply.ok()) << reply.status().to_string();
    EXPECT_EQ(*reply, turns[t]["output"]["content"].get<std::string>()) << "turn " << t;
    EXPECT_EQ(streamed, *reply) << "turn " << t;
    if (t == 1) {
      EXPECT_GT((*session)->reused_tokens(), 20) << "the second turn re-ran the first";
    }
  }
  EXPECT_EQ((*session)->messages().size(), 5u);
  (*session)->reset();
  EXPECT_EQ((*session)->messages().size(), 1u);
  std::string again;
  auto reply = (*session)->send("Hi there!", [&](std::string_view piece) { again += piece; });
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(*reply, turns[0]["output"]["content"].get<std::string>()) << "after /reset";
}

}  // namespace
}  // namespace mlhub
