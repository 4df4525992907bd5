// ChatTemplate: the public face of the chat-template interpreter. Mirrors transformers 4.57's
// render_jinja_template (utils/chat_template_utils.py) and get_chat_template
// (tokenization_utils_base.py): the variables a template sees, tool/document checks, and the
// continue_final_message tag-and-trim algorithm.
#include <algorithm>

#include "chat_template_ast.h"
#include "chat_template_builtins.h"
#include "chat_template_eval.h"
#include "mlhub/generation.h"

namespace mlhub::generation {
namespace {

using jinja::ErrorKind;
using jinja::TemplateError;
using jinja::Value;
using ojson = nlohmann::ordered_json;

// transformers' suffix marking the end of the final message under continue_final_message.
constexpr std::string_view kContinueTag = "CONTINUE_FINAL_MESSAGE_TAG ";

Status to_status(const TemplateError& e) {
  switch (e.kind()) {
    case ErrorKind::kSyntax: return Status::invalid_argument(std::string("TemplateSyntaxError: ") + e.what());
    case ErrorKind::kUndefined: return Status::invalid_argument(std::string("UndefinedError: ") + e.what());
    case ErrorKind::kType: return Status::invalid_argument(std::string("TypeError: ") + e.what());
    case ErrorKind::kSecurity: return Status::invalid_argument(std::string("SecurityError: ") + e.what());
    case ErrorKind::kRaised: return Status::invalid_argument(e.what());
    case ErrorKind::kLimit: return Status::out_of_range(std::string("chat template limit: ") + e.what());
  }
  return Status::internal(e.what());
}

Status value_error(const std::string& msg) { return Status::invalid_argument("ValueError: " + msg); }

// Appends the continue tag to the last text of the final message; returns that text (before
// the tag) for the check after rendering.
Result<std::string> tag_final_message(ojson& messages) {
  if (!messages.is_array() || messages.empty() || !messages.back().is_object() ||
      !messages.back().contains("content")) {
    return value_error("continue_final_message needs a final message with content");
  }
  ojson& content = messages.back()["content"];
  if (content.is_array()) {
    for (auto it = content.rbegin(); it != content.rend(); ++it) {
      if (it->is_object() && it->contains("text") && (*it)["text"].is_string()) {
        std::string text = (*it)["text"].get<std::string>();
        (*it)["text"] = text + std::string(kContinueTag);
        return text;
      }
    }
    return value_error("continue_final_message is set but we could not find any text to continue in the final message!");
  }
  if (!content.is_string()) return Status::invalid_argument("TypeError: the final message content must be a string or a list");
  std::string text = content.get<std::string>();
  content = text + std::string(kContinueTag);
  return text;
}

Result<std::string> trim_after_final_message(std::string rendered, const std::string& final_text) {
  const std::string stripped = jinja::py_strip(final_text, Value(), true, true);
  const std::string tag = jinja::py_strip(kContinueTag, Value(), true, true);
  if (rendered.find(stripped) == std::string::npos || rendered.find(tag) == std::string::npos) {
    return value_error(
        "continue_final_message is set but the final message does not appear in the chat after "
        "applying the chat template! This can happen if the chat template deletes portions of "
        "the final message. Please verify the chat template and final message in your chat to "
        "ensure they are compatible.");
  }
  const size_t loc = rendered.rfind(tag);
  if (rendered.compare(loc, kContinueTag.size(), kContinueTag) == 0) {
    rendered.resize(loc);  // the template kept the spacing after the tag
    return rendered;
  }
  return jinja::py_strip(rendered.substr(0, loc), Value(), false, true);
}

std::string token_string(const ojson& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return "";
}

}  // namespace

Result<ChatTemplate> ChatTemplate::parse(std::string_view source) {
  if (auto bad = find_invalid_utf8(source)) {
    return Status::invalid_argument("TemplateSyntaxError: invalid UTF-8 at byte " + std::to_string(*bad));
  }
  try {
    std::shared_ptr<const jinja::Program> program = jinja::parse_program(source);
    jinja::check_names(*program);
    ChatTemplate t;
    t.program_ = std::move(program);
    t.source_ = std::string(source);
    return t;
  } catch (const TemplateError& e) {
    return to_status(e);
  } catch (const std::bad_alloc&) {
    return Status::out_of_range("chat template limit: out of memory");
  }
}

Result<std::string> ChatTemplate::render(const ojson& messages, const ChatTemplateOptions& opts) const {
  if (opts.continue_final_message && opts.add_generation_prompt) {
    return value_error(
        "continue_final_message and add_generation_prompt are not compatible. Use "
        "continue_final_message when you want the model to continue the final message, and "
        "add_generation_prompt when you want to add a header that will prompt it to start a new "
        "assistant message instead.");
  }
  if (!opts.tools.is_null()) {
    if (!opts.tools.is_array()) return Status::invalid_argument("ValueError: tools must be a list");
    for (const auto& tool : opts.tools) {
      if (!tool.is_object()) {
        return value_error(
            "Tools should either be a JSON schema, or a callable function with type hints and a "
            "docstring suitable for auto-conversion to a schema.");
      }
    }
  }
  if (!opts.documents.is_null()) {
    if (!opts.documents.is_array()) return Status::invalid_argument("TypeError: documents must be a list");
    for (const auto& doc : opts.documents) {
      if (!doc.is_object()) {
        return Status::invalid_argument("TypeError: Documents should be a list of dicts with 'title' and 'text' keys!");
      }
    }
  }
  if (!opts.special_tokens.is_object() || !opts.extra_context.is_object()) {
    return Status::invalid_argument("special_tokens and extra_context must be JSON objects");
  }
  for (const char* reserved : {"messages", "tools", "documents", "add_generation_prompt"}) {
    if (opts.extra_context.contains(reserved)) {
      return Status::invalid_argument(std::string("TypeError: got multiple values for keyword argument '") + reserved + "'");
    }
  }
  ojson chat = messages;
  std::string final_text;
  if (opts.continue_final_message) {
    auto tagged = tag_final_message(chat);
    if (!tagged.ok()) return tagged.status();
    final_text = std::move(tagged.value());
  }
  try {
    jinja::Dict context;
    jinja::add_globals(context);
    for (const auto& [k, v] : opts.special_tokens.items()) context.set(Value::string(k), Value::from_json(v));
    for (const auto& [k, v] : opts.extra_context.items()) context.set(Value::string(k), Value::from_json(v));
    context.set(Value::string("messages"), Value::from_json(chat));
    context.set(Value::string("tools"), Value::from_json(opts.tools));
    context.set(Value::string("documents"), Value::from_json(opts.documents));
    context.set(Value::string("add_generation_prompt"), Value::boolean(opts.add_generation_prompt));
    std::string rendered = jinja::render_program(*program_, context, jinja::RenderLimits{});
    if (!opts.continue_final_message) return rendered;
    return trim_after_final_message(std::move(rendered), final_text);
  } catch (const TemplateError& e) {
    return to_status(e);
  } catch (const std::bad_alloc&) {
    return Status::out_of_range("chat template limit: out of memory");
  }
}

Result<ChatTemplate> chat_template_from_config(const ojson& config, std::string_view name, bool with_tools) {
  if (!config.is_object() || !config.contains("chat_template") || config["chat_template"].is_null()) {
    return Status::not_found("tokenizer_config has no chat_template");
  }
  const ojson& ct = config["chat_template"];
  if (ct.is_string()) {
    if (!name.empty() && name != "default") {
      return Status::not_found("tokenizer_config has a single chat template, not one named '" + std::string(name) + "'");
    }
    return ChatTemplate::parse(ct.get<std::string>());
  }
  std::vector<std::pair<std::string, std::string>> named;
  if (ct.is_array()) {
    for (const auto& e : ct) {
      if (!e.is_object() || !e.contains("name") || !e.contains("template") || !e["name"].is_string() ||
          !e["template"].is_string()) {
        return Status::invalid_argument("chat_template list entries must be {\"name\", \"template\"} objects");
      }
      named.emplace_back(e["name"].get<std::string>(), e["template"].get<std::string>());
    }
  } else if (ct.is_object()) {
    for (const auto& [k, v] : ct.items()) {
      if (!v.is_string()) return Status::invalid_argument("chat_template object values must be strings");
      named.emplace_back(k, v.get<std::string>());
    }
  } else {
    return Status::invalid_argument("chat_template must be a string or a list of named templates");
  }
  auto find = [&](std::string_view n) -> const std::string* {
    for (const auto& [k, v] : named) {
      if (k == n) return &v;
    }
    return nullptr;
  };
  const std::string* chosen = nullptr;
  if (!name.empty()) {
    chosen = find(name);
    if (!chosen) return Status::not_found("no chat template named '" + std::string(name) + "'");
  } else if (with_tools && find("tool_use")) {
    chosen = find("tool_use");
  } else {
    chosen = find("default");
  }
  if (!chosen) {
    std::vector<std::string> names;
    for (const auto& [k, v] : named) names.push_back("'" + k + "'");
    std::sort(names.begin(), names.end());
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    return Status::invalid_argument(
        "This model has multiple chat templates with no default specified! Available template names are [" + list + "].");
  }
  return ChatTemplate::parse(*chosen);
}

ojson special_tokens_from_config(const ojson& config) {
  ojson out = ojson::object();
  if (!config.is_object()) return out;
  for (const char* key : {"bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"}) {
    if (!config.contains(key)) continue;
    const std::string s = token_string(config[key]);
    if (!s.empty()) out[key] = s;
  }
  if (config.contains("additional_special_tokens") && config["additional_special_tokens"].is_array()) {
    ojson list = ojson::array();
    for (const auto& t : config["additional_special_tokens"]) {
      const std::string s = token_string(t);
      if (!s.empty()) list.push_back(s);
    }
    if (!list.empty()) out["additional_special_tokens"] = list;
  }
  return out;
}

}  // namespace mlhub::generation
