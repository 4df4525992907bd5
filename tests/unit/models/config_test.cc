// ModelConfig parsing (PretrainedConfig's label rules), head names, the registry's errors, input
// checks, and concurrent forwards. Golden parity is in encoder_parity_test.cc.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "mlhub/io.h"
#include "mlhub/models.h"

namespace mlhub::models {
namespace {

namespace fs = std::filesystem;
const fs::path kGolden = fs::path(MLHUB_SOURCE_DIR) / "tests" / "golden" / "models";

nlohmann::json base_config() { return {{"model_type", "bert"}}; }

TEST(ModelConfig, LabelsFromId2Label) {
  auto j = base_config();
  j["id2label"] = {{"1", "POSITIVE"}, {"0", "NEGATIVE"}};
  j["problem_type"] = "single_label_classification";
  j["pad_token_id"] = 0;
  auto c = ModelConfig::parse(j);
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->num_labels, 2);
  EXPECT_EQ(c->id2label, (std::vector<std::string>{"NEGATIVE", "POSITIVE"}));
  EXPECT_EQ(c->problem_type, "single_label_classification");
  EXPECT_EQ(c->pad_token_id, 0);
  EXPECT_EQ(c->model_type, "bert");
}

TEST(ModelConfig, DefaultLabelsFromNumLabels) {
  auto j = base_config();
  j["num_labels"] = 3;
  auto c = ModelConfig::parse(j);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->id2label, (std::vector<std::string>{"LABEL_0", "LABEL_1", "LABEL_2"}));
  auto d = ModelConfig::parse(base_config());  // transformers' default: two labels
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->num_labels, 2);
  EXPECT_EQ(d->id2label, (std::vector<std::string>{"LABEL_0", "LABEL_1"}));
  EXPECT_EQ(d->pad_token_id, -1);
  EXPECT_EQ(d->max_position_embeddings, 512);
}

TEST(ModelConfig, RejectsInvalidFields) {
  const std::vector<std::pair<nlohmann::json, std::string>> bad = {
      {nlohmann::json::array(), "not a JSON object"},
      {{{"hidden_size", 8}}, "no \"model_type\""},
      {{{"model_type", "bert"}, {"id2label", {{"0", "a"}, {"2", "b"}}}}, "id2label keys"},
      {{{"model_type", "bert"}, {"id2label", {{"x", "a"}}}}, "not a label index"},
      {{{"model_type", "bert"}, {"id2label", {{"0", "a"}}}, {"num_labels", 3}}, "num_labels 3"},
      {{{"model_type", "bert"}, {"problem_type", "ranking"}}, "problem_type"},
      {{{"model_type", "bert"}, {"pad_token_id", "zero"}}, "pad_token_id"},
  };
  for (const auto& [j, message] : bad) {
    auto c = ModelConfig::parse(j);
    ASSERT_FALSE(c.ok()) << j.dump();
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument) << j.dump();
    EXPECT_NE(c.status().message().find(message), std::string::npos) << c.status().message();
  }
}

TEST(ModelConfig, LoadNamesTheFile) {
  EXPECT_EQ(ModelConfig::load(kGolden / "no-such-case").status().code(), StatusCode::kNotFound);
  auto c = ModelConfig::load(kGolden / "bert-seqcls");
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->architectures, (std::vector<std::string>{"BertForSequenceClassification"}));
  EXPECT_EQ(c->num_labels, 3);
  EXPECT_EQ(c->type_vocab_size, 2);
}

TEST(Heads, FromArchitectureNames) {
  EXPECT_EQ(*head_from_architecture("BertModel"), Head::kBase);
  EXPECT_EQ(*head_from_architecture("XLMRobertaForSequenceClassification"),
            Head::kSequenceClassification);
  EXPECT_EQ(*head_from_architecture("DebertaV2ForTokenClassification"),
            Head::kTokenClassification);
  EXPECT_EQ(*head_from_architecture("DistilBertForQuestionAnswering"), Head::kQuestionAnswering);
  EXPECT_EQ(*head_from_architecture("MPNetForMaskedLM"), Head::kMaskedLM);
  for (const char* other : {"BertForPreTraining", "BertLMHeadModel", "RobertaForCausalLM",
                            "BertForMultipleChoice", "Model"})
    EXPECT_EQ(head_from_architecture(other).status().code(), StatusCode::kNotFound) << other;
  EXPECT_EQ(head_name(Head::kSequenceClassification), "SequenceClassification");
  EXPECT_EQ(head_name(Head::kMaskedLM), "MaskedLM");
}

TEST(Registry, KnowsTheEncoderFamilies) {
  const auto types = supported_model_types();
  for (const char* t : {"bert", "roberta", "xlm-roberta", "electra", "distilbert", "mpnet",
                        "deberta-v2"})
    EXPECT_TRUE(std::count(types.begin(), types.end(), t)) << t;
}

std::shared_ptr<const io::Checkpoint> golden_checkpoint(const std::string& name) {
  auto ckpt = io::Checkpoint::open(kGolden / name);
  EXPECT_TRUE(ckpt.ok()) << ckpt.status().to_string();
  return std::make_shared<const io::Checkpoint>(std::move(*ckpt));
}

TEST(Registry, UnsupportedInputsAreClearErrors) {
  auto config = *ModelConfig::load(kGolden / "bert-base");
  const auto ckpt = golden_checkpoint("bert-base");
  auto other = config;
  other.model_type = "gpt2";
  auto r = build_encoder(other, ckpt);
  EXPECT_EQ(r.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(r.status().message().find("gpt2"), std::string::npos);

  other = config;
  other.raw["position_embedding_type"] = "relative_key";
  r = build_encoder(other, ckpt);
  EXPECT_EQ(r.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(r.status().message().find("relative_key"), std::string::npos);

  other = config;
  other.architectures = {"BertForPreTraining"};
  EXPECT_EQ(build_encoder(other, ckpt).status().code(), StatusCode::kUnimplemented);

  other = config;
  other.raw["num_attention_heads"] = 5;  // 32 is not a multiple of 5
  EXPECT_EQ(build_encoder(other, ckpt).status().code(), StatusCode::kInvalidArgument);

  other = config;
  other.num_labels = 3;  // a QA head splits into exactly start / end
  LoadOptions qa;
  qa.head = Head::kQuestionAnswering;
  qa.allow_missing = true;
  r = build_encoder(other, ckpt, qa);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("num_labels"), std::string::npos);

  EXPECT_EQ(load_encoder(kGolden / "no-such-case").status().code(), StatusCode::kNotFound);

  // transformers 4.57 ties the non-legacy DeBERTa MLM head's dense layer to the word embeddings.
  auto deberta = *ModelConfig::load(kGolden / "deberta-v3-mlm");
  deberta.raw["legacy"] = false;
  r = build_encoder(deberta, golden_checkpoint("deberta-v3-mlm"));
  EXPECT_EQ(r.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(r.status().message().find("tie_word_embeddings"), std::string::npos);
}

TEST(Registry, ConfigOfALoadedModelHasTheSizesItUses) {
  // BertConfig's type_vocab_size default is 2 even when config.json omits it; DistilBERT and
  // MPNet have no token types at all.
  auto config = *ModelConfig::load(kGolden / "bert-base");
  config.raw.erase("type_vocab_size");
  config.type_vocab_size = 0;
  auto bert = build_encoder(config, golden_checkpoint("bert-base"));
  ASSERT_TRUE(bert.ok()) << bert.status().to_string();
  EXPECT_EQ((*bert)->config().type_vocab_size, 2);
  EXPECT_EQ((*bert)->head(), Head::kBase);
  for (const char* name : {"distilbert-base", "mpnet-base"}) {
    auto m = load_encoder(kGolden / name);
    ASSERT_TRUE(m.ok()) << m.status().to_string();
    EXPECT_EQ((*m)->config().type_vocab_size, 0) << name;
    EXPECT_EQ((*m)->config().max_position_embeddings, 64) << name;
  }
}

TEST(Forward, RejectsBadInputs) {
  auto model = load_encoder(kGolden / "bert-base");
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  auto expect_error = [&](const EncoderInput& in, StatusCode code) {
    try {
      (*model)->forward(in);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), code) << e.what();
    }
  };
  EncoderInput in;
  expect_error(in, StatusCode::kInvalidArgument);  // no input_ids
  in.input_ids = Tensor::from_ints(std::vector<int64_t>(65, 5), {1, 65});
  expect_error(in, StatusCode::kInvalidArgument);  // longer than max_position_embeddings 64
  in.input_ids = Tensor::from_ints(std::vector<int64_t>{2, 5, 3}, {1, 3});
  in.attention_mask = Tensor::from_ints(std::vector<int64_t>{1, 1}, {1, 2});
  expect_error(in, StatusCode::kInvalidArgument);  // mask shape
  in.attention_mask = Tensor();
  in.input_ids = Tensor::from_ints(std::vector<int64_t>{2, 500, 3}, {1, 3});
  expect_error(in, StatusCode::kOutOfRange);  // id past the vocabulary
}

TEST(Forward, MissingMaskAndTokenTypesMeanAllOnesAndZeros) {
  auto model = load_encoder(kGolden / "deberta-v3-base");
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  EncoderInput in;
  in.input_ids = Tensor::from_ints(std::vector<int64_t>{2, 17, 40, 3}, {1, 4});
  const Tensor implicit = (*model)->forward(in).last_hidden_state;
  in.attention_mask = Tensor::from_ints(std::vector<int64_t>{1, 1, 1, 1}, {1, 4});
  in.token_type_ids = Tensor::from_ints(std::vector<int64_t>{0, 0, 0, 0}, {1, 4});
  EXPECT_EQ(implicit.to_floats(), (*model)->forward(in).last_hidden_state.to_floats());
}

TEST(Forward, ConcurrentCallsGiveTheSameResult) {
  for (const char* name : {"bert-mlm", "mpnet-seqcls", "deberta-v3-qa"}) {
    auto model = load_encoder(kGolden / name);
    ASSERT_TRUE(model.ok()) << model.status().to_string();
    auto ref = io::Checkpoint::open(kGolden / name / "reference.safetensors");
    ASSERT_TRUE(ref.ok());
    EncoderInput in{ref->get("input_ids"), ref->get("attention_mask"), Tensor()};
    const EncoderOutput want = (*model)->forward(in);
    const Tensor& want_t = want.logits.defined() ? want.logits : want.start_logits;
    std::vector<std::vector<float>> got(4);
    std::vector<std::thread> threads;
    for (size_t t = 0; t < got.size(); ++t)
      threads.emplace_back([&, t] {
        const EncoderOutput o = (*model)->forward(in);
        got[t] = (o.logits.defined() ? o.logits : o.start_logits).to_floats();
      });
    for (auto& t : threads) t.join();
    for (const auto& g : got) EXPECT_EQ(g, want_t.to_floats()) << name;
  }
}

TEST(Forward, TraceHookSeesEveryLayer) {
  auto model = load_encoder(kGolden / "electra-base");
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  EncoderInput in;
  in.input_ids = Tensor::from_ints(std::vector<int64_t>{2, 17, 40, 3}, {1, 4});
  std::vector<std::string> seen;
  ForwardOptions opt;
  opt.trace = [&](const Tensor& t, std::string_view name, int layer) {
    EXPECT_EQ(t.dim(0), 1);
    seen.push_back(std::string(name) + "." + std::to_string(layer));
  };
  const EncoderOutput out = (*model)->forward(in, opt);
  EXPECT_EQ(seen, (std::vector<std::string>{"embeddings.-1", "attn_output.0", "layer_output.0",
                                            "attn_output.1", "layer_output.1"}));
  EXPECT_TRUE(out.hidden_states.empty());  // only with output_hidden_states
}

}  // namespace
}  // namespace mlhub::models
