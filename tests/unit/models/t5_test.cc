// T5ForConditionalGeneration (src/models/t5.cc) against transformers 4.57.3 on the tiny golden
// checkpoints of tests/golden/seq2seq: "t5" (ReLU feed-forward, head tied to the embedding with
// the d_model^-0.5 rescale) and "t5-v1_1" (gated-gelu, untied head). Encoder states, teacher-
// forced greedy decoding (every step's argmax is transformers' greedy token), the KV-cache path
// against one forward over the whole decoder sequence, batches against single sequences, errors.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>

#include "seq2seq_golden.h"

namespace mlhub::models {
namespace {

using namespace seq2seq_golden;

// Runs the teacher-forced inputs one token per forward; returns the logits of every step
// stacked [T, vocab].
std::vector<float> step_by_step(const Seq2SeqModel& model, KvCache& cache,
                                const std::vector<int64_t>& inputs) {
  std::vector<float> out;
  for (const int64_t token : inputs) {
    const DecoderSequence seq{std::span<const int64_t>(&token, 1), &cache, false};
    const Tensor logits = model.forward(std::span<const DecoderSequence>(&seq, 1));
    EXPECT_EQ(logits.dim(0), 1);
    const float* p = logits.data<float>();
    out.insert(out.end(), p, p + logits.numel());
  }
  return out;
}

// The largest |a - b| of two equally long float vectors.
float max_diff(const std::vector<float>& a, const float* b) {
  float worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
  return worst;
}

class T5Golden : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    case_ = load_case(GetParam());
    model_ = load_model(case_);
  }
  TeacherForced forced(size_t i) const {
    return teacher_forced(case_.meta["greedy"]["sequences"][i].get<std::vector<int64_t>>(),
                          eos_ids(*model_));
  }
  Case case_;
  std::unique_ptr<Seq2SeqModel> model_;
};

TEST_P(T5Golden, LoadsEveryWeightAndTheShape) {
  const nn::LoadReport& r = model_->load_report();
  EXPECT_TRUE(r.missing_keys.empty());
  EXPECT_TRUE(r.unexpected_keys.empty()) << r.unexpected_keys.front();
  EXPECT_TRUE(r.mismatched_keys.empty());
  EXPECT_EQ(model_->decoder_start_token_id(), 0);
  EXPECT_EQ(model_->max_source_positions(), 0);  // relative positions: unbounded
  EXPECT_EQ(model_->vocab_size(), 32100);
  EXPECT_GE(model_->max_positions(), int64_t{1} << 20);
  const KvCache cache = model_->new_cache();
  const auto& raw = model_->config().raw;
  EXPECT_EQ(cache.num_layers(), raw.at("num_decoder_layers").get<int>());
  EXPECT_EQ(cache.kv_width(), raw.at("num_heads").get<int64_t>() * raw.at("d_kv").get<int64_t>());
}

TEST_P(T5Golden, EncoderStatesMatchTransformers) {
  const float worst = expect_encoder_states(*model_, case_);
  std::printf("[ %s ] encoder states: max abs diff %.3g (alone and in a padded batch)\n",
              case_.name.c_str(), worst);
}

TEST_P(T5Golden, EncoderHiddenStatesAsTransformers) {
  ForwardOptions opt;
  opt.output_hidden_states = true;
  const EncoderOutput out = model_->encode(padded_batch({case_.inputs[0]}), opt);
  // Embeddings, every block's output but the last, and the final layer norm's output.
  ASSERT_EQ(out.hidden_states.size(), 3u);
  EXPECT_EQ(max_abs_diff(out.hidden_states.back(), out.last_hidden_state), 0.0f);
  EXPECT_GT(max_abs_diff(out.hidden_states[0], out.hidden_states[1]), 0.0f);
}

// Every step's argmax is transformers' greedy token, and the cache path equals one forward over
// the whole decoder sequence.
TEST_P(T5Golden, TeacherForcedGreedyAndCacheEqualFullForward) {
  float worst = 0;
  for (size_t i = 0; i < case_.inputs.size(); ++i) {
    const TeacherForced tf = forced(i);
    const auto memory = memory_of(*model_, case_.inputs[i]);
    KvCache stepped = cache_for(*model_, memory);
    const std::vector<float> steps = step_by_step(*model_, stepped, tf.inputs);
    const int64_t vocab = model_->vocab_size();
    ASSERT_EQ(steps.size(), tf.inputs.size() * static_cast<size_t>(vocab));
    ASSERT_EQ(stepped.length(), static_cast<int64_t>(tf.inputs.size()));

    KvCache full_cache = cache_for(*model_, memory);
    const DecoderSequence seq{tf.inputs, &full_cache, true};
    const Tensor full = model_->forward(std::span<const DecoderSequence>(&seq, 1));
    ASSERT_EQ(full.dim(0), static_cast<int64_t>(tf.inputs.size()));
    for (size_t t = 0; t < tf.targets.size(); ++t) {
      EXPECT_EQ(argmax_row(full, static_cast<int64_t>(t)), tf.targets[t])
          << case_.name << " input " << i << " step " << t;
      const float* row = steps.data() + t * static_cast<size_t>(vocab);
      EXPECT_EQ(std::max_element(row, row + vocab) - row, tf.targets[t])
          << case_.name << " input " << i << " step " << t << " (cache path)";
    }
    // cached_attention and linear rows do not depend on what else is computed with them, so the
    // two paths agree bit for bit.
    const float d = max_diff(steps, full.data<float>());
    EXPECT_EQ(d, 0.0f) << case_.name << " input " << i;
    worst = std::max(worst, d);
  }
  std::printf("[ %s ] teacher-forced greedy: every argmax equal; cache path vs full forward: "
              "max abs diff %.3g\n",
              case_.name.c_str(), worst);
}

// The 3 inputs decoded together (each with its own cache and source) equal each alone, in a
// ragged batch too (one sequence's whole prefix beside two single-token steps).
TEST_P(T5Golden, BatchEqualsAlone) {
  const size_t n = case_.inputs.size();
  std::vector<TeacherForced> tf;
  std::vector<std::shared_ptr<const CrossMemory>> memories;
  std::vector<std::vector<float>> alone;
  for (size_t i = 0; i < n; ++i) {
    tf.push_back(forced(i));
    memories.push_back(memory_of(*model_, case_.inputs[i]));
    KvCache cache = cache_for(*model_, memories[i]);
    alone.push_back(step_by_step(*model_, cache, tf[i].inputs));
  }
  const int64_t vocab = model_->vocab_size();

  // Lock-step: one token of every sequence per forward.
  std::vector<KvCache> caches;
  for (size_t i = 0; i < n; ++i) caches.push_back(cache_for(*model_, memories[i]));
  float worst = 0;
  for (size_t t = 0; t < tf[0].inputs.size(); ++t) {
    std::vector<DecoderSequence> batch;
    std::vector<size_t> members;
    for (size_t i = 0; i < n; ++i) {
      if (t >= tf[i].inputs.size()) continue;
      batch.push_back({std::span<const int64_t>(&tf[i].inputs[t], 1), &caches[i], false});
      members.push_back(i);
    }
    const Tensor logits = model_->forward(batch);
    ASSERT_EQ(logits.dim(0), static_cast<int64_t>(members.size()));
    for (size_t r = 0; r < members.size(); ++r) {
      const float* row = logits.data<float>() + r * static_cast<size_t>(vocab);
      const float* want = alone[members[r]].data() + t * static_cast<size_t>(vocab);
      for (int64_t v = 0; v < vocab; ++v) worst = std::max(worst, std::fabs(row[v] - want[v]));
    }
  }
  EXPECT_EQ(worst, 0.0f);  // rows are independent: bit for bit

  // Ragged: sequence 0's whole prefix (all logits) with the first step of the others.
  std::vector<KvCache> ragged_caches;
  for (size_t i = 0; i < n; ++i) ragged_caches.push_back(cache_for(*model_, memories[i]));
  std::vector<DecoderSequence> batch{{tf[0].inputs, &ragged_caches[0], true}};
  for (size_t i = 1; i < n; ++i)
    batch.push_back({std::span<const int64_t>(tf[i].inputs.data(), 1), &ragged_caches[i], false});
  const Tensor logits = model_->forward(batch);
  const auto prefix = static_cast<int64_t>(tf[0].inputs.size());
  ASSERT_EQ(logits.dim(0), prefix + static_cast<int64_t>(n - 1));
  float ragged = 0;
  for (int64_t r = 0; r < logits.dim(0); ++r) {
    const float* row = logits.data<float>() + r * vocab;
    const float* want = r < prefix ? alone[0].data() + r * vocab : alone[static_cast<size_t>(r - prefix + 1)].data();
    for (int64_t v = 0; v < vocab; ++v) ragged = std::max(ragged, std::fabs(row[v] - want[v]));
  }
  EXPECT_EQ(ragged, 0.0f);
  std::printf("[ %s ] batch vs alone: lock-step max abs diff %.3g, ragged %.3g\n",
              case_.name.c_str(), worst, ragged);
}

INSTANTIATE_TEST_SUITE_P(Cases, T5Golden, ::testing::Values("t5", "t5-v1_1"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& ch : name)
                             if (ch == '-') ch = '_';
                           return name;
                         });

template <typename Fn>
void expect_invalid(Fn fn, const char* what) {
  try {
    fn();
    ADD_FAILURE() << what << ": no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::kInvalidArgument) << what << ": " << e.what();
  }
}

TEST(T5, BadInputIsAnErrorNotACrash) {
  const Case c = load_case("t5");
  const auto model = load_model(c);
  const int64_t start = model->decoder_start_token_id();

  // A decoder cache with no source.
  KvCache bare = model->new_cache();
  const DecoderSequence no_source{std::span<const int64_t>(&start, 1), &bare, false};
  expect_invalid([&] { model->forward(std::span<const DecoderSequence>(&no_source, 1)); },
                 "cache without CrossMemory");
  EXPECT_EQ(bare.length(), 0);

  // A source memory of another shape (another model's).
  auto wrong = std::make_shared<CrossMemory>();
  wrong->length = 3;
  wrong->width = 8;
  wrong->keys.assign(2, std::vector<float>(24));
  wrong->values.assign(2, std::vector<float>(24));
  KvCache other = cache_for(*model, wrong);
  const DecoderSequence wrong_source{std::span<const int64_t>(&start, 1), &other, false};
  expect_invalid([&] { model->forward(std::span<const DecoderSequence>(&wrong_source, 1)); },
                 "CrossMemory of another shape");

  // Token ids outside the vocabulary, in the decoder and in the encoder.
  KvCache cache = cache_for(*model, memory_of(*model, c.inputs[2]));
  for (const int64_t bad : {model->vocab_size(), int64_t{-1}}) {
    const DecoderSequence seq{std::span<const int64_t>(&bad, 1), &cache, false};
    expect_invalid([&] { model->forward(std::span<const DecoderSequence>(&seq, 1)); },
                   "decoder id outside the vocabulary");
    expect_invalid([&] { model->encode(padded_batch({{5, bad, 1}})); },
                   "encoder id outside the vocabulary");
  }
  EXPECT_EQ(cache.length(), 0);

  // Encoder states of the wrong width.
  expect_invalid([&] { model->cross_memory(Tensor::zeros(DType::kF32, {4, 7})); },
                 "cross_memory of [4, 7]");
  // The cache still works after the errors.
  const DecoderSequence ok{std::span<const int64_t>(&start, 1), &cache, false};
  EXPECT_EQ(model->forward(std::span<const DecoderSequence>(&ok, 1)).dim(0), 1);
}

}  // namespace
}  // namespace mlhub::models
