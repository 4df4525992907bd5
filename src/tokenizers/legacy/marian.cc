// MarianTokenizer folders (Helsinki-NLP/opus-mt-*: source.spm, target.spm, vocab.json,
// tokenizer_config.json): transformers 4.57.3 has no fast Marian tokenizer, so AutoTokenizer
// builds the slow MarianTokenizer (models/marian/tokenization_marian.py), even when the folder
// also holds a tokenizer.json. It calls the sentencepiece package directly, so no
// tokenizer.json of the Rust library reproduces it: SentencePiece normalization (user-defined
// symbols, whitespace as suffix, the denormalizer on decode), pieces mapped through a vocab.json
// whose ids and entries differ from the model's, and unknown surfaces looked up by their text.
// The document built here uses two mlhub extension components that run libsentencepiece
// (models/marian.cc, decoders/marian.cc), plus what PreTrainedTokenizer adds around them:
//   - the added tokens of the slow tokenizer (__init__ and _add_tokens), split off before the
//     model sees the text, all not normalized (there is no normalizer);
//   - "$A </s>" (build_inputs_with_special_tokens: pairs become "$A $B </s>").
// MarianTokenizer's punctuation normalizer (sacremoses) is never called while tokenizing, so
// whether sacremoses is installed changes nothing here.
#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "tokenizers/legacy/converters.h"
#include "tokenizers/legacy/sentencepiece_model.h"

namespace mlhub::tok::legacy {
namespace {

// A vocab.json: a JSON object {piece: id} with ids that fit in 32 bits.
Json read_vocab(const std::string& path) {
  Json v = read_json_file(path);
  if (!v.is_object()) {
    throw Error(StatusCode::kInvalidArgument, path + ": expected a JSON object {piece: id}");
  }
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > UINT32_MAX) {
      throw Error(StatusCode::kInvalidArgument,
                  path + ": $." + it.key() + ": expected a token id (0 .. 2^32-1)");
    }
  }
  return v;
}

// The bytes of a SentencePiece model file, checked by our reader (kCorruption names the file).
std::string read_spm(const std::string& path) {
  std::string bytes = read_binary_file(path);
  try {
    (void)parse_sentencepiece_model(bytes);
  } catch (const Error& e) {
    throw Error(e.code(), path + ": " + e.what());
  }
  return bytes;
}

// The slow tokenizer's added tokens: _added_tokens_decoder from the config (or tokenizer.json)
// then PreTrainedTokenizer.__init__'s _add_tokens(all_special_tokens_extended, special=True).
struct AddedTokens {
  std::map<uint32_t, PyAddedToken> by_id;             // _added_tokens_decoder
  std::unordered_map<std::string, uint32_t> encoder;  // _added_tokens_encoder
};

AddedTokens slow_added_tokens(const Json& kw, const Json& vocab) {
  AddedTokens a;
  for (const Json& e : kw["added_tokens_decoder"]) {
    uint32_t id = e["id"].get<uint32_t>();
    PyAddedToken t = py_added_token_from_dict(e, "added_tokens_decoder");
    a.encoder[t.content] = id;
    a.by_id[id] = std::move(t);
  }
  // get_vocab() = dict(vocab.json, **added_tokens_encoder): new ids start at its length.
  size_t vocab_len = vocab.size();
  for (const auto& [content, id] : a.encoder) vocab_len += !vocab.contains(content);
  uint32_t next = static_cast<uint32_t>(vocab_len);
  for (const SpecialValue& v : all_special_tokens_extended(kw)) {
    PyAddedToken t = v.token;
    if (t.content.empty()) continue;
    if (v.is_string) {
      // Strings already in the encoder are skipped; an AddedToken never equals a str key.
      if (a.encoder.count(t.content)) continue;
      t.normalized = false;
    } else {
      t.normalized = t.resolved_normalized();
    }
    t.special = true;
    uint32_t id;
    if (auto it = a.encoder.find(t.content); it != a.encoder.end()) {
      id = it->second;
    } else if (auto vt = vocab.find(t.content); vt != vocab.end()) {
      id = vt->get<uint32_t>();
    } else {
      id = next++;
    }
    a.encoder[t.content] = id;
    a.by_id[id] = std::move(t);
  }
  return a;
}

// convert_tokens_to_ids: added tokens, then vocab.json, then the unknown token's id.
uint32_t token_id(const AddedTokens& a, const Json& vocab, const std::string& token,
                  uint32_t unk_id) {
  if (auto it = a.encoder.find(token); it != a.encoder.end()) return it->second;
  if (auto it = vocab.find(token); it != vocab.end()) return it->get<uint32_t>();
  return unk_id;
}

// TemplateProcessing "$A:0 </s>:0" / "$A:0 $B:1 </s>:1", built as JSON so that any eos
// content (spaces, colons) survives.
Json eos_template(const std::string& eos, uint32_t eos_id) {
  auto seq = [](const char* id, int type_id) {
    return Json{{"Sequence", Json{{"id", id}, {"type_id", type_id}}}};
  };
  auto special = [&](int type_id) {
    return Json{{"SpecialToken", Json{{"id", eos}, {"type_id", type_id}}}};
  };
  return Json{{"type", "TemplateProcessing"},
              {"single", Json::array({seq("A", 0), special(0)})},
              {"pair", Json::array({seq("A", 0), seq("B", 1), special(1)})},
              {"special_tokens",
               Json{{eos, Json{{"id", eos}, {"ids", Json::array({eos_id})}, {"tokens", {eos}}}}}}};
}

}  // namespace

Json convert_marian(const std::string& dir, const FolderConfig& cfg,
                    const Json* tokenizer_json_added) {
  for (const char* f : {"source.spm", "target.spm", "vocab.json"}) {
    if (!has_file(dir, f)) {
      throw Error(StatusCode::kNotFound, dir +
                                             ": MarianTokenizer reads source.spm, target.spm "
                                             "and vocab.json; the folder lacks " +
                                             f);
    }
  }
  Json kw = init_kwargs(TokClass::kMarian, Side::kSlow, cfg, tokenizer_json_added);
  if (auto it = kw.find("sp_model_kwargs"); it != kw.end() && it->is_object()) {
    auto s = it->find("enable_sampling");
    if (s != it->end() && s->is_boolean() && s->get<bool>()) {
      throw Error(StatusCode::kUnimplemented,
                  dir + ": sp_model_kwargs.enable_sampling (random segmentation) is not supported");
    }
  }
  const std::string vocab_path = in_dir(dir, "vocab.json");
  const Json vocab = read_vocab(vocab_path);
  const bool separate = kwarg_bool(kw, "separate_vocabs", false);
  Json target_vocab = nullptr;
  if (separate) {
    if (!has_file(dir, "target_vocab.json")) {
      throw Error(StatusCode::kNotFound,
                  dir + ": separate_vocabs is set but the folder has no target_vocab.json");
    }
    target_vocab = read_vocab(in_dir(dir, "target_vocab.json"));
  }

  auto content = [&](const char* key) -> std::optional<std::string> {
    auto v = kwarg_special(kw, key);
    if (!v || (v->is_string && v->token.content.empty())) return std::nullopt;
    return v->token.content;
  };
  // MarianTokenizer.__init__: str(unk_token) and str(pad_token) must be in vocab.json.
  const std::string unk = content("unk_token").value_or("None");
  if (!vocab.contains(unk)) {
    throw Error(StatusCode::kInvalidArgument,
                vocab_path + ": the unk token \"" + unk + "\" must be in the vocab");
  }
  const std::string pad = content("pad_token").value_or("None");
  if (!vocab.contains(pad)) {
    throw Error(StatusCode::kInvalidArgument,
                vocab_path + ": the pad token \"" + pad + "\" must be in the vocab");
  }
  auto eos = content("eos_token");
  if (!eos) {
    throw Error(StatusCode::kInvalidArgument,
                dir + ": MarianTokenizer appends eos_token, which is None");
  }
  const uint32_t unk_id = vocab[unk].get<uint32_t>();

  AddedTokens added = slow_added_tokens(kw, vocab);
  std::unordered_set<std::string> special;
  Json special_list = Json::array();
  for (const SpecialValue& v : all_special_tokens_extended(kw)) {
    if (special.insert(v.token.content).second) special_list.push_back(v.token.content);
  }
  // _decode's legacy_added_tokens: non-special added tokens, and additional special tokens
  // whose id is past the vocabulary.
  std::set<std::string> legacy;
  for (const auto& [c, id] : added.encoder) {
    if (!special.count(c)) legacy.insert(c);
  }
  if (kw.contains("additional_special_tokens") && kw["additional_special_tokens"].is_array()) {
    for (const Json& e : kw["additional_special_tokens"]) {
      auto v = parse_special_value(e, "additional_special_tokens");
      if (v && token_id(added, vocab, v->token.content, unk_id) >= vocab.size()) {
        legacy.insert(v->token.content);
      }
    }
  }

  Json doc = empty_document();
  Json encoder = Json::object();
  for (const auto& [id, t] : added.by_id) {
    // `special` decides what decode(skip_special_tokens=True) drops: transformers drops
    // all_special_ids, whatever the AddedToken's own flag says.
    PyAddedToken entry = t;
    entry.special = special.count(t.content) > 0;
    doc["added_tokens"].push_back(entry.to_added_json(id));
    encoder[t.content] = added.encoder[t.content];
  }
  doc["model"] = Json{{"type", "MarianSentencePiece"},
                      {"spm", base64_encode(read_spm(in_dir(dir, "source.spm")))},
                      {"vocab", vocab},
                      {"target_vocab", target_vocab},
                      {"unk_token", unk},
                      {"added_tokens_encoder", std::move(encoder)}};
  doc["decoder"] = Json{{"type", "MarianSentencePiece"},
                        {"spm", base64_encode(read_spm(in_dir(dir, "target.spm")))},
                        {"special_tokens", std::move(special_list)},
                        {"added_tokens", Json(legacy)}};
  doc["post_processor"] = eos_template(*eos, token_id(added, vocab, *eos, unk_id));
  kw.erase("added_tokens_decoder");
  doc[std::string(kSlowInitKwargsKey)] = Json{{"class", "marian"}, {"init_kwargs", std::move(kw)}};
  return doc;
}

std::optional<Json> convert_slow_only_folder(const std::string& dir, const FolderConfig& cfg) {
  if (resolve_tokenizer_class(cfg).cls != TokClass::kMarian) return std::nullopt;
  const bool has_json = has_file(dir, "tokenizer.json");
  // Without source.spm transformers fails; a tokenizer.json is then used as
  // PreTrainedTokenizerFast would use it (an mlhub choice, see docs/tokenizers.md).
  if (!has_file(dir, "source.spm") && has_json) return std::nullopt;
  std::optional<Json> json_added;
  const Json& tc = cfg.tokenizer_config;
  if (has_json && !(tc.is_object() && tc.contains("added_tokens_decoder"))) {
    // _from_pretrained gives a slow tokenizer tokenizer.json's "added_tokens" when the
    // config has no added_tokens_decoder.
    Json tj = read_json_file(in_dir(dir, "tokenizer.json"));
    if (tj.is_object() && tj.contains("added_tokens")) json_added = tj["added_tokens"];
  }
  return convert_marian(dir, cfg, json_added ? &*json_added : nullptr);
}

}  // namespace mlhub::tok::legacy
