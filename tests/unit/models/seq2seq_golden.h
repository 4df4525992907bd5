// Shared by the encoder-decoder parity tests: the cases of tests/golden/seq2seq (tiny random
// T5 / BART / Marian / mBART checkpoints written by transformers 4.57.3 with
// tools/reference/seq2seq_goldens.py) and the checks every architecture runs on them.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlhub/io.h"
#include "mlhub/models.h"

namespace mlhub::models::seq2seq_golden {

namespace fs = std::filesystem;
inline const fs::path kDir = fs::path(MLHUB_SOURCE_DIR) / "tests" / "golden" / "seq2seq";
constexpr float kEncoderTolerance = 1e-4f;  // the bar for encoder states

struct Case {
  std::string name;
  fs::path dir;
  nlohmann::json meta;  // case.json
  std::vector<std::vector<int64_t>> inputs;
};

inline Case load_case(const std::string& name) {
  Case c;
  c.name = name;
  c.dir = kDir / name;
  std::ifstream in(c.dir / "case.json");
  if (!in) throw std::runtime_error("no golden case " + c.dir.string());
  c.meta = nlohmann::json::parse(in);
  c.inputs = c.meta["input_ids"].get<std::vector<std::vector<int64_t>>>();
  return c;
}

inline std::unique_ptr<Seq2SeqModel> load_model(const Case& c) {
  auto model = load_seq2seq(c.dir);
  if (!model.ok()) throw std::runtime_error(c.name + ": " + model.status().to_string());
  return std::move(*model);
}

// The generated part of a transformers sequence (which starts with the decoder start token):
// everything after the first token, up to and including the first eos (the rest, if any, is
// padding).
inline std::vector<int64_t> generated_part(const std::vector<int64_t>& sequence,
                                           const std::vector<int64_t>& eos) {
  std::vector<int64_t> out;
  for (size_t i = 1; i < sequence.size(); ++i) {
    out.push_back(sequence[i]);
    if (std::find(eos.begin(), eos.end(), sequence[i]) != eos.end()) break;
  }
  return out;
}

// A right-padded EncoderInput of `inputs` (pad id 0 where padded; masked anyway).
inline EncoderInput padded_batch(const std::vector<std::vector<int64_t>>& inputs) {
  size_t width = 0;
  for (const auto& i : inputs) width = std::max(width, i.size());
  const auto b = static_cast<int64_t>(inputs.size()), w = static_cast<int64_t>(width);
  std::vector<int64_t> ids(inputs.size() * width, 0), mask(inputs.size() * width, 0);
  for (size_t r = 0; r < inputs.size(); ++r)
    for (size_t t = 0; t < inputs[r].size(); ++t) {
      ids[r * width + t] = inputs[r][t];
      mask[r * width + t] = 1;
    }
  EncoderInput input;
  input.input_ids = Tensor::from_ints(ids, {b, w});
  input.attention_mask = Tensor::from_ints(mask, {b, w});
  return input;
}

// The largest |a - b| over two F32 tensors of equal element count.
inline float max_abs_diff(const Tensor& a, const Tensor& b) {
  const Tensor x = a.contiguous(), y = b.contiguous();
  EXPECT_EQ(x.numel(), y.numel());
  float worst = 0;
  for (int64_t i = 0; i < std::min(x.numel(), y.numel()); ++i)
    worst = std::max(worst, std::fabs(x.data<float>()[i] - y.data<float>()[i]));
  return worst;
}

// Encoder states of every input, alone and as one right-padded batch, within kEncoderTolerance
// of transformers' (reference.safetensors "encoder.<i>", [T, d_model]). Returns the worst diff.
inline float expect_encoder_states(const Seq2SeqModel& model, const Case& c) {
  auto ref = io::Checkpoint::open(c.dir / "reference.safetensors");
  if (!ref.ok()) throw std::runtime_error(ref.status().to_string());
  const Tensor batched = model.encode(padded_batch(c.inputs)).last_hidden_state;
  float worst = 0;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const Tensor expected = ref->get("encoder." + std::to_string(i)).to(DType::kF32);
    const auto n = static_cast<int64_t>(c.inputs[i].size());
    const Tensor alone = model.encode(padded_batch({c.inputs[i]})).last_hidden_state.select(0, 0);
    const Tensor in_batch = batched.select(0, static_cast<int64_t>(i)).slice(0, 0, n);
    const float d_alone = max_abs_diff(alone, expected), d_batch = max_abs_diff(in_batch, expected);
    EXPECT_LE(d_alone, kEncoderTolerance) << c.name << " input " << i << " alone";
    EXPECT_LE(d_batch, kEncoderTolerance) << c.name << " input " << i << " in a padded batch";
    worst = std::max({worst, d_alone, d_batch});
  }
  return worst;
}

// ---- Decoder checks on the golden greedy sequences (teacher forcing) --------------------------

// A source's CrossMemory, from the encoder run on that source alone.
inline std::shared_ptr<const CrossMemory> memory_of(const Seq2SeqModel& model,
                                                    const std::vector<int64_t>& source) {
  const Tensor states = model.encode(padded_batch({source})).last_hidden_state.select(0, 0);
  return model.cross_memory(states);
}

// The logits after every token of `tokens` (decoder start token first), [T, vocab], from one
// forward over the whole sequence.
inline Tensor decode_all(const Seq2SeqModel& model, std::shared_ptr<const CrossMemory> memory,
                         const std::vector<int64_t>& tokens) {
  KvCache cache = model.new_cache();
  cache.set_cross(std::move(memory));
  const DecoderSequence seq{tokens, &cache, /*all_logits=*/true};
  return model.forward({&seq, 1});
}

// The same logits from one forward per token (the KV-cache path), stacked [T, vocab].
inline Tensor decode_stepwise(const Seq2SeqModel& model, std::shared_ptr<const CrossMemory> memory,
                              const std::vector<int64_t>& tokens) {
  KvCache cache = model.new_cache();
  cache.set_cross(std::move(memory));
  std::vector<float> rows;
  for (const int64_t& token : tokens) {
    const DecoderSequence seq{std::span<const int64_t>(&token, 1), &cache, false};
    const std::vector<float> row = model.forward({&seq, 1}).to_floats();
    rows.insert(rows.end(), row.begin(), row.end());
  }
  return Tensor::from_floats(rows, {static_cast<int64_t>(tokens.size()), model.vocab_size()});
}

// What generate() imposes over the argmax, from the case's generation_config.json:
// ForcedBOSTokenLogitsProcessor (first generated token), ForcedEOSTokenLogitsProcessor (the token
// at max_length - 1) and single-token bad_words_ids (Marian bans <pad>).
struct ForcedTokens {
  std::optional<int64_t> forced_bos;
  std::vector<int64_t> forced_eos, banned, eos;
};

inline std::vector<int64_t> int_or_list(const nlohmann::json& j) {
  if (j.is_number_integer()) return {j.get<int64_t>()};
  if (j.is_array()) return j.get<std::vector<int64_t>>();
  return {};
}

inline ForcedTokens forced_tokens(const Case& c) {
  std::ifstream in(c.dir / "generation_config.json");
  const nlohmann::json g = in ? nlohmann::json::parse(in) : nlohmann::json::object();
  ForcedTokens f;
  if (g.contains("forced_bos_token_id") && g["forced_bos_token_id"].is_number_integer())
    f.forced_bos = g["forced_bos_token_id"].get<int64_t>();
  if (g.contains("forced_eos_token_id")) f.forced_eos = int_or_list(g["forced_eos_token_id"]);
  if (g.contains("eos_token_id")) f.eos = int_or_list(g["eos_token_id"]);
  if (g.contains("bad_words_ids"))
    for (const auto& words : g["bad_words_ids"])
      if (words.size() == 1) f.banned.push_back(words[0].get<int64_t>());
  return f;
}

// Teacher-forced decoding of case.json's greedy sequences: after each golden prefix, the argmax
// of the logits (banned tokens excluded) is the next golden token, except at the steps where
// generate() forces a token (then the golden token must be the forced one). `memories` are the
// inputs' cross memories. Returns the number of argmax steps checked.
inline int expect_teacher_forced(const Seq2SeqModel& model, const Case& c,
                                 const std::vector<std::shared_ptr<const CrossMemory>>& memories) {
  const ForcedTokens f = forced_tokens(c);
  const auto sequences = c.meta["greedy"]["sequences"].get<std::vector<std::vector<int64_t>>>();
  const int64_t max_length = 1 + c.meta["greedy"]["config"]["max_new_tokens"].get<int64_t>();
  int checked = 0;
  for (size_t i = 0; i < sequences.size(); ++i) {
    std::vector<int64_t> tokens{sequences[i][0]};
    for (int64_t t : generated_part(sequences[i], f.eos)) tokens.push_back(t);
    const std::vector<int64_t> prefix(tokens.begin(), tokens.end() - 1);
    const Tensor logits = decode_all(model, memories[i], prefix);
    const int64_t vocab = logits.dim(1);
    for (size_t t = 0; t < prefix.size(); ++t) {
      const int64_t want = tokens[t + 1];
      const auto cur_len = static_cast<int64_t>(t + 1);
      if (t == 0 && f.forced_bos) {
        EXPECT_EQ(want, *f.forced_bos) << c.name << " input " << i << ": forced BOS";
        continue;
      }
      if (cur_len == max_length - 1 && !f.forced_eos.empty()) {
        EXPECT_NE(std::find(f.forced_eos.begin(), f.forced_eos.end(), want), f.forced_eos.end())
            << c.name << " input " << i << ": forced EOS";
        continue;
      }
      const float* row = logits.data<float>() + static_cast<int64_t>(t) * vocab;
      int64_t best = -1;
      for (int64_t v = 0; v < vocab; ++v) {
        if (std::find(f.banned.begin(), f.banned.end(), v) != f.banned.end()) continue;
        if (best < 0 || row[v] > row[best]) best = v;
      }
      EXPECT_EQ(best, want) << c.name << " input " << i << " step " << t;
      ++checked;
    }
  }
  return checked;
}

// config.json's eos_token_id (an id or a list of ids).
inline std::vector<int64_t> eos_ids(const Seq2SeqModel& model) {
  const auto& eos = model.config().raw.at("eos_token_id");
  if (eos.is_array()) return eos.get<std::vector<int64_t>>();
  return {eos.get<int64_t>()};
}

// Teacher forcing of a golden transformers sequence (start token first): the decoder inputs
// (the start token and every generated token but the last) and the token each input position
// must predict (the generated part, up to and including the first eos).
struct TeacherForced {
  std::vector<int64_t> inputs, targets;
};
inline TeacherForced teacher_forced(const std::vector<int64_t>& sequence,
                                    const std::vector<int64_t>& eos) {
  TeacherForced t;
  t.targets = generated_part(sequence, eos);
  t.inputs.push_back(sequence.at(0));
  t.inputs.insert(t.inputs.end(), t.targets.begin(), t.targets.end() - 1);
  return t;
}

// A decoder cache that reads `memory`.
inline KvCache cache_for(const Seq2SeqModel& model, std::shared_ptr<const CrossMemory> memory) {
  KvCache cache = model.new_cache();
  cache.set_cross(std::move(memory));
  return cache;
}

// The index of the largest value of row `row` of F32 logits [rows, vocab] (the first on ties).
inline int64_t argmax_row(const Tensor& logits, int64_t row) {
  const Tensor x = logits.contiguous();
  const int64_t v = x.dim(1);
  const float* p = x.data<float>() + row * v;
  return std::max_element(p, p + v) - p;
}

}  // namespace mlhub::models::seq2seq_golden
