// mlhub generation: what turns a decoder model into text: chat templates (the Jinja subset that
// tokenizer_config.json chat_template fields use, rendered exactly as transformers'
// apply_chat_template), and generation (logits processors, greedy / sampling / beam search,
// stopping criteria, streamers) with transformers' GenerationConfig semantics.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlhub/core.h"
#include "mlhub/models.h"
#include "mlhub/tokenizers.h"

namespace mlhub::generation {

// ==== Chat templates (src/generation/chat_template*.cc) =======================================
//
// A Jinja2 interpreter for the subset chat templates use, rendering byte-identically to
// transformers 4.57's tokenizer.apply_chat_template(..., tokenize=False): the environment is
// Jinja2's ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks and loop controls,
// transformers' tojson (json.dumps, ensure_ascii=False), raise_exception and strftime_now
// globals, and the {% generation %} tag. See docs/chat_templates.md for the supported language
// and the known differences.
//
// JSON values are nlohmann::ordered_json because Python dicts keep insertion order and templates
// expose it (tojson, dict.items()); a plain nlohmann::json converts implicitly, with its keys
// sorted.

namespace jinja {
struct Program;
}  // namespace jinja

// What apply_chat_template passes besides the messages.
struct ChatTemplateOptions {
  // Appends the template's assistant header (the template reads `add_generation_prompt`).
  bool add_generation_prompt = false;
  // Renders the final message open-ended so the model continues it (transformers' tag-and-trim
  // algorithm); incompatible with add_generation_prompt.
  bool continue_final_message = false;
  // Tool JSON schemas (array of objects) or null; the template sees `tools` as None when null.
  nlohmann::ordered_json tools;
  // RAG documents (array of objects) or null.
  nlohmann::ordered_json documents;
  // The tokenizer's special_tokens_map: bos_token, eos_token, unk_token, sep_token, pad_token,
  // cls_token, mask_token (strings), additional_special_tokens (array); absent ones stay
  // undefined in the template. See special_tokens_from_config.
  nlohmann::ordered_json special_tokens = nlohmann::ordered_json::object();
  // Extra template variables (apply_chat_template's **kwargs); they override special tokens.
  nlohmann::ordered_json extra_context = nlohmann::ordered_json::object();
};

// A parsed chat template. Immutable after parse; copies share the parsed tree; render is
// thread-safe.
class ChatTemplate {
 public:
  // Parses Jinja2 source. Errors: InvalidArgument ("TemplateSyntaxError: line N: ...") for
  // malformed templates, unknown tags (extends/include/import/do ...), filters or tests, and
  // invalid UTF-8.
  static Result<ChatTemplate> parse(std::string_view source);

  // Renders one conversation (an array of message objects) as transformers would. Errors:
  // InvalidArgument for an exception the template raises: raise_exception(msg) yields `msg`
  // verbatim; others read "<PythonException>: message" (UndefinedError, TypeError,
  // SecurityError for list/dict mutation in the immutable sandbox, ValueError for
  // continue_final_message misuse); OutOfRange when a safety limit is hit (work budget, macro
  // recursion depth, 16 MiB strings / output, 2^20-item lists, range() over 100000 items).
  Result<std::string> render(const nlohmann::ordered_json& messages,
                             const ChatTemplateOptions& opts = {}) const;

  const std::string& source() const { return source_; }

 private:
  std::shared_ptr<const jinja::Program> program_;
  std::string source_;
};

// The chat template of a tokenizer_config.json, selected as transformers' get_chat_template
// does: `chat_template` is a string, or a list of {"name", "template"} (or an object of name ->
// template). With a list, `name` picks one (NotFound when absent); an empty name picks
// "tool_use" when with_tools and present, else "default" (InvalidArgument when neither exists).
// NotFound when the config has no chat_template.
Result<ChatTemplate> chat_template_from_config(const nlohmann::ordered_json& tokenizer_config,
                                               std::string_view name = "",
                                               bool with_tools = false);

// transformers' special_tokens_map from tokenizer_config.json: the special token strings that
// are set (string or {"content": ...} form), in transformers' order, for
// ChatTemplateOptions::special_tokens.
nlohmann::ordered_json special_tokens_from_config(const nlohmann::ordered_json& tokenizer_config);


// ==== Generation (src/generation/generate*.cc and friends) ====================================

}  // namespace mlhub::generation
