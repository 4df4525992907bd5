// vocab.json + merges.txt (spec 15.2) converted as transformers' GPT2Converter (GPT-2,
// CodeGen), RobertaConverter, CLIPConverter, WhisperConverter and Qwen2Converter do, reading
// the files the way each slow tokenizer's __init__ reads them.
#include <set>
#include <unordered_set>

#include "tokenizers/legacy/converters.h"

namespace mlhub::tok::legacy {
namespace {

// json.load of vocab.json: an object token -> id (ids must be u32 for the Rust BPE).
Json load_vocab(const std::string& path) {
  Json vocab = read_json_file(path);
  if (!vocab.is_object())
    throw Error(StatusCode::kInvalidArgument, path + ": expected a JSON object");
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    if (!it->is_number_unsigned() || it->get<uint64_t>() > UINT32_MAX) {
      throw Error(StatusCode::kInvalidArgument, path + ": token \"" + it.key() + "\" has " +
                                                    std::string(json_type_name(*it)) +
                                                    " for its id, expected a non-negative integer");
    }
  }
  return vocab;
}

// The merge lines each slow tokenizer keeps, before splitting.
std::vector<std::string_view> merge_lines(TokClass cls, std::string_view text) {
  auto split_nl = [](std::string_view s) {
    std::vector<std::string_view> out;
    size_t pos = 0;
    while (true) {
      size_t nl = s.find('\n', pos);
      if (nl == std::string_view::npos) {
        out.push_back(s.substr(pos));
        return out;
      }
      out.push_back(s.substr(pos, nl - pos));
      pos = nl + 1;
    }
  };
  std::vector<std::string_view> lines;
  if (cls == TokClass::kQwen2) {
    // Iterates lines, strips each, skips blank ones and a leading "#version:" line.
    std::vector<std::string_view> raw = split_nl(text);
    if (!text.empty() && text.back() == '\n') raw.pop_back();
    for (size_t i = 0; i < raw.size(); ++i) {
      std::string_view line = py_strip(raw[i]);
      if (line.empty() || (i == 0 && line.substr(0, 9) == "#version:")) continue;
      lines.push_back(line);
    }
  } else if (cls == TokClass::kClip) {
    // read().strip().split("\n")[1 : 49152 - 256 - 2 + 1]
    std::vector<std::string_view> raw = split_nl(py_strip(text));
    for (size_t i = 1; i < raw.size() && i < 49152 - 256 - 2 + 1; ++i) lines.push_back(raw[i]);
  } else {
    // read().split("\n")[1:-1]: the first line (the "#version" header) and whatever follows
    // the last newline are dropped.
    std::vector<std::string_view> raw = split_nl(text);
    for (size_t i = 1; i + 1 < raw.size(); ++i) lines.push_back(raw[i]);
  }
  return lines;
}

// list(bpe_ranks): the merges as pairs, each once, in first-seen order.
Json load_merges(TokClass cls, const std::string& path) {
  std::string text = read_text_file(path);
  Json merges = Json::array();
  std::set<std::pair<std::string_view, std::string_view>> seen;
  size_t n = 0;
  for (std::string_view line : merge_lines(cls, text)) {
    ++n;
    std::vector<std::string_view> parts = py_split(line);
    if (parts.size() != 2) {
      throw Error(StatusCode::kInvalidArgument, path + ": merge " + std::to_string(n) + " (\"" +
                                                    std::string(line) +
                                                    "\") does not have two parts");
    }
    if (seen.emplace(parts[0], parts[1]).second) {
      merges.push_back(Json::array({std::string(parts[0]), std::string(parts[1])}));
    }
  }
  return merges;
}

std::string content_of(const Json& kwargs, std::string_view key, const char* cls) {
  auto v = kwarg_special(kwargs, key);
  if (!v) {
    throw Error(StatusCode::kInvalidArgument,
                std::string("tokenizer_config.json: ") + cls + " needs a " + std::string(key));
  }
  return v->token.content;
}

// The slow tokenizer's convert_tokens_to_ids: its added tokens, then vocab.json, then the
// unknown token's id.
uint32_t slow_token_id(const Json& vocab, const Json& kwargs, const std::string& token) {
  for (const Json& e : kwargs["added_tokens_decoder"]) {
    if (e["content"] == token) return e["id"].get<uint32_t>();
  }
  auto it = vocab.find(token);
  if (it != vocab.end()) return it->get<uint32_t>();
  if (auto unk = kwarg_special(kwargs, "unk_token")) {
    for (const Json& e : kwargs["added_tokens_decoder"]) {
      if (e["content"] == unk->token.content) return e["id"].get<uint32_t>();
    }
    it = vocab.find(unk->token.content);
    if (it != vocab.end()) return it->get<uint32_t>();
  }
  throw Error(
      StatusCode::kInvalidArgument,
      "vocab.json: \"" + token + "\" is not in the vocabulary and there is no unknown token");
}

Json byte_level(bool add_prefix_space, bool trim_offsets, bool use_regex = true) {
  return Json{{"type", "ByteLevel"},
              {"add_prefix_space", add_prefix_space},
              {"trim_offsets", trim_offsets},
              {"use_regex", use_regex}};
}

Json bpe_model(Json vocab, Json merges, Json unk, const char* suffix) {
  return Json{{"type", "BPE"},
              {"dropout", nullptr},
              {"unk_token", std::move(unk)},
              {"continuing_subword_prefix", ""},
              {"end_of_word_suffix", suffix},
              {"fuse_unk", false},
              {"byte_fallback", false},
              {"ignore_merges", false},
              {"vocab", std::move(vocab)},
              {"merges", std::move(merges)}};
}

// WhisperTokenizer.prefix_tokens: <|startoftranscript|>, then the language and task tokens
// when configured, then <|notimestamps|> unless predicting timestamps.
std::vector<std::string> whisper_prefix(const Json& kwargs) {
  std::vector<std::string> prefix = {"<|startoftranscript|>"};
  if (auto lang = kwarg_str(kwargs, "language")) {
    std::string code;
    for (char c : *lang)
      code.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    // transformers also accepts full language names ("english"); only codes are modelled.
    if (code.size() < 2 || code.size() > 3) {
      throw Error(StatusCode::kUnimplemented,
                  "tokenizer_config.json: Whisper language \"" + *lang +
                      "\" is not a language code; only codes (\"en\") are supported");
    }
    prefix.push_back("<|" + code + "|>");
  }
  if (auto task = kwarg_str(kwargs, "task")) {
    if (*task != "transcribe" && *task != "translate") {
      throw Error(StatusCode::kInvalidArgument,
                  "tokenizer_config.json: Whisper task must be transcribe or translate");
    }
    prefix.push_back("<|" + *task + "|>");
  }
  if (!kwarg_bool(kwargs, "predict_timestamps", false)) prefix.push_back("<|notimestamps|>");
  return prefix;
}

}  // namespace

Json convert_bpe_files(TokClass cls, const std::string& vocab_path, const std::string& merges_path,
                       const Json& kwargs) {
  Json vocab = load_vocab(vocab_path);
  Json merges = load_merges(cls, merges_path);
  Json doc = empty_document();
  const bool add_prefix_space = kwarg_bool(kwargs, "add_prefix_space", false);

  switch (cls) {
    case TokClass::kGpt2:
    case TokClass::kCodeGen:
    case TokClass::kGeneric: {
      doc["pre_tokenizer"] = byte_level(add_prefix_space, true);
      doc["decoder"] = byte_level(true, true);
      if (kwarg_bool(kwargs, "add_bos_token", false)) {
        std::string bos = content_of(kwargs, "bos_token", "GPT2Tokenizer");
        doc["post_processor"] = template_processing(bos + ":0 $A:0", bos + ":0 $A:0 $B:1",
                                                    {{bos, slow_token_id(vocab, kwargs, bos)}});
      } else {
        doc["post_processor"] = byte_level(true, false);
      }
      doc["model"] = bpe_model(std::move(vocab), std::move(merges), nullptr, "");
      break;
    }
    case TokClass::kRoberta: {
      std::string sep = content_of(kwargs, "sep_token", "RobertaTokenizer");
      std::string cls_tok = content_of(kwargs, "cls_token", "RobertaTokenizer");
      doc["pre_tokenizer"] = byte_level(add_prefix_space, true);
      doc["decoder"] = byte_level(true, true);
      doc["post_processor"] =
          Json{{"type", "RobertaProcessing"},
               {"sep", Json::array({sep, slow_token_id(vocab, kwargs, sep)})},
               {"cls", Json::array({cls_tok, slow_token_id(vocab, kwargs, cls_tok)})},
               {"trim_offsets", true},
               {"add_prefix_space", add_prefix_space}};
      doc["model"] = bpe_model(std::move(vocab), std::move(merges), nullptr, "");
      break;
    }
    case TokClass::kClip: {
      std::string unk = content_of(kwargs, "unk_token", "CLIPTokenizer");
      std::string bos = content_of(kwargs, "bos_token", "CLIPTokenizer");
      std::string eos = content_of(kwargs, "eos_token", "CLIPTokenizer");
      doc["normalizer"] =
          Json{{"type", "Sequence"},
               {"normalizers",
                Json::array(
                    {Json{{"type", "NFC"}},
                     Json{{"type", "Replace"}, {"pattern", {{"Regex", "\\s+"}}}, {"content", " "}},
                     Json{{"type", "Lowercase"}}})}};
      doc["pre_tokenizer"] = Json{
          {"type", "Sequence"},
          {"pretokenizers",
           Json::array({Json{{"type", "Split"},
                             {"pattern",
                              {{"Regex",
                                "'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+"}}},
                             {"behavior", "Removed"},
                             {"invert", true}},
                        byte_level(false, true)})}};
      doc["decoder"] = byte_level(true, true);
      doc["post_processor"] = Json{{"type", "RobertaProcessing"},
                                   {"sep", Json::array({eos, slow_token_id(vocab, kwargs, eos)})},
                                   {"cls", Json::array({bos, slow_token_id(vocab, kwargs, bos)})},
                                   {"trim_offsets", false},
                                   {"add_prefix_space", false}};
      doc["model"] = bpe_model(std::move(vocab), std::move(merges), unk, "</w>");
      break;
    }
    case TokClass::kWhisper: {
      std::string eos = content_of(kwargs, "eos_token", "WhisperTokenizer");
      std::vector<std::pair<std::string, uint32_t>> specials = {
          {eos, slow_token_id(vocab, kwargs, eos)}};
      std::string single, pair;
      for (const std::string& p : whisper_prefix(kwargs)) {
        // convert_ids_to_tokens(prefix ids): the token of the id each prefix token maps to.
        uint32_t id = slow_token_id(vocab, kwargs, p);
        std::string tok = p;
        if (!vocab.contains(p)) {
          bool added = false;
          for (const Json& e : kwargs["added_tokens_decoder"]) added = added || e["content"] == p;
          if (!added) tok = content_of(kwargs, "unk_token", "WhisperTokenizer");
        }
        specials.emplace_back(tok, id);
        single += tok + ":0 ";
      }
      pair = single + "$A:0 $B:1 " + eos + ":1";
      single += "$A:0 " + eos + ":0";
      doc["pre_tokenizer"] = byte_level(add_prefix_space, true);
      doc["decoder"] = byte_level(true, true);
      doc["post_processor"] = template_processing(single, pair, specials);
      doc["model"] = bpe_model(std::move(vocab), std::move(merges), nullptr, "");
      break;
    }
    case TokClass::kQwen2: {
      doc["normalizer"] = Json{{"type", "NFC"}};
      doc["pre_tokenizer"] =
          Json{{"type", "Sequence"},
               {"pretokenizers",
                Json::array(
                    {Json{{"type", "Split"},
                          {"pattern",
                           {{"Regex",
                             "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
                             "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}}},
                          {"behavior", "Isolated"},
                          {"invert", false}},
                     byte_level(add_prefix_space, true, false)})}};
      doc["decoder"] = byte_level(true, true);
      doc["post_processor"] = byte_level(true, false);
      doc["model"] = bpe_model(std::move(vocab), std::move(merges), nullptr, "");
      break;
    }
    default:
      throw Error(StatusCode::kUnimplemented,
                  "vocab.json + merges.txt: no converter for this class");
  }
  return doc;
}

}  // namespace mlhub::tok::legacy
