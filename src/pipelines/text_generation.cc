// text-generation: transformers 4.57's TextGenerationPipeline (pipelines/text_generation.py) over
// a causal LM (models::load_decoder); and "chat", mlhub's own task on the same machinery.
//
// text-generation input: a string (continued as is, after the `prefix` parameter), or a chat (a
// list of {"role", "content", ...} messages, rendered with the tokenizer's chat template).
// Output: a list with one dict per returned sequence: {"generated_text": str} (the prompt text
// plus the new text; only the new text with return_full_text=false), {"generated_text":
// [messages...]} for a chat (the messages plus the new assistant message, or the final message
// continued when it is the assistant's), or {"generated_token_ids": [ids]} (prompt + generated)
// with return_tensors. Every other parameter is a generate() keyword (GenerationConfig::update).
//
// chat input: a list of messages, {"messages": [...]}, or a string (one user message). Output:
// the new assistant message {"role": "assistant", "content": str} (the final message continued
// when it is the assistant's); a list of them with num_return_sequences > 1.
//
// run_batch generates every input together (generation::generate: one forward per step); each
// input gets what it gets alone.
#include <optional>

#include "pipelines/decoder_support.h"

namespace mlhub::pipelines {
namespace {

enum class ReturnType { kTensors, kNewText, kFullText };

// The keys _sanitize_parameters takes for itself; everything else goes to generate().
constexpr const char* kPipelineKeys[] = {"return_full_text",
                                         "return_tensors",
                                         "return_text",
                                         "clean_up_tokenization_spaces",
                                         "prefix",
                                         "handle_long_generation",
                                         "stop_sequence",
                                         "truncation",
                                         "max_length",
                                         "continue_final_message",
                                         "skip_special_tokens",
                                         "tokenizer_encode_kwargs",
                                         "add_special_tokens",
                                         "padding"};

bool is_pipeline_key(const std::string& key) {
  for (const char* k : kPipelineKeys) {
    if (key == k) return true;
  }
  return false;
}

// One call's parameters, resolved once for every input of the call.
struct CallOptions {
  ReturnType return_type = ReturnType::kFullText;
  bool clean_up = true;  // postprocess's default, not the tokenizer's
  bool skip_special = true;
  std::optional<bool> continue_final;
  std::string prefix;
  bool hole = false;        // handle_long_generation="hole"
  json add_special_tokens;  // null = the tokenizer's default (true)
  json truncation, tok_max_length;
  json generate_kwargs = json::object();
  generation::GenerationConfig config;
};

struct Prepared {
  std::vector<int64_t> ids;  // what generate() starts from ([bos] for an empty prompt)
  bool empty_prompt = false;
  bool is_chat = false;
  std::string text;  // the input string (without prefix)
  ojson messages;    // the input chat
};

class TextGeneration final : public Pipeline {
 public:
  TextGeneration(std::string task, std::shared_ptr<const DecoderAssets> a, json init)
      : a_(std::move(a)), init_(std::move(init)) {
    task_ = std::move(task);
    if (!init_.is_object()) fail("pipeline init parameters must be a JSON object");
    resolve(json::object());  // rejects bad init parameters now
  }

  json run(const json& input, const json& params) const override {
    return run_batch({input}, params).front();
  }

  std::vector<json> run_batch(const std::vector<json>& inputs, const json& params) const override {
    const CallOptions o = resolve(params);
    std::vector<Prepared> prepared;
    std::vector<std::vector<int64_t>> prompts;
    for (const json& in : inputs) {
      prepared.push_back(prepare(in, o));
      prompts.push_back(prepared.back().ids);
    }
    generation::GenerateOptions gopts;
    gopts.tokenizer = &a_->files.tok.tokenizer;
    auto results = generation::generate(*a_->model, prompts, o.config, gopts);
    if (!results.ok()) {
      if (results.status().code() == StatusCode::kInvalidArgument) fail(results.status().message());
      throw Error(results.status());
    }
    std::vector<json> out;
    for (size_t i = 0; i < inputs.size(); ++i) out.push_back(finish(prepared[i], (*results)[i], o));
    return out;
  }

 private:
  bool chat_task() const { return task_ == "chat"; }

  CallOptions resolve(const json& params) const {
    if (!params.is_object() && !params.is_null()) fail("pipeline parameters must be a JSON object");
    Params p;
    p.merged = init_;
    if (params.is_object()) {
      p.call = params;
      for (const auto& [k, v] : params.items()) p.merged[k] = v;
    }
    CallOptions o;
    for (const auto& [k, v] : p.merged.items()) {
      if (k == "add_special_tokens") {
        o.add_special_tokens = v;
      } else if (k == "padding") {
        // Ignored: each prompt is generated on its own, so there is nothing to pad.
      } else if (!is_pipeline_key(k)) {
        o.generate_kwargs[k] = v;
      }
    }
    resolve_return_type(p, o);
    o.clean_up = param_bool(p, "clean_up_tokenization_spaces", true);
    o.skip_special = param_bool(p, "skip_special_tokens", true);
    if (!p.get("continue_final_message").is_null())
      o.continue_final = param_bool(p, "continue_final_message", false);
    o.prefix = p.has("prefix") ? param_string(p, "prefix", "") : a_->default_prefix;
    const std::string hole = param_string(p, "handle_long_generation", "");
    if (!hole.empty() && hole != "hole") {
      fail(hole +
           " is not a valid value for `handle_long_generation` parameter expected [None, "
           "'hole']");
    }
    o.hole = hole == "hole";
    o.truncation = p.get("truncation");
    o.tok_max_length = p.get("max_length");
    if (!o.tok_max_length.is_null()) o.generate_kwargs["max_length"] = o.tok_max_length;
    const json& kw = p.get("tokenizer_encode_kwargs");
    if (kw.is_object()) {
      for (const auto& [k, v] : kw.items()) {
        if (k == "add_special_tokens") {
          o.add_special_tokens = v;
        } else if (k == "truncation") {
          o.truncation = v;
        } else if (k == "max_length") {
          o.tok_max_length = v;
        } else if (k != "padding") {
          fail("tokenizer_encode_kwargs: unsupported key \"" + k + "\"");
        }
      }
    } else if (!kw.is_null()) {
      fail("tokenizer_encode_kwargs must be an object");
    }
    if (!o.add_special_tokens.is_null() && !o.add_special_tokens.is_boolean())
      fail("add_special_tokens must be a boolean");
    apply_prefix_length(o);
    const std::string stop = param_string(p, "stop_sequence", "");
    if (p.has("stop_sequence") && !p.get("stop_sequence").is_null()) {
      // transformers: the stop sequence's token ids become eos_token_id (any of them stops).
      const tok::Encoding e = encode(a_->files.tok.tokenizer, stop, std::nullopt, false);
      o.generate_kwargs["eos_token_id"] = to_i64(e.ids);
    }
    o.config = a_->pipeline_config;
    Status s = o.config.update(o.generate_kwargs);
    if (!s.ok()) fail(s.message());
    s = o.config.validate();
    if (!s.ok()) fail(s.message());
    return o;
  }

  void resolve_return_type(const Params& p, CallOptions& o) const {
    const json& full = p.get("return_full_text");
    const json& tensors = p.get("return_tensors");
    const json& text = p.get("return_text");
    if (chat_task() && !(full.is_null() && tensors.is_null() && text.is_null())) {
      fail(
          "the chat task returns the assistant message: return_full_text, return_text and "
          "return_tensors do not apply (use text-generation)");
    }
    std::optional<ReturnType> type;
    if (!full.is_null()) {
      if (!text.is_null()) fail("`return_text` is mutually exclusive with `return_full_text`");
      if (!tensors.is_null())
        fail("`return_full_text` is mutually exclusive with `return_tensors`");
      type = param_bool(p, "return_full_text", true) ? ReturnType::kFullText : ReturnType::kNewText;
    }
    // As transformers: any non-null return_tensors (false included) selects token ids.
    if (!tensors.is_null() && !type) {
      if (!text.is_null()) fail("`return_text` is mutually exclusive with `return_tensors`");
      type = ReturnType::kTensors;
    }
    o.return_type = type.value_or(ReturnType::kFullText);
  }

  // _forward: a prefix counts against max_length when max_new_tokens is not given.
  void apply_prefix_length(CallOptions& o) const {
    if (o.prefix.empty()) return;
    const bool special = o.add_special_tokens.is_boolean() && o.add_special_tokens.get<bool>();
    const int64_t n = static_cast<int64_t>(
        encode(a_->files.tok.tokenizer, o.prefix, std::nullopt, special).ids.size());
    json& kw = o.generate_kwargs;
    if (!kw.contains("max_new_tokens")) {
      int64_t base = a_->pipeline_config.max_length.value_or(20);
      if (kw.contains("max_length") && kw["max_length"].is_number_integer())
        base = kw["max_length"].get<int64_t>();
      kw["max_length"] = base + n;
    }
    if (!kw.contains("min_new_tokens") && kw.contains("min_length") &&
        kw["min_length"].is_number_integer()) {
      kw["min_length"] = kw["min_length"].get<int64_t>() + n;
    }
  }

  Prepared prepare(const json& input, const CallOptions& o) const {
    Prepared pr;
    // A string with max_length and no truncation is truncated (the tokenizer's rule);
    // apply_chat_template passes truncation=False unless told otherwise.
    const json chat_truncation = o.truncation.is_null() ? json(false) : o.truncation;
    const auto trunc = resolve_truncation(a_->files.tok.info, o.truncation, o.tok_max_length);
    const auto chat_trunc =
        resolve_truncation(a_->files.tok.info, chat_truncation, o.tok_max_length);
    if (chat_task() && input.is_string()) {
      pr.is_chat = true;
      pr.messages = ojson::array({ojson{{"role", "user"}, {"content", input.get<std::string>()}}});
    } else if (chat_task() && input.is_object() && input.contains("messages")) {
      pr.is_chat = true;
      pr.messages = checked_chat(input["messages"]);
    } else if (input.is_array() && !input.empty() && input.front().is_object()) {
      pr.is_chat = true;
      pr.messages = checked_chat(input);
    } else if (input.is_string() && !chat_task()) {
      pr.text = input.get<std::string>();
    } else {
      fail(chat_task() ? "chat expects a list of messages, {\"messages\": [...]} or a string"
                       : "text-generation expects a string or a list of messages "
                         "({\"role\": ..., \"content\": ...})");
    }
    if (pr.is_chat) {
      pr.ids = chat_prompt_ids(*a_, pr.messages, continue_final(pr, o));
      if (chat_trunc) truncate_ids(pr.ids, *chat_trunc);
    } else {
      const tok::Tokenizer tk = configured(a_->files.tok.tokenizer, trunc);
      const bool special = !o.add_special_tokens.is_boolean() || o.add_special_tokens.get<bool>();
      pr.ids = to_i64(encode(tk, o.prefix + pr.text, std::nullopt, special).ids);
    }
    if (o.hole) cut_hole(pr.ids, o);
    if (pr.ids.empty()) {
      // transformers generates from bos_token_id when the prompt has no tokens.
      pr.empty_prompt = true;
      if (!o.config.bos_token_id)
        fail("the prompt has no tokens and the model has no bos_token_id");
      pr.ids.push_back(*o.config.bos_token_id);
    }
    return pr;
  }

  bool continue_final(const Prepared& pr, const CallOptions& o) const {
    if (o.continue_final) return *o.continue_final;
    const ojson& last = pr.messages.back();
    return last["role"].is_string() && last["role"].get<std::string>() == "assistant";
  }

  static void truncate_ids(std::vector<int64_t>& ids, const tok::TruncationParams& t) {
    if (ids.size() <= t.max_length) return;
    if (t.direction == tok::TruncationDirection::kRight) {
      ids.resize(t.max_length);
    } else {
      ids.erase(ids.begin(), ids.end() - static_cast<std::ptrdiff_t>(t.max_length));
    }
  }

  // handle_long_generation="hole": keep the prompt's last tokens so that the new ones fit in
  // tokenizer.model_max_length.
  void cut_hole(std::vector<int64_t>& ids, const CallOptions& o) const {
    const auto limit = a_->files.tok.info.model_max_length;
    const int64_t cur = static_cast<int64_t>(ids.size());
    int64_t new_tokens = 0;
    const json& kw = o.generate_kwargs;
    if (kw.contains("max_new_tokens") && kw["max_new_tokens"].is_number_integer()) {
      new_tokens = kw["max_new_tokens"].get<int64_t>();
    } else {
      int64_t max_length = a_->pipeline_config.max_length.value_or(20);
      if (kw.contains("max_length") && kw["max_length"].is_number_integer())
        max_length = kw["max_length"].get<int64_t>();
      new_tokens = max_length - cur;
      if (new_tokens < 0) fail("We cannot infer how many new tokens are expected");
    }
    if (!limit || cur + new_tokens <= *limit) return;
    const int64_t keep = *limit - new_tokens;
    if (keep <= 0) {
      fail(
          "We cannot use `hole` to handle this generation the number of desired tokens exceeds "
          "the models max length");
    }
    ids.erase(ids.begin(), ids.end() - keep);
  }

  json finish(const Prepared& pr, const generation::GenerationResult& r,
              const CallOptions& o) const {
    // Sequences of one input come back as one tensor in transformers: shorter ones are padded.
    size_t longest = 0;
    for (const auto& s : r.sequences) longest = std::max(longest, s.tokens.size());
    const int64_t pad = o.config.resolved_pad_token_id();
    const std::span<const int64_t> prompt_ids =
        pr.empty_prompt ? std::span<const int64_t>() : std::span<const int64_t>(pr.ids);
    json records = json::array();
    for (const auto& s : r.sequences) {
      std::vector<int64_t> gen = s.tokens;
      if (pad >= 0) gen.resize(longest, pad);
      if (o.return_type == ReturnType::kTensors) {
        std::vector<int64_t> all = pr.ids;
        all.insert(all.end(), gen.begin(), gen.end());
        records.push_back(json{{"generated_token_ids", all}});
        continue;
      }
      // An empty prompt still starts from bos: it is part of the decoded sequence.
      std::vector<int64_t> decoded_gen = gen;
      if (pr.empty_prompt) decoded_gen.insert(decoded_gen.begin(), pr.ids.front());
      std::string text =
          text_after_prompt(*a_, prompt_ids, decoded_gen, o.skip_special, o.clean_up);
      if (o.return_type == ReturnType::kNewText) {
        records.push_back(json{{"generated_text", std::move(text)}});
      } else if (!pr.is_chat) {
        records.push_back(json{{"generated_text", pr.text + text}});
      } else {
        records.push_back(json{{"generated_text", json(full_chat(pr, o, text))}});
      }
    }
    if (!chat_task()) return records;
    json messages = json::array();
    for (const json& rec : records) messages.push_back(rec["generated_text"].back());
    return messages.size() == 1 ? messages.front() : messages;
  }

  // postprocess with FULL_TEXT on a chat: the final assistant message continued, or a new one.
  ojson full_chat(const Prepared& pr, const CallOptions& o, const std::string& text) const {
    ojson messages = pr.messages;
    if (continue_final(pr, o)) {
      ojson& last = messages.back();
      if (!last["content"].is_string()) fail("the final message's content must be a string");
      last = ojson{{"role", last["role"]}, {"content", last["content"].get<std::string>() + text}};
    } else {
      messages.push_back(ojson{{"role", "assistant"}, {"content", text}});
    }
    return messages;
  }

  std::shared_ptr<const DecoderAssets> a_;
  json init_;
};

}  // namespace

std::unique_ptr<Pipeline> make_text_generation(const std::filesystem::path& model,
                                               const json& init) {
  return std::make_unique<TextGeneration>("text-generation", load_decoder_assets(model), init);
}

std::unique_ptr<Pipeline> make_chat(const std::filesystem::path& model, const json& init) {
  return std::make_unique<TextGeneration>("chat", load_decoder_assets(model), init);
}

}  // namespace mlhub::pipelines
