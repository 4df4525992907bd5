// text-classification (alias sentiment-analysis): transformers' TextClassificationPipeline
// (pipelines/text_classification.py) over a *ForSequenceClassification model.
//
// Input: a string, or {"text": ..., "text_pair": ...}. Parameters: top_k (int or null),
// function_to_apply ("default"/"sigmoid"/"softmax"/"none"), return_all_scores (legacy), and the
// tokenizer's truncation / max_length.
// Output shapes, as transformers returns them for one input:
//   no top_k in the call: [{"label","score"}] for a string, {"label","score"} for a pair object
//     (return_all_scores=true: all labels in label order, wrapped the same way);
//   top_k given (an int or null): the labels sorted by score, cut to top_k, as a list.
#include "pipelines/pipeline_internal.h"

namespace mlhub::pipelines {
namespace {

enum class Function { kDefault, kSigmoid, kSoftmax, kNone };

class TextClassification final : public EncoderPipeline {
 public:
  TextClassification(std::string task, LoadedModel m, json init)
      : EncoderPipeline(std::move(task), std::move(m), std::move(init)) {
    check_params(Params{init_, json::object()});
  }

 protected:
  void check_params(const Params& p) const override {
    function(p);
    const json& top_k = p.get("top_k");
    if (!top_k.is_null() && !top_k.is_number_integer()) fail("top_k must be an integer or null");
  }

  Prepared prepare(const json& input, const Params& p) const override {
    const auto trunc = resolve_truncation(m_.tok.info, p.get("truncation"), p.get("max_length"));
    const tok::Tokenizer tk = configured(m_.tok.tokenizer, trunc);
    Prepared out;
    if (input.is_string()) {
      out.rows.push_back(encode(tk, input.get<std::string>()));
    } else if (input.is_object() && input.contains("text") && input["text"].is_string()) {
      const json& pair = input.contains("text_pair") ? input["text_pair"] : json();
      if (!pair.is_null() && !pair.is_string()) fail("\"text_pair\" must be a string");
      out.rows.push_back(pair.is_string()
                             ? encode(tk, input["text"].get<std::string>(), pair.get<std::string>())
                             : encode(tk, input["text"].get<std::string>()));
    } else if (input.is_array() && input.size() == 1 && input[0].is_array() &&
               input[0].size() == 2 && input[0][0].is_string() && input[0][1].is_string()) {
      // The old [[text, text_pair]] form transformers still accepts.
      out.rows.push_back(
          encode(tk, input[0][0].get<std::string>(), input[0][1].get<std::string>()));
    } else {
      fail("text-classification expects a string or {\"text\": ..., \"text_pair\": ...}");
    }
    return out;
  }

  json finish(const json& input, Prepared&, std::span<const RowOutput> outputs,
              const Params& p) const override {
    const models::ModelConfig& cfg = m_.model->config();
    Function f = function(p);
    if (f == Function::kDefault) {
      if (cfg.problem_type == "regression") {
        f = Function::kNone;
      } else if (cfg.problem_type == "multi_label_classification" || cfg.num_labels == 1) {
        f = Function::kSigmoid;
      } else {
        f = Function::kSoftmax;
      }
    }
    const RowOutput& o = outputs.front();
    std::span<const float> logits(o.values);
    std::vector<float> scores = f == Function::kSigmoid   ? sigmoid(logits)
                                : f == Function::kSoftmax ? softmax(logits)
                                                          : o.values;
    auto label = [&](size_t i) -> std::string {
      if (i < cfg.id2label.size()) return cfg.id2label[i];
      return "LABEL_" + std::to_string(i);
    };

    // _sanitize_parameters: an int or null top_k switches the legacy mode off; otherwise
    // return_all_scores (call, else config) picks all scores or the best one.
    bool legacy = true;
    bool all_scores = false;
    std::optional<int64_t> top_k = 1;
    if (p.has("top_k")) {
      legacy = false;
      const json& k = p.get("top_k");
      top_k = k.is_null() ? std::nullopt : std::optional<int64_t>(k.get<int64_t>());
    } else {
      json ras = p.get("return_all_scores");
      if (ras.is_null() && cfg.raw.contains("return_all_scores"))
        ras = cfg.raw["return_all_scores"];
      if (ras.is_boolean()) all_scores = ras.get<bool>();
      if (all_scores) top_k = std::nullopt;
    }

    json result;
    if (top_k && *top_k == 1 && legacy) {
      const size_t best = argmax(scores);
      result = {{"label", label(best)}, {"score", scores[best]}};
    } else {
      std::vector<std::pair<size_t, float>> items;
      for (size_t i = 0; i < scores.size(); ++i) items.emplace_back(i, scores[i]);
      if (!legacy) {
        std::stable_sort(items.begin(), items.end(),
                         [](const auto& a, const auto& b) { return a.second > b.second; });
        if (top_k && *top_k >= 0 && static_cast<size_t>(*top_k) < items.size()) {
          items.resize(static_cast<size_t>(*top_k));
        }
      }
      result = json::array();
      for (const auto& [i, s] : items) result.push_back({{"label", label(i)}, {"score", s}});
    }
    // __call__: a string input without top_k in the call comes back wrapped in a list.
    const bool call_legacy = !p.call.contains("top_k");
    if (input.is_string() && call_legacy) return json::array({result});
    return result;
  }

 private:
  static Function function(const Params& p) {
    const json& v = p.get("function_to_apply");
    if (v.is_null()) return Function::kDefault;
    if (!v.is_string()) fail("function_to_apply must be a string");
    std::string s = py_lower(v.get<std::string>());
    if (s == "default") return Function::kDefault;
    if (s == "sigmoid") return Function::kSigmoid;
    if (s == "softmax") return Function::kSoftmax;
    if (s == "none") return Function::kNone;
    fail("function_to_apply must be one of default, sigmoid, softmax, none (got \"" +
         v.get<std::string>() + "\")");
  }
};

}  // namespace

std::unique_ptr<Pipeline> make_text_classification(const std::filesystem::path& model,
                                                   const json& init) {
  return std::make_unique<TextClassification>(
      "text-classification", load_model(model, models::Head::kSequenceClassification), init);
}

}  // namespace mlhub::pipelines
