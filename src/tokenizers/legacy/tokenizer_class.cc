// Tokenizer class resolution and special-token kwargs, as transformers 4.57.3 computes them
// (models/auto/tokenization_auto.py, tokenization_utils_base.py _from_pretrained /
// SpecialTokensMixin, and each class's __init__ defaults). See converters.h.
#include <map>
#include <set>
#include <unordered_map>

#include "tokenizers/legacy/converters.h"

namespace mlhub::tok::legacy {
namespace {

const char* const kSpecialAttributes[] = {"bos_token", "eos_token", "unk_token", "sep_token",
                                          "pad_token", "cls_token", "mask_token"};

// How a class __init__ wraps a special token given as a string.
enum class Wrap : uint8_t {
  kNone,                  // kept as str
  kPlain,                 // AddedToken(t, lstrip=False, rstrip=False)
  kSpecial,               // AddedToken(t, special=True)
  kSpecialNotNormalized,  // AddedToken(t, normalized=False, special=True) (+ no strips)
  kMask,                  // AddedToken(t, lstrip=True, rstrip=False, normalized=False)
};

struct TokenParam {
  const char* key;
  const char* def;  // nullptr: None
  Wrap wrap;
};

struct ClassParams {
  std::vector<TokenParam> tokens;
  Json others = Json::object();  // other __init__ parameters passed on to the base class
};

ClassParams class_params(TokClass cls, Side side) {
  const bool slow = side == Side::kSlow;
  const char* eot = "<|endoftext|>";
  switch (cls) {
    case TokClass::kBert:
      return {
          {{"unk_token", "[UNK]", Wrap::kNone},
           {"sep_token", "[SEP]", Wrap::kNone},
           {"pad_token", "[PAD]", Wrap::kNone},
           {"cls_token", "[CLS]", Wrap::kNone},
           {"mask_token", "[MASK]", Wrap::kNone}},
          {{"do_lower_case", true}, {"tokenize_chinese_chars", true}, {"strip_accents", nullptr}}};
    case TokClass::kGpt2:
    case TokClass::kCodeGen: {
      Wrap w = !slow ? Wrap::kNone : cls == TokClass::kGpt2 ? Wrap::kPlain : Wrap::kSpecial;
      ClassParams p{{{"unk_token", eot, w}, {"bos_token", eot, w}, {"eos_token", eot, w}},
                    {{"add_prefix_space", false}}};
      if (slow) {
        p.tokens.push_back({"pad_token", nullptr, w});
        p.others["add_bos_token"] = false;
      }
      return p;
    }
    case TokClass::kRoberta: {
      Wrap w = slow ? Wrap::kPlain : Wrap::kNone;
      return {{{"bos_token", "<s>", w},
               {"eos_token", "</s>", w},
               {"sep_token", "</s>", w},
               {"cls_token", "<s>", w},
               {"unk_token", "<unk>", w},
               {"pad_token", "<pad>", w},
               {"mask_token", "<mask>", Wrap::kMask}},
              {{"add_prefix_space", false}, {"trim_offsets", true}}};
    }
    case TokClass::kClip: {
      Wrap w = slow ? Wrap::kPlain : Wrap::kNone;
      return {{{"unk_token", eot, w},
               {"bos_token", "<|startoftext|>", w},
               {"eos_token", eot, w},
               {"pad_token", eot, Wrap::kNone}},
              {}};
    }
    case TokClass::kWhisper: {
      ClassParams p{{{"unk_token", eot, Wrap::kSpecialNotNormalized},
                     {"bos_token", eot, Wrap::kSpecialNotNormalized},
                     {"eos_token", eot, Wrap::kSpecialNotNormalized}},
                    {{"add_prefix_space", false},
                     {"language", nullptr},
                     {"task", nullptr},
                     {"predict_timestamps", false}}};
      if (slow) p.tokens.push_back({"pad_token", nullptr, Wrap::kSpecialNotNormalized});
      return p;
    }
    case TokClass::kQwen2:
      return {{{"unk_token", eot, Wrap::kSpecialNotNormalized},
               {"bos_token", nullptr, Wrap::kSpecialNotNormalized},
               {"eos_token", eot, Wrap::kSpecialNotNormalized},
               {"pad_token", eot, Wrap::kSpecialNotNormalized}},
              {}};
    case TokClass::kLlama: {
      Wrap w = slow ? Wrap::kSpecialNotNormalized : Wrap::kNone;
      ClassParams p{{{"unk_token", "<unk>", w}, {"bos_token", "<s>", w}, {"eos_token", "</s>", w}},
                    {{"add_bos_token", true},
                     {"add_eos_token", false},
                     {"legacy", nullptr},
                     {"add_prefix_space", slow ? Json(true) : Json(nullptr)}}};
      if (slow) p.tokens.push_back({"pad_token", nullptr, w});
      return p;
    }
    case TokClass::kGemma: {
      Wrap w = slow ? Wrap::kSpecialNotNormalized : Wrap::kNone;
      return {{{"unk_token", "<unk>", w},
               {"bos_token", "<bos>", w},
               {"eos_token", "<eos>", w},
               {"pad_token", "<pad>", w}},
              {{"add_bos_token", true}, {"add_eos_token", false}}};
    }
    case TokClass::kT5: {
      Wrap w = slow ? Wrap::kSpecial : Wrap::kNone;
      return {{{"eos_token", "</s>", w}, {"unk_token", "<unk>", w}, {"pad_token", "<pad>", w}},
              {{"extra_ids", 100},
               {"legacy", nullptr},
               {"add_prefix_space", slow ? Json(true) : Json(nullptr)}}};
    }
    case TokClass::kMarian:  // slow only; its __init__ passes plain strings on
      return {{{"unk_token", "<unk>", Wrap::kNone},
               {"eos_token", "</s>", Wrap::kNone},
               {"pad_token", "<pad>", Wrap::kNone}},
              {{"separate_vocabs", false}}};
    case TokClass::kGeneric:
      break;
  }
  return {};
}

PyAddedToken wrap_string(const std::string& s, Wrap w) {
  PyAddedToken t;
  t.content = s;
  switch (w) {
    case Wrap::kNone:
    case Wrap::kPlain:
      break;
    case Wrap::kSpecial:
      t.special = true;
      break;
    case Wrap::kSpecialNotNormalized:
      t.normalized = false;
      t.special = true;
      break;
    case Wrap::kMask:
      t.lstrip = true;
      t.normalized = false;
      break;
  }
  return t;
}

// Python `a in list` for special values: str == str by content, AddedToken == AddedToken by
// all fields, str never equals an AddedToken.
bool py_equal(const SpecialValue& a, const SpecialValue& b) {
  if (a.is_string != b.is_string) return false;
  return a.is_string ? a.token.content == b.token.content : a.token.same_as(b.token);
}

// Converts a JSON value that may hold AddedToken dicts into the kwargs form, normalising
// every special value (errors name `path`).
std::optional<SpecialValue> special_at(const Json& kw, std::string_view key) {
  auto it = kw.find(key);
  if (it == kw.end()) return std::nullopt;
  return parse_special_value(*it, "tokenizer_config.json: $." + std::string(key));
}

std::vector<SpecialValue> special_list(const Json& v, const std::string& path) {
  std::vector<SpecialValue> out;
  if (v.is_null()) return out;
  if (!v.is_array()) {
    throw Error(StatusCode::kInvalidArgument, path + ": expected a list of special tokens");
  }
  for (size_t i = 0; i < v.size(); ++i) {
    auto sv = parse_special_value(v[i], path + "[" + std::to_string(i) + "]");
    if (!sv) throw Error(StatusCode::kInvalidArgument, path + ": null in the token list");
    out.push_back(*sv);
  }
  return out;
}

Json special_list_to_json(const std::vector<SpecialValue>& list) {
  Json out = Json::array();
  for (const auto& v : list) out.push_back(special_value_to_json(v));
  return out;
}

// The added-tokens decoder: tokenizer_config's "added_tokens_decoder" (an object id -> dict)
// or tokenizer.json's "added_tokens" (a list of dicts with "id"), as (id, token) in file order.
std::vector<std::pair<uint32_t, PyAddedToken>> read_decoder(const Json& src, bool from_config) {
  std::vector<std::pair<uint32_t, PyAddedToken>> out;
  const std::string where = from_config ? "tokenizer_config.json: $.added_tokens_decoder"
                                        : "tokenizer.json: $.added_tokens";
  if (from_config) {
    if (!src.is_object()) throw Error(StatusCode::kInvalidArgument, where + ": expected an object");
    for (auto it = src.begin(); it != src.end(); ++it) {
      const std::string& key = it.key();
      uint64_t id = 0;
      bool ok = !key.empty() && key.size() <= 10;
      for (char c : key) {
        ok = ok && c >= '0' && c <= '9';
        if (ok) id = id * 10 + static_cast<uint64_t>(c - '0');
      }
      if (!ok || id > UINT32_MAX) {
        throw Error(StatusCode::kInvalidArgument,
                    where + ": key \"" + key + "\" is not a token id");
      }
      out.emplace_back(static_cast<uint32_t>(id),
                       py_added_token_from_dict(it.value(), where + "[\"" + key + "\"]"));
    }
    // Python's dict keeps file order; nlohmann sorts keys as strings. Order by id instead:
    // every use of the decoder sorts by id or keys by content, so only ties by content matter,
    // and those keep file order in Python (later wins), which for unique ids is id order here.
    std::stable_sort(out.begin(), out.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
  } else {
    if (!src.is_array()) throw Error(StatusCode::kInvalidArgument, where + ": expected a list");
    for (size_t i = 0; i < src.size(); ++i) {
      std::string path = where + "[" + std::to_string(i) + "]";
      const Json& e = src[i];
      if (!e.is_object() || !e.contains("id") || !e["id"].is_number_unsigned() ||
          e["id"].get<uint64_t>() > UINT32_MAX) {
        throw Error(StatusCode::kInvalidArgument, path + ": expected an object with an \"id\"");
      }
      out.emplace_back(e["id"].get<uint32_t>(), py_added_token_from_dict(e, path));
    }
  }
  return out;
}

// Resolves `normalized` everywhere in the kwargs' special values (copy.deepcopy).
void deep_copy_resolve(Json& kw) {
  for (const char* key : kSpecialAttributes) {
    if (auto v = special_at(kw, key); v && !v->is_string) {
      v->token.normalized = v->token.resolved_normalized();
      kw[key] = special_value_to_json(*v);
    }
  }
  if (kw.contains("additional_special_tokens") && kw["additional_special_tokens"].is_array()) {
    auto list = special_list(kw["additional_special_tokens"], "additional_special_tokens");
    for (auto& v : list) {
      if (!v.is_string) v.token.normalized = v.token.resolved_normalized();
    }
    kw["additional_special_tokens"] = special_list_to_json(list);
  }
}

void t5_extra_ids(Json& kw) {
  int64_t extra_ids = kw.contains("extra_ids") && kw["extra_ids"].is_number_integer()
                          ? kw["extra_ids"].get<int64_t>()
                          : 100;
  if (extra_ids < 0 || extra_ids > 100000) {
    throw Error(StatusCode::kInvalidArgument, "tokenizer_config.json: $.extra_ids out of range");
  }
  std::vector<SpecialValue> list;
  bool given =
      kw.contains("additional_special_tokens") && !kw["additional_special_tokens"].is_null();
  if (given) list = special_list(kw["additional_special_tokens"], "additional_special_tokens");
  size_t n_extra = 0;
  for (const auto& v : list) n_extra += v.token.content.find("<extra_id_") != std::string::npos;
  if (!given || n_extra == 0) {
    for (int64_t i = 0; i < extra_ids; ++i) {
      SpecialValue v;
      v.is_string = true;
      v.token.content = "<extra_id_" + std::to_string(i) + ">";
      list.push_back(v);
    }
  } else if (extra_ids > 0 && static_cast<size_t>(extra_ids) != n_extra) {
    throw Error(StatusCode::kInvalidArgument,
                "tokenizer_config.json: extra_ids (" + std::to_string(extra_ids) +
                    ") and additional_special_tokens disagree (T5Tokenizer raises here)");
  }
  kw["additional_special_tokens"] = special_list_to_json(list);
}

}  // namespace

Json init_kwargs(TokClass cls, Side side, const FolderConfig& cfg,
                 const Json* tokenizer_json_added) {
  Json kw = cfg.tokenizer_config.is_object() ? cfg.tokenizer_config : Json::object();
  kw.erase("tokenizer_class");
  kw.erase("init_inputs");

  // The added-tokens decoder, and special_tokens_map.json when there is none.
  std::vector<std::pair<uint32_t, PyAddedToken>> decoder;
  if (kw.contains("added_tokens_decoder")) {
    decoder = read_decoder(kw["added_tokens_decoder"], /*from_config=*/true);
  } else {
    const Json& stm = cfg.special_tokens_map;
    if (stm.is_object()) {
      for (auto it = stm.begin(); it != stm.end(); ++it) {
        const std::string path = "special_tokens_map.json: $." + it.key();
        Json value = it.value();
        if (value.is_object()) {
          PyAddedToken t = py_added_token_from_dict(value, path);
          t.special = true;
          value = t.to_config_json();
        } else if (it.key() == "additional_special_tokens" && value.is_array()) {
          std::vector<SpecialValue> merged;
          if (kw.contains("additional_special_tokens")) {
            merged = special_list(kw["additional_special_tokens"],
                                  "tokenizer_config.json: $.additional_special_tokens");
          }
          std::unordered_map<std::string, std::vector<size_t>> by_content;
          for (size_t k = 0; k < merged.size(); ++k)
            by_content[merged[k].token.content].push_back(k);
          for (size_t i = 0; i < value.size(); ++i) {
            SpecialValue v;
            if (value[i].is_object()) {
              v.token = py_added_token_from_dict(value[i], path + "[" + std::to_string(i) + "]");
              v.token.special = true;
            } else if (value[i].is_string()) {
              v.is_string = true;
              v.token.content = value[i].get<std::string>();
            } else {
              throw Error(StatusCode::kInvalidArgument, path + ": expected strings or objects");
            }
            bool present = false;
            if (auto at = by_content.find(v.token.content); at != by_content.end()) {
              for (size_t k : at->second) present = present || py_equal(merged[k], v);
            }
            if (!present) {
              by_content[v.token.content].push_back(merged.size());
              merged.push_back(v);
            }
          }
          value = special_list_to_json(merged);
        }
        kw[it.key()] = value;
      }
    }
    if (tokenizer_json_added) decoder = read_decoder(*tokenizer_json_added, /*from_config=*/false);
  }

  // Special tokens named in the decoder take the decoder's AddedToken.
  if (!decoder.empty()) {
    std::map<std::string, const PyAddedToken*> by_content;
    for (const auto& [id, t] : decoder) by_content[t.content] = &t;
    for (const char* key : kSpecialAttributes) {
      auto v = special_at(kw, key);
      if (!v) continue;
      auto it = by_content.find(v->token.content);
      if (it != by_content.end()) kw[key] = it->second->to_config_json();
    }
  }

  // The class __init__: defaults, then AddedToken wrapping of plain strings.
  ClassParams params = class_params(cls, side);
  for (const TokenParam& p : params.tokens) {
    if (!kw.contains(p.key)) kw[p.key] = p.def ? Json(p.def) : Json(nullptr);
    if (kw[p.key].is_string() && p.wrap != Wrap::kNone) {
      kw[p.key] = wrap_string(kw[p.key].get<std::string>(), p.wrap).to_config_json();
    }
  }
  for (auto it = params.others.begin(); it != params.others.end(); ++it) {
    if (!kw.contains(it.key())) kw[it.key()] = it.value();
  }
  if ((cls == TokClass::kLlama || cls == TokClass::kT5) && kw["legacy"].is_null()) {
    kw["legacy"] = true;
  }
  if (cls == TokClass::kT5) t5_extra_ids(kw);
  // Validate every special value now, so later reads cannot fail.
  for (const char* key : kSpecialAttributes) special_at(kw, key);
  if (kw.contains("additional_special_tokens")) {
    special_list(kw["additional_special_tokens"],
                 "tokenizer_config.json: $.additional_special_tokens");
  }
  if (side == Side::kSlow) deep_copy_resolve(kw);

  Json dec = Json::array();
  for (const auto& [id, t] : decoder) {
    Json e = t.to_config_json();
    e["id"] = id;
    dec.push_back(std::move(e));
  }
  kw["added_tokens_decoder"] = std::move(dec);
  return kw;
}

std::optional<SpecialValue> kwarg_special(const Json& kwargs, std::string_view key) {
  return special_at(kwargs, key);
}

std::vector<SpecialValue> all_special_tokens_extended(const Json& kwargs) {
  std::vector<SpecialValue> out;
  std::set<std::string> seen;
  auto add_one = [&](const std::optional<SpecialValue>& v) {
    // Falsy values (None, "") are not set attributes.
    if (!v || (v->is_string && v->token.content.empty())) return;
    if (seen.insert(v->token.content).second) out.push_back(*v);
  };
  for (const char* key : kSpecialAttributes) add_one(special_at(kwargs, key));
  if (kwargs.contains("additional_special_tokens")) {
    auto list = special_list(kwargs["additional_special_tokens"], "additional_special_tokens");
    std::vector<SpecialValue> fresh;
    for (const auto& v : list) {
      if (v.is_string && v.token.content.empty()) continue;
      if (!seen.count(v.token.content)) fresh.push_back(v);
    }
    for (const auto& v : fresh) {
      seen.insert(v.token.content);
      out.push_back(v);
    }
  }
  if (kwargs.contains("extra_special_tokens") && kwargs["extra_special_tokens"].is_object()) {
    for (auto it = kwargs["extra_special_tokens"].begin();
         it != kwargs["extra_special_tokens"].end(); ++it) {
      add_one(parse_special_value(it.value(),
                                  "tokenizer_config.json: $.extra_special_tokens." + it.key()));
    }
  }
  return out;
}

bool kwarg_bool(const Json& kwargs, std::string_view key, bool def) {
  auto it = kwargs.find(key);
  if (it == kwargs.end() || it->is_null()) return def;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_number()) return it->get<double>() != 0;
  return def;
}

std::optional<std::string> kwarg_str(const Json& kwargs, std::string_view key) {
  auto it = kwargs.find(key);
  if (it == kwargs.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// ---- class resolution ------------------------------------------------------------------------

namespace {

std::optional<TokClass> class_from_name(std::string name) {
  if (name.size() > 4 && name.compare(name.size() - 4, 4, "Fast") == 0)
    name.resize(name.size() - 4);
  static const std::map<std::string, TokClass> kNames = {
      {"PreTrainedTokenizer", TokClass::kGeneric}, {"BertTokenizer", TokClass::kBert},
      {"DistilBertTokenizer", TokClass::kBert},    {"ElectraTokenizer", TokClass::kBert},
      {"GPT2Tokenizer", TokClass::kGpt2},          {"CodeGenTokenizer", TokClass::kCodeGen},
      {"RobertaTokenizer", TokClass::kRoberta},    {"CLIPTokenizer", TokClass::kClip},
      {"WhisperTokenizer", TokClass::kWhisper},    {"Qwen2Tokenizer", TokClass::kQwen2},
      {"LlamaTokenizer", TokClass::kLlama},        {"CodeLlamaTokenizer", TokClass::kLlama},
      {"GemmaTokenizer", TokClass::kGemma},        {"T5Tokenizer", TokClass::kT5},
      {"MarianTokenizer", TokClass::kMarian},
  };
  auto it = kNames.find(name);
  if (it == kNames.end()) return std::nullopt;
  return it->second;
}

// transformers' TOKENIZER_MAPPING_NAMES for the model types whose tokenizer class is modelled.
std::optional<TokClass> class_from_model_type(const std::string& t) {
  static const std::map<std::string, TokClass> kTypes = {
      {"bert", TokClass::kBert},       {"distilbert", TokClass::kBert},
      {"electra", TokClass::kBert},    {"gpt2", TokClass::kGpt2},
      {"opt", TokClass::kGpt2},        {"gptj", TokClass::kGpt2},
      {"gpt_neo", TokClass::kGpt2},    {"starcoder2", TokClass::kGpt2},
      {"codegen", TokClass::kCodeGen}, {"phi", TokClass::kCodeGen},
      {"roberta", TokClass::kRoberta}, {"clip", TokClass::kClip},
      {"whisper", TokClass::kWhisper}, {"qwen2", TokClass::kQwen2},
      {"qwen2_moe", TokClass::kQwen2}, {"qwen3", TokClass::kQwen2},
      {"llama", TokClass::kLlama},     {"mistral", TokClass::kLlama},
      {"mixtral", TokClass::kLlama},   {"phi3", TokClass::kLlama},
      {"gemma", TokClass::kGemma},     {"gemma2", TokClass::kGemma},
      {"gemma3", TokClass::kGemma},    {"t5", TokClass::kT5},
      {"falcon", TokClass::kGeneric},  {"gpt_neox", TokClass::kGeneric},
      {"bloom", TokClass::kGeneric},   {"marian", TokClass::kMarian},
  };
  auto it = kTypes.find(t);
  if (it == kTypes.end()) return std::nullopt;
  return it->second;
}

}  // namespace

ResolvedClass resolve_tokenizer_class(const FolderConfig& cfg) {
  ResolvedClass r;
  auto from_name = [&](const Json& j) {
    if (!j.is_string()) return false;
    r.name = j.get<std::string>();
    if (auto c = class_from_name(r.name)) {
      r.cls = *c;
      r.known = true;
    }
    return true;
  };
  if (cfg.tokenizer_config.is_object() && cfg.tokenizer_config.contains("tokenizer_class") &&
      from_name(cfg.tokenizer_config["tokenizer_class"])) {
    return r;
  }
  if (cfg.config.is_object()) {
    if (cfg.config.contains("tokenizer_class") && from_name(cfg.config["tokenizer_class"]))
      return r;
    if (cfg.config.contains("model_type") && cfg.config["model_type"].is_string()) {
      std::string t = cfg.config["model_type"].get<std::string>();
      r.name = "model_type " + t;
      if (auto c = class_from_model_type(t)) {
        r.cls = *c;
        r.known = true;
      }
    }
  }
  return r;
}

bool wants_slow_conversion(const FolderConfig& cfg) {
  ResolvedClass r = resolve_tokenizer_class(cfg);
  if (r.cls != TokClass::kLlama && r.cls != TokClass::kT5) return false;
  const Json& tc = cfg.tokenizer_config;
  return tc.is_object() && tc.contains("add_prefix_space") && !tc["add_prefix_space"].is_null();
}

}  // namespace mlhub::tok::legacy
