// LanguageModel (include/mlhub/pipelines.h): a causal LM loaded once for the inference server's
// generation engine, over the same DecoderAssets the text-generation and chat pipelines use, so a
// served prompt and its decoded text follow the pipelines' rules exactly.
#include <unordered_set>

#include "pipelines/decoder_support.h"

namespace mlhub {

struct LanguageModel::Impl {
  std::shared_ptr<const pipelines::DecoderAssets> a;
  // The tokenizer's added tokens marked special (what TGI reports as token.special).
  std::unordered_set<int64_t> special;
};

LanguageModel::LanguageModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LanguageModel::~LanguageModel() = default;

Result<std::shared_ptr<const LanguageModel>> LanguageModel::load(
    const std::filesystem::path& model) {
  return catch_errors([&]() -> std::shared_ptr<const LanguageModel> {
    auto impl = std::make_unique<Impl>();
    impl->a = pipelines::load_decoder_assets(model);
    for (const tok::AddedToken& t : impl->a->files.tok.tokenizer.added_tokens()) {
      if (t.special) impl->special.insert(t.id);
    }
    return std::shared_ptr<const LanguageModel>(new LanguageModel(std::move(impl)));
  });
}

const models::DecoderModel& LanguageModel::model() const {
  return *impl_->a->model;
}

const tok::Tokenizer& LanguageModel::tokenizer() const {
  return impl_->a->files.tok.tokenizer;
}

const generation::GenerationConfig& LanguageModel::generation_config() const {
  return impl_->a->files.generation_config;
}

const generation::GenerationConfig& LanguageModel::pipeline_config() const {
  return impl_->a->pipeline_config;
}

bool LanguageModel::has_chat_template() const {
  return impl_->a->chat_template.has_value();
}

Result<std::vector<int64_t>> LanguageModel::chat_prompt(const nlohmann::json& messages,
                                                        const nlohmann::json& tools,
                                                        bool continue_final_message) const {
  return catch_errors([&]() -> std::vector<int64_t> {
    auto text = render_chat(messages, tools, continue_final_message);
    if (!text.ok()) throw Error(text.status());
    const tok::Encoding e =
        pipelines::encode(impl_->a->files.tok.tokenizer, *text, std::nullopt, false);
    return pipelines::to_i64(e.ids);
  });
}

Result<std::string> LanguageModel::render_chat(const nlohmann::json& messages,
                                               const nlohmann::json& tools,
                                               bool continue_final_message) const {
  return catch_errors([&]() -> std::string {
    const pipelines::DecoderAssets& a = *impl_->a;
    if (!a.chat_template) {
      pipelines::fail(
          "Cannot use chat template functions because tokenizer.chat_template is not set and no "
          "template argument was passed!");
    }
    if (!tools.is_null() && !tools.is_array()) pipelines::fail("tools must be a list of objects");
    // Same rendering as pipelines::chat_prompt_ids, plus the tools the OpenAI routes pass.
    generation::ChatTemplateOptions opts;
    opts.add_generation_prompt = !continue_final_message;
    opts.continue_final_message = continue_final_message;
    opts.special_tokens = generation::special_tokens_from_config(a.files.tokenizer_config);
    if (!tools.is_null()) opts.tools = pipelines::ojson(tools);
    auto text = a.chat_template->render(pipelines::checked_chat(messages), opts);
    if (!text.ok()) pipelines::fail(text.status().message());
    return std::move(*text);
  });
}

Result<std::vector<int64_t>> LanguageModel::encode(std::string_view text,
                                                   bool add_special_tokens) const {
  return catch_errors([&]() -> std::vector<int64_t> {
    const tok::Encoding e =
        pipelines::encode(impl_->a->files.tok.tokenizer, text, std::nullopt, add_special_tokens);
    return pipelines::to_i64(e.ids);
  });
}

std::string LanguageModel::decode(std::span<const int64_t> ids, bool skip_special_tokens) const {
  const std::vector<uint32_t> u = pipelines::to_u32(ids);
  return pipelines::decode(impl_->a->files.tok, u, skip_special_tokens);
}

std::string LanguageModel::text_after_prompt(std::span<const int64_t> prompt,
                                             std::span<const int64_t> generated,
                                             bool skip_special_tokens) const {
  // The pipeline's postprocess cleans up tokenization spaces by default, whatever the tokenizer
  // says (text_generation.cc: CallOptions::clean_up).
  return pipelines::text_after_prompt(*impl_->a, prompt, generated, skip_special_tokens, true);
}

bool LanguageModel::is_special(int64_t id) const {
  return impl_->special.count(id) > 0;
}

int64_t LanguageModel::max_positions() const {
  return impl_->a->model->max_positions();
}

}  // namespace mlhub
