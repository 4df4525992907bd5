// sentence-embeddings and sentence-similarity: a sentence-transformers model folder run as
// SentenceTransformer(folder).encode does (sentence_transformers 5.1.2).
//
// modules.json lists the modules in order: Transformer (the encoder; sentence_bert_config.json
// gives max_seq_length and do_lower_case), Pooling (1_Pooling/config.json: cls, max, mean,
// mean_sqrt_len_tokens, weightedmean, lasttoken; several modes concatenate), then any Dense
// (linear + activation, weights in the module folder) and Normalize. A folder without
// modules.json is an encoder with mean pooling, as SentenceTransformer builds for it. Texts are
// stripped (and lowercased when do_lower_case) and truncated longest_first to max_seq_length.
//
// sentence-embeddings: input a string, output the embedding (a list of floats).
// sentence-similarity: input {"source_sentence": s, "sentences": [...]}, output the cosine
// similarity of s with each sentence (the Inference API's sentence-similarity shape).
#include <algorithm>
#include <cmath>

#include "mlhub/io.h"
#include "pipelines/pipeline_internal.h"

namespace mlhub::pipelines {
namespace {

namespace fs = std::filesystem;

json read_json(const fs::path& file) {
  auto text = io::read_text_file(file);
  if (!text.ok()) throw Error(text.status());
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) {
    throw Error(StatusCode::kInvalidArgument, file.string() + ": not valid JSON");
  }
  return j;
}

enum class Act { kIdentity, kTanh, kSigmoid, kRelu, kGelu };

Act parse_activation(const std::string& name) {
  // fullname(): "torch.nn.modules.activation.Tanh", "torch.nn.modules.linear.Identity", ...
  const std::string last =
      name.substr(name.rfind('.') == std::string::npos ? 0 : name.rfind('.') + 1);
  if (last == "Identity") return Act::kIdentity;
  if (last == "Tanh") return Act::kTanh;
  if (last == "Sigmoid") return Act::kSigmoid;
  if (last == "ReLU") return Act::kRelu;
  if (last == "GELU") return Act::kGelu;
  throw Error(StatusCode::kUnimplemented,
              "Dense activation_function \"" + name + "\" is not supported");
}

float apply(Act a, float x) {
  switch (a) {
    case Act::kTanh:
      return std::tanh(x);
    case Act::kSigmoid:
      return 1.0f / (1.0f + std::exp(-x));
    case Act::kRelu:
      return x > 0 ? x : 0.0f;
    case Act::kGelu:
      return 0.5f * x * (1.0f + std::erf(x / std::sqrt(2.0f)));
    case Act::kIdentity:
      break;
  }
  return x;
}

struct Pooling {
  bool cls = false, max = false, mean = true, mean_sqrt_len = false, weighted_mean = false,
       last_token = false;
};

struct Dense {
  std::vector<float> weight;  // [out, in]
  std::vector<float> bias;    // [out] or empty
  int64_t in = 0, out = 0;
  Act act = Act::kTanh;
};

// One post-pooling step: a Dense layer, or Normalize when `dense` is empty.
struct Step {
  std::optional<Dense> dense;
};

struct SentenceModel {
  fs::path transformer_dir;
  std::optional<int64_t> max_seq_length;
  bool do_lower_case = false;
  Pooling pooling;
  std::vector<Step> steps;
  std::string prompt;  // config_sentence_transformers.json default prompt, prepended to inputs
};

Pooling parse_pooling(const json& cfg) {
  Pooling p;
  if (cfg.contains("pooling_mode") && cfg["pooling_mode"].is_string()) {
    const std::string m = py_lower(cfg["pooling_mode"].get<std::string>());
    p = Pooling{m == "cls",          m == "max",      m == "mean", m == "mean_sqrt_len_tokens",
                m == "weightedmean", m == "lasttoken"};
    if (!(p.cls || p.max || p.mean || p.mean_sqrt_len || p.weighted_mean || p.last_token)) {
      throw Error(StatusCode::kInvalidArgument, "Pooling: invalid pooling_mode \"" + m + "\"");
    }
    return p;
  }
  p.cls = cfg.value("pooling_mode_cls_token", false);
  p.max = cfg.value("pooling_mode_max_tokens", false);
  p.mean = cfg.value("pooling_mode_mean_tokens", true);
  p.mean_sqrt_len = cfg.value("pooling_mode_mean_sqrt_len_tokens", false);
  p.weighted_mean = cfg.value("pooling_mode_weightedmean_tokens", false);
  p.last_token = cfg.value("pooling_mode_lasttoken", false);
  if (!cfg.value("include_prompt", true)) {
    throw Error(StatusCode::kUnimplemented,
                "Pooling with include_prompt=false is not supported yet");
  }
  return p;
}

Dense load_dense(const fs::path& dir) {
  const json cfg = read_json(dir / "config.json");
  Dense d;
  d.in = cfg.value("in_features", int64_t{0});
  d.out = cfg.value("out_features", int64_t{0});
  d.act = parse_activation(
      cfg.value("activation_function", std::string("torch.nn.modules.activation.Tanh")));
  auto ckpt = io::Checkpoint::open(dir);
  if (!ckpt.ok()) throw Error(ckpt.status());
  const Tensor w = ckpt->get("linear.weight").to(DType::kF32).contiguous();
  if (w.ndim() != 2 || w.dim(0) != d.out || w.dim(1) != d.in) {
    throw Error(StatusCode::kInvalidArgument, dir.string() + ": linear.weight has shape " +
                                                  shape_string(w.shape()) + ", config.json says [" +
                                                  std::to_string(d.out) + ", " +
                                                  std::to_string(d.in) + "]");
  }
  d.weight = w.to_floats();
  if (cfg.value("bias", true)) d.bias = ckpt->get("linear.bias").to(DType::kF32).to_floats();
  if (!d.bias.empty() && static_cast<int64_t>(d.bias.size()) != d.out) {
    throw Error(StatusCode::kInvalidArgument, dir.string() + ": linear.bias has the wrong size");
  }
  return d;
}

SentenceModel load_sentence_model(const fs::path& folder) {
  SentenceModel sm;
  sm.transformer_dir = folder;
  if (!fs::exists(folder / "modules.json")) return sm;  // plain encoder: mean pooling
  const json modules = read_json(folder / "modules.json");
  if (!modules.is_array())
    throw Error(StatusCode::kInvalidArgument, "modules.json: expected a list");
  bool seen_transformer = false, seen_pooling = false;
  for (const json& m : modules) {
    const std::string type = m.value("type", std::string());
    const fs::path dir = folder / m.value("path", std::string());
    const std::string kind =
        type.substr(type.rfind('.') == std::string::npos ? 0 : type.rfind('.') + 1);
    if (kind == "Transformer" && !seen_transformer) {
      seen_transformer = true;
      sm.transformer_dir = dir;
      if (fs::exists(dir / "sentence_bert_config.json")) {
        const json cfg = read_json(dir / "sentence_bert_config.json");
        if (cfg.contains("max_seq_length") && cfg["max_seq_length"].is_number_integer()) {
          sm.max_seq_length = cfg["max_seq_length"].get<int64_t>();
        }
        sm.do_lower_case = cfg.value("do_lower_case", false);
      }
    } else if (kind == "Pooling" && seen_transformer && !seen_pooling) {
      seen_pooling = true;
      sm.pooling = parse_pooling(read_json(dir / "config.json"));
    } else if (kind == "Dense" && seen_pooling) {
      sm.steps.push_back(Step{load_dense(dir)});
    } else if (kind == "Normalize" && seen_pooling) {
      sm.steps.push_back(Step{});
    } else {
      throw Error(StatusCode::kUnimplemented,
                  "modules.json: module \"" + type + "\" is not supported here");
    }
  }
  if (!seen_transformer || !seen_pooling) {
    throw Error(StatusCode::kUnimplemented,
                "modules.json: expected a Transformer then a Pooling module");
  }
  if (fs::exists(folder / "config_sentence_transformers.json")) {
    const json cfg = read_json(folder / "config_sentence_transformers.json");
    const json& name = cfg.contains("default_prompt_name") ? cfg["default_prompt_name"] : json();
    if (name.is_string() && cfg.contains("prompts") &&
        cfg["prompts"].contains(name.get<std::string>())) {
      sm.prompt = cfg["prompts"][name.get<std::string>()].get<std::string>();
    }
  }
  return sm;
}

std::vector<float> pool(const Pooling& p, const RowOutput& h) {
  const int64_t n = h.rows, dim = h.cols;
  std::vector<float> out;
  auto append_row = [&](int64_t t) {
    if (n == 0) {
      out.insert(out.end(), dim, 0.0f);
    } else {
      out.insert(out.end(), h.row(t), h.row(t) + dim);
    }
  };
  if (p.cls) append_row(0);
  if (p.max) {
    for (int64_t d = 0; d < dim; ++d) {
      float m = n ? h.row(0)[d] : -1e9f;
      for (int64_t t = 1; t < n; ++t) m = std::max(m, h.row(t)[d]);
      out.push_back(m);
    }
  }
  if (p.mean || p.mean_sqrt_len) {
    std::vector<double> sum(dim, 0.0);
    for (int64_t t = 0; t < n; ++t) {
      for (int64_t d = 0; d < dim; ++d) sum[d] += h.row(t)[d];
    }
    const double count = std::max<double>(static_cast<double>(n), 1e-9);
    if (p.mean) {
      for (double s : sum) out.push_back(static_cast<float>(s / count));
    }
    if (p.mean_sqrt_len) {
      for (double s : sum) out.push_back(static_cast<float>(s / std::sqrt(count)));
    }
  }
  if (p.weighted_mean) {
    std::vector<double> sum(dim, 0.0);
    double weights = 0;
    for (int64_t t = 0; t < n; ++t) {
      const double w = static_cast<double>(t + 1);
      weights += w;
      for (int64_t d = 0; d < dim; ++d) sum[d] += w * h.row(t)[d];
    }
    weights = std::max(weights, 1e-9);
    for (double s : sum) out.push_back(static_cast<float>(s / weights));
  }
  if (p.last_token) append_row(n - 1);
  return out;
}

void normalize(std::vector<float>& v) {
  double norm = 0;
  for (float x : v) norm += static_cast<double>(x) * x;
  norm = std::max(std::sqrt(norm), 1e-12);
  for (float& x : v) x = static_cast<float>(x / norm);
}

std::vector<float> apply_dense(const Dense& d, const std::vector<float>& x) {
  if (static_cast<int64_t>(x.size()) != d.in) {
    throw Error(StatusCode::kInvalidArgument, "Dense: input has " + std::to_string(x.size()) +
                                                  " features, the layer expects " +
                                                  std::to_string(d.in));
  }
  std::vector<float> y(d.out);
  for (int64_t o = 0; o < d.out; ++o) {
    double acc = d.bias.empty() ? 0.0 : d.bias[o];
    const float* w = d.weight.data() + o * d.in;
    for (int64_t i = 0; i < d.in; ++i) acc += static_cast<double>(w[i]) * x[i];
    y[o] = apply(d.act, static_cast<float>(acc));
  }
  return y;
}

enum class Mode { kEmbeddings, kSimilarity };

class SentenceTransformerPipeline final : public EncoderPipeline {
 public:
  SentenceTransformerPipeline(std::string task, SentenceModel sm, LoadedModel m, json init,
                              Mode mode)
      : EncoderPipeline(std::move(task), std::move(m), std::move(init)),
        sm_(std::move(sm)),
        mode_(mode) {
    // Transformer.__init__: without max_seq_length, min(max_position_embeddings,
    // tokenizer.model_max_length).
    int64_t max_len = sm_.max_seq_length.value_or(m_.model->config().max_position_embeddings);
    if (!sm_.max_seq_length && m_.tok.info.model_max_length) {
      max_len = std::min(max_len, *m_.tok.info.model_max_length);
    }
    truncation_ = resolve_truncation(m_.tok.info, json("longest_first"), json(max_len));
    check_params(Params{init_, json::object()});
  }

 protected:
  Prepared prepare(const json& input, const Params&) const override {
    const tok::Tokenizer tk = configured(m_.tok.tokenizer, truncation_);
    Prepared out;
    auto add = [&](const json& text) {
      if (!text.is_string()) fail("sentences must be strings");
      std::string s = py_strip(sm_.prompt + text.get<std::string>());
      if (sm_.do_lower_case) s = py_lower(s);
      out.rows.push_back(encode(tk, s));
    };
    if (mode_ == Mode::kEmbeddings) {
      if (!input.is_string()) fail(task_ + " expects a string");
      add(input);
      return out;
    }
    if (!input.is_object() || !input.contains("source_sentence") || !input.contains("sentences") ||
        !input["sentences"].is_array()) {
      fail("sentence-similarity expects {\"source_sentence\": ..., \"sentences\": [...]}");
    }
    add(input["source_sentence"]);
    for (const json& s : input["sentences"]) add(s);
    return out;
  }

  json finish(const json&, Prepared&, std::span<const RowOutput> outputs,
              const Params&) const override {
    std::vector<std::vector<float>> embeddings;
    for (const RowOutput& o : outputs) embeddings.push_back(embed(o));
    if (mode_ == Mode::kEmbeddings) return embeddings.front();
    // util.cos_sim: both sides L2-normalised (eps 1e-12), then the dot product.
    for (auto& e : embeddings) normalize(e);
    json scores = json::array();
    for (size_t i = 1; i < embeddings.size(); ++i) {
      double dot = 0;
      for (size_t d = 0; d < embeddings[0].size(); ++d)
        dot += static_cast<double>(embeddings[0][d]) * embeddings[i][d];
      scores.push_back(static_cast<float>(dot));
    }
    return scores;
  }

 private:
  std::vector<float> embed(const RowOutput& hidden) const {
    std::vector<float> v = pool(sm_.pooling, hidden);
    for (const Step& s : sm_.steps) {
      if (s.dense) {
        v = apply_dense(*s.dense, v);
      } else {
        normalize(v);
      }
    }
    return v;
  }

  SentenceModel sm_;
  Mode mode_;
  std::optional<tok::TruncationParams> truncation_;
};

std::unique_ptr<Pipeline> make(const fs::path& model, const json& init, Mode mode,
                               const char* task) {
  SentenceModel sm = load_sentence_model(model);
  LoadedModel m = load_model(sm.transformer_dir, models::Head::kBase);
  return std::make_unique<SentenceTransformerPipeline>(task, std::move(sm), std::move(m), init,
                                                       mode);
}

}  // namespace

std::unique_ptr<Pipeline> make_sentence_embeddings(const fs::path& model, const json& init) {
  return make(model, init, Mode::kEmbeddings, "sentence-embeddings");
}

std::unique_ptr<Pipeline> make_sentence_similarity(const fs::path& model, const json& init) {
  return make(model, init, Mode::kSimilarity, "sentence-similarity");
}

}  // namespace mlhub::pipelines
