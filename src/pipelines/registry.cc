// The one list of tasks: task name (and aliases) -> the factory in that task's file.
#include "pipelines/pipeline_internal.h"

namespace mlhub {
namespace {

struct TaskEntry {
  const char* name;
  pipelines::Factory factory;
  const char* alias_of;  // nullptr for a canonical name
};

constexpr TaskEntry kTasks[] = {
    {"text-classification", pipelines::make_text_classification, nullptr},
    {"sentiment-analysis", pipelines::make_text_classification, "text-classification"},
    {"token-classification", pipelines::make_token_classification, nullptr},
    {"ner", pipelines::make_token_classification, "token-classification"},
    {"question-answering", pipelines::make_question_answering, nullptr},
    {"fill-mask", pipelines::make_fill_mask, nullptr},
    {"feature-extraction", pipelines::make_feature_extraction, nullptr},
    {"sentence-embeddings", pipelines::make_sentence_embeddings, nullptr},
    {"sentence-similarity", pipelines::make_sentence_similarity, nullptr},
    {"zero-shot-classification", pipelines::make_zero_shot_classification, nullptr},
    {"text-ranking", pipelines::make_text_ranking, nullptr},
    {"text-generation", pipelines::make_text_generation, nullptr},
    {"chat", pipelines::make_chat, nullptr},
    {"text2text-generation", pipelines::make_text2text_generation, nullptr},
    {"summarization", pipelines::make_summarization, nullptr},
};

// transformers' "translation_xx_to_yy" names (any language codes without "_"), and
// "translation" itself.
bool is_translation_task(std::string_view task) {
  if (task == "translation") return true;
  constexpr std::string_view kHead = "translation_";
  if (task.substr(0, kHead.size()) != kHead) return false;
  const std::string_view rest = task.substr(kHead.size());
  const size_t to = rest.find("_to_");
  return to != std::string_view::npos && to > 0 && to + 4 < rest.size() &&
         rest.substr(0, to).find('_') == std::string_view::npos &&
         rest.substr(to + 4).find('_') == std::string_view::npos;
}

}  // namespace

Result<std::unique_ptr<Pipeline>> pipeline(std::string_view task,
                                           const std::filesystem::path& model,
                                           const nlohmann::json& init_params) {
  for (const TaskEntry& t : kTasks) {
    if (task != t.name) continue;
    return catch_errors([&]() -> std::unique_ptr<Pipeline> {
      if (!std::filesystem::exists(model)) {
        throw Error(StatusCode::kNotFound, "model folder " + model.string() + " does not exist");
      }
      return t.factory(model, init_params.is_null() ? nlohmann::json::object() : init_params);
    });
  }
  if (is_translation_task(task)) {
    return catch_errors([&]() -> std::unique_ptr<Pipeline> {
      if (!std::filesystem::exists(model)) {
        throw Error(StatusCode::kNotFound, "model folder " + model.string() + " does not exist");
      }
      return pipelines::make_translation(model, init_params.is_null() ? nlohmann::json::object() : init_params,
                                         std::string(task));
    });
  }
  std::string known;
  for (const std::string& name : supported_tasks()) known += (known.empty() ? "" : ", ") + name;
  return Status::unimplemented("unknown task \"" + std::string(task) + "\"; supported: " + known);
}

std::vector<std::string> supported_tasks() {
  std::vector<std::string> out;
  for (const TaskEntry& t : kTasks) out.emplace_back(t.name);
  out.emplace_back("translation");  // and translation_xx_to_yy
  return out;
}

}  // namespace mlhub
