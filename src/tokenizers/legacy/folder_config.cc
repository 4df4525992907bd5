// read_folder_config and apply_tokenizer_config: what transformers' PreTrainedTokenizerFast
// .__init__ (and the __init__ of the fast class AutoTokenizer picks) does to the backend
// tokenizer after loading or converting it. See converters.h for the overall flow.
#include <filesystem>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "tokenizers/legacy/converters.h"

namespace mlhub::tok::legacy {
namespace {

namespace fs = std::filesystem;

Json read_config(const std::string& dir, const char* name) {
  std::error_code ec;
  fs::path p = fs::path(dir) / name;
  if (!fs::is_regular_file(p, ec)) return Json::object();
  Json j = read_json_file(p.string());
  if (!j.is_object()) {
    throw Error(StatusCode::kInvalidArgument, p.string() + ": expected a JSON object");
  }
  return j;
}

// The tokens PreTrainedTokenizerFast.__init__ passes to add_tokens: the added-tokens decoder
// entries the backend does not hold identically, then the special tokens it lacks.
std::vector<PyAddedToken> tokens_to_add(const Json& doc, const Json& kwargs) {
  // The backend's id -> token map after replaying "added_tokens".
  std::map<uint32_t, PyAddedToken> backend;
  if (doc.contains("added_tokens") && doc["added_tokens"].is_array()) {
    const Json& list = doc["added_tokens"];
    for (size_t i = 0; i < list.size(); ++i) {
      const Json& e = list[i];
      if (!e.is_object() || !e.contains("id") || !e["id"].is_number_unsigned()) continue;
      PyAddedToken t =
          py_added_token_from_dict(e, "tokenizer.json: $.added_tokens[" + std::to_string(i) + "]");
      t.normalized = t.resolved_normalized();
      backend[e["id"].get<uint32_t>()] = t;
    }
  }
  std::unordered_map<std::string, const PyAddedToken*> held;  // content -> backend token
  std::unordered_set<std::string> encoder;                    // added_tokens_encoder keys
  for (const auto& [id, t] : backend) {
    held[t.content] = &t;
    encoder.insert(t.content);
  }
  auto backend_holds = [&](const PyAddedToken& t) {
    auto it = held.find(t.content);
    return it != held.end() && it->second->same_as(t);
  };

  std::vector<PyAddedToken> out;
  std::unordered_map<std::string, std::vector<size_t>> queued;  // content -> indices in out
  auto queue = [&](const PyAddedToken& t) {
    queued[t.content].push_back(out.size());
    out.push_back(t);
  };
  for (const Json& e : kwargs["added_tokens_decoder"]) {
    PyAddedToken t = py_added_token_from_dict(e, "added_tokens_decoder");
    if (!backend_holds(t)) {
      queue(t);
      encoder.insert(t.content);
    }
  }
  std::vector<SpecialValue> specials = all_special_tokens_extended(kwargs);
  std::unordered_set<std::string> special_contents;
  for (const SpecialValue& v : specials) {
    special_contents.insert(v.token.content);
    if (v.is_string) {
      if (!encoder.count(v.token.content)) queue(v.token);  // `str in encoder`
      continue;
    }
    // An AddedToken never equals a str, so only an equal AddedToken already queued stops it.
    bool seen = false;
    if (auto it = queued.find(v.token.content); it != queued.end()) {
      for (size_t i : it->second) seen = seen || out[i].same_as(v.token);
    }
    if (!seen) queue(v.token);
  }
  // Every special token is marked special; plain strings become AddedToken(t, special=...).
  // add_tokens then ignores a token equal to the one the backend holds: leave those out.
  std::vector<PyAddedToken> kept;
  for (PyAddedToken& t : out) {
    t.special = t.special || special_contents.count(t.content);
    if (!backend_holds(t)) kept.push_back(std::move(t));
  }
  return kept;
}

// PreTrainedTokenizerFast.__init__: a pre-tokenizer whose state has "add_prefix_space"
// (ByteLevel) is rebuilt with the tokenizer's add_prefix_space.
void apply_add_prefix_space(Json& doc, const Json& fast_kwargs) {
  if (!doc.contains("pre_tokenizer") || !doc["pre_tokenizer"].is_object()) return;
  Json& pre = doc["pre_tokenizer"];
  if (!pre.contains("type") || pre["type"] != "ByteLevel") return;
  auto it = fast_kwargs.find("add_prefix_space");
  bool value = false;
  if (it != fast_kwargs.end()) {
    // None fails ByteLevel's constructor, and transformers ignores the failure.
    if (!it->is_boolean()) return;
    value = it->get<bool>();
  }
  pre["add_prefix_space"] = value;
}

// BertTokenizerFast: the normalizer follows do_lower_case / strip_accents /
// tokenize_chinese_chars when they differ.
void apply_bert(Json& doc, const Json& kw) {
  if (!doc.contains("normalizer") || !doc["normalizer"].is_object()) return;
  Json& n = doc["normalizer"];
  if (!n.contains("type") || n["type"] != "BertNormalizer") return;
  n["lowercase"] = kwarg_bool(kw, "do_lower_case", true);
  n["handle_chinese_chars"] = kwarg_bool(kw, "tokenize_chinese_chars", true);
  auto sa = kw.find("strip_accents");
  n["strip_accents"] = sa == kw.end() || !sa->is_boolean() ? Json(nullptr) : *sa;
}

// RobertaTokenizerFast: the post-processor follows add_prefix_space / trim_offsets.
void apply_roberta(Json& doc, const Json& kw) {
  if (!doc.contains("post_processor") || !doc["post_processor"].is_object()) return;
  Json& p = doc["post_processor"];
  if (!p.contains("type") || (p["type"] != "RobertaProcessing" && p["type"] != "ByteLevel")) return;
  p["add_prefix_space"] = kwarg_bool(kw, "add_prefix_space", false);
  p["trim_offsets"] = kwarg_bool(kw, "trim_offsets", true);
}

// LlamaTokenizerFast / GemmaTokenizerFast.update_post_processor.
void apply_bos_eos_template(Json& doc, const Json& fast_kw, const Json& special_kw) {
  const bool add_bos = kwarg_bool(fast_kw, "add_bos_token", true);
  const bool add_eos = kwarg_bool(fast_kw, "add_eos_token", false);
  auto bos = kwarg_special(special_kw, "bos_token");
  auto eos = kwarg_special(special_kw, "eos_token");
  if (add_bos && !bos) {
    throw Error(StatusCode::kInvalidArgument,
                "tokenizer_config.json: add_bos_token = True but bos_token = None");
  }
  if (add_eos && !eos) {
    throw Error(StatusCode::kInvalidArgument,
                "tokenizer_config.json: add_eos_token = True but eos_token = None");
  }
  DocVocab vocab(doc);
  auto id_of = [&](const std::string& token) {
    // convert_tokens_to_ids: the backend's id, else the unknown token's.
    if (auto id = vocab.token_to_id(token)) return *id;
    if (auto unk = kwarg_special(special_kw, "unk_token")) {
      if (auto id = vocab.token_to_id(unk->token.content)) return *id;
    }
    throw Error(StatusCode::kInvalidArgument,
                "tokenizer: special token \"" + token + "\" has no id (and no unknown token)");
  };
  std::string single, pair;
  std::vector<std::pair<std::string, uint32_t>> specials;
  if (add_bos) {
    single = bos->token.content + ":0 ";
    specials.emplace_back(bos->token.content, id_of(bos->token.content));
  }
  single += "$A:0";
  if (add_eos) {
    single += " " + eos->token.content + ":0";
    specials.emplace_back(eos->token.content, id_of(eos->token.content));
  }
  pair = single + (add_bos ? " " + bos->token.content + ":1" : "") + " $B:1" +
         (add_eos ? " " + eos->token.content + ":1" : "");
  doc["post_processor"] = template_processing(single, pair, specials);
}

// Appends `hooks` after a ByteLevel decoder (the only decoder they are exact after: it returns
// the whole text as one string).
void append_decode_hooks(Json& doc, const std::vector<Json>& hooks) {
  if (!doc.contains("decoder") || !doc["decoder"].is_object()) return;
  Json& dec = doc["decoder"];
  if (!dec.contains("type") || dec["type"] != "ByteLevel") return;
  Json seq = Json::array({dec});
  for (const Json& h : hooks) seq.push_back(h);
  dec = Json{{"type", "Sequence"}, {"decoders", std::move(seq)}};
}

}  // namespace

std::vector<Json> clip_decode_hooks(const std::string& end_of_word_suffix) {
  // The str.isspace() characters as a character class body.
  static const std::string kPySpace =
      "\\t\\n\\x0B\\x0C\\r\\x1C-\\x1F \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}"
      "\\x{202F}\\x{205F}\\x{3000}";
  return {
      Json{{"type", "Replace"}, {"pattern", {{"String", end_of_word_suffix}}}, {"content", " "}},
      Json{{"type", "Replace"},
           {"pattern", {{"Regex", "\\A[" + kPySpace + "]+|[" + kPySpace + "]+\\z"}}},
           {"content", ""}}};
}

std::vector<Json> whisper_decode_hooks() {
  return {Json{
      {"type", "Replace"}, {"pattern", {{"Regex", "<\\|(\\d+\\.\\d+)\\|>"}}}, {"content", ""}}};
}

FolderConfig read_folder_config(const std::string& dir) {
  FolderConfig cfg;
  cfg.tokenizer_config = read_config(dir, "tokenizer_config.json");
  cfg.special_tokens_map = read_config(dir, "special_tokens_map.json");
  cfg.config = read_config(dir, "config.json");
  return cfg;
}

void apply_tokenizer_config(Json& doc, const FolderConfig& cfg) {
  if (!doc.is_object())
    throw Error(StatusCode::kInvalidArgument, "tokenizer.json: expected an object");
  std::optional<Json> slow;
  if (auto it = doc.find(kSlowInitKwargsKey); it != doc.end()) {
    slow = std::move(*it);
    doc.erase(std::string(kSlowInitKwargsKey));
  }
  TokClass cls = resolve_tokenizer_class(cfg).cls;
  if (slow) {
    if (!slow->is_object() || !(*slow)["class"].is_string() ||
        !(*slow)["init_kwargs"].is_object()) {
      throw Error(StatusCode::kInternal, "legacy: malformed converter state");
    }
    if (auto c = class_from_label((*slow)["class"].get<std::string>())) cls = *c;
  }
  // A converted Marian folder is complete (convert_marian applied the slow tokenizer's
  // settings). A tokenizer.json in a Marian folder without source.spm, where AutoTokenizer
  // would fail, is used as PreTrainedTokenizerFast would.
  if (slow && cls == TokClass::kMarian) return;
  if (cls == TokClass::kMarian) cls = TokClass::kGeneric;

  static const Json kNoAdded = Json::array();
  const Json* json_added = nullptr;
  if (!slow)
    json_added = doc.contains("added_tokens") && doc["added_tokens"].is_array()
                     ? &doc["added_tokens"]
                     : &kNoAdded;
  Json fast_kw = init_kwargs(cls, Side::kFast, cfg, json_added);
  // kwargs.update(slow_tokenizer.init_kwargs): the slow tokenizer's values win.
  Json kw = fast_kw;
  if (slow) {
    const Json& skw = (*slow)["init_kwargs"];
    for (auto it = skw.begin(); it != skw.end(); ++it) kw[it.key()] = it.value();
  }

  append_added_tokens(doc, tokens_to_add(doc, kw));
  apply_add_prefix_space(doc, fast_kw);

  switch (cls) {
    case TokClass::kBert:
      apply_bert(doc, fast_kw);
      break;
    case TokClass::kRoberta:
      apply_roberta(doc, fast_kw);
      break;
    case TokClass::kLlama:
    case TokClass::kGemma:
      apply_bos_eos_template(doc, fast_kw, kw);
      break;
    case TokClass::kClip:
      if (doc.contains("model") && doc["model"].is_object() &&
          doc["model"].contains("end_of_word_suffix") &&
          doc["model"]["end_of_word_suffix"].is_string()) {
        append_decode_hooks(
            doc, clip_decode_hooks(doc["model"]["end_of_word_suffix"].get<std::string>()));
      }
      break;
    case TokClass::kWhisper:
      append_decode_hooks(doc, whisper_decode_hooks());
      break;
    default:
      break;
  }
}

}  // namespace mlhub::tok::legacy
