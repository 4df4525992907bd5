// Helpers shared by encoding_ops_test.cc and processors_test.cc: build model-stage Encodings,
// print an Encoding (overflowing entries included) in the one-line-per-encoding form that
// tools/reference/gen_post_process_cases.py writes, and load that script's golden file.
#pragma once

#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "tokenizers/components.h"

namespace mlhub::tok::testing {

// An Encoding as the model stage produces it: one token per (id, token, offsets), word i for
// token i, type id `type_id`, masks 0 / 1.
inline Encoding model_encoding(const std::vector<uint32_t>& ids,
                               const std::vector<std::string>& tokens,
                               const std::vector<Offsets>& offsets, uint32_t type_id) {
  Encoding e;
  e.ids = ids;
  e.tokens = tokens;
  e.offsets = offsets;
  e.type_ids.assign(ids.size(), type_id);
  for (size_t i = 0; i < ids.size(); ++i) e.words.push_back(static_cast<uint32_t>(i));
  e.special_tokens_mask.assign(ids.size(), 0);
  e.attention_mask.assign(ids.size(), 1);
  return e;
}

template <typename T>
std::string join_values(const std::vector<T>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    if constexpr (std::is_same_v<T, std::optional<uint32_t>>) {
      out += v[i] ? std::to_string(*v[i]) : "-";
    } else if constexpr (std::is_same_v<T, std::string>) {
      out += v[i];
    } else if constexpr (std::is_same_v<T, Offsets>) {
      out += std::to_string(v[i].first) + ":" + std::to_string(v[i].second);
    } else {
      out += std::to_string(v[i]);
    }
  }
  return out;
}

// One line per encoding, overflowing entries after their parent indented two spaces per level.
inline void dump_encoding(const Encoding& e, std::vector<std::string>& out, int depth = 0) {
  out.push_back(std::string(2 * depth, ' ') + "ids=" + join_values(e.ids) +
                " types=" + join_values(e.type_ids) + " toks=" + join_values(e.tokens) +
                " off=" + join_values(e.offsets) + " stm=" + join_values(e.special_tokens_mask) +
                " am=" + join_values(e.attention_mask) + " words=" + join_values(e.words) +
                " seq=" + join_values(e.sequence_ids()));
  for (const Encoding& o : e.overflowing) dump_encoding(o, out, depth + 1);
}

inline std::vector<std::string> dump_encoding(const Encoding& e) {
  std::vector<std::string> out;
  dump_encoding(e, out);
  return out;
}

inline Json load_golden(const std::string& name) {
  std::ifstream f(std::string(MLHUB_SOURCE_DIR) + "/tests/golden/tokenizers/" + name);
  std::stringstream ss;
  ss << f.rdbuf();
  if (!f) ADD_FAILURE() << "cannot read golden file " << name;
  return Json::parse(ss.str());
}

}  // namespace mlhub::tok::testing
