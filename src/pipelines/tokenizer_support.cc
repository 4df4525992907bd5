// The tokenizer side of the pipelines: loading a folder's tokenizer together with the settings
// transformers' PreTrainedTokenizerFast reads from tokenizer_config.json and
// special_tokens_map.json, and transformers' truncation argument rules.
#include <fstream>
#include <sstream>

#include "pipelines/pipeline_internal.h"
#include "tokenizers/tokenizer_impl.h"

namespace mlhub::pipelines {
namespace {

namespace fs = std::filesystem;

// transformers' LARGE_INTEGER: a model_max_length above it means "no limit".
constexpr double kLargeInteger = 1e20;

json read_json_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return json();
  std::stringstream ss;
  ss << in.rdbuf();
  json j = json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? json() : j;
}

// A special token entry: "[CLS]" or {"content": "[CLS]", ...}.
std::optional<std::string> token_content(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) {
    return v["content"].get<std::string>();
  }
  return std::nullopt;
}

bool starts_with_any(const std::string& s, std::initializer_list<const char*> prefixes) {
  for (const char* p : prefixes) {
    if (s.rfind(p, 0) == 0) return true;
  }
  return false;
}

// The class defaults of the tokenizers the encoder families use, for folders whose config files
// do not name their special tokens (e.g. a bare vocab.txt).
const char* default_token(const std::string& cls, const std::string& key) {
  const bool roberta_like =
      starts_with_any(cls, {"Roberta", "XLMRoberta", "MPNet", "Camembert", "Bart", "Longformer"});
  if (starts_with_any(cls, {"XLNet"})) {  // XLNetTokenizer(Fast)
    if (key == "cls_token") return "<cls>";
    if (key == "sep_token") return "<sep>";
    if (key == "pad_token") return "<pad>";
    if (key == "mask_token") return "<mask>";
    if (key == "unk_token") return "<unk>";
    return nullptr;
  }
  if (roberta_like) {
    if (key == "cls_token") return "<s>";
    if (key == "sep_token") return "</s>";
    if (key == "pad_token") return "<pad>";
    if (key == "mask_token") return "<mask>";
    if (key == "unk_token") return "<unk>";
    return nullptr;
  }
  if (key == "cls_token") return "[CLS]";
  if (key == "sep_token") return "[SEP]";
  if (key == "pad_token") return "[PAD]";
  if (key == "mask_token") return "[MASK]";
  if (key == "unk_token") return "[UNK]";
  return nullptr;
}

std::optional<std::string> subword_prefix(const fs::path& folder) {
  const fs::path tj = fs::is_directory(folder) ? folder / "tokenizer.json" : folder;
  if (fs::exists(tj)) {
    json doc = read_json_file(tj);
    if (!doc.is_object() || !doc.contains("model") || !doc["model"].is_object())
      return std::nullopt;
    const json& model = doc["model"];
    const std::string type = model.value("type", std::string());
    if (type == "WordPiece") {
      const json& p = model.contains("continuing_subword_prefix")
                          ? model["continuing_subword_prefix"]
                          : json("##");
      if (p.is_string() && !p.get<std::string>().empty()) return p.get<std::string>();
      return std::nullopt;
    }
    if (type == "BPE" && model.contains("continuing_subword_prefix") &&
        model["continuing_subword_prefix"].is_string() &&
        !model["continuing_subword_prefix"].get<std::string>().empty()) {
      return model["continuing_subword_prefix"].get<std::string>();
    }
    return std::nullopt;
  }
  // Legacy folders: vocab.txt converts to WordPiece with "##"; BPE and SentencePiece
  // conversions carry no prefix.
  if (fs::exists(folder / "vocab.txt")) return std::string("##");
  return std::nullopt;
}

}  // namespace

void fail(const std::string& msg) {
  throw Error(StatusCode::kInvalidArgument, msg);
}

LoadedTokenizer load_tokenizer(const fs::path& folder) {
  auto loaded = tok::Tokenizer::from_pretrained(folder.string());
  if (!loaded.ok()) throw Error(loaded.status());
  // transformers sets the backend's truncation and padding on every call, so what tokenizer.json
  // says about them never applies; start from neither.
  LoadedTokenizer out{configured(*loaded, std::nullopt), {}};
  TokenizerInfo& info = out.info;
  const fs::path dir = fs::is_directory(folder) ? folder : folder.parent_path();
  json cfg = read_json_file(dir / "tokenizer_config.json");
  if (!cfg.is_object()) cfg = json::object();
  json map = read_json_file(dir / "special_tokens_map.json");
  std::string cls = cfg.value("tokenizer_class", std::string());
  if (cls.empty()) {
    json model_cfg = read_json_file(dir / "config.json");
    if (model_cfg.is_object()) {
      // AutoTokenizer picks the class from model_type; only the family matters here.
      static const std::pair<const char*, const char*> kFamilies[] = {
          {"roberta", "Roberta"}, {"xlm-roberta", "XLMRoberta"},
          {"mpnet", "MPNet"},     {"camembert", "Camembert"},
          {"bart", "Bart"},       {"distilbert", "DistilBert"},
          {"xlnet", "XLNet"}};
      const std::string mt = model_cfg.value("model_type", std::string());
      for (const auto& [type, name] : kFamilies) {
        if (mt == type) cls = name;
      }
    }
  }

  const json& mml = cfg.contains("model_max_length") ? cfg["model_max_length"] : json();
  if (mml.is_number() && mml.get<double>() <= kLargeInteger && mml.get<double>() > 0) {
    info.model_max_length = mml.get<int64_t>();
  }
  // The class attribute is the default: XLNetTokenizer(Fast) pads on the left (its <cls> ends
  // the sequence), and save_pretrained does not write padding_side unless it was passed.
  const std::string default_side = starts_with_any(cls, {"XLNet"}) ? "left" : "right";
  info.padding_right = cfg.value("padding_side", default_side) != "left";
  info.truncation_right = cfg.value("truncation_side", std::string("right")) != "left";
  if (cfg.contains("clean_up_tokenization_spaces") &&
      cfg["clean_up_tokenization_spaces"].is_boolean()) {
    info.clean_up_tokenization_spaces = cfg["clean_up_tokenization_spaces"].get<bool>();
  }
  if (cfg.contains("model_input_names") && cfg["model_input_names"].is_array()) {
    info.returns_token_type_ids = false;
    for (const json& n : cfg["model_input_names"]) {
      if (n == "token_type_ids") info.returns_token_type_ids = true;
    }
  } else {
    info.returns_token_type_ids = !starts_with_any(
        cls, {"Roberta", "XLMRoberta", "MPNet", "DistilBert", "Camembert", "Bart", "Longformer"});
  }

  // special_tokens_map.json overrides tokenizer_config.json, as from_pretrained applies it last.
  auto special = [&](const std::string& key) -> std::optional<uint32_t> {
    std::optional<std::string> content;
    if (map.is_object() && map.contains(key)) content = token_content(map[key]);
    if (!content && cfg.contains(key)) {
      if (cfg[key].is_null()) return std::nullopt;
      content = token_content(cfg[key]);
    }
    if (!content) {
      const char* d = default_token(cls, key);
      if (d) content = d;
    }
    if (!content) return std::nullopt;
    if (key == "mask_token") info.mask_token = *content;
    return out.tokenizer.token_to_id(*content);
  };
  info.cls_id = special("cls_token");
  info.sep_id = special("sep_token");
  info.pad_id = special("pad_token");
  info.mask_id = special("mask_token");
  info.unk_id = special("unk_token");
  info.continuing_subword_prefix = subword_prefix(folder);
  return out;
}

std::optional<tok::TruncationParams> resolve_truncation(const TokenizerInfo& info,
                                                        const json& truncation,
                                                        const json& max_length, size_t stride) {
  tok::TruncationStrategy strategy = tok::TruncationStrategy::kLongestFirst;
  bool enabled = false;
  if (truncation.is_boolean()) {
    enabled = truncation.get<bool>();
  } else if (truncation.is_string()) {
    const std::string s = truncation.get<std::string>();
    if (s == "longest_first") {
      enabled = true;
    } else if (s == "only_first") {
      enabled = true;
      strategy = tok::TruncationStrategy::kOnlyFirst;
    } else if (s == "only_second") {
      enabled = true;
      strategy = tok::TruncationStrategy::kOnlySecond;
    } else if (s != "do_not_truncate") {
      fail(
          "truncation must be a boolean or one of longest_first, only_first, only_second, "
          "do_not_truncate (got \"" +
          s + "\")");
    }
  } else if (truncation.is_null()) {
    // transformers: max_length without truncation means truncation="longest_first".
    enabled = max_length.is_number_integer();
  } else {
    fail("truncation must be a boolean or a strategy name");
  }
  if (!enabled) return std::nullopt;
  int64_t limit = 0;
  if (max_length.is_number_integer()) {
    limit = max_length.get<int64_t>();
  } else if (!max_length.is_null()) {
    fail("max_length must be an integer");
  } else if (info.model_max_length) {
    limit = *info.model_max_length;
  } else {
    return std::nullopt;  // "very large" model_max_length: transformers does not truncate
  }
  if (limit <= 0) fail("max_length must be positive");
  tok::TruncationParams p;
  p.max_length = static_cast<size_t>(limit);
  p.strategy = strategy;
  p.stride = stride;
  p.direction =
      info.truncation_right ? tok::TruncationDirection::kRight : tok::TruncationDirection::kLeft;
  return p;
}

tok::Tokenizer configured(const tok::Tokenizer& tk, std::optional<tok::TruncationParams> trunc) {
  tok::Tokenizer copy = tk;
  if (copy.padding()) copy.set_padding(std::nullopt);
  if (trunc || copy.truncation()) {
    Status s = copy.set_truncation(trunc);
    if (!s.ok()) fail(s.message());
  }
  return copy;
}

tok::Encoding encode(const tok::Tokenizer& tk, std::string_view text,
                     std::optional<std::string_view> pair, bool add_special_tokens) {
  auto r = pair ? tk.encode_pair(text, *pair, add_special_tokens, tok::OffsetType::kChar)
                : tk.encode(text, add_special_tokens, tok::OffsetType::kChar);
  if (!r.ok()) fail(r.status().message());
  return std::move(*r);
}

std::string tokens_to_string(const tok::Tokenizer& tk, const std::vector<std::string>& tokens) {
  const tok::TokenizerImpl& impl = tk.impl();
  std::string out;
  if (!impl.decoder_) {
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i) out += ' ';
      out += tokens[i];
    }
    return out;
  }
  for (const std::string& s : impl.decoder_->decode_chain(tokens)) out += s;
  return out;
}

std::string decode(const LoadedTokenizer& t, std::span<const uint32_t> ids,
                   bool skip_special_tokens) {
  auto r = t.tokenizer.decode(ids, skip_special_tokens, t.info.clean_up_tokenization_spaces);
  if (!r.ok()) fail(r.status().message());
  return std::move(*r);
}

}  // namespace mlhub::pipelines
