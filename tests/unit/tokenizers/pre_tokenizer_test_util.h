// Helpers shared by the pre-tokenizer tests: build a pre-tokenizer from JSON, run it on a
// string and return (piece, offsets) with char offsets as the Python reference's
// `pre_tokenize_str` reports them.
#pragma once

#include <fstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizers/components.h"

namespace mlhub::tok::testing {

using Piece = std::pair<std::string, Offsets>;
using Pieces = std::vector<Piece>;

// Byte offsets into `text` -> char offsets (the reference's BytesToCharOffsetConverter).
inline Offsets to_char_offsets(std::string_view text, Offsets o) {
  auto char_index = [&](size_t byte) {
    size_t n = 0;
    for (size_t i = 1; i <= byte; ++i) {
      if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++n;
    }
    return n;
  };
  if (o.first >= text.size()) return o;
  size_t start = char_index(o.first);
  size_t end = o.second < text.size() ? char_index(o.second) : char_index(o.second - 1) + 1;
  return {start, end};
}

inline std::unique_ptr<PreTokenizer> make_pre_tokenizer(const std::string& json) {
  Json j = Json::parse(json);
  return pre_tokenizer_from_json(JsonRef(j, "$.pre_tokenizer"));
}

// Pre-tokenizes `text` and returns the pieces with char offsets.
inline Pieces run(const PreTokenizer& p, std::string_view text) {
  PreTokenizedString s(text);
  p.pre_tokenize(s);
  Pieces out;
  for (auto& [piece, offsets] : s.get_splits())
    out.emplace_back(piece, to_char_offsets(text, offsets));
  return out;
}

inline Pieces run(const std::string& json, std::string_view text) {
  return run(*make_pre_tokenizer(json), text);
}

// Reads a JSONL file of the source tree (path relative to the repository root).
inline std::vector<Json> read_jsonl(const std::string& relative) {
  std::ifstream in(std::string(MLHUB_SOURCE_DIR) + "/" + relative);
  std::vector<Json> out;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(Json::parse(line));
  }
  return out;
}

}  // namespace mlhub::tok::testing
