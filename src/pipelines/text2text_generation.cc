// text2text-generation, summarization and translation: transformers 4.57's
// Text2TextGenerationPipeline and its SummarizationPipeline / TranslationPipeline subclasses
// (pipelines/text2text_generation.py) over an encoder-decoder model (models::load_seq2seq).
//
// Input: a string (the config's `prefix`, or the task's task_specific_params prefix, is put in
// front of it). Output: one record per returned sequence, {"<name>_text": str} with name
// generated / summary / translation, or {"<name>_token_ids": [ids]} (the decoder start token
// first, as generate() returns them) with return_tensors. Every parameter that is not the
// pipeline's own is a generate() keyword (GenerationConfig::update).
//
// The generation config is the pipeline's: the model's generation_config.json under the
// pipeline defaults max_new_tokens=256 and num_beams=4 (they win over the model's values, as
// _prepare_generation_config(use_model_defaults=True) does; max_new_tokens is dropped when the
// model sets a max_length other than 20), then task_specific_params[task] of config.json, then
// the tokenizer's pad token when none is set.
//
// run_batch encodes every input together and decodes them as one continuous batch; each input
// gets what it gets alone.
#include <fmt/format.h>

#include <fstream>

#include "mlhub/generation.h"
#include "pipelines/decoder_support.h"
#include "pipelines/pipeline_internal.h"

namespace mlhub::pipelines {
namespace {

namespace fs = std::filesystem;

// The keys _sanitize_parameters takes for itself; everything else goes to generate().
constexpr const char* kPipelineKeys[] = {"return_tensors", "return_text", "return_type",
                                         "clean_up_tokenization_spaces", "truncation",
                                         "stop_sequence", "src_lang", "tgt_lang", "batch_size",
                                         "num_workers"};

bool is_pipeline_key(const std::string& key) {
  for (const char* k : kPipelineKeys)
    if (key == k) return true;
  return false;
}

// The loaded model with what every call reads. Immutable.
struct Seq2SeqAssets {
  std::shared_ptr<const models::Seq2SeqModel> model;
  LoadedTokenizer tok;
  generation::GenerationConfig config;  // the pipeline's, before the call's parameters
  std::string prefix;
  // tokenizer_config.json's tokenizer_class is one whose translation inputs carry language
  // tokens (transformers' _build_translation_inputs): mBART, mBART-50, NLLB, M2M100.
  bool multilingual = false;
};

bool is_multilingual_tokenizer(const fs::path& folder) {
  std::ifstream in(folder / "tokenizer_config.json");
  if (!in) return false;
  const json cfg = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!cfg.is_object() || !cfg.contains("tokenizer_class") || !cfg["tokenizer_class"].is_string())
    return false;
  const std::string cls = cfg["tokenizer_class"];
  for (const char* prefix : {"MBart", "Nllb", "M2M100", "SeamlessM4T"})
    if (cls.rfind(prefix, 0) == 0) return true;
  return false;
}

std::shared_ptr<const Seq2SeqAssets> load_assets(const fs::path& folder, const std::string& task) {
  auto a = std::make_shared<Seq2SeqAssets>(Seq2SeqAssets{nullptr, load_tokenizer(folder), {}, {}, false});
  a->multilingual = is_multilingual_tokenizer(folder);
  auto model = models::load_seq2seq(folder);
  if (!model.ok()) throw Error(model.status());
  a->model = std::move(*model);
  const json& config = a->model->config().raw;  // config.json, as the loader read it
  auto gen = generation::GenerationConfig::load(folder);
  if (!gen.ok()) throw Error(gen.status());
  generation::GenerationConfig& c = a->config;
  c = std::move(*gen);
  // Text2TextGenerationPipeline._default_generation_config.
  c.max_new_tokens = 256;
  c.num_beams = 4;
  if (c.max_length) c.max_new_tokens.reset();  // a stored 20 already reads as unset
  if (config.contains("prefix") && config["prefix"].is_string()) a->prefix = config["prefix"];
  const json& tsp = config.contains("task_specific_params") ? config["task_specific_params"] : json();
  if (tsp.is_object() && tsp.contains(task) && tsp[task].is_object()) {
    json known = json::object();
    for (const auto& [k, v] : tsp[task].items()) {
      if (k == "prefix") {
        if (v.is_string()) a->prefix = v.get<std::string>();
        continue;
      }
      generation::GenerationConfig probe;
      if (probe.update(json{{k, v}}).ok()) known[k] = v;
    }
    Status s = c.update(known);
    if (!s.ok()) throw Error(s);
  }
  if (!c.pad_token_id && a->tok.info.pad_id) c.pad_token_id = *a->tok.info.pad_id;
  return a;
}

struct CallOptions {
  bool tensors = false;
  bool clean_up = false;  // postprocess's default
  json truncation;
  generation::GenerationConfig config;
};

class Text2Text final : public Pipeline {
 public:
  Text2Text(std::string task, std::string return_name, std::shared_ptr<const Seq2SeqAssets> a,
            json init)
      : a_(std::move(a)), name_(std::move(return_name)), init_(std::move(init)) {
    task_ = std::move(task);
    if (!init_.is_object()) fail("pipeline init parameters must be a JSON object");
    resolve(json::object());  // rejects bad init parameters now
  }

  json run(const json& input, const json& params) const override {
    return run_batch({input}, params).front();
  }

  std::vector<json> run_batch(const std::vector<json>& inputs, const json& params) const override {
    const CallOptions o = resolve(params);
    std::vector<std::vector<int64_t>> sources;
    for (const json& in : inputs) sources.push_back(source_ids(in, o));
    generation::GenerateOptions gopts;
    gopts.tokenizer = &a_->tok.tokenizer;
    auto results = generation::generate_seq2seq(*a_->model, sources, o.config, gopts);
    if (!results.ok()) {
      if (results.status().code() == StatusCode::kInvalidArgument) fail(results.status().message());
      throw Error(results.status());
    }
    std::vector<json> out;
    for (const auto& r : *results) out.push_back(records(r, o));
    return out;
  }

  int64_t count_tokens(const json& input, const json& params) const override {
    return static_cast<int64_t>(source_ids(input, resolve(params)).size());
  }

 private:
  CallOptions resolve(const json& params) const {
    if (!params.is_object() && !params.is_null()) fail("pipeline parameters must be a JSON object");
    Params p;
    p.merged = init_;
    if (params.is_object()) {
      p.call = params;
      for (const auto& [k, v] : params.items()) p.merged[k] = v;
    }
    CallOptions o;
    json kwargs = json::object();
    for (const auto& [k, v] : p.merged.items())
      if (!is_pipeline_key(k)) kwargs[k] = v;
    // return_type (an enum in Python) is not JSON-expressible; return_tensors selects ids.
    if (p.has("return_type")) fail("return_type is not supported: use return_tensors");
    if (!p.get("return_tensors").is_null()) o.tensors = param_bool(p, "return_tensors", false);
    o.clean_up = param_bool(p, "clean_up_tokenization_spaces", false);
    o.truncation = p.get("truncation");
    if (!p.get("stop_sequence").is_null()) {
      // transformers: the first token of the stop sequence becomes eos_token_id.
      const tok::Encoding e =
          encode(a_->tok.tokenizer, param_string(p, "stop_sequence", ""), std::nullopt, false);
      if (e.ids.empty()) fail("stop_sequence has no tokens");
      kwargs["eos_token_id"] = static_cast<int64_t>(e.ids.front());
    }
    // TranslationPipeline passes them to the tokenizer's _build_translation_inputs when it has
    // one and ignores them otherwise (T5, Marian); building those inputs is not implemented.
    if (a_->multilingual && (!p.get("src_lang").is_null() || !p.get("tgt_lang").is_null()))
      fail("src_lang / tgt_lang: translation inputs of multilingual tokenizers (mBART-50, NLLB, "
           "M2M100) are not supported yet");
    o.config = a_->config;
    Status s = o.config.update(kwargs);
    if (!s.ok()) fail(s.message());
    s = o.config.validate();
    if (!s.ok()) fail(s.message());
    return o;
  }

  std::vector<int64_t> source_ids(const json& input, const CallOptions& o) const {
    if (!input.is_string()) fail(task_ + " expects a string input");
    const auto trunc = resolve_truncation(a_->tok.info, o.truncation, json());
    const tok::Tokenizer tk = configured(a_->tok.tokenizer, trunc);
    std::vector<int64_t> ids = to_i64(encode(tk, a_->prefix + input.get<std::string>()).ids);
    if (ids.empty()) fail(task_ + ": the input has no tokens");
    return ids;
  }

  // postprocess: one record per returned sequence. Token ids are the decoder start token then
  // the generated tokens, padded with pad_token_id to the longest sequence of this input, as
  // generate() returns them.
  json records(const generation::GenerationResult& r, const CallOptions& o) const {
    const int64_t start = o.config.decoder_start_token_id.value_or(a_->model->decoder_start_token_id());
    size_t longest = 0;
    for (const auto& s : r.sequences) longest = std::max(longest, s.tokens.size());
    json out = json::array();
    for (const auto& s : r.sequences) {
      std::vector<int64_t> ids{start};
      ids.insert(ids.end(), s.tokens.begin(), s.tokens.end());
      if (o.tensors) {
        ids.resize(longest + 1, o.config.resolved_pad_token_id());
        out.push_back({{name_ + "_token_ids", ids}});
        continue;
      }
      const std::vector<uint32_t> u = to_u32(ids);
      auto text = a_->tok.tokenizer.decode(u, /*skip_special_tokens=*/true, o.clean_up);
      if (!text.ok()) throw Error(text.status());
      out.push_back({{name_ + "_text", *text}});
    }
    return out;
  }

  std::shared_ptr<const Seq2SeqAssets> a_;
  std::string name_;  // generated / summary / translation
  json init_;
};

}  // namespace

std::unique_ptr<Pipeline> make_text2text_generation(const fs::path& model, const json& init) {
  return std::make_unique<Text2Text>("text2text-generation", "generated",
                                     load_assets(model, "text2text-generation"), init);
}

std::unique_ptr<Pipeline> make_summarization(const fs::path& model, const json& init) {
  return std::make_unique<Text2Text>("summarization", "summary", load_assets(model, "summarization"),
                                     init);
}

std::unique_ptr<Pipeline> make_translation(const fs::path& model, const json& init,
                                           const std::string& task) {
  return std::make_unique<Text2Text>(task, "translation", load_assets(model, task), init);
}

}  // namespace mlhub::pipelines
