// zero-shot-classification: transformers' ZeroShotClassificationPipeline
// (pipelines/zero_shot_classification.py) over an NLI *ForSequenceClassification model.
//
// Input: the sequence (a string). Parameters: candidate_labels (a list, or a comma-separated
// string), hypothesis_template ("This example is {}."), multi_label (false; multi_class is the
// old name). Each label becomes the pair (sequence, template.format(label)), truncated
// only_first to model_max_length; the entailment logit scores it.
// Output: {"sequence", "labels", "scores"}, labels by decreasing score.
#include "pipelines/pipeline_internal.h"
#include "pipelines/postprocess.h"

namespace mlhub::pipelines {
namespace {

std::vector<std::string> parse_labels(const json& v) {
  std::vector<std::string> labels;
  if (v.is_string()) {
    // [label.strip() for label in labels.split(",") if label.strip()]
    const std::string& s = v.get_ref<const std::string&>();
    size_t begin = 0;
    while (begin <= s.size()) {
      size_t comma = s.find(',', begin);
      if (comma == std::string::npos) comma = s.size();
      std::string label = py_strip(std::string_view(s).substr(begin, comma - begin));
      if (!label.empty()) labels.push_back(std::move(label));
      begin = comma + 1;
    }
  } else if (v.is_array()) {
    for (const json& l : v) {
      if (!l.is_string()) fail("candidate_labels must be strings");
      labels.push_back(l.get<std::string>());
    }
  } else if (!v.is_null()) {
    fail("candidate_labels must be a list of strings or a comma-separated string");
  }
  return labels;
}

// str.format with one positional argument, for the "{}" / "{0}" fields templates use;
// "{{" and "}}" are literal braces.
std::string format_template(const std::string& tmpl, const std::string& label) {
  std::string out;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl.compare(i, 2, "{{") == 0 || tmpl.compare(i, 2, "}}") == 0) {
      out += tmpl[i];
      ++i;
    } else if (tmpl.compare(i, 2, "{}") == 0) {
      out += label;
      ++i;
    } else if (tmpl.compare(i, 3, "{0}") == 0) {
      out += label;
      i += 2;
    } else if (tmpl[i] == '{') {
      fail("hypothesis_template: only {} (or {0}) fields are supported");
    } else {
      out += tmpl[i];
    }
  }
  return out;
}

struct ZeroShotState {
  std::vector<std::string> labels;
};

class ZeroShot final : public EncoderPipeline {
 public:
  ZeroShot(LoadedModel m, json init)
      : EncoderPipeline("zero-shot-classification", std::move(m), std::move(init)) {
    // The entailment label: the first label2id name starting with "entail" (config.json keeps
    // label2id sorted by name, as transformers writes it).
    const json& raw = m_.model->config().raw;
    if (raw.contains("label2id") && raw["label2id"].is_object()) {
      for (const auto& [name, id] : raw["label2id"].items()) {
        if (py_lower(name).rfind("entail", 0) == 0 && id.is_number_integer()) {
          entailment_id_ = id.get<int64_t>();
          break;
        }
      }
    }
    if (entailment_id_ == -1) {
      log(LogLevel::kWarning,
          "zero-shot-classification: no label2id name starts with \"entail\"; using the last "
          "label as entailment, as transformers does");
    }
    check_params(Params{init_, json::object()});
  }

 protected:
  void check_params(const Params& p) const override {
    parse_labels(p.get("candidate_labels"));
    param_string(p, "hypothesis_template", "This example is {}.");
    multi_label(p);
  }

  Prepared prepare(const json& input, const Params& p) const override {
    if (!input.is_string()) fail("zero-shot-classification expects a string");
    ZeroShotState st;
    st.labels = parse_labels(p.get("candidate_labels"));
    const std::string sequence = input.get<std::string>();
    if (st.labels.empty() || sequence.empty()) {
      fail("You must include at least one label and at least one sequence.");
    }
    const std::string tmpl = param_string(p, "hypothesis_template", "This example is {}.");
    if (format_template(tmpl, st.labels.front()) == tmpl) {
      fail("The provided hypothesis_template \"" + tmpl +
           "\" was not able to be formatted with the target labels. Make sure the passed "
           "template includes formatting syntax such as {} where the label should go.");
    }
    const auto trunc = resolve_truncation(m_.tok.info, json("only_first"), json());
    const tok::Tokenizer tk = configured(m_.tok.tokenizer, trunc);
    Prepared out;
    for (const std::string& label : st.labels) {
      const std::string hypothesis = format_template(tmpl, label);
      auto r = tk.encode_pair(sequence, hypothesis, true, tok::OffsetType::kChar);
      // _parse_and_tokenize: a hypothesis too long to truncate the premise for is encoded
      // without truncation.
      if (!r.ok() && r.status().message().find("too short") != std::string::npos) {
        r = m_.tok.tokenizer.encode_pair(sequence, hypothesis, true, tok::OffsetType::kChar);
      }
      if (!r.ok()) fail(r.status().message());
      out.rows.push_back(std::move(*r));
    }
    out.state = std::move(st);
    return out;
  }

  json finish(const json& input, Prepared& prepared, std::span<const RowOutput> outputs,
              const Params& p) const override {
    const ZeroShotState& st = std::any_cast<const ZeroShotState&>(prepared.state);
    std::vector<std::vector<float>> logits;
    for (const RowOutput& o : outputs) logits.push_back(o.values);
    const std::vector<float> scores = zero_shot_scores(logits, entailment_id_, multi_label(p));
    json labels = json::array(), sorted = json::array();
    for (size_t i : zero_shot_order(scores)) {
      labels.push_back(st.labels[i]);
      sorted.push_back(scores[i]);
    }
    return {{"sequence", input}, {"labels", std::move(labels)}, {"scores", std::move(sorted)}};
  }

 private:
  static bool multi_label(const Params& p) {
    // The old name wins when given, as _sanitize_parameters copies it over multi_label.
    if (!p.get("multi_class").is_null()) return param_bool(p, "multi_class", false);
    return param_bool(p, "multi_label", false);
  }

  int64_t entailment_id_ = -1;
};

}  // namespace

std::unique_ptr<Pipeline> make_zero_shot_classification(const std::filesystem::path& model,
                                                        const json& init) {
  return std::make_unique<ZeroShot>(load_model(model, models::Head::kSequenceClassification), init);
}

}  // namespace mlhub::pipelines
