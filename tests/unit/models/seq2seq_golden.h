// Shared by the encoder-decoder parity tests: the cases of tests/golden/seq2seq (tiny random
// T5 / BART / Marian / mBART checkpoints written by transformers 4.57.3 with
// tools/reference/seq2seq_goldens.py) and the checks every architecture runs on them.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
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

// The CrossMemory of one source encoded alone.
inline std::shared_ptr<const CrossMemory> memory_of(const Seq2SeqModel& model,
                                                    const std::vector<int64_t>& ids) {
  const Tensor states = model.encode(padded_batch({ids})).last_hidden_state;
  return model.cross_memory(states.select(0, 0).contiguous());
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
