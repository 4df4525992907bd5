// Loading a model folder the way transformers' AutoTokenizer does, expressed as building (or
// adjusting) a tokenizer.json document that the ordinary loader then reads:
// - legacy files with no tokenizer.json (vocab.txt; vocab.json + merges.txt; a SentencePiece
//   .model) are converted as transformers' convert_slow_tokenizer converters do;
// - tokenizer_config.json / special_tokens_map.json settings that transformers applies on top
//   of a tokenizer.json (extra special tokens, add_bos_token/add_eos_token, add_prefix_space,
//   ...) are applied to the document.
// Functions throw mlhub::Error (kInvalidArgument / kNotFound / kCorruption) with the file
// name and the problem.
#pragma once

#include <optional>
#include <string>

#include "tokenizers/json.h"

namespace mlhub::tok::legacy {

// The settings files of a model folder (empty objects when absent).
struct FolderConfig {
  Json tokenizer_config = Json::object();    // tokenizer_config.json
  Json special_tokens_map = Json::object();  // special_tokens_map.json
  Json config = Json::object();              // config.json (model_type, ...)
};

// Reads tokenizer_config.json, special_tokens_map.json and config.json from `dir`.
FolderConfig read_folder_config(const std::string& dir);

// Builds a tokenizer.json document from the legacy files in `dir`, or nullopt when the folder
// holds none. Which converter applies follows tokenizer_config's "tokenizer_class" and
// config.json's model_type as transformers does, else the files present.
std::optional<Json> convert_legacy_folder(const std::string& dir, const FolderConfig& cfg);

// The document for a folder whose tokenizer class transformers has only as a slow tokenizer
// (MarianTokenizer), which AutoTokenizer then uses even when the folder has a tokenizer.json;
// nullopt for every other class. A Marian folder without source.spm but with a tokenizer.json
// also gives nullopt (transformers fails there; the tokenizer.json is used as
// PreTrainedTokenizerFast would use it).
std::optional<Json> convert_slow_only_folder(const std::string& dir, const FolderConfig& cfg);

// Applies the tokenizer_config.json settings transformers applies when it loads
// `tokenizer_json` (already parsed from the folder's tokenizer.json or converted).
void apply_tokenizer_config(Json& tokenizer_json, const FolderConfig& cfg);

}  // namespace mlhub::tok::legacy
