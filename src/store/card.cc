// Model/dataset card front matter -> cardData JSON and the tags the Hub derives from it.
#include <yaml-cpp/yaml.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "mlhub/store.h"

namespace mlhub::store {
namespace {

using nlohmann::json;

// YAML scalars keep their YAML type where it is unambiguous (bool, int, float), as the Hub's
// cardData does; everything else is a string.
json yaml_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      if (node.Tag() == "!") return s;  // quoted scalar
      if (s == "true" || s == "True") return true;
      if (s == "false" || s == "False") return false;
      if (s == "null" || s == "~") return nullptr;
      bool is_int = !s.empty() && s.size() < 19;
      for (size_t i = 0; i < s.size() && is_int; ++i) is_int = std::isdigit(static_cast<unsigned char>(s[i])) || (i == 0 && s[i] == '-' && s.size() > 1);
      if (is_int) return std::stoll(s);
      try {
        size_t used = 0;
        const double d = std::stod(s, &used);
        if (used == s.size() && s.find_first_of("0123456789") != std::string::npos) return d;
      } catch (const std::exception&) {
      }
      return s;
    }
    case YAML::NodeType::Sequence: {
      json arr = json::array();
      for (const auto& item : node) arr.push_back(yaml_to_json(item));
      return arr;
    }
    case YAML::NodeType::Map: {
      json obj = json::object();
      for (const auto& kv : node) obj[kv.first.as<std::string>()] = yaml_to_json(kv.second);
      return obj;
    }
  }
  return nullptr;
}

// The front matter block: text between a first line "---" and the next "---" line.
std::optional<std::string> front_matter(std::string_view readme) {
  if (readme.substr(0, 3) != "---") return std::nullopt;
  size_t line_end = readme.find('\n');
  if (line_end == std::string_view::npos) return std::nullopt;
  const std::string_view first = readme.substr(0, line_end);
  if (first.find_first_not_of("- \r\t") != std::string_view::npos) return std::nullopt;
  size_t pos = line_end + 1;
  while (pos <= readme.size()) {
    size_t end = readme.find('\n', pos);
    std::string_view line = readme.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line == "---") return std::string(readme.substr(line_end + 1, pos - line_end - 1));
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return std::nullopt;
}

void add_strings(const json& value, const std::string& prefix, std::vector<std::string>& tags) {
  if (value.is_string()) {
    tags.push_back(prefix + value.get<std::string>());
  } else if (value.is_array()) {
    for (const auto& v : value) {
      if (v.is_string()) tags.push_back(prefix + v.get<std::string>());
    }
  }
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

Result<CardMetadata> parse_card(std::string_view readme, std::string_view repo_type,
                                const std::vector<std::string>& files, std::string_view config_json) {
  CardMetadata out;
  json card = json::object();
  if (auto yaml = front_matter(readme)) {
    try {
      const YAML::Node root = YAML::Load(*yaml);
      if (root.IsMap()) {
        card = yaml_to_json(root);
      } else if (!root.IsNull()) {
        return Status::invalid_argument("README.md metadata: the YAML front matter must be a mapping");
      }
    } catch (const YAML::Exception& e) {
      return Status::invalid_argument("README.md metadata: invalid YAML at line " + std::to_string(e.mark.line + 1) +
                                      ": " + e.msg);
    }
  }
  out.card_json = card.dump();
  std::vector<std::string> tags;
  const bool is_model = repo_type == "model";
  if (card.contains("tags")) add_strings(card["tags"], "", tags);
  if (card.contains("library_name") && card["library_name"].is_string()) {
    out.library_name = card["library_name"].get<std::string>();
    tags.push_back(out.library_name);
  }
  if (card.contains("pipeline_tag") && card["pipeline_tag"].is_string()) {
    out.pipeline_tag = card["pipeline_tag"].get<std::string>();
    tags.push_back(out.pipeline_tag);
  }
  if (!is_model && card.contains("task_categories")) add_strings(card["task_categories"], "task_categories:", tags);
  if (card.contains("license")) add_strings(card["license"], "license:", tags);
  if (is_model && card.contains("datasets")) add_strings(card["datasets"], "dataset:", tags);
  if (card.contains("base_model")) add_strings(card["base_model"], "base_model:", tags);
  if (card.contains("language")) add_strings(card["language"], is_model ? "" : "language:", tags);
  // File formats, as the Hub tags them.
  auto has_suffix = [&](std::string_view suffix) {
    return std::any_of(files.begin(), files.end(), [&](const std::string& f) { return ends_with(f, suffix); });
  };
  if (is_model) {
    if (has_suffix(".safetensors") || has_suffix(".safetensors.index.json")) tags.push_back("safetensors");
    if (has_suffix("pytorch_model.bin") || has_suffix(".bin.index.json")) tags.push_back("pytorch");
    if (has_suffix(".gguf")) tags.push_back("gguf");
    if (has_suffix(".onnx")) tags.push_back("onnx");
    if (!config_json.empty()) {
      const json config = json::parse(config_json, nullptr, false);
      if (config.is_object() && config.contains("model_type") && config["model_type"].is_string()) {
        tags.push_back(config["model_type"].get<std::string>());
      }
    }
  } else {
    if (has_suffix(".csv")) tags.push_back("format:csv");
    if (has_suffix(".jsonl") || has_suffix(".json")) tags.push_back("format:json");
    if (has_suffix(".parquet")) tags.push_back("format:parquet");
  }
  for (auto& t : tags) {
    if (std::find(out.tags.begin(), out.tags.end(), t) == out.tags.end()) out.tags.push_back(std::move(t));
  }
  return out;
}

}  // namespace mlhub::store
