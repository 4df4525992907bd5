// The tokenizer.json transformers 4.57.3 rebuilds from tokenizer.ggml.* metadata
// (integrations/ggml.py: GGUFTokenizerSkeleton + the converter of the model type, then the fast
// tokenizer class of the model type, which adds its special tokens and post-processor).
//
// Converted: model types gpt2 (GGUFGPTConverter), qwen2 and qwen3 (GGUFQwen2Converter), phi3
// (GGUFPhi3Converter), and llama (and deci, converted the same way) through GGUFLlamaConverter on
// both of its paths: a byte-level BPE vocabulary (tokenizer model "gpt2": llama-3, SmolLM2) and a
// SentencePiece one (tokenizer model "llama": merges rebuilt from the scores). Other model types
// give kUnimplemented.
//
// transformers' quirks are kept, since the point is to tokenize as it does: its llama converter
// passes the bos token as "eos_token", tokenizer.ggml.add_bos_token is not read
// (LlamaTokenizerFast adds bos by default), gpt2/qwen2 ignore the file's token types, and phi3's
// vocabulary gets no normalizer or pre-tokenizer.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "io/gguf_internal.h"

namespace mlhub::io {
namespace {

using json = nlohmann::json;

// The tokenizer.ggml.* values transformers reads (GGUF_TOKENIZER_MAPPING["tokenizer"]).
struct Skeleton {
  std::string model;  // tokenizer.ggml.model
  std::vector<std::string> tokens;
  std::vector<int64_t> token_type;  // empty when absent
  std::vector<std::string> merges;
  bool has_merges = false;
  std::vector<double> scores;  // empty when absent
  std::optional<int64_t> bos_id, eos_id, unk_id, pad_id;
  std::optional<bool> add_prefix_space;  // tokenizer.ggml.add_space_prefix
};

// A getter's error as kCorruption; the message loses the file name, which with_context adds.
template <typename T>
T value_or_corrupt(const GgufFile& f, Result<T> r) {
  if (r.ok()) return std::move(r).value();
  std::string msg = r.status().message();
  if (msg.rfind(f.source() + ": ", 0) == 0) msg = msg.substr(f.source().size() + 2);
  corrupt(msg);
}

std::optional<int64_t> token_id(const GgufFile& f, const std::string& key, size_t vocab) {
  if (!f.contains(key)) return std::nullopt;
  const int64_t id = value_or_corrupt(f, f.get_int(key));
  if (id < 0 || static_cast<uint64_t>(id) >= vocab)
    corrupt(fmt::format("{} {} is outside the vocabulary of {} tokens", key, id, vocab));
  return id;
}

Skeleton read_skeleton(const GgufFile& f) {
  Skeleton s;
  if (f.contains("tokenizer.ggml.model"))
    s.model = value_or_corrupt(f, f.get_string("tokenizer.ggml.model"));
  if (!f.contains("tokenizer.ggml.tokens")) corrupt("no tokenizer.ggml.tokens in the metadata");
  s.tokens = value_or_corrupt(f, f.get_string_array("tokenizer.ggml.tokens"));
  for (size_t i = 0; i < s.tokens.size(); ++i)
    if (find_invalid_utf8(s.tokens[i]))
      corrupt(fmt::format("tokenizer.ggml.tokens[{}] is not valid UTF-8", i));
  if (f.contains("tokenizer.ggml.token_type")) {
    s.token_type = value_or_corrupt(f, f.get_int_array("tokenizer.ggml.token_type"));
    if (s.token_type.size() != s.tokens.size())
      corrupt(fmt::format("tokenizer.ggml.token_type has {} entries for {} tokens",
                          s.token_type.size(), s.tokens.size()));
  }
  if (f.contains("tokenizer.ggml.merges")) {
    s.has_merges = true;
    s.merges = value_or_corrupt(f, f.get_string_array("tokenizer.ggml.merges"));
    for (size_t i = 0; i < s.merges.size(); ++i)
      if (find_invalid_utf8(s.merges[i]))
        corrupt(fmt::format("tokenizer.ggml.merges[{}] is not valid UTF-8", i));
  }
  if (f.contains("tokenizer.ggml.scores")) {
    s.scores = value_or_corrupt(f, f.get_float_array("tokenizer.ggml.scores"));
    if (s.scores.size() != s.tokens.size())
      corrupt(fmt::format("tokenizer.ggml.scores has {} entries for {} tokens", s.scores.size(),
                          s.tokens.size()));
    for (size_t i = 0; i < s.scores.size(); ++i)
      if (std::isnan(s.scores[i])) corrupt(fmt::format("tokenizer.ggml.scores[{}] is NaN", i));
  }
  const size_t n = s.tokens.size();
  s.bos_id = token_id(f, "tokenizer.ggml.bos_token_id", n);
  s.eos_id = token_id(f, "tokenizer.ggml.eos_token_id", n);
  s.unk_id = token_id(f, "tokenizer.ggml.unknown_token_id", n);
  s.pad_id = token_id(f, "tokenizer.ggml.padding_token_id", n);
  if (f.contains("tokenizer.ggml.add_space_prefix"))
    s.add_prefix_space = value_or_corrupt(f, f.get_bool("tokenizer.ggml.add_space_prefix"));
  return s;
}

json added_token(const std::string& content, int64_t id, bool rstrip = false) {
  return {{"id", id},         {"content", content},  {"single_word", false}, {"lstrip", false},
          {"rstrip", rstrip}, {"normalized", false}, {"special", true}};
}

// Where the UTF-8 code points of `s` start (Python slices strings by code point).
std::vector<size_t> code_point_starts(const std::string& s) {
  std::vector<size_t> out;
  for (size_t i = 0; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) out.push_back(i);
  return out;
}

// GGUFTokenizerSkeleton without merges: every split of every token into two tokens, ordered
// within a token by the scores of its halves and overall by the token's score (both stable and
// descending, as Python's sorted(..., reverse=True)).
std::vector<std::string> merges_from_scores(const Skeleton& s) {
  if (s.scores.empty())
    corrupt("tokens and scores are needed to build merges, and scores are absent");
  std::unordered_map<std::string, double> score;  // dict: first position, last value
  std::vector<const std::string*> order;
  for (size_t i = 0; i < s.tokens.size(); ++i) {
    auto [it, inserted] = score.insert_or_assign(s.tokens[i], s.scores[i]);
    if (inserted) order.push_back(&it->first);
  }
  struct Merge {
    std::string_view left, right;
    double score;
  };
  std::vector<Merge> merges;
  for (const std::string* token : order) {
    const std::vector<size_t> starts = code_point_starts(*token);
    std::vector<Merge> local;
    for (size_t k = 1; k < starts.size(); ++k) {
      const std::string_view t(*token);
      const std::string_view l = t.substr(0, starts[k]);
      const std::string_view r = t.substr(starts[k]);
      const auto li = score.find(std::string(l));
      const auto ri = score.find(std::string(r));
      if (li != score.end() && ri != score.end())
        local.push_back({li->first, ri->first, score.at(*token)});
    }
    std::stable_sort(local.begin(), local.end(), [&](const Merge& a, const Merge& b) {
      const double al = score.at(std::string(a.left)), bl = score.at(std::string(b.left));
      if (al != bl) return al > bl;
      return score.at(std::string(a.right)) > score.at(std::string(b.right));
    });
    merges.insert(merges.end(), local.begin(), local.end());
  }
  std::stable_sort(merges.begin(), merges.end(),
                   [](const Merge& a, const Merge& b) { return a.score > b.score; });
  std::vector<std::string> out;
  out.reserve(merges.size());
  for (const Merge& m : merges) out.push_back(std::string(m.left) + " " + std::string(m.right));
  return out;
}

// BPE vocab ({token: id}, a repeated token keeps its last id, as a Python dict comprehension
// does) and merges ([[left, right], ...]).
// `llama`: GGUFLlamaConverter's BPE (unk, fuse_unk, byte_fallback); else GPT2Converter's /
// Qwen2Converter's (no unk, "" affixes).
json bpe_model(const Skeleton& s, const std::vector<std::string>& merge_list, const json& unk_token,
               bool llama) {
  json vocab = json::object();
  for (size_t i = 0; i < s.tokens.size(); ++i) vocab[s.tokens[i]] = i;
  json merges = json::array();
  for (size_t i = 0; i < merge_list.size(); ++i) {
    const std::string& m = merge_list[i];
    const size_t space = m.find(' ');
    if (space == std::string::npos || m.find(' ', space + 1) != std::string::npos)
      corrupt(
          fmt::format("tokenizer.ggml.merges[{}] \"{}\" is not two tokens split by a space", i, m));
    merges.push_back(json::array({m.substr(0, space), m.substr(space + 1)}));
  }
  return {{"type", "BPE"},
          {"dropout", nullptr},
          {"unk_token", llama ? unk_token : json(nullptr)},
          {"continuing_subword_prefix", llama ? json(nullptr) : json("")},
          {"end_of_word_suffix", llama ? json(nullptr) : json("")},
          {"fuse_unk", llama},
          {"byte_fallback", llama},
          {"ignore_merges", false},
          {"vocab", std::move(vocab)},
          {"merges", std::move(merges)}};
}

// LlamaTokenizerFast.update_post_processor with add_bos_token=True, add_eos_token=False.
json llama_post_processor(const std::string& bos, int64_t bos_id) {
  const auto special = [&](int type_id) {
    return json{{"SpecialToken", {{"id", bos}, {"type_id", type_id}}}};
  };
  const auto seq = [](const char* id, int type_id) {
    return json{{"Sequence", {{"id", id}, {"type_id", type_id}}}};
  };
  return {{"type", "TemplateProcessing"},
          {"single", json::array({special(0), seq("A", 0)})},
          {"pair", json::array({special(0), seq("A", 0), special(1), seq("B", 1)})},
          {"special_tokens",
           {{bos, {{"id", bos}, {"ids", json::array({bos_id})}, {"tokens", json::array({bos})}}}}}};
}

// GGUF_TOKENIZER_MAPPING["tokenizer_config"] entries, as load_gguf_checkpoint parses them.
void add_gguf_config(const GgufFile& f, json& c) {
  const std::string arch = gguf_architecture(f);
  const std::string updated = gguf_updated_architecture(f, arch);
  const std::pair<const char*, const char*> kKeys[] = {
      {"tokenizer.chat_template", "chat_template"},
      {"tokenizer.ggml.model", "model_type"},
      {"tokenizer.ggml.bos_token_id", "bos_token_id"},
      {"tokenizer.ggml.eos_token_id", "eos_token_id"},
      {"tokenizer.ggml.unknown_token_id", "unk_token_id"},
      {"tokenizer.ggml.padding_token_id", "pad_token_id"}};
  for (const auto& [key, name] : kKeys)
    if (f.contains(key)) c[name] = gguf_parsed_value(f, key, arch, updated);
}

// Adds special tokens (content, id) to `by_id`: the vocabulary's id, or the next free id for a
// token the vocabulary lacks (the Rust AddedVocabulary's numbering).
void add_specials(std::map<int64_t, std::string>& by_id, const json& vocab,
                  const std::vector<std::string>& contents) {
  std::set<std::string> present;
  for (const auto& [id, c] : by_id) present.insert(c);
  for (const std::string& t : contents) {
    if (!present.insert(t).second) continue;
    if (vocab.contains(t)) {
      by_id[vocab[t].get<int64_t>()] = t;
    } else {
      int64_t next = static_cast<int64_t>(vocab.size());
      if (!by_id.empty()) next = std::max(next, by_id.rbegin()->first + 1);
      by_id[next] = t;
    }
  }
}

json added_tokens_json(const std::map<int64_t, std::string>& by_id,
                       const std::set<std::string>& rstrip = {}) {
  json added = json::array();
  for (const auto& [id, content] : by_id)
    added.push_back(added_token(content, id, rstrip.count(content) != 0));
  return added;
}

json byte_level(bool add_prefix_space, bool trim_offsets, bool use_regex) {
  return {{"type", "ByteLevel"},
          {"add_prefix_space", add_prefix_space},
          {"trim_offsets", trim_offsets},
          {"use_regex", use_regex}};
}

// GGUFGPTConverter + GPT2TokenizerFast (`qwen` false) or GGUFQwen2Converter +
// Qwen2TokenizerFast (`qwen` true): byte-level BPE, "<|endoftext|>" as the class's special
// tokens; the GGUF's token types and bos/eos ids are not used for the vocabulary.
GgufTokenizer byte_level_tokenizer(const GgufFile& f, const Skeleton& s, bool qwen) {
  const std::vector<std::string> merge_list = s.has_merges ? s.merges : merges_from_scores(s);
  json model = bpe_model(s, merge_list, nullptr, /*llama=*/false);
  std::map<int64_t, std::string> by_id;
  if (qwen) add_specials(by_id, model["vocab"], {"<|endoftext|>", "<|im_start|>", "<|im_end|>"});
  add_specials(by_id, model["vocab"], {"<|endoftext|>"});
  const bool add_prefix_space = s.add_prefix_space.value_or(false);
  json pre_tokenizer = byte_level(add_prefix_space, true, true);
  json normalizer = nullptr;
  if (qwen) {
    normalizer = {{"type", "NFC"}};
    const char* kQwen2Split = R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N})"
                              R"(| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
    pre_tokenizer = {{"type", "Sequence"},
                     {"pretokenizers", json::array({{{"type", "Split"},
                                                     {"pattern", {{"Regex", kQwen2Split}}},
                                                     {"behavior", "Isolated"},
                                                     {"invert", false}},
                                                    byte_level(add_prefix_space, true, false)})}};
  }
  GgufTokenizer out;
  out.tokenizer = {{"version", "1.0"},
                   {"truncation", nullptr},
                   {"padding", nullptr},
                   {"added_tokens", added_tokens_json(by_id)},
                   {"normalizer", normalizer},
                   {"pre_tokenizer", pre_tokenizer},
                   {"post_processor", byte_level(true, false, true)},
                   {"decoder", byte_level(true, true, true)},
                   {"model", std::move(model)}};
  json& c = out.tokenizer_config;
  c = {{"eos_token", "<|endoftext|>"}, {"unk_token", "<|endoftext|>"}, {"merges_file", nullptr}};
  if (qwen) {
    c["bos_token"] = nullptr;
    c["pad_token"] = "<|endoftext|>";
  } else {
    c["bos_token"] = "<|endoftext|>";
    c["add_prefix_space"] = false;
  }
  add_gguf_config(f, c);
  return out;
}

// GGUFLlamaConverter + LlamaTokenizerFast. `llama3`: a byte-level BPE vocabulary (tokenizer
// model other than "llama"); else a SentencePiece vocabulary with "▁" for spaces.
GgufTokenizer llama_tokenizer(const GgufFile& f, const Skeleton& s, bool llama3) {
  // Merges: the file's, else built from the scores (splits of a merge with more or fewer than
  // one space are refused: tokenizers' BPE would refuse them too).
  const std::vector<std::string> merge_list = s.has_merges ? s.merges : merges_from_scores(s);
  const auto token = [&](std::optional<int64_t> id) -> json {
    return id ? json(s.tokens[static_cast<size_t>(*id)]) : json(nullptr);
  };
  const json unk = token(s.unk_id);
  const json bos = token(s.bos_id);
  // GGUFLlamaConverter passes the bos token as "eos_token" (and as "bos_token").
  const json eos = s.eos_id ? bos : json(nullptr);
  json model = bpe_model(s, merge_list, unk, /*llama=*/true);
  const json& vocab = model["vocab"];

  // Special tokens: token_type 3, else unk/bos/eos; then LlamaTokenizerFast adds whichever of
  // its special tokens are not added tokens yet. Ids are the vocabulary's.
  std::vector<std::string> specials;
  if (!s.token_type.empty()) {
    for (size_t i = 0; i < s.tokens.size(); ++i)
      if (s.token_type[i] == 3) specials.push_back(s.tokens[i]);
  } else {
    for (const json* t : {&unk, &bos, &eos})
      if (t->is_string()) specials.push_back(t->get<std::string>());
  }
  for (const json* t : {&bos, &eos, &unk})
    if (t->is_string()) specials.push_back(t->get<std::string>());
  std::map<int64_t, std::string> by_id;
  add_specials(by_id, vocab, specials);
  json added = added_tokens_json(by_id);

  if (!bos.is_string())
    unimplemented("no tokenizer.ggml.bos_token_id: LlamaTokenizerFast cannot add a bos token");
  const std::string bos_str = bos.get<std::string>();
  const int64_t bos_id = vocab.at(bos_str).get<int64_t>();

  const bool add_prefix_space = s.add_prefix_space.value_or(true);
  json decoders =
      json::array({{{"type", "ByteFallback"}},
                   {{"type", "Fuse"}},
                   {{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}}});
  if (llama3)
    decoders.push_back({{"type", "ByteLevel"},
                        {"add_prefix_space", true},
                        {"trim_offsets", true},
                        {"use_regex", true}});
  if (add_prefix_space)
    decoders.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});

  // llama-3: no normalizer, byte-level pre-tokenizer. SentencePiece (LlamaConverter, legacy):
  // spaces become "▁" and one is prepended, no pre-tokenizer.
  json normalizer = {{"type", "Sequence"}, {"normalizers", json::array()}};
  json pre_tokenizer = nullptr;
  if (llama3) {
    pre_tokenizer = {{"type", "ByteLevel"},
                     {"add_prefix_space", false},
                     {"trim_offsets", false},
                     {"use_regex", true}};
  } else {
    if (add_prefix_space)
      normalizer["normalizers"].push_back({{"type", "Prepend"}, {"prepend", "\u2581"}});
    normalizer["normalizers"].push_back(
        {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\u2581"}});
  }
  GgufTokenizer out;
  out.tokenizer = {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", std::move(added)},
      {"normalizer", normalizer},
      {"pre_tokenizer", pre_tokenizer},
      {"post_processor", llama_post_processor(bos_str, bos_id)},
      {"decoder", {{"type", "Sequence"}, {"decoders", std::move(decoders)}}},
      {"model", std::move(model)},
  };
  json& c = out.tokenizer_config;
  c = {{"add_bos_token", true},
       {"add_eos_token", false},
       {"add_prefix_space", nullptr},
       {"bos_token", bos},
       {"eos_token", eos},
       {"unk_token", unk},
       {"clean_up_tokenization_spaces", llama3},  // LlamaTokenizerFast's default is false
       {"legacy", !llama3},
       {"use_default_system_prompt", false}};
  add_gguf_config(f, c);
  return out;
}

// GGUFPhi3Converter + LlamaTokenizerFast: a plain BPE over the SentencePiece vocabulary (no
// normalizer or pre-tokenizer: transformers converts it so), Phi-3's chat tokens as specials.
GgufTokenizer phi3_tokenizer(const GgufFile& f, const Skeleton& s) {
  const std::vector<std::string> merge_list = s.has_merges ? s.merges : merges_from_scores(s);
  json model = bpe_model(s, merge_list, nullptr, /*llama=*/true);
  model["fuse_unk"] = false;
  model["byte_fallback"] = false;
  const auto token = [&](std::optional<int64_t> id) -> json {
    return id ? json(s.tokens[static_cast<size_t>(*id)]) : json(nullptr);
  };
  const json unk = token(s.unk_id), bos = token(s.bos_id), eos = token(s.eos_id),
             pad = token(s.pad_id);
  const std::vector<std::string> chat = {"</s>",
                                         "<|endoftext|>",
                                         "<|assistant|>",
                                         "<|placeholder1|>",
                                         "<|placeholder2|>",
                                         "<|placeholder3|>",
                                         "<|placeholder4|>",
                                         "<|system|>",
                                         "<|end|>",
                                         "<|placeholder5|>",
                                         "<|placeholder6|>",
                                         "<|user|>"};
  std::set<std::string> rstrip(chat.begin(), chat.end());
  rstrip.erase("<|endoftext|>");
  std::map<int64_t, std::string> by_id;
  add_specials(by_id, model["vocab"], chat);
  std::vector<std::string> class_specials;
  for (const json* t : {&bos, &eos, &unk, &pad})
    if (t->is_string()) class_specials.push_back(t->get<std::string>());
  add_specials(by_id, model["vocab"], class_specials);
  if (!bos.is_string())
    unimplemented("no tokenizer.ggml.bos_token_id: LlamaTokenizerFast cannot add a bos token");
  int64_t bos_id = -1;
  for (const auto& [id, content] : by_id)
    if (content == bos.get<std::string>()) bos_id = id;
  json decoders =
      json::array({{{"type", "ByteFallback"}},
                   {{"type", "Fuse"}},
                   {{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}}});
  if (s.add_prefix_space.value_or(true))
    decoders.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
  GgufTokenizer out;
  out.tokenizer = {{"version", "1.0"},
                   {"truncation", nullptr},
                   {"padding", nullptr},
                   {"added_tokens", added_tokens_json(by_id, rstrip)},
                   {"normalizer", nullptr},
                   {"pre_tokenizer", nullptr},
                   {"post_processor", llama_post_processor(bos.get<std::string>(), bos_id)},
                   {"decoder", {{"type", "Sequence"}, {"decoders", std::move(decoders)}}},
                   {"model", std::move(model)}};
  out.tokenizer_config = {{"add_bos_token", true},
                          {"add_eos_token", false},
                          {"add_prefix_space", nullptr},
                          {"bos_token", bos},
                          {"eos_token", eos},
                          {"unk_token", unk},
                          {"pad_token", pad},
                          {"clean_up_tokenization_spaces", false},
                          {"legacy", true},
                          {"use_default_system_prompt", false}};
  add_gguf_config(f, out.tokenizer_config);
  return out;
}

}  // namespace

Result<GgufTokenizer> gguf_tokenizer_json(const GgufFile& f) {
  return catch_errors([&] {
    return with_context(f.source(), [&] {
      const std::string arch = gguf_architecture(f);
      const std::string model_type = gguf_updated_architecture(f, arch);
      const bool llama = model_type == "llama" || model_type == "deci";
      const bool qwen = model_type == "qwen2" || model_type == "qwen3";
      if (!llama && !qwen && model_type != "gpt2" && model_type != "phi3")
        unimplemented(
            fmt::format("the tokenizer of a \"{}\" GGUF file is not converted by mlhub "
                        "(it converts llama's, qwen2's, qwen3's, phi3's and gpt2's)",
                        model_type));
      const Skeleton s = read_skeleton(f);
      if (model_type == "phi3") return phi3_tokenizer(f, s);
      if (!llama) return byte_level_tokenizer(f, s, qwen);
      // GGUFLlamaConverter: tokenizer model "llama" is SentencePiece-style, anything else the
      // llama-3 byte-level BPE.
      return llama_tokenizer(f, s, /*llama3=*/!(s.model == "llama" || s.model.empty()));
    });
  });
}

}  // namespace mlhub::io
