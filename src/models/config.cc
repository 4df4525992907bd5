// ModelConfig parsing (PretrainedConfig's label fields), head names, and load_encoder /
// build_encoder over the registry.
#include <fmt/format.h>

#include <charconv>

#include "models/common.h"
#include "models/registry.h"

namespace mlhub::models {

namespace {

// Class-name suffix of each head (transformers' naming).
constexpr std::pair<Head, std::string_view> kHeadSuffixes[] = {
    {Head::kSequenceClassification, "ForSequenceClassification"},
    {Head::kTokenClassification, "ForTokenClassification"},
    {Head::kQuestionAnswering, "ForQuestionAnswering"},
    // XLNet's span head; its "ForQuestionAnswering" is a beam-search head the model file rejects.
    {Head::kQuestionAnswering, "ForQuestionAnsweringSimple"},
    {Head::kMaskedLM, "ForMaskedLM"},
};

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

int64_t parse_label_index(const std::string& key) {
  int64_t i = -1;
  const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), i);
  if (ec != std::errc() || end != key.data() + key.size() || i < 0)
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("config.json: id2label key \"{}\" is not a label index", key));
  return i;
}

}  // namespace

std::string_view head_name(Head head) {
  switch (head) {
    case Head::kBase:
      return "Base";
    case Head::kSequenceClassification:
      return "SequenceClassification";
    case Head::kTokenClassification:
      return "TokenClassification";
    case Head::kQuestionAnswering:
      return "QuestionAnswering";
    case Head::kMaskedLM:
      return "MaskedLM";
  }
  return "?";
}

Result<Head> head_from_architecture(std::string_view arch) {
  for (const auto& [head, suffix] : kHeadSuffixes)
    if (ends_with(arch, suffix)) return head;
  // "BertModel", "XLMRobertaModel"; not "BertLMHeadModel" (a causal LM) nor "...ForCausalLM".
  if (ends_with(arch, "Model") && arch.find("For") == std::string_view::npos &&
      !ends_with(arch, "LMHeadModel"))
    return Head::kBase;
  return Status::not_found(fmt::format("architecture \"{}\" names no known head", arch));
}

Result<ModelConfig> ModelConfig::parse(const nlohmann::json& raw) {
  return catch_errors([&]() -> ModelConfig {
    if (!raw.is_object())
      throw Error(StatusCode::kInvalidArgument, "config.json is not a JSON object");
    ModelConfig c;
    c.raw = raw;
    c.model_type = config_string(raw, "model_type", "");
    if (c.model_type.empty())
      throw Error(StatusCode::kInvalidArgument, "config.json has no \"model_type\"");
    if (raw.contains("architectures") && !raw["architectures"].is_null()) {
      if (!raw["architectures"].is_array())
        throw Error(StatusCode::kInvalidArgument, "config.json: \"architectures\" is not a list");
      for (const auto& a : raw["architectures"]) {
        if (!a.is_string())
          throw Error(StatusCode::kInvalidArgument,
                      "config.json: \"architectures\" holds a non-string");
        c.architectures.push_back(a.get<std::string>());
      }
    }
    c.problem_type = config_string(raw, "problem_type", "");
    if (!c.problem_type.empty() && c.problem_type != "regression" &&
        c.problem_type != "single_label_classification" &&
        c.problem_type != "multi_label_classification")
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("config.json: problem_type \"{}\" is not one of regression, "
                              "single_label_classification, multi_label_classification",
                              c.problem_type));
    // PretrainedConfig: num_labels is len(id2label); without id2label, LABEL_0..LABEL_{n-1}.
    const nlohmann::json* id2label = raw.contains("id2label") ? &raw["id2label"] : nullptr;
    if (id2label && !id2label->is_null()) {
      if (!id2label->is_object())
        throw Error(StatusCode::kInvalidArgument, "config.json: \"id2label\" is not an object");
      c.num_labels = static_cast<int64_t>(id2label->size());
      c.id2label.assign(static_cast<size_t>(c.num_labels), "");
      std::vector<bool> seen(static_cast<size_t>(c.num_labels), false);
      for (auto it = id2label->begin(); it != id2label->end(); ++it) {
        const int64_t i = parse_label_index(it.key());
        if (i >= c.num_labels || seen[static_cast<size_t>(i)])
          throw Error(StatusCode::kInvalidArgument,
                      fmt::format("config.json: id2label keys must be 0..{}, got \"{}\"",
                                  c.num_labels - 1, it.key()));
        if (!it.value().is_string())
          throw Error(StatusCode::kInvalidArgument,
                      fmt::format("config.json: id2label[\"{}\"] is not a string", it.key()));
        seen[static_cast<size_t>(i)] = true;
        c.id2label[static_cast<size_t>(i)] = it.value().get<std::string>();
      }
      const int64_t declared = config_int(raw, "num_labels", c.num_labels);
      if (declared != c.num_labels)
        throw Error(StatusCode::kInvalidArgument,
                    fmt::format("config.json: num_labels {} does not match the {} id2label entries",
                                declared, c.num_labels));
    } else {
      c.num_labels = config_int(raw, "num_labels", 2);
      if (c.num_labels < 0)
        throw Error(StatusCode::kInvalidArgument, "config.json: num_labels is negative");
      for (int64_t i = 0; i < c.num_labels; ++i) c.id2label.push_back(fmt::format("LABEL_{}", i));
    }
    c.pad_token_id = config_int(raw, "pad_token_id", -1);
    c.max_position_embeddings = config_int(raw, "max_position_embeddings", 512);
    c.type_vocab_size = config_int(raw, "type_vocab_size", 0);
    return c;
  });
}

Result<ModelConfig> ModelConfig::load(const std::filesystem::path& path) {
  std::error_code ec;
  const auto file = std::filesystem::is_directory(path, ec) ? path / "config.json" : path;
  auto text = io::read_text_file(file);
  if (!text.ok()) return text.status();
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    return Status::invalid_argument(fmt::format("{} is not valid JSON", file.string()));
  auto config = parse(j);
  if (!config.ok())
    return Status(config.status().code(),
                  fmt::format("{}: {}", file.string(), config.status().message()));
  return config;
}

Result<std::unique_ptr<EncoderModel>> build_encoder(const ModelConfig& config,
                                                    std::shared_ptr<const io::Checkpoint> ckpt,
                                                    const LoadOptions& options) {
  return catch_errors([&]() -> std::unique_ptr<EncoderModel> {
    if (!ckpt) throw Error(StatusCode::kInvalidArgument, "build_encoder: no checkpoint");
    const EncoderRegistration* reg = find_registration(config.model_type);
    if (reg == nullptr)
      throw Error(StatusCode::kUnimplemented,
                  fmt::format("model_type \"{}\" is not supported (supported: {})",
                              config.model_type, fmt::join(supported_model_types(), ", ")));
    Head head = Head::kBase;
    if (options.head) {
      head = *options.head;
    } else if (!config.architectures.empty()) {
      auto h = head_from_architecture(config.architectures[0]);
      if (!h.ok())
        throw Error(StatusCode::kUnimplemented,
                    fmt::format("{}; pass LoadOptions::head to load it as one of the supported "
                                "heads",
                                h.status().message()));
      head = *h;
    }
    nn::WeightMap weights(std::move(ckpt), reg->base_prefix, head != Head::kBase);
    std::unique_ptr<EncoderBase> model = reg->factory(config, weights, head);
    auto report = weights.finish(options.allow_missing);
    if (!report.ok()) throw Error(report.status());
    model->set_load_report(std::move(*report));
    return model;
  });
}

Result<std::unique_ptr<EncoderModel>> load_encoder(const std::filesystem::path& folder,
                                                   const LoadOptions& options) {
  auto config = ModelConfig::load(folder);
  if (!config.ok()) return config.status();
  auto ckpt = io::Checkpoint::open(folder);
  if (!ckpt.ok()) return ckpt.status();
  return build_encoder(*config, std::make_shared<const io::Checkpoint>(std::move(*ckpt)), options);
}

}  // namespace mlhub::models
