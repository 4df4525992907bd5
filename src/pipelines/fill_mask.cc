// fill-mask: transformers' FillMaskPipeline (pipelines/fill_mask.py) over a *ForMaskedLM model.
//
// Input: a string with one or more mask tokens. Parameters: top_k (5), targets (a string or a
// list: scores restricted to those tokens; a target not in the vocabulary is replaced by its
// first token), tokenizer_kwargs ({"truncation", "max_length"}).
// Output: [{"score","token","token_str","sequence"}] for one mask, a list of such lists for
// several (then each sequence fills only its own mask and keeps special tokens, as transformers).
#include <algorithm>
#include <set>

#include "pipelines/pipeline_internal.h"

namespace mlhub::pipelines {
namespace {

class FillMask final : public EncoderPipeline {
 public:
  FillMask(LoadedModel m, json init) : EncoderPipeline("fill-mask", std::move(m), std::move(init)) {
    if (!m_.tok.info.mask_id) fail("The tokenizer does not define a `mask_token`.");
    check_params(Params{init_, json::object()});
  }

 protected:
  void check_params(const Params& p) const override {
    const json& top_k = p.get("top_k");
    if (!top_k.is_null() && (!top_k.is_number_integer() || top_k.get<int64_t>() < 1)) {
      fail("top_k must be a positive integer");
    }
    if (p.has("targets") && !p.get("targets").is_null()) target_ids(p);
    const json& kw = p.get("tokenizer_kwargs");
    if (!kw.is_null() && !kw.is_object()) fail("tokenizer_kwargs must be an object");
  }

  Prepared prepare(const json& input, const Params& p) const override {
    if (!input.is_string()) fail("fill-mask expects a string");
    const json& kw = p.get("tokenizer_kwargs");
    const json none;
    const json& trunc = kw.is_object() && kw.contains("truncation") ? kw["truncation"] : none;
    const json& max_len = kw.is_object() && kw.contains("max_length") ? kw["max_length"] : none;
    const tok::Tokenizer tk =
        configured(m_.tok.tokenizer, resolve_truncation(m_.tok.info, trunc, max_len));
    Prepared out;
    out.rows.push_back(encode(tk, input.get<std::string>()));
    const auto& ids = out.rows.front().ids;
    if (std::find(ids.begin(), ids.end(), *m_.tok.info.mask_id) == ids.end()) {
      fail("No mask_token (" + m_.tok.info.mask_token + ") found on the input");
    }
    return out;
  }

  json finish(const json&, Prepared& prepared, std::span<const RowOutput> outputs,
              const Params& p) const override {
    const tok::Encoding& enc = prepared.rows.front();
    const RowOutput& o = outputs.front();
    int64_t top_k = param_int(p, "top_k", 5);
    std::vector<uint32_t> targets;
    const bool has_targets = p.has("targets") && !p.get("targets").is_null();
    if (has_targets) {
      targets = target_ids(p);
      top_k = std::min<int64_t>(top_k, static_cast<int64_t>(targets.size()));
    }
    std::vector<size_t> masked;
    for (size_t i = 0; i < enc.size(); ++i) {
      if (enc.ids[i] == *m_.tok.info.mask_id) masked.push_back(i);
    }
    const bool single_mask = masked.size() == 1;
    json result = json::array();
    for (size_t m : masked) {
      std::vector<float> probs = softmax(std::span<const float>(o.row(m), o.cols));
      std::vector<std::pair<float, uint32_t>> cand;
      if (has_targets) {
        for (uint32_t t : targets) {
          if (t < probs.size()) cand.emplace_back(probs[t], t);
        }
      } else {
        for (size_t t = 0; t < probs.size(); ++t)
          cand.emplace_back(probs[t], static_cast<uint32_t>(t));
      }
      const size_t k = std::min(cand.size(), static_cast<size_t>(top_k));
      std::partial_sort(cand.begin(), cand.begin() + k, cand.end(),
                        [](const auto& a, const auto& b) {
                          return a.first > b.first || (a.first == b.first && a.second < b.second);
                        });
      json row = json::array();
      for (size_t c = 0; c < k; ++c) {
        const auto [score, id] = cand[c];
        std::vector<uint32_t> tokens;
        for (size_t i = 0; i < enc.size(); ++i) {
          const uint32_t t = i == m ? id : enc.ids[i];
          if (m_.tok.info.pad_id && t == *m_.tok.info.pad_id) continue;
          tokens.push_back(t);
        }
        const uint32_t one[1] = {id};
        row.push_back({{"score", score},
                       {"token", id},
                       {"token_str", decode(m_.tok, one, false)},
                       {"sequence", decode(m_.tok, tokens, single_mask)}});
      }
      result.push_back(std::move(row));
    }
    if (single_mask) return result.front();
    return result;
  }

 private:
  // get_target_ids: vocabulary ids of the targets; a target not in the vocabulary is tokenized
  // (no special tokens) and its first token used. Duplicates collapse.
  std::vector<uint32_t> target_ids(const Params& p) const {
    const json& t = p.get("targets");
    std::vector<std::string> names;
    if (t.is_string()) {
      names.push_back(t.get<std::string>());
    } else if (t.is_array()) {
      for (const json& v : t) {
        if (!v.is_string()) fail("targets must be a string or a list of strings");
        names.push_back(v.get<std::string>());
      }
    } else {
      fail("targets must be a string or a list of strings");
    }
    std::set<uint32_t> ids;
    for (const std::string& name : names) {
      if (auto id = m_.tok.tokenizer.token_to_id(name)) {
        ids.insert(*id);
        continue;
      }
      auto enc = m_.tok.tokenizer.encode(name, /*add_special_tokens=*/false);
      if (!enc.ok()) fail(enc.status().message());
      if (enc->ids.empty()) continue;  // transformers warns and ignores it
      ids.insert(enc->ids.front());
    }
    if (ids.empty()) fail("At least one target must be provided when passed.");
    return std::vector<uint32_t>(ids.begin(), ids.end());
  }
};

}  // namespace

std::unique_ptr<Pipeline> make_fill_mask(const std::filesystem::path& model, const json& init) {
  return std::make_unique<FillMask>(load_model(model, models::Head::kMaskedLM), init);
}

}  // namespace mlhub::pipelines
