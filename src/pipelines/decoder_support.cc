// Loading a causal LM for the generation pipelines, and the pieces of transformers'
// TextGenerationPipeline (pipelines/text_generation.py, pipelines/base.py) that do not depend on
// the task's output shape.
#include "pipelines/decoder_support.h"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include "mlhub/io.h"

namespace mlhub::pipelines {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<ojson> read_ordered_json(const fs::path& file) {
  auto text = read_text(file);
  if (!text) return Status::not_found(file.string() + ": cannot open");
  ojson j = ojson::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::corruption(file.string() + ": invalid JSON");
  return j;
}

}  // namespace

namespace {

// A GGUF file carries its tokenizer and chat template in its metadata: transformers rebuilds a
// tokenizer.json and tokenizer_config.json from them (io::gguf_tokenizer_json), and its
// generation config from the model config (GenerationConfig.from_model_config). The two files
// are written to a private temporary folder and loaded exactly as a model folder's would be.
Result<DecoderTokenizerFiles> load_gguf_tokenizer_files(const fs::path& model) {
  auto file = io::GgufFile::open(model);
  if (!file.ok()) return file.status();
  auto tk = io::gguf_tokenizer_json(*file);
  if (!tk.ok()) return tk.status();
  auto hf = io::gguf_to_hf(*file);
  if (!hf.ok()) return hf.status();
  return catch_errors([&]() -> DecoderTokenizerFiles {
    static std::atomic<uint64_t> counter{0};
    const fs::path dir = fs::temp_directory_path() /
                         fmt::format("mlhub-gguf-tokenizer-{}-{}", ::getpid(), counter++);
    fs::create_directories(dir);
    struct Cleanup {
      fs::path dir;
      ~Cleanup() {
        std::error_code ec;
        fs::remove_all(dir, ec);
      }
    } cleanup{dir};
    for (const auto& [name, doc] : {std::pair{"tokenizer.json", &tk->tokenizer},
                                    std::pair{"tokenizer_config.json", &tk->tokenizer_config}}) {
      std::ofstream out(dir / name, std::ios::binary);
      out << doc->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      if (!out) throw Error(Status(StatusCode::kIoError, (dir / name).string() + ": cannot write"));
    }
    DecoderTokenizerFiles out{load_tokenizer(dir), ojson(tk->tokenizer_config), {}};
    auto gen = generation::GenerationConfig::from_model_config(hf->config);
    if (!gen.ok()) throw Error(gen.status());
    out.generation_config = std::move(*gen);
    return out;
  });
}

}  // namespace

Result<DecoderTokenizerFiles> load_decoder_tokenizer_files(const fs::path& model) {
  if (model.extension() == ".gguf" && !fs::is_directory(model)) return load_gguf_tokenizer_files(model);
  return catch_errors([&]() -> DecoderTokenizerFiles {
    DecoderTokenizerFiles out{load_tokenizer(model), ojson::object(), {}};
    if (fs::exists(model / "tokenizer_config.json")) {
      auto cfg = read_ordered_json(model / "tokenizer_config.json");
      if (!cfg.ok()) throw Error(cfg.status());
      if (cfg->is_object()) out.tokenizer_config = std::move(*cfg);
    }
    // transformers 4.57 saves the template as chat_template.jinja and prefers it when present.
    if (auto jinja = read_text(model / "chat_template.jinja")) {
      out.tokenizer_config["chat_template"] = *jinja;
    }
    auto gen = generation::GenerationConfig::load(model);
    if (!gen.ok()) throw Error(gen.status());
    out.generation_config = std::move(*gen);
    return out;
  });
}

generation::GenerationConfig pipeline_generation_config(const DecoderTokenizerFiles& files,
                                                        const json& model_config) {
  generation::GenerationConfig c = files.generation_config;
  // The pipeline's _default_generation_config; each value differs from GenerationConfig()'s, so
  // _prepare_generation_config(use_model_defaults=True) keeps it over the model's.
  c.max_new_tokens = 256;
  c.do_sample = true;
  c.temperature = 0.7;
  // "if max_new_tokens is the pipeline default but max_length is not the global default (20),
  // honor max_length" (GenerationConfig::load already reads a stored 20 as unset).
  if (c.max_length) c.max_new_tokens.reset();
  const json* task = nullptr;
  if (model_config.contains("task_specific_params") &&
      model_config["task_specific_params"].is_object() &&
      model_config["task_specific_params"].contains("text-generation")) {
    task = &model_config["task_specific_params"]["text-generation"];
  }
  if (task && task->is_object()) {
    json known = json::object();
    for (const auto& [k, v] : task->items()) {
      // Only generation fields reach generate(); "prefix" is the pipeline's own.
      generation::GenerationConfig probe;
      if (k != "prefix" && probe.update(json{{k, v}}).ok()) known[k] = v;
    }
    Status s = c.update(known);
    if (!s.ok()) throw Error(s);
  }
  if (!c.pad_token_id && files.tok.info.pad_id) c.pad_token_id = *files.tok.info.pad_id;
  return c;
}

std::shared_ptr<const DecoderAssets> load_decoder_assets(const fs::path& path) {
  auto files = load_decoder_tokenizer_files(path);
  if (!files.ok()) throw Error(files.status());
  auto model = models::load_decoder(path);
  if (!model.ok()) throw Error(model.status());
  auto a = std::make_shared<DecoderAssets>(
      DecoderAssets{std::shared_ptr<const models::DecoderModel>(std::move(*model)),
                    std::move(*files),
                    std::nullopt,
                    std::string(),
                    {}});
  const json& cfg = a->model->config().raw;
  if (a->files.tokenizer_config.contains("chat_template")) {
    auto t = generation::chat_template_from_config(a->files.tokenizer_config);
    if (!t.ok()) throw Error(t.status());
    a->chat_template = std::move(*t);
  }
  if (cfg.contains("prefix") && cfg["prefix"].is_string()) a->default_prefix = cfg["prefix"];
  if (cfg.contains("task_specific_params") && cfg["task_specific_params"].is_object()) {
    const json& tsp = cfg["task_specific_params"];
    if (tsp.contains("text-generation") && tsp["text-generation"].is_object() &&
        tsp["text-generation"].contains("prefix") && tsp["text-generation"]["prefix"].is_string())
      a->default_prefix = tsp["text-generation"]["prefix"];
  }
  a->pipeline_config = pipeline_generation_config(a->files, cfg);
  return a;
}

ojson checked_chat(const json& messages) {
  if (!messages.is_array() || messages.empty()) fail("a chat must be a non-empty list of messages");
  ojson out = ojson::array();
  for (const json& m : messages) {
    if (!m.is_object() || !m.contains("role") || !m.contains("content")) {
      fail("When passing chat dicts as input, each dict must have a 'role' and 'content' key.");
    }
    out.push_back(ojson(m));
  }
  return out;
}

std::vector<int64_t> chat_prompt_ids(const DecoderAssets& a, const ojson& messages,
                                     bool continue_final_message) {
  if (!a.chat_template) {
    fail(
        "Cannot use chat template functions because tokenizer.chat_template is not set and no "
        "template argument was passed!");
  }
  generation::ChatTemplateOptions opts;
  opts.add_generation_prompt = !continue_final_message;
  opts.continue_final_message = continue_final_message;
  opts.special_tokens = generation::special_tokens_from_config(a.files.tokenizer_config);
  auto text = a.chat_template->render(messages, opts);
  if (!text.ok()) fail(text.status().message());
  const tok::Encoding e = encode(a.files.tok.tokenizer, *text, std::nullopt, false);
  return to_i64(e.ids);
}

std::string text_after_prompt(const DecoderAssets& a, std::span<const int64_t> prompt,
                              std::span<const int64_t> generated, bool skip_special_tokens,
                              bool clean_up_tokenization_spaces) {
  std::vector<uint32_t> all = to_u32(prompt);
  const std::vector<uint32_t> gen = to_u32(generated);
  auto dec = [&](std::span<const uint32_t> ids) {
    auto r = a.files.tok.tokenizer.decode(ids, skip_special_tokens, clean_up_tokenization_spaces);
    if (!r.ok()) fail(r.status().message());
    return std::move(*r);
  };
  const size_t prompt_chars = prompt.empty() ? 0 : CharIndex(dec(all)).size();
  all.insert(all.end(), gen.begin(), gen.end());
  const std::string text = dec(all);
  return CharIndex(text).slice(static_cast<int64_t>(prompt_chars), INT64_MAX);
}

std::vector<uint32_t> to_u32(std::span<const int64_t> ids) {
  std::vector<uint32_t> out;
  out.reserve(ids.size());
  for (int64_t id : ids) out.push_back(static_cast<uint32_t>(id));
  return out;
}

std::vector<int64_t> to_i64(std::span<const uint32_t> ids) {
  std::vector<int64_t> out;
  out.reserve(ids.size());
  for (uint32_t id : ids) out.push_back(static_cast<int64_t>(id));
  return out;
}

}  // namespace mlhub::pipelines
