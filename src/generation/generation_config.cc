// GenerationConfig: generation_config.json parsing, the config.json fallback, generate(**kwargs)
// overrides and transformers' validation (transformers/generation/configuration_utils.py and
// GenerationMixin._prepare_generated_length / _prepare_special_tokens in utils.py, 4.57).
#include <algorithm>
#include <fstream>

#include <fmt/format.h>

#include "mlhub/generation.h"

namespace mlhub::generation {
namespace {

using nlohmann::json;

[[noreturn]] void bad(std::string_view key, std::string_view want) {
  throw Error(StatusCode::kInvalidArgument,
              fmt::format("generation config: \"{}\" must be {}", key, want));
}

int64_t get_int(const json& v, std::string_view key) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float() &&
      v.get<double>() == static_cast<double>(static_cast<int64_t>(v.get<double>()))) {
    return static_cast<int64_t>(v.get<double>());
  }
  bad(key, "an integer");
}

double get_double(const json& v, std::string_view key) {
  if (v.is_number()) return v.get<double>();
  bad(key, "a number");
}

bool get_bool(const json& v, std::string_view key) {
  if (v.is_boolean()) return v.get<bool>();
  bad(key, "a boolean");
}

std::vector<int64_t> get_int_list(const json& v, std::string_view key) {
  if (v.is_number()) return {get_int(v, key)};
  if (!v.is_array()) bad(key, "an integer or a list of integers");
  std::vector<int64_t> out;
  for (const json& x : v) out.push_back(get_int(x, key));
  return out;
}

// Applies one key; returns false when the key is not a generation field we know.
bool apply_key(GenerationConfig& c, const std::string& key, const json& v) {
  const bool null = v.is_null();
  if (key == "max_new_tokens") {
    c.max_new_tokens = null ? std::nullopt : std::optional<int64_t>(get_int(v, key));
  } else if (key == "max_length") {
    c.max_length = null ? std::nullopt : std::optional<int64_t>(get_int(v, key));
  } else if (key == "min_new_tokens") {
    c.min_new_tokens = null ? std::nullopt : std::optional<int64_t>(get_int(v, key));
  } else if (key == "min_length") {
    c.min_length = null ? 0 : get_int(v, key);
  } else if (key == "do_sample") {
    c.do_sample = null ? false : get_bool(v, key);
  } else if (key == "num_beams") {
    c.num_beams = null ? 1 : get_int(v, key);
  } else if (key == "num_return_sequences") {
    c.num_return_sequences = null ? 1 : get_int(v, key);
  } else if (key == "temperature") {
    c.temperature = null ? 1.0 : get_double(v, key);
  } else if (key == "top_k") {
    c.top_k = null ? 0 : get_int(v, key);
  } else if (key == "top_p") {
    c.top_p = null ? 1.0 : get_double(v, key);
  } else if (key == "min_p") {
    c.min_p = null ? std::nullopt : std::optional<double>(get_double(v, key));
  } else if (key == "typical_p") {
    c.typical_p = null ? 1.0 : get_double(v, key);
  } else if (key == "repetition_penalty") {
    c.repetition_penalty = null ? 1.0 : get_double(v, key);
  } else if (key == "no_repeat_ngram_size") {
    c.no_repeat_ngram_size = null ? 0 : get_int(v, key);
  } else if (key == "bad_words_ids") {
    c.bad_words_ids.clear();
    if (!null) {
      if (!v.is_array()) bad(key, "a list of lists of integers");
      for (const json& w : v) {
        if (!w.is_array()) bad(key, "a list of lists of integers");
        c.bad_words_ids.push_back(get_int_list(w, key));
      }
    }
  } else if (key == "presence_penalty") {
    c.presence_penalty = null ? 0.0 : get_double(v, key);
  } else if (key == "frequency_penalty") {
    c.frequency_penalty = null ? 0.0 : get_double(v, key);
  } else if (key == "length_penalty") {
    c.length_penalty = null ? 1.0 : get_double(v, key);
  } else if (key == "early_stopping") {
    if (null || (v.is_boolean() && !v.get<bool>())) {
      c.early_stopping = EarlyStopping::kFalse;
    } else if (v.is_boolean()) {
      c.early_stopping = EarlyStopping::kTrue;
    } else if (v.is_string() && v.get<std::string>() == "never") {
      c.early_stopping = EarlyStopping::kNever;
    } else {
      bad(key, "true, false or \"never\"");
    }
  } else if (key == "eos_token_id") {
    c.eos_token_id = null ? std::vector<int64_t>{} : get_int_list(v, key);
  } else if (key == "pad_token_id") {
    c.pad_token_id = null ? std::nullopt : std::optional<int64_t>(get_int(v, key));
  } else if (key == "bos_token_id") {
    c.bos_token_id = null ? std::nullopt : std::optional<int64_t>(get_int(v, key));
  } else if (key == "forced_bos_token_id") {
    c.forced_bos_token_id = null ? std::nullopt : std::optional<int64_t>(get_int(v, key));
  } else if (key == "forced_eos_token_id") {
    c.forced_eos_token_id = null ? std::vector<int64_t>{} : get_int_list(v, key);
  } else if (key == "decoder_start_token_id") {
    c.decoder_start_token_id = null ? std::nullopt : std::optional<int64_t>(get_int(v, key));
  } else if (key == "stop_strings") {
    c.stop_strings.clear();
    if (v.is_string()) {
      c.stop_strings.push_back(v.get<std::string>());
    } else if (!null) {
      if (!v.is_array()) bad(key, "a string or a list of strings");
      for (const json& s : v) {
        if (!s.is_string()) bad(key, "a string or a list of strings");
        c.stop_strings.push_back(s.get<std::string>());
      }
    }
  } else if (key == "seed") {
    c.seed = null ? std::nullopt : std::optional<uint64_t>(static_cast<uint64_t>(get_int(v, key)));
  } else {
    return false;
  }
  return true;
}

Result<GenerationConfig> parse_object(const json& j, bool from_file) {
  return catch_errors([&]() -> GenerationConfig {
    if (!j.is_object())
      throw Error(StatusCode::kInvalidArgument, "generation config: not a JSON object");
    GenerationConfig c;
    for (const auto& [key, value] : j.items()) apply_key(c, key, value);
    // transformers treats a stored max_length equal to its default (20) as "not set": generate()
    // then produces 20 new tokens rather than 20 in total.
    if (from_file && c.max_length == 20) c.max_length.reset();
    return c;
  });
}

Result<json> read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return Status::not_found(fmt::format("{}: cannot open", path.string()));
  json j = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::corruption(fmt::format("{}: invalid JSON", path.string()));
  return j;
}

}  // namespace

Result<GenerationConfig> GenerationConfig::from_json(const json& j) {
  return parse_object(j, true);
}

Result<GenerationConfig> GenerationConfig::from_model_config(const json& config) {
  // GenerationConfig.from_model_config reads every generation attribute config.json holds; in
  // multimodal configs the text decoder's ids live under text_config and fill unset ones.
  auto c = parse_object(config, true);
  if (!c.ok()) return c;
  if (config.contains("text_config") && config["text_config"].is_object()) {
    auto t = parse_object(config["text_config"], true);
    if (!t.ok()) return t;
    if (c->eos_token_id.empty()) c->eos_token_id = t->eos_token_id;
    if (!c->bos_token_id) c->bos_token_id = t->bos_token_id;
    if (!c->pad_token_id) c->pad_token_id = t->pad_token_id;
  }
  return c;
}

Result<GenerationConfig> GenerationConfig::load(const std::filesystem::path& folder) {
  std::filesystem::path gen = folder / "generation_config.json";
  if (std::filesystem::exists(gen)) {
    auto j = read_json(gen);
    if (!j.ok()) return j.status();
    return from_json(*j);
  }
  auto j = read_json(folder / "config.json");
  if (!j.ok()) return j.status();
  return from_model_config(*j);
}

Status GenerationConfig::update(const json& overrides) {
  auto r = catch_errors([&]() -> bool {
    if (!overrides.is_object())
      throw Error(StatusCode::kInvalidArgument, "generate overrides: not a JSON object");
    for (const auto& [key, value] : overrides.items()) {
      if (!apply_key(*this, key, value)) {
        throw Error(StatusCode::kInvalidArgument,
                    fmt::format("generate overrides: unknown generation parameter \"{}\"", key));
      }
    }
    return true;
  });
  return r.status();
}

Status GenerationConfig::validate() const {
  auto fail = [](std::string msg) { return Status::invalid_argument("generation config: " + msg); };
  if (max_new_tokens && *max_new_tokens < 1) return fail("max_new_tokens must be greater than 0");
  if (max_length && *max_length < 1) return fail("max_length must be greater than 0");
  if (min_new_tokens && *min_new_tokens < 0) return fail("min_new_tokens must be >= 0");
  if (min_length < 0) return fail("min_length must be >= 0");
  if (num_beams < 1) return fail("num_beams must be >= 1");
  if (num_return_sequences < 1) return fail("num_return_sequences must be >= 1");
  if (num_beams == 1 && !do_sample && num_return_sequences != 1) {
    return fail("greedy decoding does not support num_return_sequences != 1");
  }
  if (num_beams > 1 && num_return_sequences > num_beams) {
    return fail("num_return_sequences must be <= num_beams in beam search");
  }
  if (repetition_penalty <= 0) return fail("repetition_penalty must be strictly positive");
  if (no_repeat_ngram_size < 0) return fail("no_repeat_ngram_size must be >= 0");
  for (const auto& w : bad_words_ids) {
    if (w.empty()) return fail("bad_words_ids entries must be non-empty");
    for (int64_t t : w) {
      if (t < 0) return fail("bad_words_ids must hold non-negative ids");
    }
  }
  if (do_sample) {
    if (!(temperature > 0)) return fail("temperature must be strictly positive when sampling");
    if (top_k < 0) return fail("top_k must be >= 0");
    if (top_p < 0 || top_p > 1) return fail("top_p must be in [0, 1]");
    if (min_p && (*min_p < 0 || *min_p > 1)) return fail("min_p must be in [0, 1]");
    if (typical_p <= 0 || typical_p > 1) return fail("typical_p must be in (0, 1]");
  }
  for (const auto& s : stop_strings) {
    if (s.empty()) return fail("stop_strings must not be empty strings");
  }
  return Status();
}

json GenerationConfig::to_json() const {
  json j;
  auto opt = [](const auto& o) -> json { return o ? json(*o) : json(nullptr); };
  j["max_new_tokens"] = opt(max_new_tokens);
  j["max_length"] = max_length ? json(*max_length) : json(20);
  j["min_new_tokens"] = opt(min_new_tokens);
  j["min_length"] = min_length;
  j["do_sample"] = do_sample;
  j["num_beams"] = num_beams;
  j["num_return_sequences"] = num_return_sequences;
  j["temperature"] = temperature;
  j["top_k"] = top_k;
  j["top_p"] = top_p;
  j["min_p"] = opt(min_p);
  j["typical_p"] = typical_p;
  j["repetition_penalty"] = repetition_penalty;
  j["no_repeat_ngram_size"] = no_repeat_ngram_size;
  j["bad_words_ids"] = bad_words_ids.empty() ? json(nullptr) : json(bad_words_ids);
  j["presence_penalty"] = presence_penalty;
  j["frequency_penalty"] = frequency_penalty;
  j["length_penalty"] = length_penalty;
  j["early_stopping"] = early_stopping == EarlyStopping::kNever
                            ? json("never")
                            : json(early_stopping == EarlyStopping::kTrue);
  if (eos_token_id.empty()) {
    j["eos_token_id"] = nullptr;
  } else if (eos_token_id.size() == 1) {
    j["eos_token_id"] = eos_token_id[0];
  } else {
    j["eos_token_id"] = eos_token_id;
  }
  j["pad_token_id"] = opt(pad_token_id);
  j["bos_token_id"] = opt(bos_token_id);
  j["forced_bos_token_id"] = opt(forced_bos_token_id);
  j["forced_eos_token_id"] = forced_eos_token_id.empty()       ? json(nullptr)
                             : forced_eos_token_id.size() == 1 ? json(forced_eos_token_id[0])
                                                               : json(forced_eos_token_id);
  j["decoder_start_token_id"] = opt(decoder_start_token_id);
  j["stop_strings"] = stop_strings.empty() ? json(nullptr) : json(stop_strings);
  j["seed"] = opt(seed);
  return j;
}

int64_t GenerationConfig::resolved_max_length(int64_t prompt_length, int64_t max_positions) const {
  int64_t n;
  if (max_new_tokens) {
    n = prompt_length + *max_new_tokens;
  } else if (max_length) {
    n = *max_length;
  } else {
    n = prompt_length + 20;
  }
  // transformers caps only the default case at max_position_embeddings; we cap every case, as
  // the model cannot run past its context (the sequence finishes with FinishReason::kLength).
  if (max_positions > 0) n = std::min(n, max_positions);
  return n;
}

int64_t GenerationConfig::resolved_min_length(int64_t prompt_length) const {
  if (min_new_tokens) return prompt_length + *min_new_tokens;
  return min_length;
}

int64_t GenerationConfig::resolved_pad_token_id() const {
  if (pad_token_id) return *pad_token_id;
  if (!eos_token_id.empty()) return eos_token_id[0];
  return -1;
}

}  // namespace mlhub::generation
