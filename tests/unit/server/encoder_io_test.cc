// The encoder routes' request parsing and answer shaping (src/server/inference/encoder_io.h):
// what clients may send, the errors they get otherwise, and the exact answer shapes.
#include "server/inference/encoder_io.h"

#include <cmath>
#include <cstring>

#include <gtest/gtest.h>

namespace mlhub::inference::enc {
namespace {

// The InferenceError kind `f` throws (fails the test when it throws nothing).
template <typename F>
ErrorKind kind_of(F&& f, std::string* message = nullptr) {
  try {
    f();
  } catch (const InferenceError& e) {
    if (message) *message = e.what();
    return e.kind;
  }
  ADD_FAILURE() << "no InferenceError thrown";
  return ErrorKind::kGeneration;
}

std::vector<uint8_t> base64_decode(const std::string& s) {
  std::vector<uint8_t> out;
  uint32_t buf = 0;
  int bits = 0;
  for (char c : s) {
    if (c == '=') break;
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char* p = std::strchr(alphabet, c);
    EXPECT_NE(p, nullptr) << "bad base64 character " << c;
    buf = (buf << 6) | static_cast<uint32_t>(p - alphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>((buf >> bits) & 0xFF));
    }
  }
  return out;
}

TEST(TaskInputs, OneInputOrABatch) {
  Inputs one = task_inputs("I love it", InputKind::kText);
  EXPECT_FALSE(one.batch);
  ASSERT_EQ(one.items.size(), 1u);
  EXPECT_EQ(one.items[0], "I love it");

  Inputs many = task_inputs(json::array({"a", "b", "c"}), InputKind::kText);
  EXPECT_TRUE(many.batch);
  EXPECT_EQ(many.items, (std::vector<json>{"a", "b", "c"}));

  // A one-element list is still a batch: the answer is a list of one result.
  EXPECT_TRUE(task_inputs(json::array({"a"}), InputKind::kText).batch);

  const json pair = {{"text", "a"}, {"text_pair", "b"}};
  Inputs pairs = task_inputs(json::array({pair, "plain"}), InputKind::kTextOrPair);
  EXPECT_TRUE(pairs.batch);
  EXPECT_EQ(pairs.items[0], pair);

  const json qa = {{"question", "Where?"}, {"context", "In Berlin."}};
  EXPECT_FALSE(task_inputs(qa, InputKind::kQuestion).batch);
  EXPECT_EQ(task_inputs(json::array({qa, qa}), InputKind::kQuestion).items.size(), 2u);
}

TEST(TaskInputs, BadInputsAreValidationErrorsNamingTheField) {
  std::string msg;
  EXPECT_EQ(kind_of([] { task_inputs(nullptr, InputKind::kText); }, &msg), ErrorKind::kValidation);
  EXPECT_EQ(msg, "`inputs` is required");
  EXPECT_EQ(kind_of([] { task_inputs(json::array(), InputKind::kText); }, &msg),
            ErrorKind::kValidation);
  EXPECT_EQ(msg, "`inputs` cannot be empty");
  EXPECT_EQ(kind_of([] { task_inputs("", InputKind::kText); }, &msg), ErrorKind::kValidation);
  EXPECT_EQ(msg, "`inputs` is an empty string");
  EXPECT_EQ(kind_of([] { task_inputs(json::array({"ok", 3}), InputKind::kText); }, &msg),
            ErrorKind::kValidation);
  EXPECT_EQ(msg, "`inputs[1]` must be a string or a list of strings");
  EXPECT_EQ(kind_of([] { task_inputs(42, InputKind::kText); }), ErrorKind::kValidation);
  EXPECT_EQ(kind_of([] { task_inputs(json{{"question", "q"}}, InputKind::kQuestion); }, &msg),
            ErrorKind::kValidation);
  EXPECT_EQ(msg, "`inputs.context` is required");
  EXPECT_EQ(
      kind_of([] { task_inputs(json{{"question", "q"}, {"context", 7}}, InputKind::kQuestion); },
              &msg),
      ErrorKind::kValidation);
  EXPECT_EQ(msg, "`inputs.context` must be a string");
  EXPECT_EQ(kind_of(
                [] {
                  task_inputs(json{{"source_sentence", "s"}, {"sentences", json::array()}},
                              InputKind::kSimilarity);
                },
                &msg),
            ErrorKind::kValidation);
  EXPECT_EQ(msg, "`inputs.sentences` cannot be empty");
  EXPECT_EQ(
      kind_of([] { task_inputs(json{{"text", "a"}, {"text_pair", 1}}, InputKind::kTextOrPair); }),
      ErrorKind::kValidation);
}

TEST(TaskInputs, TooManyInputsIsTooLarge) {
  json many = json::array();
  for (size_t i = 0; i <= kMaxClientBatchSize; ++i) many.push_back("x");
  std::string msg;
  EXPECT_EQ(kind_of([&] { task_inputs(many, InputKind::kText); }, &msg), ErrorKind::kTooLarge);
  EXPECT_EQ(msg, "batch size 65 > maximum allowed batch size 64");
  many.erase(many.begin());
  EXPECT_EQ(task_inputs(many, InputKind::kText).items.size(), kMaxClientBatchSize);
  // A similarity input counts its source sentence too, as TEI does.
  json sentences = json::array();
  for (size_t i = 0; i < kMaxClientBatchSize; ++i) sentences.push_back("s");
  EXPECT_EQ(kind_of([&] {
              task_inputs(json{{"source_sentence", "s"}, {"sentences", sentences}},
                          InputKind::kSimilarity);
            }),
            ErrorKind::kTooLarge);
}

TEST(TextInputs, StringsOnlyAndTokenIdsRefused) {
  EXPECT_FALSE(text_inputs("hello", "input").batch);
  EXPECT_TRUE(text_inputs(json::array({"a", "b"}), "input").batch);
  std::string msg;
  EXPECT_EQ(kind_of([] { text_inputs(json::array({101, 2023, 102}), "input"); }, &msg),
            ErrorKind::kValidation);
  EXPECT_NE(msg.find("token ids"), std::string::npos) << msg;
  EXPECT_EQ(kind_of([] { text_inputs(json::array({json::array({1, 2})}), "input"); }, &msg),
            ErrorKind::kValidation);
  EXPECT_NE(msg.find("`input[0]` holds token ids"), std::string::npos) << msg;
  EXPECT_EQ(kind_of([] { text_inputs(nullptr, "input"); }, &msg), ErrorKind::kValidation);
  EXPECT_EQ(msg, "`input` is required");
  EXPECT_EQ(kind_of([] { text_inputs(json{{"a", 1}}, "inputs"); }), ErrorKind::kValidation);
}

TEST(PredictInputs, TeiForms) {
  Inputs single = predict_inputs("good movie");
  EXPECT_FALSE(single.batch);
  EXPECT_EQ(single.items[0], "good movie");

  Inputs pair = predict_inputs(json::array({"premise", "hypothesis"}));
  EXPECT_FALSE(pair.batch);
  EXPECT_EQ(pair.items[0], (json{{"text", "premise"}, {"text_pair", "hypothesis"}}));

  Inputs one_in_list = predict_inputs(json::array({"only"}));
  EXPECT_FALSE(one_in_list.batch);
  EXPECT_EQ(one_in_list.items[0], "only");

  Inputs batch = predict_inputs(json::array({json::array({"a"}), json::array({"b", "c"})}));
  EXPECT_TRUE(batch.batch);
  ASSERT_EQ(batch.items.size(), 2u);
  EXPECT_EQ(batch.items[0], "a");
  EXPECT_EQ(batch.items[1], (json{{"text", "b"}, {"text_pair", "c"}}));

  EXPECT_EQ(kind_of([] { predict_inputs(json::array({"a", "b", "c"})); }), ErrorKind::kValidation);
  EXPECT_EQ(kind_of([] { predict_inputs(json::array({json::array({"a", "b", "c"})})); }),
            ErrorKind::kValidation);
  EXPECT_EQ(kind_of([] { predict_inputs(json::array()); }), ErrorKind::kValidation);
  EXPECT_EQ(kind_of([] { predict_inputs(5); }), ErrorKind::kValidation);
}

TEST(EmbedOptions, RootAndParametersAndDefaults) {
  EmbedOptions d = embed_options(json::object(), true);
  EXPECT_TRUE(d.normalize);
  EXPECT_FALSE(d.dimensions);
  EXPECT_FALSE(d.base64);
  EXPECT_FALSE(embed_options(json::object(), false).normalize);

  const json body = {{"normalize", false},
                     {"dimensions", 8},
                     {"prompt_name", "query"},
                     {"encoding_format", "base64"},
                     {"truncate", true},
                     {"truncation_direction", "Right"},
                     {"parameters", {{"normalize", true}, {"dimensions", 4}}}};
  EmbedOptions o = embed_options(body, true);
  EXPECT_FALSE(o.normalize);  // the root wins over parameters
  EXPECT_EQ(o.dimensions, 8u);
  EXPECT_EQ(o.prompt_name, "query");
  EXPECT_TRUE(o.base64);
  EXPECT_EQ(o.truncate, true);
  EXPECT_FALSE(o.truncate_left);
  // Older clients put them under parameters only.
  EXPECT_EQ(embed_options(json{{"parameters", {{"dimensions", 4}}}}, true).dimensions, 4u);
  // null means absent.
  EXPECT_TRUE(embed_options(json{{"normalize", nullptr}}, true).normalize);
}

TEST(EmbedOptions, BadValues) {
  std::string msg;
  EXPECT_EQ(kind_of([] { embed_options(json{{"normalize", "yes"}}, true); }, &msg),
            ErrorKind::kValidation);
  EXPECT_EQ(msg, "`normalize` must be a boolean");
  EXPECT_EQ(kind_of([] { embed_options(json{{"dimensions", 0}}, true); }), ErrorKind::kValidation);
  EXPECT_EQ(kind_of([] { embed_options(json{{"dimensions", 2.5}}, true); }, &msg),
            ErrorKind::kValidation);
  EXPECT_EQ(msg, "`dimensions` must be an integer");
  EXPECT_EQ(kind_of([] { embed_options(json{{"encoding_format", "int8"}}, true); }),
            ErrorKind::kValidation);
  EXPECT_EQ(kind_of([] { embed_options(json{{"truncation_direction", "up"}}, true); }),
            ErrorKind::kValidation);
  EXPECT_EQ(kind_of([] { embed_options(json{{"truncation_direction", "left"}}, true); }),
            ErrorKind::kValidation);
  // Left is fine when nothing is truncated.
  EXPECT_TRUE(embed_options(json{{"truncation_direction", "Left"}, {"truncate", false}}, true)
                  .truncate_left);
  EXPECT_EQ(kind_of([] { embed_options(json{{"parameters", "x"}}, true); }),
            ErrorKind::kValidation);
}

TEST(ShapeEmbedding, DimensionsThenNormalize) {
  EmbedOptions o;
  o.normalize = false;
  EXPECT_EQ(shape_embedding({3, 4, 12}, o), (std::vector<float>{3, 4, 12}));
  o.dimensions = 2;
  EXPECT_EQ(shape_embedding({3, 4, 12}, o), (std::vector<float>{3, 4}));
  o.normalize = true;
  const std::vector<float> v = shape_embedding({3, 4, 12}, o);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_FLOAT_EQ(v[0], 0.6f);  // normalised after cutting: (3, 4) / 5
  EXPECT_FLOAT_EQ(v[1], 0.8f);
  o.dimensions = 4;
  std::string msg;
  EXPECT_EQ(kind_of([&] { shape_embedding({1, 2, 3}, o); }, &msg), ErrorKind::kValidation);
  EXPECT_EQ(msg, "`dimensions` (4) is larger than the model's embedding size (3)");
  o.dimensions.reset();
  const std::vector<float> zero = shape_embedding({0, 0}, o);  // eps: no division by zero
  EXPECT_EQ(zero, (std::vector<float>{0, 0}));
}

TEST(Cosine, MatchesUtilCosSim) {
  EXPECT_FLOAT_EQ(cosine_similarity({1, 0}, {0, 1}), 0.0f);
  EXPECT_FLOAT_EQ(cosine_similarity({2, 0}, {5, 0}), 1.0f);
  EXPECT_NEAR(cosine_similarity({1, 2, 3}, {4, 5, 6}), 32.0 / (std::sqrt(14.0) * std::sqrt(77.0)),
              1e-7);
}

TEST(Base64, LittleEndianFloat32) {
  // 1.0f = 0x3F800000 -> bytes 00 00 80 3F -> "AACAPw=="
  EXPECT_EQ(base64_floats({1.0f}), "AACAPw==");
  EXPECT_EQ(base64_floats({}), "");
  const std::vector<float> values = {0.25f, -1.5f, 3.1415926f, 1e-20f, -0.0f};
  const std::vector<uint8_t> bytes = base64_decode(base64_floats(values));
  ASSERT_EQ(bytes.size(), values.size() * 4);
  for (size_t i = 0; i < values.size(); ++i) {
    const uint32_t u = bytes[4 * i] | (bytes[4 * i + 1] << 8) | (bytes[4 * i + 2] << 16) |
                       (static_cast<uint32_t>(bytes[4 * i + 3]) << 24);
    float f;
    std::memcpy(&f, &u, 4);
    EXPECT_EQ(std::memcmp(&f, &values[i], 4), 0) << i;
  }
  // Every padding length.
  EXPECT_EQ(base64_floats({1.0f, 1.0f, 1.0f}).size(), 16u);
  EXPECT_EQ(base64_floats({1.0f, 1.0f}).back(), '=');
}

TEST(PromptPrefix, SentenceTransformersPrompts) {
  const json cfg = {{"prompts", {{"query", "query: "}, {"passage", "passage: "}, {"none", ""}}},
                    {"default_prompt_name", nullptr}};
  EXPECT_EQ(prompt_prefix(cfg, "query"), "query: ");
  std::string msg;
  EXPECT_EQ(kind_of([&] { prompt_prefix(cfg, "nope"); }, &msg), ErrorKind::kValidation);
  EXPECT_NE(msg.find("its prompts: none, passage, query"), std::string::npos) << msg;
  EXPECT_EQ(kind_of([] { prompt_prefix(nullptr, "query"); }, &msg), ErrorKind::kValidation);
  EXPECT_NE(msg.find("defines none"), std::string::npos) << msg;
  // The default prompt is the pipeline's business; another one cannot replace it.
  json with_default = cfg;
  with_default["default_prompt_name"] = "query";
  EXPECT_EQ(prompt_prefix(with_default, "query"), "");
  EXPECT_EQ(kind_of([&] { prompt_prefix(with_default, "passage"); }), ErrorKind::kValidation);
  with_default["default_prompt_name"] = "none";  // an empty default adds nothing
  EXPECT_EQ(prompt_prefix(with_default, "passage"), "passage: ");
}

TEST(Shapes, ZeroShotList) {
  const json out =
      zero_shot_list({{"sequence", "s"}, {"labels", {"urgent", "phone"}}, {"scores", {0.7, 0.3}}});
  EXPECT_EQ(
      out,
      (json::array({{{"label", "urgent"}, {"score", 0.7}}, {{"label", "phone"}, {"score", 0.3}}})));
  EXPECT_EQ(kind_of([] { zero_shot_list(json::array()); }), ErrorKind::kGeneration);
}

TEST(Shapes, RerankSortedWithTies) {
  const json ranks = rerank_list(json::array({0.1, 0.9, 0.5, 0.9}), {"a", "b", "c", "d"}, false);
  ASSERT_EQ(ranks.size(), 4u);
  EXPECT_EQ(ranks[0]["index"], 1);
  EXPECT_EQ(ranks[1]["index"], 3);  // ties keep text order
  EXPECT_EQ(ranks[2]["index"], 2);
  EXPECT_EQ(ranks[3]["index"], 0);
  EXPECT_FALSE(ranks[0].contains("text"));
  EXPECT_NEAR(ranks[0]["score"].get<double>(), 0.9, 1e-7);
  const json with_text = rerank_list(json::array({0.2, 0.4}), {"a", "b"}, true);
  EXPECT_EQ(with_text[0]["text"], "b");
  EXPECT_EQ(with_text[1]["text"], "a");
  EXPECT_EQ(kind_of([] { rerank_list(json::array({json::array({0.1, 0.2})}), {"a"}, false); }),
            ErrorKind::kUnsupported);
}

TEST(Tasks, AliasesAndModelKinds) {
  EXPECT_EQ(canonical_task("sentiment-analysis"), "text-classification");
  EXPECT_EQ(canonical_task("ner"), "token-classification");
  EXPECT_EQ(canonical_task("fill-mask"), "fill-mask");
  ModelInfo info;
  info.pipeline_tag = "text-generation";
  EXPECT_TRUE(is_language_model(info));
  info.pipeline_tag = "sentence-similarity";
  EXPECT_FALSE(is_language_model(info));
  EXPECT_TRUE(is_embedding_model(info));
  info.pipeline_tag = "fill-mask";
  EXPECT_FALSE(is_embedding_model(info));
  info.library_name = "sentence-transformers";
  EXPECT_TRUE(is_embedding_model(info));
  info.is_gguf = true;
  EXPECT_TRUE(is_language_model(info));
}

}  // namespace
}  // namespace mlhub::inference::enc
