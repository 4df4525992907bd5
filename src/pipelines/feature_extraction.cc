// feature-extraction: transformers' FeatureExtractionPipeline (pipelines/feature_extraction.py)
// over the base model (AutoModel).
//
// Input: a string. Parameters: truncation, tokenize_kwargs ({"truncation", "max_length",
// "add_special_tokens"}). Output: last_hidden_state as a nested list [1][T][H].
#include "pipelines/pipeline_internal.h"

namespace mlhub::pipelines {
namespace {

class FeatureExtraction final : public EncoderPipeline {
 public:
  FeatureExtraction(LoadedModel m, json init)
      : EncoderPipeline("feature-extraction", std::move(m), std::move(init)) {
    check_params(Params{init_, json::object()});
  }

 protected:
  void check_params(const Params& p) const override {
    const json& kw = p.get("tokenize_kwargs");
    if (!kw.is_null() && !kw.is_object()) fail("tokenize_kwargs must be an object");
    if (kw.is_object()) {
      for (const auto& [k, v] : kw.items()) {
        if (k != "truncation" && k != "max_length" && k != "add_special_tokens" && k != "padding") {
          fail("tokenize_kwargs: unsupported key \"" + k + "\"");
        }
      }
      if (kw.contains("truncation") && !p.get("truncation").is_null()) {
        fail(
            "truncation parameter defined twice (given as keyword argument as well as in "
            "tokenize_kwargs)");
      }
    }
  }

  Prepared prepare(const json& input, const Params& p) const override {
    if (!input.is_string()) fail("feature-extraction expects a string");
    const json& kw = p.get("tokenize_kwargs");
    const json none;
    auto kwarg = [&](const char* key) -> const json& {
      return kw.is_object() && kw.contains(key) ? kw[key] : none;
    };
    const json& trunc = p.get("truncation").is_null() ? kwarg("truncation") : p.get("truncation");
    const tok::Tokenizer tk =
        configured(m_.tok.tokenizer, resolve_truncation(m_.tok.info, trunc, kwarg("max_length")));
    const json& special = kwarg("add_special_tokens");
    if (!special.is_null() && !special.is_boolean()) fail("add_special_tokens must be a boolean");
    Prepared out;
    out.rows.push_back(encode(tk, input.get<std::string>(), std::nullopt,
                              special.is_null() || special.get<bool>()));
    return out;
  }

  json finish(const json&, Prepared&, std::span<const RowOutput> outputs,
              const Params&) const override {
    const RowOutput& o = outputs.front();
    json tokens = json::array();
    for (int64_t t = 0; t < o.rows; ++t) {
      tokens.push_back(std::vector<float>(o.row(t), o.row(t) + o.cols));
    }
    return json::array({std::move(tokens)});
  }
};

}  // namespace

std::unique_ptr<Pipeline> make_feature_extraction(const std::filesystem::path& model,
                                                  const json& init) {
  return std::make_unique<FeatureExtraction>(load_model(model, models::Head::kBase), init);
}

}  // namespace mlhub::pipelines
