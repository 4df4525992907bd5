// WeightMap: key resolution with transformers' base_model_prefix rule, legacy LayerNorm names,
// dtype handling, and the missing / unexpected / mismatched report of
// PreTrainedModel._load_pretrained_model (transformers 4.57.3). The end-to-end reports of real
// transformers runs are checked in tests/unit/models (load_reports.json); these pin each rule.
#include <gtest/gtest.h>

#include "mlhub/nn.h"

namespace mlhub::nn {
namespace {

using Keys = std::vector<std::string>;

std::shared_ptr<const io::Checkpoint> checkpoint(const std::vector<std::string>& names,
                                                 const Shape& shape = {2}) {
  io::Checkpoint c;
  for (const std::string& n : names) c.put(n, Tensor::full(shape, 1.0f));
  return std::make_shared<const io::Checkpoint>(std::move(c));
}

TEST(WeightMap, ScopesNamesWithSub) {
  WeightMap w(checkpoint({"encoder.layer.0.attention.self.query.weight"}), "bert", false);
  const WeightMap q = w.sub("encoder").sub("layer").sub("0").sub("attention").sub("self");
  EXPECT_EQ(q.full_name("query.weight"), "encoder.layer.0.attention.self.query.weight");
  EXPECT_TRUE(q.has("query.weight"));
  EXPECT_FALSE(q.has("key.weight"));
  EXPECT_EQ(q.get("query.weight", {2}).to_floats(), (std::vector<float>{1, 1}));
  auto report = w.finish();
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  EXPECT_TRUE(report->missing_keys.empty());
  EXPECT_TRUE(report->unexpected_keys.empty());
}

TEST(WeightMap, F32IsZeroCopyOtherFloatsAreConverted) {
  io::Checkpoint c;
  const Tensor f32 = Tensor::from_floats(std::vector<float>{1.5f, -2.0f}, {2});
  c.put("a", f32);
  c.put("b", f32.to(DType::kF16));
  c.put("c", f32.to(DType::kBF16));
  c.put("d", f32.to(DType::kF64));
  c.put("ids", Tensor::from_ints(std::vector<int64_t>{1, 2}, {2}));
  WeightMap w(std::make_shared<const io::Checkpoint>(c), "", false);
  const Tensor a = w.get("a", {2});
  EXPECT_EQ(a.raw_data(), f32.raw_data());  // the checkpoint's own storage
  for (const char* name : {"b", "c", "d"}) {
    const Tensor t = w.get(name, {2});
    EXPECT_EQ(t.dtype(), DType::kF32) << name;
    EXPECT_EQ(t.to_floats(), (std::vector<float>{1.5f, -2.0f})) << name;
  }
  try {
    w.get("ids", {2});
    FAIL() << "an integer tensor is not a weight";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("ids"), std::string::npos);
  }
}

TEST(WeightMap, MissingKeysAreZeroAndReported) {
  WeightMap w(checkpoint({"a.weight"}), "", false);
  const Tensor t = w.get("b.weight", {2, 3});
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  EXPECT_EQ(t.to_floats(), std::vector<float>(6, 0.0f));
  w.get("a.weight", {2});
  auto strict = w.finish();
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(strict.status().message().find("b.weight"), std::string::npos);
  auto lenient = w.finish(/*allow_missing=*/true);
  ASSERT_TRUE(lenient.ok());
  EXPECT_EQ(lenient->missing_keys, Keys{"b.weight"});
}

TEST(WeightMap, OptionalKeysAreNeitherMissingNorUnexpected) {
  WeightMap w(checkpoint({"present"}), "", false);
  EXPECT_FALSE(w.get_optional("absent", {2}).defined());
  EXPECT_TRUE(w.get_optional("present", {2}).defined());
  auto report = w.finish();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->missing_keys.empty());
  EXPECT_TRUE(report->unexpected_keys.empty());
}

TEST(WeightMap, ShapeMismatchIsReportedWithBothShapes) {
  WeightMap w(checkpoint({"w"}, {3}), "", false);
  EXPECT_EQ(w.get("w", {2}).to_floats(), (std::vector<float>{0, 0}));
  auto strict = w.finish();
  ASSERT_FALSE(strict.ok());
  EXPECT_NE(strict.status().message().find("w (checkpoint [3], model [2])"), std::string::npos)
      << strict.status().message();
  auto lenient = w.finish(true);
  ASSERT_TRUE(lenient.ok());
  EXPECT_EQ(lenient->mismatched_keys, Keys{"w"});
  EXPECT_TRUE(lenient->missing_keys.empty());
}

TEST(WeightMap, UnusedCheckpointKeysAreUnexpectedUnlessIgnored) {
  WeightMap w(checkpoint({"used", "embeddings.position_ids", "extra.weight", "mask_predictions.x"}),
              "", false);
  w.get("used", {2});
  w.ignore_unexpected({"^embeddings\\.position_ids$", "mask_predictions.*"});
  auto report = w.finish();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->unexpected_keys, Keys{"extra.weight"});
}

TEST(WeightMap, TiedKeysAreNotMissing) {
  WeightMap w(checkpoint({"embeddings.word_embeddings.weight"}), "", false);
  w.get("embeddings.word_embeddings.weight", {2});
  w.mark_tied("cls.predictions.decoder.weight");
  auto report = w.finish();
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  EXPECT_TRUE(report->missing_keys.empty());
  EXPECT_TRUE(report->unexpected_keys.empty());
}

TEST(WeightMap, LegacyGammaBetaNamesAreRenamed) {
  WeightMap w(checkpoint({"embeddings.LayerNorm.gamma", "embeddings.LayerNorm.beta"}), "bert",
              false);
  EXPECT_TRUE(w.has("embeddings.LayerNorm.weight"));
  w.get("embeddings.LayerNorm.weight", {2});
  w.get("embeddings.LayerNorm.bias", {2});
  auto report = w.finish();
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  EXPECT_TRUE(report->unexpected_keys.empty());
}

// A head model (BertForSequenceClassification) from a base checkpoint (BertModel): the prefix is
// added to the checkpoint's keys, the head's weights are missing under their own names, unused
// keys are reported as the checkpoint spells them.
TEST(WeightMap, HeadModelFromBaseCheckpoint) {
  WeightMap w(checkpoint({"embeddings.word_embeddings.weight", "pooler.dense.weight"}), "bert",
              /*head_model=*/true);
  const WeightMap base = w.sub("bert");
  EXPECT_TRUE(base.has("embeddings.word_embeddings.weight"));
  base.get("embeddings.word_embeddings.weight", {2});
  w.get("classifier.weight", {2});
  auto report = w.finish(true);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->missing_keys, Keys{"classifier.weight"});
  EXPECT_EQ(report->unexpected_keys, Keys{"pooler.dense.weight"});
}

// A base model (BertModel) from a head checkpoint (BertForMaskedLM): the prefix is stripped, and
// every key outside it is unexpected under its original name.
TEST(WeightMap, BaseModelFromHeadCheckpoint) {
  WeightMap w(checkpoint({"bert.embeddings.word_embeddings.weight", "bert.pooler.dense.weight",
                          "cls.predictions.bias"}),
              "bert", /*head_model=*/false);
  EXPECT_TRUE(w.has("embeddings.word_embeddings.weight"));
  EXPECT_FALSE(w.has("cls.predictions.bias"));
  w.get("embeddings.word_embeddings.weight", {2});
  auto report = w.finish(true);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->missing_keys.empty());
  EXPECT_EQ(report->unexpected_keys, (Keys{"cls.predictions.bias", "pooler.dense.weight"}));
}

TEST(WeightMap, HeadModelFromHeadCheckpointKeepsNames) {
  WeightMap w(checkpoint({"bert.embeddings.word_embeddings.weight", "classifier.weight"}), "bert",
              true);
  w.sub("bert").get("embeddings.word_embeddings.weight", {2});
  w.get("classifier.weight", {2});
  auto report = w.finish();
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  EXPECT_TRUE(report->unexpected_keys.empty());
}

// transformers raises "The state dictionary of the model you are trying to load is corrupted" when
// a prefix-less checkpoint holds a key that only the head has.
TEST(WeightMap, HeadKeyInPrefixlessCheckpointIsCorrupt) {
  WeightMap w(checkpoint({"embeddings.word_embeddings.weight", "classifier.weight"}), "bert",
              true);
  w.sub("bert").get("embeddings.word_embeddings.weight", {2});
  w.get("classifier.weight", {2});
  auto report = w.finish(true);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace mlhub::nn
