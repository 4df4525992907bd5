// text-ranking: a cross-encoder scoring (query, text) pairs as sentence_transformers 5.1.2
// CrossEncoder(folder).predict does, over a *ForSequenceClassification model. transformers has
// no pipeline for it.
//
// Input: {"query": q, "texts": [t1, ...]}. Each pair is tokenized with truncation longest_first
// to min(model_max_length, max_position_embeddings). The activation is the one CrossEncoder
// applies: config.json's sentence_transformers.activation_fn (or the older
// sbert_ce_default_activation_function) when it names a torch class, else Sigmoid for one label
// and Identity for several.
// Output: {"scores": [...]} in text order: one float per text for a one-label model, a list of
// floats per text otherwise. Call parameter raw_scores (false): true skips the activation and
// returns the logits (TEI's /rerank option, which the inference server passes through).
#include <cmath>

#include "pipelines/pipeline_internal.h"

namespace mlhub::pipelines {
namespace {

enum class Activation { kIdentity, kSigmoid, kTanh, kSoftmax };

Activation activation_of(const models::ModelConfig& cfg) {
  std::string path;
  const json& raw = cfg.raw;
  if (raw.contains("sentence_transformers") && raw["sentence_transformers"].is_object() &&
      raw["sentence_transformers"].contains("activation_fn") &&
      raw["sentence_transformers"]["activation_fn"].is_string()) {
    path = raw["sentence_transformers"]["activation_fn"].get<std::string>();
  } else if (raw.contains("sbert_ce_default_activation_function") &&
             raw["sbert_ce_default_activation_function"].is_string()) {
    path = raw["sbert_ce_default_activation_function"].get<std::string>();
  }
  // Only torch classes are trusted without trust_remote_code; anything else falls back to the
  // default, as CrossEncoder does.
  if (path.rfind("torch.", 0) == 0) {
    const std::string name = path.substr(path.rfind('.') + 1);
    if (name == "Identity") return Activation::kIdentity;
    if (name == "Sigmoid") return Activation::kSigmoid;
    if (name == "Tanh") return Activation::kTanh;
    if (name == "Softmax") return Activation::kSoftmax;
    throw Error(StatusCode::kUnimplemented,
                "cross-encoder activation " + path + " is not supported");
  }
  return cfg.num_labels == 1 ? Activation::kSigmoid : Activation::kIdentity;
}

class TextRanking final : public EncoderPipeline {
 public:
  TextRanking(LoadedModel m, json init)
      : EncoderPipeline("text-ranking", std::move(m), std::move(init)),
        activation_(activation_of(m_.model->config())) {
    int64_t max_len = m_.model->config().max_position_embeddings;
    if (m_.tok.info.model_max_length) max_len = std::min(max_len, *m_.tok.info.model_max_length);
    truncation_ = resolve_truncation(m_.tok.info, json(true), json(max_len));
    check_params(Params{init_, json::object()});
  }

 protected:
  Prepared prepare(const json& input, const Params&) const override {
    if (!input.is_object() || !input.contains("query") || !input["query"].is_string() ||
        !input.contains("texts") || !input["texts"].is_array()) {
      fail("text-ranking expects {\"query\": ..., \"texts\": [...]}");
    }
    const tok::Tokenizer tk = configured(m_.tok.tokenizer, truncation_);
    const std::string& query = input["query"].get_ref<const std::string&>();
    Prepared out;
    for (const json& t : input["texts"]) {
      if (!t.is_string()) fail("text-ranking: texts must be strings");
      out.rows.push_back(encode(tk, query, t.get<std::string>()));
    }
    return out;
  }

  void check_params(const Params& p) const override { param_bool(p, "raw_scores", false); }

  json finish(const json&, Prepared&, std::span<const RowOutput> outputs,
              const Params& p) const override {
    const Activation activation = param_bool(p, "raw_scores", false) ? Activation::kIdentity : activation_;
    json scores = json::array();
    for (const RowOutput& o : outputs) {
      std::vector<float> v = o.values;
      switch (activation) {
        case Activation::kSigmoid:
          v = sigmoid(v);
          break;
        case Activation::kTanh:
          for (float& x : v) x = std::tanh(x);
          break;
        case Activation::kSoftmax:
          v = softmax(v);
          break;
        case Activation::kIdentity:
          break;
      }
      if (m_.model->config().num_labels == 1 && v.size() == 1) {
        scores.push_back(v.front());
      } else {
        scores.push_back(v);
      }
    }
    return {{"scores", std::move(scores)}};
  }

 private:
  Activation activation_;
  std::optional<tok::TruncationParams> truncation_;
};

}  // namespace

std::unique_ptr<Pipeline> make_text_ranking(const std::filesystem::path& model, const json& init) {
  return std::make_unique<TextRanking>(load_model(model, models::Head::kSequenceClassification),
                                       init);
}

}  // namespace mlhub::pipelines
