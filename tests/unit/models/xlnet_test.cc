// XLNet against tests/golden/seq2seq/xlnet (tools/reference/seq2seq_goldens.py, make_xlnet): one
// randomised body with three heads (ForSequenceClassification, ForTokenClassification,
// ForQuestionAnsweringSimple) run by transformers 4.57.3 on a left-padded batch of two with
// token types, as XLNet's tokenizer lays it out (<sep> <cls> at the end, pad on the left).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlhub/io.h"
#include "mlhub/models.h"
#include "tensor_diff.h"

namespace mlhub::models {
namespace {

namespace fs = std::filesystem;
const fs::path kDir = fs::path(MLHUB_SOURCE_DIR) / "tests" / "golden" / "seq2seq" / "xlnet";
constexpr float kTolerance = 1e-4f;       // against transformers
constexpr float kRowTolerance = 1e-5f;    // a row alone against its row in the padded batch

using Rows = std::vector<std::vector<int64_t>>;

struct Golden {
  Rows ids, mask, types;
  io::Checkpoint ref;
};

Golden load_golden() {
  std::ifstream in(kDir / "case.json");
  EXPECT_TRUE(in) << kDir;
  const nlohmann::json c = nlohmann::json::parse(in);
  auto ref = io::Checkpoint::open(kDir / "reference.safetensors");
  if (!ref.ok()) throw std::runtime_error(ref.status().to_string());
  return Golden{c["input_ids"].get<Rows>(), c["attention_mask"].get<Rows>(),
                c["token_type_ids"].get<Rows>(), std::move(*ref)};
}

Tensor ints(const Rows& rows) {
  std::vector<int64_t> flat;
  for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
  return Tensor::from_ints(flat, {static_cast<int64_t>(rows.size()),
                                  static_cast<int64_t>(rows.front().size())});
}

EncoderInput batch_input(const Golden& g) {
  EncoderInput in;
  in.input_ids = ints(g.ids);
  in.attention_mask = ints(g.mask);
  in.token_type_ids = ints(g.types);
  return in;
}

// Row r without its padding (the positions where attention_mask is 1), and no mask at all.
EncoderInput unpadded_row(const Golden& g, size_t r, int64_t* pad) {
  std::vector<int64_t> ids, types;
  *pad = 0;
  for (size_t t = 0; t < g.ids[r].size(); ++t) {
    if (g.mask[r][t] == 0) {
      ++*pad;
      continue;
    }
    ids.push_back(g.ids[r][t]);
    types.push_back(g.types[r][t]);
  }
  EncoderInput in;
  in.input_ids = ints({ids});
  in.token_type_ids = ints({types});
  return in;
}

using testing::max_abs_diff;

std::unique_ptr<EncoderModel> load(const std::string& folder, std::optional<Head> head = {}) {
  LoadOptions opts;
  opts.head = head;
  auto model = load_encoder(kDir / folder, opts);
  if (!model.ok()) throw std::runtime_error(model.status().to_string());
  return std::move(*model);
}

TEST(XLNet, BaseModelMatchesTransformers) {
  const Golden g = load_golden();
  // XLNetModel is the body of every head checkpoint ("transformer." keys, base prefix stripped).
  const auto model = load("sequenceclassification", Head::kBase);
  ForwardOptions opt;
  opt.output_hidden_states = true;
  const EncoderOutput out = model->forward(batch_input(g), opt);
  const Tensor want = g.ref.get("last_hidden_state").to(DType::kF32);
  EXPECT_LE(max_abs_diff(out.last_hidden_state, want, "last_hidden_state"), kTolerance);
  EXPECT_FALSE(out.pooler_output.defined());
  ASSERT_EQ(out.hidden_states.size(), 3u);  // embeddings + n_layer 2
  EXPECT_EQ(out.hidden_states.back().to_floats(), out.last_hidden_state.to_floats());
}

TEST(XLNet, EveryHeadMatchesTransformersOnTheLeftPaddedBatch) {
  const Golden g = load_golden();
  const EncoderInput in = batch_input(g);
  {
    // The head comes from architectures[0] in each folder's config.json.
    const auto model = load("sequenceclassification");
    ASSERT_EQ(model->head(), Head::kSequenceClassification);
    EXPECT_LE(max_abs_diff(model->forward(in).logits,
                           g.ref.get("SequenceClassification.logits").to(DType::kF32),
                           "SequenceClassification.logits"),
              kTolerance);
  }
  {
    const auto model = load("tokenclassification");
    ASSERT_EQ(model->head(), Head::kTokenClassification);
    EXPECT_LE(max_abs_diff(model->forward(in).logits,
                           g.ref.get("TokenClassification.logits").to(DType::kF32),
                           "TokenClassification.logits"),
              kTolerance);
  }
  {
    // "XLNetForQuestionAnsweringSimple" maps to the QA head.
    const auto model = load("questionansweringsimple");
    ASSERT_EQ(model->head(), Head::kQuestionAnswering);
    const EncoderOutput out = model->forward(in);
    EXPECT_LE(max_abs_diff(out.start_logits,
                           g.ref.get("QuestionAnsweringSimple.start_logits").to(DType::kF32),
                           "QuestionAnsweringSimple.start_logits"),
              kTolerance);
    EXPECT_LE(max_abs_diff(out.end_logits,
                           g.ref.get("QuestionAnsweringSimple.end_logits").to(DType::kF32),
                           "QuestionAnsweringSimple.end_logits"),
              kTolerance);
  }
}

TEST(XLNet, EachRowAloneEqualsItsRowInThePaddedBatch) {
  const Golden g = load_golden();
  const EncoderInput in = batch_input(g);
  const auto seqcls = load("sequenceclassification");
  const auto tokcls = load("tokenclassification");
  const auto qa = load("questionansweringsimple");
  const Tensor batch_seq = seqcls->forward(in).logits;
  const Tensor batch_tok = tokcls->forward(in).logits;
  const EncoderOutput batch_qa = qa->forward(in);
  const int64_t width = in.input_ids.dim(1);
  for (size_t r = 0; r < g.ids.size(); ++r) {
    int64_t pad = 0;
    const EncoderInput alone = unpadded_row(g, r, &pad);
    const auto b = static_cast<int64_t>(r);
    const std::string row = "row " + std::to_string(r);
    // The summary reads the last position: the real <cls> of a left-padded row.
    EXPECT_LE(max_abs_diff(seqcls->forward(alone).logits.select(0, 0), batch_seq.select(0, b),
                           row + " sequence logits"),
              kRowTolerance);
    EXPECT_LE(max_abs_diff(tokcls->forward(alone).logits.select(0, 0),
                           batch_tok.select(0, b).slice(0, pad, width), row + " token logits"),
              kRowTolerance);
    const EncoderOutput o = qa->forward(alone);
    EXPECT_LE(max_abs_diff(o.start_logits.select(0, 0),
                           batch_qa.start_logits.select(0, b).slice(0, pad, width),
                           row + " start logits"),
              kRowTolerance);
    EXPECT_LE(max_abs_diff(o.end_logits.select(0, 0),
                           batch_qa.end_logits.select(0, b).slice(0, pad, width),
                           row + " end logits"),
              kRowTolerance);
  }
}

TEST(XLNet, TokenTypesAndRightPaddingOnlyMatterWhereTheyShould) {
  const Golden g = load_golden();
  const auto tokcls = load("tokenclassification");
  int64_t pad = 0;
  EncoderInput alone = unpadded_row(g, 0, &pad);
  ASSERT_GT(pad, 0);
  const Tensor with_types = tokcls->forward(alone).logits;
  // The segment term compares token types: all-equal types add the same score to every key of a
  // query (softmax-invariant), so zeros equal no types; the real A/B/cls types change the output.
  EncoderInput no_types = alone;
  no_types.token_type_ids = Tensor();
  const Tensor untyped = tokcls->forward(no_types).logits;
  const int64_t n = alone.input_ids.dim(1);
  no_types.token_type_ids = Tensor::from_ints(std::vector<int64_t>(n, 0), {1, n});
  EXPECT_LE(max_abs_diff(tokcls->forward(no_types).logits, untyped, "zeros vs no types"), 1e-6f);
  EXPECT_GT(max_abs_diff(with_types, untyped, "types vs no types"), 1e-3f);

  // An all-ones mask equals no mask.
  EncoderInput ones = alone;
  ones.attention_mask = Tensor::from_ints(std::vector<int64_t>(n, 1), {1, n});
  EXPECT_EQ(tokcls->forward(ones).logits.to_floats(), with_types.to_floats());

  // Relative positions make per-token outputs independent of the padding side too: the same row
  // padded on the right (with junk ids) gives the same logits on its real tokens.
  std::vector<int64_t> ids(alone.input_ids.data<int64_t>(), alone.input_ids.data<int64_t>() + n);
  std::vector<int64_t> types(alone.token_type_ids.data<int64_t>(),
                             alone.token_type_ids.data<int64_t>() + n);
  std::vector<int64_t> mask(n, 1);
  for (int i = 0; i < 4; ++i) {
    ids.push_back(7 + i);
    types.push_back(3);
    mask.push_back(0);
  }
  EncoderInput right;
  right.input_ids = Tensor::from_ints(ids, {1, n + 4});
  right.token_type_ids = Tensor::from_ints(types, {1, n + 4});
  right.attention_mask = Tensor::from_ints(mask, {1, n + 4});
  EXPECT_LE(max_abs_diff(tokcls->forward(right).logits.select(0, 0).slice(0, 0, n),
                         with_types.select(0, 0), "right-padded row"),
            kRowTolerance);
}

// Sequence classifiers with other config values (variants/: clamp_len 3 + relu + "first" summary
// without projection or activation; gelu_new + "mean" summary + layer_norm_eps 1e-5), on the same
// batch. A "first" or "mean" summary reads padding in a left-padded batch: transformers does too.
TEST(XLNet, ConfigVariantsMatchTransformers) {
  const Golden g = load_golden();
  for (const char* name : {"clamp-first-noproj", "mean-gelu-new"}) {
    const auto model = load(std::string("variants/") + name);
    auto ref = io::Checkpoint::open(kDir / "variants" / name / "reference.safetensors");
    ASSERT_TRUE(ref.ok()) << ref.status().to_string();
    const EncoderOutput out = model->forward(batch_input(g));
    EXPECT_LE(max_abs_diff(out.last_hidden_state, ref->get("last_hidden_state").to(DType::kF32),
                           std::string(name) + " last_hidden_state"),
              kTolerance);
    EXPECT_LE(max_abs_diff(out.logits, ref->get("logits").to(DType::kF32),
                           std::string(name) + " logits"),
              kTolerance);
  }
}

void expect_error(const EncoderModel& model, const EncoderInput& in, StatusCode code,
                  const std::string& what) {
  try {
    model.forward(in);
    ADD_FAILURE() << what << ": no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << what << ": " << e.what();
  }
}

TEST(XLNet, BadInputsAreErrors) {
  const auto model = load("tokenclassification");
  EncoderInput in;
  expect_error(*model, in, StatusCode::kInvalidArgument, "no input_ids");
  in.input_ids = Tensor::from_ints(std::vector<int64_t>{10, 256, 3}, {1, 3});
  expect_error(*model, in, StatusCode::kOutOfRange, "id past the vocabulary (256)");
  in.input_ids = Tensor::from_ints(std::vector<int64_t>{10, -1, 3}, {1, 3});
  expect_error(*model, in, StatusCode::kOutOfRange, "negative id");
  in.input_ids = Tensor::from_ints(std::vector<int64_t>{10, 11, 3}, {1, 3});
  in.attention_mask = Tensor::from_ints(std::vector<int64_t>{1, 1}, {1, 2});
  expect_error(*model, in, StatusCode::kInvalidArgument, "mask shape");
  in.attention_mask = Tensor();
  in.token_type_ids = Tensor::from_floats(std::vector<float>{0, 0, 2}, {1, 3});
  expect_error(*model, in, StatusCode::kInvalidArgument, "F32 token types");
  in.token_type_ids = Tensor();
  in.input_ids = Tensor::from_ints(std::vector<int64_t>{}, {1, 0});
  expect_error(*model, in, StatusCode::kInvalidArgument, "empty sequence");
}

TEST(XLNet, MissingOrUnsupportedHeadsAreClearErrors) {
  // The token-classification checkpoint has no sequence_summary / logits_proj.
  LoadOptions opts;
  opts.head = Head::kSequenceClassification;
  auto wrong = load_encoder(kDir / "tokenclassification", opts);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong.status().message().find("logits_proj.weight"), std::string::npos)
      << wrong.status().to_string();
  EXPECT_NE(wrong.status().message().find("sequence_summary.summary.weight"), std::string::npos)
      << wrong.status().to_string();

  opts.head = Head::kMaskedLM;
  auto mlm = load_encoder(kDir / "tokenclassification", opts);
  ASSERT_FALSE(mlm.ok());
  EXPECT_EQ(mlm.status().code(), StatusCode::kUnimplemented) << mlm.status().to_string();

  // A checkpoint of the beam-search XLNetForQuestionAnswering (no qa_outputs).
  const fs::path dir = fs::temp_directory_path() / "mlhub_xlnet_beam_qa";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ifstream cfg_in(kDir / "questionansweringsimple" / "config.json");
  nlohmann::json cfg = nlohmann::json::parse(cfg_in);
  cfg["architectures"] = {"XLNetForQuestionAnswering"};
  std::ofstream(dir / "config.json") << cfg.dump();
  fs::copy_file(kDir / "tokenclassification" / "model.safetensors", dir / "model.safetensors");
  auto beam = load_encoder(dir);
  fs::remove_all(dir);
  ASSERT_FALSE(beam.ok());
  EXPECT_EQ(beam.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(beam.status().message().find("XLNetForQuestionAnsweringSimple"), std::string::npos)
      << beam.status().to_string();
}

TEST(XLNet, LoadReportListsNothingForItsOwnCheckpoints) {
  for (const char* folder : {"sequenceclassification", "tokenclassification",
                             "questionansweringsimple"}) {
    const auto model = load(folder);
    EXPECT_TRUE(model->load_report().missing_keys.empty()) << folder;
    EXPECT_TRUE(model->load_report().unexpected_keys.empty()) << folder;
  }
  EXPECT_EQ(load("tokenclassification")->config().model_type, "xlnet");
}

}  // namespace
}  // namespace mlhub::models
