// Sharded checkpoints: model.safetensors.index.json / pytorch_model.bin.index.json
//
//   {"metadata": {"total_size": ...}, "weight_map": {tensor name: shard file name}}
//
// Each shard named in the weight map is opened once (by its format), every name must be found
// in the shard the index gives, shard names must be plain file names in the index's folder,
// and a tensor may live in one shard only.
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <set>

#include "io/io_internal.h"

namespace mlhub::io {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// A shard must be a file of the index's own folder: no separators, no "..", not absolute.
bool plain_file_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find_first_of(std::string_view("/\\\0", 3)) == std::string::npos;
}

// weight_map as (tensor, shard) pairs, validated.
std::map<std::string, std::string> parse_weight_map(const std::string& text) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) corrupt("not a JSON object");
  const auto wm = j.find("weight_map");
  if (wm == j.end() || !wm->is_object()) corrupt("\"weight_map\" is missing or not an object");
  std::map<std::string, std::string> out;
  for (const auto& [name, shard] : wm->items()) {
    if (!shard.is_string())
      corrupt(fmt::format("weight_map[\"{}\"] is not a file name", name));
    const std::string file = shard.get<std::string>();
    if (!plain_file_name(file))
      corrupt(fmt::format("weight_map[\"{}\"] = {} is not a plain file name in the checkpoint's "
                          "folder",
                          name, shard.dump(-1, ' ', false, json::error_handler_t::replace)));
    // An index naming an index would recurse (possibly into itself).
    if (file.size() >= 11 && file.compare(file.size() - 11, 11, ".index.json") == 0)
      corrupt(fmt::format("weight_map[\"{}\"] names another index, {}", name, file));
    out[name] = file;
  }
  if (out.empty()) corrupt("\"weight_map\" is empty");
  return out;
}

}  // namespace

CheckpointData read_sharded_index(const fs::path& index_file) {
  Result<std::string> text = read_text_file(index_file);
  if (!text.ok()) throw Error(text.status());
  const std::map<std::string, std::string> weight_map =
      with_context(index_file.string(), [&] { return parse_weight_map(*text); });

  std::set<std::string> shards;
  for (const auto& [name, shard] : weight_map) shards.insert(shard);
  const fs::path folder = index_file.parent_path();
  CheckpointData out;
  std::map<std::string, std::string> origin;  // tensor -> shard, to report duplicates
  for (const std::string& shard : shards) {
    CheckpointData part = open_checkpoint_file(folder / shard);
    for (auto& [name, tensor] : part.tensors) {
      const auto [it, inserted] = origin.emplace(name, shard);
      if (!inserted)
        corrupt(fmt::format("{}: tensor \"{}\" is in both {} and {}", index_file.string(), name,
                            it->second, shard));
      out.tensors.emplace(name, std::move(tensor));
    }
    out.metadata.insert(part.metadata.begin(), part.metadata.end());
    out.files.push_back(folder / shard);
  }
  for (const auto& [name, shard] : weight_map) {
    const auto it = origin.find(name);
    if (it == origin.end() || it->second != shard)
      corrupt(fmt::format("{}: the weight map puts \"{}\" in {}, but that shard has no such tensor",
                          index_file.string(), name, shard));
  }
  return out;
}

}  // namespace mlhub::io
