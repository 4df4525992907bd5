// token-classification (alias ner): transformers' TokenClassificationPipeline
// (pipelines/token_classification.py) over a *ForTokenClassification model.
//
// Input: a string. Parameters: aggregation_strategy (none/simple/first/average/max),
// ignore_labels (default ["O"]), stride (split long inputs into overlapping chunks of
// model_max_length tokens; needs an aggregation strategy other than none), and the legacy
// grouped_entities / ignore_subwords flags. Output: a list of entities with character offsets
// into the input (see postprocess.h for the two shapes).
#include "pipelines/pipeline_internal.h"
#include "pipelines/postprocess.h"

namespace mlhub::pipelines {
namespace {

class TokenClassification final : public EncoderPipeline {
 public:
  TokenClassification(LoadedModel m, json init)
      : EncoderPipeline("token-classification", std::move(m), std::move(init)) {
    check_params(Params{init_, json::object()});
  }

 protected:
  void check_params(const Params& p) const override {
    const Aggregation agg = aggregation(p);
    ignore_labels(p);
    const json& stride = p.get("stride");
    if (!stride.is_null()) {
      if (!stride.is_number_integer() || stride.get<int64_t>() < 0) {
        fail("stride must be a non-negative integer");
      }
      const auto mml = m_.tok.info.model_max_length;
      if (mml && stride.get<int64_t>() >= *mml) {
        fail(
            "`stride` must be less than `tokenizer.model_max_length` (or even lower if the "
            "tokenizer adds special tokens)");
      }
      if (agg == Aggregation::kNone) {
        fail(
            "`stride` was provided to process all the text but `aggregation_strategy=\"none\"`, "
            "please select another one instead.");
      }
    }
  }

  Prepared prepare(const json& input, const Params& p) const override {
    if (!input.is_string()) {
      fail("token-classification expects a string (pre-split words are not supported yet)");
    }
    const json& stride = p.get("stride");
    // preprocess: truncation=model_max_length when the tokenizer has one; with a stride the
    // overflowing chunks are kept and each is a model row.
    const auto trunc = resolve_truncation(m_.tok.info, json(true), json(),
                                          stride.is_null() ? 0 : stride.get<size_t>());
    const tok::Tokenizer tk = configured(m_.tok.tokenizer, trunc);
    tok::Encoding enc = encode(tk, input.get<std::string>());
    Prepared out;
    std::vector<tok::Encoding> overflow = std::move(enc.overflowing);
    enc.overflowing.clear();
    out.rows.push_back(std::move(enc));
    if (!stride.is_null()) {
      for (tok::Encoding& o : overflow) {
        o.overflowing.clear();
        out.rows.push_back(std::move(o));
      }
    }
    return out;
  }

  json finish(const json& input, Prepared& prepared, std::span<const RowOutput> outputs,
              const Params& p) const override {
    const std::string& sentence = input.get_ref<const std::string&>();
    const CharIndex chars(sentence);
    const Aggregation agg = aggregation(p);
    const std::vector<std::string> ignore = ignore_labels(p);
    const auto& id2label = m_.model->config().id2label;
    auto to_string = [&](const std::vector<std::string>& tokens) {
      return tokens_to_string(m_.tok.tokenizer, tokens);
    };
    std::vector<Entity> all;
    for (size_t r = 0; r < prepared.rows.size(); ++r) {
      std::vector<PreEntity> pre = gather_pre_entities(prepared.rows[r], outputs[r], chars);
      std::vector<Entity> entities = aggregate_entities(pre, agg, id2label, to_string);
      entities = filter_entities(std::move(entities), ignore);
      for (Entity& e : entities) all.push_back(std::move(e));
    }
    if (prepared.rows.size() > 1) all = aggregate_overlapping_entities(std::move(all));
    json out = json::array();
    for (const Entity& e : all) out.push_back(entity_to_json(e));
    return out;
  }

 private:
  std::vector<PreEntity> gather_pre_entities(const tok::Encoding& enc, const RowOutput& logits,
                                             const CharIndex& chars) const {
    const TokenizerInfo& info = m_.tok.info;
    std::vector<PreEntity> pre;
    for (int64_t idx = 0; idx < logits.rows; ++idx) {
      if (enc.special_tokens_mask[idx]) continue;
      PreEntity e;
      e.scores = softmax(std::span<const float>(logits.row(idx), logits.cols));
      const uint32_t id = enc.ids[idx];
      e.word = m_.tok.tokenizer.id_to_token(id).value_or(std::string());
      const auto [start, end] = enc.offsets[idx];
      e.start = static_cast<int64_t>(start);
      e.end = static_cast<int64_t>(end);
      const std::string word_ref = chars.slice(*e.start, *e.end);
      if (info.continuing_subword_prefix) {
        e.is_subword = CharIndex(e.word).size() != CharIndex(word_ref).size();
      } else {
        // Fallback heuristic for tokenizers without a subword prefix: a token is a subword
        // unless it starts the text or follows / contains a space.
        e.is_subword =
            *e.start > 0 && chars.slice(*e.start - 1, *e.start + 1).find(' ') == std::string::npos;
      }
      if (info.unk_id && id == *info.unk_id) {
        e.word = word_ref;
        e.is_subword = false;
      }
      e.index = idx;
      pre.push_back(std::move(e));
    }
    return pre;
  }

  static Aggregation aggregation(const Params& p) {
    const json& grouped = p.get("grouped_entities");
    const json& ignore_subwords = p.get("ignore_subwords");
    Aggregation agg = Aggregation::kNone;
    if (!grouped.is_null() || !ignore_subwords.is_null()) {
      const bool g = grouped.is_boolean() && grouped.get<bool>();
      const bool i = ignore_subwords.is_boolean() && ignore_subwords.get<bool>();
      agg = g && i ? Aggregation::kFirst : g ? Aggregation::kSimple : Aggregation::kNone;
    }
    const json& v = p.get("aggregation_strategy");
    if (v.is_null()) return agg;
    if (!v.is_string()) fail("aggregation_strategy must be a string");
    return parse_aggregation(v.get<std::string>());
  }

  static std::vector<std::string> ignore_labels(const Params& p) {
    const json& v = p.get("ignore_labels");
    if (v.is_null()) return {"O"};
    if (!v.is_array()) fail("ignore_labels must be a list of labels");
    std::vector<std::string> out;
    for (const json& l : v) {
      if (!l.is_string()) fail("ignore_labels must be a list of strings");
      out.push_back(l.get<std::string>());
    }
    return out;
  }
};

}  // namespace

std::unique_ptr<Pipeline> make_token_classification(const std::filesystem::path& model,
                                                    const json& init) {
  return std::make_unique<TokenClassification>(
      load_model(model, models::Head::kTokenClassification), init);
}

}  // namespace mlhub::pipelines
