// The pure post-processing functions against transformers 4.57.3's own functions on the same
// numbers. Expected values were printed by this script (pyenv: transformers 4.57.3, numpy):
//
//   from transformers.pipelines.question_answering import select_starts_ends
//   from transformers.pipelines.token_classification import TokenClassificationPipeline as TCP
//   from transformers.pipelines.zero_shot_classification import ZeroShotClassificationPipeline
//   f32 = lambda a: np.array(a, dtype=np.float32)
//   select_starts_ends(f32([[0.5, 1.0, -2.0, 3.0, 0.25, 2.5, -1.0, 1.5]]),
//                      f32([[1.0, -1.0, 0.5, 2.0, 3.5, 0.0, 2.25, 1.0]]),
//                      [[0, 1, 1, 0, 0, 0, 0, 1]], np.ones((1, 8), int), 1000000, 3, True, 3)
//   select_starts_ends(f32([[0.1, 0.2, 0.3, 0.4]]), f32([[0.4, 0.3, 0.2, 0.1]]),
//                      [[0, 1, 0, 1]], np.ones((1, 4), int), 1000000, 5, False, 15)
//   # NER: TCP.aggregate(self, pre_entities, AggregationStrategy(s)) with a stand-in self whose
//   # id2label is {0: O, 1: B-PER, 2: I-PER, 3: B-LOC, 4: I-LOC} and whose
//   # convert_tokens_to_string is lambda t: " ".join(t).replace(" ##", "")
//   TCP.aggregate_overlapping_entities(None, [...])
//   ZeroShotClassificationPipeline.postprocess(SimpleNamespace(entailment_id=2, framework="pt"),
//       [dict(candidate_label=l, sequence="s", logits=torch.tensor([row])) ...], multi_label=m)
#include <gtest/gtest.h>

#include "mlhub/core.h"
#include "pipelines/postprocess.h"

namespace mlhub::pipelines {
namespace {

TEST(SelectSpans, TopKWithImpossibleAnswer) {
  const std::vector<float> start = {0.5, 1.0, -2.0, 3.0, 0.25, 2.5, -1.0, 1.5};
  const std::vector<float> end = {1.0, -1.0, 0.5, 2.0, 3.5, 0.0, 2.25, 1.0};
  const std::vector<uint8_t> allowed = {1, 0, 0, 1, 1, 1, 1, 0};
  double min_null = 1000000;
  auto spans = select_spans(start, end, allowed, 3, true, 3, min_null);
  ASSERT_EQ(spans.size(), 3u);
  const int64_t want_start[] = {3, 3, 5}, want_end[] = {4, 3, 6};
  const double want_score[] = {0.34816673398017883, 0.07768648862838745, 0.0605023019015789};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(spans[i].start, want_start[i]) << i;
    EXPECT_EQ(spans[i].end, want_end[i]) << i;
    EXPECT_NEAR(spans[i].score, want_score[i], 1e-6) << i;
  }
  EXPECT_NEAR(min_null, 0.0023459293879568577, 1e-7);
}

TEST(SelectSpans, ZeroScoreCandidatesFillUpAsNumpyDoes) {
  // Only one positive span; decode_spans then takes zero-score spans, and index 0 passes the
  // np.isin filter through the row indices of nonzero().
  const std::vector<float> start = {0.1, 0.2, 0.3, 0.4}, end = {0.4, 0.3, 0.2, 0.1};
  const std::vector<uint8_t> allowed = {1, 0, 1, 0};
  double min_null = 1000000;
  auto spans = select_spans(start, end, allowed, 5, false, 15, min_null);
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(spans[0].start, 2);
  EXPECT_EQ(spans[0].end, 2);
  EXPECT_NEAR(spans[0].score, 0.24751657247543335, 1e-6);
  EXPECT_EQ(spans[1].start, 0);
  EXPECT_EQ(spans[1].end, 0);
  EXPECT_EQ(spans[1].score, 0.0f);
  EXPECT_EQ(spans[2].start, 0);
  EXPECT_EQ(spans[2].end, 2);
  EXPECT_EQ(min_null, 1000000);
}

std::vector<PreEntity> ner_tokens() {
  struct Row {
    const char* word;
    std::vector<float> scores;
    int64_t start, end, index;
    bool subword;
  };
  const Row rows[] = {
      {"jean", {0.1, 0.6, 0.1, 0.1, 0.1}, 0, 4, 1, false},
      {"##ne", {0.1, 0.2, 0.5, 0.1, 0.1}, 4, 6, 2, true},
      {"lives", {0.7, 0.1, 0.1, 0.05, 0.05}, 7, 12, 3, false},
      {"in", {0.8, 0.05, 0.05, 0.05, 0.05}, 13, 15, 4, false},
      {"new", {0.1, 0.1, 0.1, 0.4, 0.3}, 16, 19, 5, false},
      {"york", {0.1, 0.1, 0.1, 0.2, 0.5}, 20, 24, 6, false},
      {"##er", {0.05, 0.05, 0.1, 0.7, 0.1}, 24, 26, 7, true},
      {"bob", {0.2, 0.3, 0.35, 0.1, 0.05}, 27, 30, 8, false},
  };
  std::vector<PreEntity> out;
  for (const Row& r : rows) out.push_back({r.word, r.scores, r.start, r.end, r.index, r.subword});
  return out;
}

const std::vector<std::string> kLabels = {"O", "B-PER", "I-PER", "B-LOC", "I-LOC"};

std::string join_wordpiece(const std::vector<std::string>& tokens) {
  std::string s;
  for (size_t i = 0; i < tokens.size(); ++i) s += (i ? " " : "") + tokens[i];
  for (size_t p; (p = s.find(" ##")) != std::string::npos;) s.erase(p, 3);
  return s;
}

struct Want {
  const char* group;
  double score;
  const char* word;
  int64_t start, end;
};

void expect_groups(Aggregation strategy, const std::vector<Want>& want) {
  auto got = aggregate_entities(ner_tokens(), strategy, kLabels, join_wordpiece);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_TRUE(got[i].grouped);
    EXPECT_EQ(got[i].entity, want[i].group) << i;
    EXPECT_NEAR(got[i].score, want[i].score, 1e-6) << i;
    EXPECT_EQ(got[i].word, want[i].word) << i;
    EXPECT_EQ(got[i].start, want[i].start) << i;
    EXPECT_EQ(got[i].end, want[i].end) << i;
    EXPECT_FALSE(got[i].index.has_value());
  }
}

TEST(AggregateEntities, None) {
  auto got = aggregate_entities(ner_tokens(), Aggregation::kNone, kLabels, join_wordpiece);
  const char* labels[] = {"B-PER", "I-PER", "O", "O", "B-LOC", "I-LOC", "B-LOC", "I-PER"};
  const double scores[] = {0.6000000238418579, 0.5, 0.699999988079071, 0.800000011920929,
                           0.4000000059604645, 0.5, 0.699999988079071, 0.3499999940395355};
  ASSERT_EQ(got.size(), 8u);
  for (size_t i = 0; i < 8; ++i) {
    EXPECT_FALSE(got[i].grouped);
    EXPECT_EQ(got[i].entity, labels[i]);
    EXPECT_NEAR(got[i].score, scores[i], 1e-7);
    EXPECT_EQ(got[i].index, static_cast<int64_t>(i + 1));
  }
  EXPECT_EQ(got[1].word, "##ne");
  nlohmann::json j = entity_to_json(got[1]);
  EXPECT_EQ(j.dump(),
            R"({"end":6,"entity":"I-PER","index":2,"score":0.5,"start":4,"word":"##ne"})");
}

TEST(AggregateEntities, Simple) {
  expect_groups(Aggregation::kSimple, {{"PER", 0.550000011920929, "jeanne", 0, 6},
                                       {"O", 0.75, "lives in", 7, 15},
                                       {"LOC", 0.44999998807907104, "new york", 16, 24},
                                       {"LOC", 0.699999988079071, "##er", 24, 26},
                                       {"PER", 0.3499999940395355, "bob", 27, 30}});
}

TEST(AggregateEntities, First) {
  expect_groups(Aggregation::kFirst, {{"PER", 0.6000000238418579, "jeanne", 0, 6},
                                      {"O", 0.75, "lives in", 7, 15},
                                      {"LOC", 0.44999998807907104, "new yorker", 16, 26},
                                      {"PER", 0.3499999940395355, "bob", 27, 30}});
}

TEST(AggregateEntities, Average) {
  expect_groups(Aggregation::kAverage, {{"PER", 0.4000000059604645, "jeanne", 0, 6},
                                        {"O", 0.75, "lives in", 7, 15},
                                        {"LOC", 0.4000000059604645, "new", 16, 19},
                                        {"LOC", 0.44999998807907104, "yorker", 20, 26},
                                        {"PER", 0.3499999940395355, "bob", 27, 30}});
}

TEST(AggregateEntities, Max) {
  expect_groups(Aggregation::kMax, {{"PER", 0.6000000238418579, "jeanne", 0, 6},
                                    {"O", 0.75, "lives in", 7, 15},
                                    {"LOC", 0.4000000059604645, "new", 16, 19},
                                    {"LOC", 0.699999988079071, "yorker", 20, 26},
                                    {"PER", 0.3499999940395355, "bob", 27, 30}});
}

TEST(AggregateEntities, FilterAndParse) {
  auto got = filter_entities(
      aggregate_entities(ner_tokens(), Aggregation::kSimple, kLabels, join_wordpiece), {"O"});
  EXPECT_EQ(got.size(), 4u);
  EXPECT_EQ(parse_aggregation("AVERAGE"), Aggregation::kAverage);
  EXPECT_THROW(parse_aggregation("mean"), Error);
}

TEST(AggregateOverlapping, KeepsLongestThenBest) {
  auto e = [](const char* g, double s, const char* w, int64_t a, int64_t b) {
    Entity x;
    x.entity = g;
    x.grouped = true;
    x.score = s;
    x.word = w;
    x.start = a;
    x.end = b;
    return x;
  };
  auto got = aggregate_overlapping_entities(
      {e("PER", 0.9, "a", 0, 4), e("PER", 0.8, "b", 2, 8), e("LOC", 0.95, "c", 10, 14),
       e("LOC", 0.99, "d", 10, 14), e("ORG", 0.5, "e", 20, 22)});
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].word, "b");
  EXPECT_EQ(got[1].word, "d");
  EXPECT_EQ(got[2].word, "e");
}

TEST(ZeroShot, SingleAndMultiLabel) {
  const std::vector<std::vector<float>> logits = {
      {1.0, 0.5, 2.0}, {0.2, 0.1, -1.0}, {3.0, -0.5, 2.5}};
  auto single = zero_shot_scores(logits, 2, false);
  auto order = zero_shot_order(single);
  EXPECT_EQ(order, (std::vector<size_t>{2, 0, 1}));
  EXPECT_NEAR(single[2], 0.6109750270843506, 1e-6);
  EXPECT_NEAR(single[0], 0.37057510018348694, 1e-6);
  EXPECT_NEAR(single[1], 0.018449848517775536, 1e-6);
  auto multi = zero_shot_scores(logits, 2, true);
  EXPECT_EQ(zero_shot_order(multi), (std::vector<size_t>{0, 2, 1}));
  EXPECT_NEAR(multi[0], 0.7310585379600525, 1e-6);
  EXPECT_NEAR(multi[2], 0.3775406777858734, 1e-6);
  EXPECT_NEAR(multi[1], 0.23147520422935486, 1e-6);
  // One label: always the [contradiction, entailment] softmax; entailment id 0 pairs with the
  // last column as contradiction.
  auto one = zero_shot_scores({{0.3, 1.2, -0.4}}, 0, false);
  EXPECT_NEAR(one[0], 0.6681877970695496, 1e-6);
}

}  // namespace
}  // namespace mlhub::pipelines
