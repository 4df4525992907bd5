// Private to src/pipelines: what the text-generation and chat pipelines and ChatSession share —
// loading a causal LM with its tokenizer, tokenizer_config.json and generation config; the
// generation config transformers' TextGenerationPipeline starts from; rendering and tokenizing a
// chat; and the "text after the prompt" decoding rule of the pipeline's postprocess.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlhub/generation.h"
#include "mlhub/models.h"
#include "pipelines/pipeline_internal.h"

namespace mlhub::pipelines {

using ojson = nlohmann::ordered_json;

// What a decoder needs besides its weights. The seam for other model formats: a Hugging Face
// folder reads tokenizer.json (or legacy files), tokenizer_config.json (chat_template.jinja
// overrides its chat_template, as transformers 4.57 does) and generation_config.json (else
// config.json). A .gguf path is kUnimplemented until the GGUF tokenizer lands: extend this one
// function to return the GGUF file's tokenizer, its chat template (as a tokenizer_config object
// with "chat_template", "bos_token", "eos_token") and a generation config from its metadata.
struct DecoderTokenizerFiles {
  LoadedTokenizer tok;
  ojson tokenizer_config = ojson::object();
  generation::GenerationConfig generation_config;
};
Result<DecoderTokenizerFiles> load_decoder_tokenizer_files(const std::filesystem::path& model);

// A loaded causal LM with everything the generation pipelines read. Immutable once built.
struct DecoderAssets {
  std::shared_ptr<const models::DecoderModel> model;
  DecoderTokenizerFiles files;
  std::optional<generation::ChatTemplate> chat_template;  // unset when the tokenizer has none
  // config.json's "prefix" (or task_specific_params["text-generation"]["prefix"]), else empty.
  std::string default_prefix;
  // transformers' pipeline generation config (pipeline_generation_config).
  generation::GenerationConfig pipeline_config;
};
// Throws Error (the loader's status) when the model or its tokenizer does not load.
std::shared_ptr<const DecoderAssets> load_decoder_assets(const std::filesystem::path& model);

// What TextGenerationPipeline.__init__ builds from the model's generation config: its defaults
// max_new_tokens=256, do_sample=True, temperature=0.7 win over the model's (they differ from
// GenerationConfig()'s), every other field is the model's; max_new_tokens is dropped when the
// model sets a max_length other than 20; task_specific_params["text-generation"] applies on top;
// a missing pad_token_id comes from the tokenizer's pad token.
generation::GenerationConfig pipeline_generation_config(const DecoderTokenizerFiles& files,
                                                        const nlohmann::json& model_config);

// The prompt ids of a chat, as TextGenerationPipeline.preprocess makes them: the chat template
// rendered with add_generation_prompt = !continue_final_message, tokenized without special
// tokens. Throws Error(kInvalidArgument) when the tokenizer has no chat template or the template
// raises.
std::vector<int64_t> chat_prompt_ids(const DecoderAssets& a, const ojson& messages,
                                     bool continue_final_message);
// Checks a chat input (a non-empty array of objects with "role" and "content") and returns it as
// an ordered_json (keys sorted: Pipeline::run receives a nlohmann::json, which sorts them).
// Throws Error(kInvalidArgument) otherwise.
ojson checked_chat(const nlohmann::json& messages);

// The pipeline's decoding rule: decode(prompt + generated), then drop as many characters as
// decode(prompt) has (Python len and slicing: code points).
std::string text_after_prompt(const DecoderAssets& a, std::span<const int64_t> prompt,
                              std::span<const int64_t> generated, bool skip_special_tokens,
                              bool clean_up_tokenization_spaces);

std::vector<uint32_t> to_u32(std::span<const int64_t> ids);
std::vector<int64_t> to_i64(std::span<const uint32_t> ids);

}  // namespace mlhub::pipelines
