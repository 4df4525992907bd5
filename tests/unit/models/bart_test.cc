// BART, mBART and Marian (src/models/bart.cc, marian.cc) against transformers 4.57.3 on the tiny
// random checkpoints of tests/golden/seq2seq/{bart,mbart,marian} (tools/reference/
// seq2seq_goldens.py): encoder states, teacher-forced decoding of the golden greedy sequences,
// the KV-cache path against a full forward, batched against alone, and bad input.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <functional>
#include <map>

#include <fmt/format.h>

#include "seq2seq_golden.h"

namespace mlhub::models {
namespace {

using namespace seq2seq_golden;

class BartFamily : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    case_ = load_case(GetParam());
    model_ = load_model(case_);
    for (const auto& source : case_.inputs) memories_.push_back(memory_of(*model_, source));
  }
  // The golden greedy sequence of input i up to its eos (start token first).
  std::vector<int64_t> golden_tokens(size_t i) const {
    const auto seq = case_.meta["greedy"]["sequences"][i].get<std::vector<int64_t>>();
    std::vector<int64_t> out{seq[0]};
    for (int64_t t : generated_part(seq, forced_tokens(case_).eos)) out.push_back(t);
    return out;
  }

  Case case_;
  std::unique_ptr<Seq2SeqModel> model_;
  std::vector<std::shared_ptr<const CrossMemory>> memories_;
};

TEST_P(BartFamily, LoadsEveryWeight) {
  const nn::LoadReport& r = model_->load_report();
  EXPECT_EQ(r.missing_keys, std::vector<std::string>{});
  EXPECT_EQ(r.unexpected_keys, std::vector<std::string>{});
  EXPECT_EQ(r.mismatched_keys, std::vector<std::string>{});
  const nlohmann::json& raw = model_->config().raw;
  EXPECT_EQ(model_->decoder_start_token_id(), raw["decoder_start_token_id"].get<int64_t>());
  EXPECT_EQ(model_->max_source_positions(), raw["max_position_embeddings"].get<int64_t>());
  EXPECT_EQ(model_->max_positions(), raw["max_position_embeddings"].get<int64_t>());
}

TEST_P(BartFamily, EncoderStatesMatchTransformers) {
  const float worst = expect_encoder_states(*model_, case_);
  std::printf("[ %s ] encoder states max |diff| %.3g (alone and batched)\n", GetParam().c_str(),
              worst);
}

TEST_P(BartFamily, EncoderHiddenStatesEndWithTheOutput) {
  ForwardOptions opt;
  opt.output_hidden_states = true;
  const EncoderOutput out = model_->encode(padded_batch({case_.inputs[0]}), opt);
  const int64_t layers = model_->config().raw["encoder_layers"].get<int64_t>();
  ASSERT_EQ(static_cast<int64_t>(out.hidden_states.size()), layers + 1);
  EXPECT_EQ(max_abs_diff(out.hidden_states.back(), out.last_hidden_state), 0.0f);
  // The embeddings (first entry) are not the output.
  EXPECT_GT(max_abs_diff(out.hidden_states.front(), out.last_hidden_state), 1e-3f);
}

TEST_P(BartFamily, TeacherForcedArgmaxIsTheGoldenGreedySequence) {
  const int checked = expect_teacher_forced(*model_, case_, memories_);
  EXPECT_GE(checked, 30);  // 3 inputs x ~14 free steps
  std::printf("[ %s ] %d teacher-forced argmax steps equal transformers' greedy tokens\n",
              GetParam().c_str(), checked);
}

TEST_P(BartFamily, CachePathEqualsFullForward) {
  float worst = 0;
  for (size_t i = 0; i < case_.inputs.size(); ++i) {
    const std::vector<int64_t> tokens = golden_tokens(i);
    const Tensor full = decode_all(*model_, memories_[i], tokens);
    const Tensor steps = decode_stepwise(*model_, memories_[i], tokens);
    ASSERT_EQ(full.shape(), steps.shape());
    worst = std::max(worst, max_abs_diff(full, steps));
  }
  // cached_attention and row-independent linear layers make the two paths the same arithmetic.
  EXPECT_EQ(worst, 0.0f);
}

TEST_P(BartFamily, BatchEqualsAlone) {
  // Three sources, each with a different prefix length of its golden sequence, plus a second
  // sequence on the first source that has a longer cached history: one batch vs one at a time.
  std::vector<KvCache> caches;
  std::vector<std::vector<int64_t>> prefixes, next;
  for (size_t i = 0; i < case_.inputs.size() + 1; ++i) {
    const size_t src = i % case_.inputs.size();
    const std::vector<int64_t> tokens = golden_tokens(src);
    const size_t cut = std::min(tokens.size() - 1, 2 + 3 * i);
    prefixes.emplace_back(tokens.begin(), tokens.begin() + static_cast<int64_t>(cut));
    next.emplace_back(tokens.begin() + static_cast<int64_t>(cut),
                      tokens.begin() + static_cast<int64_t>(std::min(tokens.size(), cut + 2)));
    caches.push_back(model_->new_cache());
    caches.back().set_cross(memories_[src]);
  }
  std::vector<KvCache> alone_caches;
  for (const KvCache& c : caches) alone_caches.push_back(c.clone());
  // Prefill all together, then the next tokens all together (all logits).
  std::vector<DecoderSequence> batch;
  for (size_t i = 0; i < caches.size(); ++i) batch.push_back({prefixes[i], &caches[i], true});
  const Tensor prefill = model_->forward(batch);
  batch.clear();
  for (size_t i = 0; i < caches.size(); ++i) batch.push_back({next[i], &caches[i], true});
  const Tensor step = model_->forward(batch);
  int64_t prefill_row = 0, step_row = 0;
  const int64_t vocab = model_->vocab_size();
  for (size_t i = 0; i < caches.size(); ++i) {
    const DecoderSequence a{prefixes[i], &alone_caches[i], true};
    const Tensor p = model_->forward({&a, 1});
    const DecoderSequence b{next[i], &alone_caches[i], true};
    const Tensor s = model_->forward({&b, 1});
    const auto np = static_cast<int64_t>(prefixes[i].size()),
               ns = static_cast<int64_t>(next[i].size());
    EXPECT_EQ(std::memcmp(p.data<float>(), prefill.data<float>() + prefill_row * vocab,
                          static_cast<size_t>(np * vocab) * sizeof(float)),
              0)
        << "prefill of sequence " << i;
    EXPECT_EQ(std::memcmp(s.data<float>(), step.data<float>() + step_row * vocab,
                          static_cast<size_t>(ns * vocab) * sizeof(float)),
              0)
        << "step of sequence " << i;
    prefill_row += np;
    step_row += ns;
    EXPECT_EQ(caches[i].length(), np + ns);
  }
  EXPECT_EQ(prefill_row, prefill.dim(0));
  EXPECT_EQ(step_row, step.dim(0));
}

// Runs f and returns the code of the mlhub::Error it throws (kOk when it does not throw).
template <typename F>
StatusCode code_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  return StatusCode::kOk;
}

TEST_P(BartFamily, RejectsBadInput) {
  const std::vector<int64_t> start{model_->decoder_start_token_id()};
  // A cache without a source.
  KvCache bare = model_->new_cache();
  const DecoderSequence no_source{start, &bare, false};
  EXPECT_EQ(code_of([&] { model_->forward({&no_source, 1}); }), StatusCode::kInvalidArgument);
  EXPECT_EQ(bare.length(), 0);
  // Decoder ids outside the vocabulary, negative or too large.
  for (int64_t bad : {int64_t{-1}, model_->vocab_size(), model_->vocab_size() + 1000}) {
    KvCache cache = model_->new_cache();
    cache.set_cross(memories_[0]);
    const std::vector<int64_t> ids{model_->decoder_start_token_id(), bad};
    const DecoderSequence seq{ids, &cache, false};
    EXPECT_EQ(code_of([&] { model_->forward({&seq, 1}); }), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(cache.length(), 0);
    // Encoder ids outside the vocabulary.
    EXPECT_EQ(code_of([&] { model_->encode(padded_batch({{0, bad}})); }),
              StatusCode::kInvalidArgument)
        << bad;
  }
  // A source longer than the learned / tabled positions.
  const std::vector<int64_t> too_long(static_cast<size_t>(model_->max_source_positions() + 1), 5);
  EXPECT_EQ(code_of([&] { model_->encode(padded_batch({too_long})); }),
            StatusCode::kInvalidArgument);
  // Encoder states of the wrong width.
  EXPECT_EQ(code_of([&] { model_->cross_memory(Tensor::zeros(DType::kF32, {3, 7})); }),
            StatusCode::kInvalidArgument);
  // A decoder sequence past max_position_embeddings.
  KvCache cache = model_->new_cache();
  cache.set_cross(memories_[0]);
  const std::vector<int64_t> long_target(static_cast<size_t>(model_->max_positions() + 1), 5);
  const DecoderSequence seq{long_target, &cache, false};
  EXPECT_EQ(code_of([&] { model_->forward({&seq, 1}); }), StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Goldens, BartFamily, ::testing::Values("bart", "mbart", "marian"));

// A source memory belongs to the model that made it: another shape is refused.
TEST(BartFamilyCross, RejectsAnotherModelsMemory) {
  const auto bart = load_model(load_case("bart"));
  const auto mbart = load_model(load_case("mbart"));
  const Case c = load_case("mbart");
  KvCache cache = bart->new_cache();
  cache.set_cross(memory_of(*mbart, c.inputs[0]));  // d_model 32, bart's is 16
  const std::vector<int64_t> start{bart->decoder_start_token_id()};
  const DecoderSequence seq{start, &cache, false};
  EXPECT_EQ(code_of([&] { bart->forward({&seq, 1}); }), StatusCode::kInvalidArgument);
}

// ---- Checkpoint layouts other than save_pretrained's --------------------------------------------

// A copy of golden case `name` in a temporary folder, its tensors and config.json edited by `edit`.
using EditFn = std::function<void(std::map<std::string, Tensor>&, nlohmann::json&)>;
fs::path edited_case(const std::string& name, const EditFn& edit) {
  const Case c = load_case(name);
  auto ckpt = io::Checkpoint::open(c.dir);
  if (!ckpt.ok()) throw std::runtime_error(ckpt.status().to_string());
  std::map<std::string, Tensor> tensors;
  for (const std::string& key : ckpt->names()) tensors[key] = ckpt->get(key);
  std::ifstream in(c.dir / "config.json");
  nlohmann::json config = nlohmann::json::parse(in);
  edit(tensors, config);
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  const fs::path dir = fs::temp_directory_path() /
                       fmt::format("mlhub_bart_test_{}_{}_{}", name, test->name(), ::getpid());
  fs::create_directories(dir);
  const Status s = io::write_safetensors(dir / "model.safetensors", tensors);
  if (!s.ok()) throw std::runtime_error(s.to_string());
  std::ofstream(dir / "config.json") << config.dump(2);
  return dir;
}

// Teacher-forced logits of the first input's golden sequence, and its encoder states.
std::pair<Tensor, Tensor> outputs_of(const Seq2SeqModel& model, const Case& c) {
  const auto seq = c.meta["greedy"]["sequences"][0].get<std::vector<int64_t>>();
  const Tensor states = model.encode(padded_batch({c.inputs[0]})).last_hidden_state;
  return {states, decode_all(model, memory_of(model, c.inputs[0]), seq)};
}

// Loads `dir`, expects a clean load report and the golden model's outputs exactly; cleans up.
void expect_same_model(const std::string& name, const fs::path& dir) {
  const Case c = load_case(name);
  auto edited = load_seq2seq(dir);
  ASSERT_TRUE(edited.ok()) << edited.status().to_string();
  EXPECT_EQ((*edited)->load_report().missing_keys, std::vector<std::string>{});
  EXPECT_EQ((*edited)->load_report().unexpected_keys, std::vector<std::string>{});
  const auto golden = load_model(c);
  const auto [want_states, want_logits] = outputs_of(*golden, c);
  const auto [states, logits] = outputs_of(**edited, c);
  EXPECT_EQ(max_abs_diff(states, want_states), 0.0f);
  EXPECT_EQ(max_abs_diff(logits, want_logits), 0.0f);
  fs::remove_all(dir);
}

// Checkpoints that carry the tied copies (encoder / decoder embed_tokens, lm_head) load cleanly.
TEST(BartFamilyCheckpoints, TiedCopiesAreNotUnexpected) {
  for (const std::string name : {"bart", "marian"}) {
    expect_same_model(name, edited_case(name, [](auto& t, auto&) {
      const Tensor shared = t.at("model.shared.weight");
      t["model.encoder.embed_tokens.weight"] = shared;
      t["model.decoder.embed_tokens.weight"] = shared;
      t["lm_head.weight"] = shared;
    }));
  }
}

// facebook/bart-large-cnn's layout: the embeddings only under decoder.embed_tokens.
TEST(BartFamilyCheckpoints, BartEmbeddingsUnderDecoderEmbedTokens) {
  expect_same_model("bart", edited_case("bart", [](auto& t, auto&) {
    t["model.decoder.embed_tokens.weight"] = t.at("model.shared.weight");
    t.erase("model.shared.weight");
  }));
}

// Marian with share_encoder_decoder_embeddings false: encoder.embed_tokens and
// decoder.embed_tokens are separate weights (here equal copies of the golden's shared one), and
// the head ties to the decoder's.
TEST(BartFamilyCheckpoints, MarianSeparateEmbeddings) {
  expect_same_model("marian", edited_case("marian", [](auto& t, auto& config) {
    t["model.encoder.embed_tokens.weight"] = t.at("model.shared.weight");
    t["model.decoder.embed_tokens.weight"] = t.at("model.shared.weight").clone();
    t.erase("model.shared.weight");
    config["share_encoder_decoder_embeddings"] = false;
  }));
  // The decoder's own table is the one used: changing it changes the logits, not the encoder.
  const fs::path dir = edited_case("marian", [](auto& t, auto& config) {
    t["model.encoder.embed_tokens.weight"] = t.at("model.shared.weight");
    t["model.decoder.embed_tokens.weight"] = ops::scale(t.at("model.shared.weight"), 0.5f);
    t.erase("model.shared.weight");
    config["share_encoder_decoder_embeddings"] = false;
  });
  const Case c = load_case("marian");
  auto edited = load_seq2seq(dir);
  ASSERT_TRUE(edited.ok()) << edited.status().to_string();
  const auto golden = load_model(c);
  const auto [want_states, want_logits] = outputs_of(*golden, c);
  const auto [states, logits] = outputs_of(**edited, c);
  EXPECT_EQ(max_abs_diff(states, want_states), 0.0f);
  EXPECT_GT(max_abs_diff(logits, want_logits), 1e-2f);
  fs::remove_all(dir);
}

// A Marian checkpoint that carries embed_positions.weight (older saves) is read, not recomputed.
TEST(BartFamilyCheckpoints, MarianSavedPositionTableIsUsed) {
  const fs::path dir = edited_case("marian", [](auto& t, auto& config) {
    const int64_t n = config["max_position_embeddings"].template get<int64_t>(),
                  d = config["d_model"].template get<int64_t>();
    t["model.encoder.embed_positions.weight"] = Tensor::zeros(DType::kF32, {n, d});
    t["model.decoder.embed_positions.weight"] = Tensor::zeros(DType::kF32, {n, d});
  });
  const Case c = load_case("marian");
  auto edited = load_seq2seq(dir);
  ASSERT_TRUE(edited.ok()) << edited.status().to_string();
  EXPECT_EQ((*edited)->load_report().unexpected_keys, std::vector<std::string>{});
  const auto golden = load_model(c);
  EXPECT_GT(max_abs_diff(outputs_of(**edited, c).first, outputs_of(*golden, c).first), 1e-2f);
  fs::remove_all(dir);
}

// A checkpoint without a weight the model needs fails to load, naming it.
TEST(BartFamilyCheckpoints, MissingWeightIsAnError) {
  const fs::path dir = edited_case("mbart", [](auto& t, auto&) {
    t.erase("model.decoder.layers.1.encoder_attn.k_proj.weight");
  });
  auto model = load_seq2seq(dir);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(model.status().message().find("model.decoder.layers.1.encoder_attn.k_proj.weight"),
            std::string::npos)
      << model.status().message();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace mlhub::models
