// GGUF -> Hugging Face config and state dict, as transformers 4.57.3 loads a gguf_file=:
// modeling_gguf_pytorch_utils.py load_gguf_checkpoint (metadata renamed through
// integrations/ggml.py GGUF_CONFIG_MAPPING, tensor processors, gguf-py's tensor name map), then
// the config class (its defaults and __init__ derivations) and PretrainedConfig.to_diff_dict.
//
// Each supported architecture is one ArchSpec row below: its metadata renames, its config
// class defaults, its derivations, and its GGUF -> HF tensor names. Tensor processors
// (llama's q/k row permutation, gemma2's norm - 1, gpt2's transposes) key on the file's
// architecture as transformers' TENSOR_PROCESSORS does.
#include <fmt/format.h>

#include <cstring>
#include <limits>

#include "io/gguf_internal.h"

namespace mlhub::io {
namespace {

using json = nlohmann::json;

struct Rename {
  std::string_view gguf;  // key after "<arch>."
  std::string_view hf;    // empty: read but not used (transformers maps it to None)
};

struct ArchSpec {
  std::string_view arch;              // general.architecture (after the mistral rename)
  std::vector<Rename> config;         // GGUF_CONFIG_MAPPING[arch]
  const char* class_defaults;         // <Arch>Config().to_dict() (derived fields left out)
  void (*derive)(json& c);            // <Arch>Config.__init__ derivations
  std::vector<Rename> block_tensors;  // "blk.N.<gguf>" -> "<prefix>N.<hf>"
  std::string_view block_prefix;
  std::vector<Rename> global_tensors;
};

const std::vector<Rename> kLlamaLikeConfig = {
    {"context_length", "max_position_embeddings"},
    {"block_count", "num_hidden_layers"},
    {"feed_forward_length", "intermediate_size"},
    {"embedding_length", "hidden_size"},
    {"rope.dimension_count", "head_dim"},
    {"rope.freq_base", "rope_theta"},
    {"attention.head_count", "num_attention_heads"},
    {"attention.head_count_kv", "num_key_value_heads"},
    {"attention.layer_norm_rms_epsilon", "rms_norm_eps"},
    {"vocab_size", "vocab_size"},
};

std::vector<Rename> without_head_dim(std::vector<Rename> r) {
  for (Rename& x : r)
    if (x.gguf == "rope.dimension_count") x.hf = "";
  return r;
}

std::vector<Rename> gemma2_config() {
  std::vector<Rename> r = without_head_dim(kLlamaLikeConfig);
  r.push_back({"attention.key_length", "head_dim"});
  r.push_back({"attention.sliding_window", "sliding_window"});
  return r;
}

const std::vector<Rename> kGpt2Config = {
    {"block_count", "n_layer"},         {"context_length", "n_ctx"},
    {"embedding_length", "n_embd"},     {"feed_forward_length", "feed_forward_length"},
    {"attention.head_count", "n_head"}, {"attention.layer_norm_epsilon", "layer_norm_epsilon"},
};

// gguf-py's tensor name map restricted to the parameters each Hugging Face model has.
const std::vector<Rename> kLlamaBlock = {
    {"attn_q.weight", "self_attn.q_proj.weight"},
    {"attn_k.weight", "self_attn.k_proj.weight"},
    {"attn_v.weight", "self_attn.v_proj.weight"},
    {"attn_output.weight", "self_attn.o_proj.weight"},
    {"ffn_gate.weight", "mlp.gate_proj.weight"},
    {"ffn_up.weight", "mlp.up_proj.weight"},
    {"ffn_down.weight", "mlp.down_proj.weight"},
    {"attn_norm.weight", "input_layernorm.weight"},
    {"ffn_norm.weight", "post_attention_layernorm.weight"},
};
const std::vector<Rename> kLlamaGlobal = {{"token_embd.weight", "model.embed_tokens.weight"},
                                          {"output_norm.weight", "model.norm.weight"},
                                          {"output.weight", "lm_head.weight"}};

std::vector<Rename> concat(std::vector<Rename> a, const std::vector<Rename>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const std::vector<Rename> kQwen2Block =
    concat(kLlamaBlock, {{"attn_q.bias", "self_attn.q_proj.bias"},
                         {"attn_k.bias", "self_attn.k_proj.bias"},
                         {"attn_v.bias", "self_attn.v_proj.bias"}});
const std::vector<Rename> kQwen3Block =
    concat(kLlamaBlock, {{"attn_q_norm.weight", "self_attn.q_norm.weight"},
                         {"attn_k_norm.weight", "self_attn.k_norm.weight"}});
const std::vector<Rename> kPhi3Block = {
    {"attn_qkv.weight", "self_attn.qkv_proj.weight"},
    {"attn_output.weight", "self_attn.o_proj.weight"},
    {"ffn_up.weight", "mlp.gate_up_proj.weight"},
    {"ffn_down.weight", "mlp.down_proj.weight"},
    {"attn_norm.weight", "input_layernorm.weight"},
    {"ffn_norm.weight", "post_attention_layernorm.weight"},
};
const std::vector<Rename> kGemma2Block = {
    {"attn_q.weight", "self_attn.q_proj.weight"},
    {"attn_k.weight", "self_attn.k_proj.weight"},
    {"attn_v.weight", "self_attn.v_proj.weight"},
    {"attn_output.weight", "self_attn.o_proj.weight"},
    {"ffn_gate.weight", "mlp.gate_proj.weight"},
    {"ffn_up.weight", "mlp.up_proj.weight"},
    {"ffn_down.weight", "mlp.down_proj.weight"},
    {"attn_norm.weight", "input_layernorm.weight"},
    {"post_attention_norm.weight", "post_attention_layernorm.weight"},
    {"ffn_norm.weight", "pre_feedforward_layernorm.weight"},
    {"post_ffw_norm.weight", "post_feedforward_layernorm.weight"},
};
const std::vector<Rename> kGpt2Block = {
    {"attn_norm.weight", "ln_1.weight"},          {"attn_norm.bias", "ln_1.bias"},
    {"attn_qkv.weight", "attn.c_attn.weight"},    {"attn_qkv.bias", "attn.c_attn.bias"},
    {"attn_output.weight", "attn.c_proj.weight"}, {"attn_output.bias", "attn.c_proj.bias"},
    {"ffn_norm.weight", "ln_2.weight"},           {"ffn_norm.bias", "ln_2.bias"},
    {"ffn_up.weight", "mlp.c_fc.weight"},         {"ffn_up.bias", "mlp.c_fc.bias"},
    {"ffn_down.weight", "mlp.c_proj.weight"},     {"ffn_down.bias", "mlp.c_proj.bias"},
};
const std::vector<Rename> kGpt2Global = {
    {"token_embd.weight", "transformer.wte.weight"},
    {"position_embd.weight", "transformer.wpe.weight"},
    {"output_norm.weight", "transformer.ln_f.weight"},
    {"output_norm.bias", "transformer.ln_f.bias"},
};

void kv_heads_default(json& c) {
  if (c["num_key_value_heads"].is_null()) c["num_key_value_heads"] = c["num_attention_heads"];
}

int64_t positive_int(const json& c, const char* key) {
  const json& v = c[key];
  if (!v.is_number_integer() || v.get<int64_t>() <= 0)
    corrupt(fmt::format("config \"{}\" is {}, not a positive integer", key, v.dump()));
  return v.get<int64_t>();
}

json layer_types(const json& c, bool alternate) {
  json out = json::array();
  const int64_t n = positive_int(c, "num_hidden_layers");
  if (n > 1'000'000) corrupt(fmt::format("num_hidden_layers {} is absurd", n));
  for (int64_t i = 0; i < n; ++i)
    out.push_back(alternate && (i + 1) % 2 != 0 ? "sliding_attention" : "full_attention");
  return out;
}

const ArchSpec kArchs[] = {
    {"llama", kLlamaLikeConfig,
     R"({"vocab_size":32000,"max_position_embeddings":2048,"hidden_size":4096,
     "intermediate_size":11008,"num_hidden_layers":32,"num_attention_heads":32,
     "num_key_value_heads":null,"hidden_act":"silu","initializer_range":0.02,"rms_norm_eps":1e-06,
     "pretraining_tp":1,"use_cache":true,"rope_theta":10000.0,"rope_scaling":null,
     "attention_bias":false,"attention_dropout":0.0,"mlp_bias":false,"head_dim":null,
     "tie_word_embeddings":false,"bos_token_id":1,"eos_token_id":2})",
     [](json& c) {
       kv_heads_default(c);
       if (c["head_dim"].is_null())
         c["head_dim"] = positive_int(c, "hidden_size") / positive_int(c, "num_attention_heads");
     },
     kLlamaBlock, "model.layers.", kLlamaGlobal},
    {"mistral", kLlamaLikeConfig,
     R"({"vocab_size":32000,"max_position_embeddings":131072,"hidden_size":4096,
     "intermediate_size":14336,"num_hidden_layers":32,"num_attention_heads":32,
     "sliding_window":4096,"head_dim":null,"num_key_value_heads":8,"hidden_act":"silu",
     "initializer_range":0.02,"rms_norm_eps":1e-06,"use_cache":true,"rope_theta":10000.0,
     "attention_dropout":0.0,"tie_word_embeddings":false,"bos_token_id":1,"eos_token_id":2})",
     kv_heads_default, kLlamaBlock, "model.layers.", kLlamaGlobal},
    {"qwen2", without_head_dim(kLlamaLikeConfig),
     R"({"vocab_size":151936,"max_position_embeddings":32768,"hidden_size":4096,
     "intermediate_size":22016,"num_hidden_layers":32,"num_attention_heads":32,
     "use_sliding_window":false,"sliding_window":4096,"max_window_layers":28,
     "num_key_value_heads":32,"hidden_act":"silu","initializer_range":0.02,"rms_norm_eps":1e-06,
     "use_cache":true,"rope_theta":10000.0,"rope_scaling":null,"attention_dropout":0.0,
     "tie_word_embeddings":false})",
     [](json& c) {
       kv_heads_default(c);
       if (c["use_sliding_window"] != true) c["sliding_window"] = nullptr;
       // Every layer is full attention while sliding_window is null (always, from GGUF).
       if (!c["sliding_window"].is_null())
         unimplemented("a qwen2 sliding window from GGUF metadata");
       c["layer_types"] = layer_types(c, false);
     },
     kQwen2Block, "model.layers.", kLlamaGlobal},
    {"qwen3", without_head_dim(kLlamaLikeConfig),
     R"({"vocab_size":151936,"max_position_embeddings":32768,"hidden_size":4096,
     "intermediate_size":22016,"num_hidden_layers":32,"num_attention_heads":32,
     "use_sliding_window":false,"sliding_window":4096,"max_window_layers":28,
     "num_key_value_heads":32,"head_dim":128,"hidden_act":"silu","initializer_range":0.02,
     "rms_norm_eps":1e-06,"use_cache":true,"rope_theta":10000.0,"rope_scaling":null,
     "attention_bias":false,"attention_dropout":0.0,"tie_word_embeddings":false})",
     [](json& c) {
       kv_heads_default(c);
       if (c["use_sliding_window"] != true) c["sliding_window"] = nullptr;
       if (!c["sliding_window"].is_null())
         unimplemented("a qwen3 sliding window from GGUF metadata");
       c["layer_types"] = layer_types(c, false);
     },
     kQwen3Block, "model.layers.", kLlamaGlobal},
    {"phi3", without_head_dim(kLlamaLikeConfig),
     R"({"vocab_size":32064,"hidden_size":3072,"intermediate_size":8192,"num_hidden_layers":32,
     "num_attention_heads":32,"num_key_value_heads":null,"resid_pdrop":0.0,"embd_pdrop":0.0,
     "attention_dropout":0.0,"hidden_act":"silu","max_position_embeddings":4096,
     "original_max_position_embeddings":4096,"initializer_range":0.02,"rms_norm_eps":1e-05,
     "use_cache":true,"rope_theta":10000.0,"rope_scaling":null,"partial_rotary_factor":1.0,
     "sliding_window":null,"tie_word_embeddings":false,"bos_token_id":1,"pad_token_id":32000,
     "eos_token_id":32000})",
     kv_heads_default, kPhi3Block, "model.layers.", kLlamaGlobal},
    {"gemma2",
     gemma2_config(),
     R"({"vocab_size":256000,"max_position_embeddings":8192,"hidden_size":2304,
     "intermediate_size":9216,"num_hidden_layers":26,"num_attention_heads":8,"head_dim":256,
     "num_key_value_heads":4,"initializer_range":0.02,"rms_norm_eps":1e-06,"use_cache":true,
     "rope_theta":10000.0,"attention_bias":false,"attention_dropout":0.0,
     "hidden_activation":"gelu_pytorch_tanh","query_pre_attn_scalar":256,"sliding_window":4096,
     "final_logit_softcapping":30.0,"attn_logit_softcapping":50.0,"tie_word_embeddings":true,
     "bos_token_id":2,"pad_token_id":0,"eos_token_id":1})",
     [](json& c) { c["layer_types"] = layer_types(c, true); },
     kGemma2Block,
     "model.layers.",
     {{"token_embd.weight", "model.embed_tokens.weight"},
      {"output_norm.weight", "model.norm.weight"}}},
    {"gpt2", kGpt2Config,
     R"({"vocab_size":50257,"n_positions":1024,"n_embd":768,"n_layer":12,"n_head":12,
     "n_inner":null,"activation_function":"gelu_new","resid_pdrop":0.1,"embd_pdrop":0.1,
     "attn_pdrop":0.1,"layer_norm_epsilon":1e-05,"initializer_range":0.02,
     "summary_type":"cls_index","summary_use_proj":true,"summary_activation":null,
     "summary_first_dropout":0.1,"summary_proj_to_labels":true,"scale_attn_weights":true,
     "use_cache":true,"scale_attn_by_inverse_layer_idx":false,"reorder_and_upcast_attn":false,
     "tie_word_embeddings":true,"bos_token_id":50256,"eos_token_id":50256})",
     [](json&) {}, kGpt2Block, "transformer.h.", kGpt2Global},
};

// Architectures transformers 4.57.3 reads from GGUF that mlhub does not convert.
constexpr std::string_view kOtherTransformersArchs[] = {
    "qwen2moe", "qwen3moe",   "lfm2",  "falcon",   "bloom",  "t5",  "t5encoder",
    "stablelm", "starcoder2", "mamba", "nemotron", "gemma3", "deci"};

const ArchSpec* find_arch(std::string_view arch) {
  for (const ArchSpec& a : kArchs)
    if (a.arch == arch) return &a;
  return nullptr;
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  if (from.empty() || from == to) return;
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
    s.replace(pos, from.size(), to);
}

const std::vector<Rename> kGeneralConfig = {{"architecture", "model_type"},
                                            {"name", "_model_name_or_path"}};
const std::vector<Rename> kTokenizerConfig = {{"ggml.bos_token_id", "bos_token_id"},
                                              {"ggml.eos_token_id", "eos_token_id"},
                                              {"ggml.unknown_token_id", "unk_token_id"},
                                              {"ggml.padding_token_id", "pad_token_id"}};

// load_gguf_checkpoint's parsed_parameters["config"]: every key whose "<prefix>.<rest>" is in
// the mapping (any listed prefix, as transformers matches any), renamed.
json parsed_config(const GgufFile& f, std::string_view arch, std::string_view updated) {
  json c = json::object();
  c["tie_word_embeddings"] = f.find_tensor("output.weight") == nullptr;
  for (const std::string& raw_key : f.keys()) {
    std::string key = raw_key;
    replace_all(key, arch, updated);
    const size_t dot = key.find('.');
    const std::string_view prefix = std::string_view(key).substr(0, dot);
    const std::string_view rest =
        dot == std::string::npos ? std::string_view() : std::string_view(key).substr(dot + 1);
    const std::vector<Rename>* table = nullptr;
    if (prefix == "general")
      table = &kGeneralConfig;
    else if (prefix == "tokenizer")
      table = &kTokenizerConfig;
    else if (const ArchSpec* a = find_arch(prefix))
      table = &a->config;
    if (table == nullptr || dot == std::string::npos) continue;
    for (const Rename& r : *table)
      if (r.gguf == rest && !r.hf.empty())
        c[std::string(r.hf)] = gguf_parsed_value(f, raw_key, arch, updated);
  }
  if (!c.contains("vocab_size") && f.contains("tokenizer.ggml.tokens")) {
    const json tokens = gguf_parsed_value(f, "tokenizer.ggml.tokens", arch, updated);
    if (tokens.is_array() || tokens.is_string())
      c["vocab_size"] = tokens.is_array() ? tokens.size() : tokens.get<std::string>().size();
  }
  return c;
}

// <Arch>Config(**parsed).to_diff_dict() without transformers_version.
json config_json(const ArchSpec& spec, const json& parsed) {
  const json defaults = json::parse(spec.class_defaults);
  json c = defaults;
  for (const auto& [k, v] : parsed.items())
    if (k != "model_type") c[k] = v;
  spec.derive(c);
  c["model_type"] = spec.arch;
  // to_diff_dict drops a PretrainedConfig attribute equal to both its base and class defaults.
  const std::pair<const char*, json> kBase[] = {{"tie_word_embeddings", true},
                                                {"bos_token_id", nullptr},
                                                {"eos_token_id", nullptr},
                                                {"pad_token_id", nullptr}};
  for (const auto& [key, base] : kBase) {
    const json class_value = defaults.contains(key) ? defaults[key] : base;
    if (c.contains(key) && c[key] == base && class_value == base) c.erase(key);
  }
  return c;
}

}  // namespace

// The metadata value as _gguf_parse_value gives it: one-element arrays become their element.
json gguf_parsed_value(const GgufFile& f, const std::string& key, std::string_view arch,
                       std::string_view updated) {
  json v = f.value_json(key);
  if (v.is_array() && v.size() == 1) v = json(v[0]);
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (s.find(arch) != std::string::npos) replace_all(s, arch, updated);
    v = s;
  }
  return v;
}

std::string gguf_updated_architecture(const GgufFile& f, const std::string& arch) {
  // llama.cpp writes mistral models as llama; transformers checks general.name (read as a
  // one-element list, so only a name of exactly "mistral" matches).
  if (arch.find("llama") != std::string::npos && f.get_string("general.name").ok() &&
      *f.get_string("general.name") == "mistral")
    return "mistral";
  return arch;
}

std::string gguf_architecture(const GgufFile& f) {
  if (!f.contains("general.architecture")) corrupt("no general.architecture in the metadata");
  auto arch = f.get_string("general.architecture");
  if (!arch.ok())
    corrupt(fmt::format("general.architecture is {}, not a string",
                        gguf_type_name(*f.type_of("general.architecture"))));
  return *arch;
}

// Tensor processors and names (gguf_hf_tensors.cc).
Checkpoint gguf_hf_tensors(const GgufFile& f, std::string_view arch, const json& parsed,
                           const std::vector<std::pair<std::string, std::string>>& names);

Result<GgufHf> gguf_to_hf(const GgufFile& f) {
  return catch_errors([&] {
    return with_context(f.source(), [&] {
      const std::string arch = gguf_architecture(f);
      const std::string updated = gguf_updated_architecture(f, arch);
      const ArchSpec* spec = find_arch(updated);
      if (spec == nullptr) {
        for (std::string_view other : kOtherTransformersArchs)
          if (other == arch)
            unimplemented(
                fmt::format("architecture \"{}\" is not converted by mlhub (mlhub "
                            "converts llama, mistral, qwen2, qwen3, phi3, gemma2, gpt2)",
                            arch));
        unimplemented(fmt::format("GGUF model with architecture \"{}\" is not supported", arch));
      }
      const json parsed = parsed_config(f, arch, updated);
      GgufHf out;
      out.config = config_json(*spec, parsed);
      // Names: every GGUF tensor transformers' weights map knows for this model.
      std::vector<std::pair<std::string, std::string>> names;
      const json& n_layers_json =
          out.config[spec->arch == "gpt2" ? "n_layer" : "num_hidden_layers"];
      const int64_t n_layers = n_layers_json.is_number_integer() ? n_layers_json.get<int64_t>() : 0;
      for (const GgufTensorInfo& t : f.tensor_infos()) {
        for (const Rename& r : spec->global_tensors)
          if (t.name == r.gguf) names.emplace_back(t.name, std::string(r.hf));
        if (t.name.rfind("blk.", 0) != 0) continue;
        const size_t dot = t.name.find('.', 4);
        if (dot == std::string::npos) continue;
        const std::string index = t.name.substr(4, dot - 4);
        if (index.empty() || index.size() > 9 ||
            index.find_first_not_of("0123456789") != std::string::npos ||
            (index.size() > 1 && index[0] == '0'))
          continue;
        if (std::stoll(index) >= n_layers) continue;
        const std::string_view tail = std::string_view(t.name).substr(dot + 1);
        for (const Rename& r : spec->block_tensors)
          if (tail == r.gguf)
            names.emplace_back(t.name, fmt::format("{}{}.{}", spec->block_prefix, index, r.hf));
      }
      if (arch == "gpt2" && f.find_tensor("output.weight") != nullptr)
        names.emplace_back("output.weight", "lm_head.weight");
      out.tensors = gguf_hf_tensors(f, arch, parsed, names);
      return out;
    });
  });
}

}  // namespace mlhub::io
