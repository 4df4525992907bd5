// The one list of decoder architectures (config.json model_type -> factory), and load_decoder.
#include <fmt/format.h>

#include "models/common.h"
#include "models/decoder_common.h"

namespace mlhub::models {
namespace {

// model_type, transformers' base_model_prefix, factory.
const DecoderRegistration kDecoders[] = {
    {"llama", "model", make_llama},
    {"mistral", "model", make_llama},
    {"qwen2", "model", make_llama},
    {"qwen3", "model", make_llama},
    {"gemma", "model", make_gemma},
    {"gemma2", "model", make_gemma},
    {"gpt2", "transformer", make_gpt2},
    {"gpt_neox", "gpt_neox", make_gpt_neox},
    {"phi3", "model", make_phi3},
};

Result<std::unique_ptr<DecoderModel>> build_decoder(const ModelConfig& config,
                                                    std::shared_ptr<const io::Checkpoint> ckpt,
                                                    const DecoderLoadOptions& options) {
  return catch_errors([&]() -> std::unique_ptr<DecoderModel> {
    const DecoderRegistration* reg = find_decoder_registration(config.model_type);
    if (reg == nullptr)
      throw Error(StatusCode::kUnimplemented,
                  fmt::format("decoder model_type \"{}\" is not supported (supported: {})",
                              config.model_type, fmt::join(supported_decoder_types(), ", ")));
    // *ForCausalLM: the base model sits under the prefix, lm_head beside it.
    nn::WeightMap weights(std::move(ckpt), reg->base_prefix, /*head_model=*/true);
    weights.keep_quantized(!options.dequantize);
    std::unique_ptr<DecoderBase> model = reg->factory(config, weights);
    auto report = weights.finish(options.allow_missing);
    if (!report.ok()) throw Error(report.status());
    model->set_load_report(std::move(*report));
    return model;
  });
}

}  // namespace

const DecoderRegistration* find_decoder_registration(std::string_view model_type) {
  for (const auto& r : kDecoders)
    if (model_type == r.model_type) return &r;
  return nullptr;
}

std::vector<std::string> supported_decoder_types() {
  std::vector<std::string> out;
  for (const auto& r : kDecoders) out.push_back(r.model_type);
  return out;
}

Result<std::unique_ptr<DecoderModel>> load_decoder(const std::filesystem::path& path,
                                                   const DecoderLoadOptions& options) {
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec) && path.extension() == ".gguf") {
    // The config and Hugging Face state dict transformers makes of the file (gguf_file=).
    auto file = io::GgufFile::open(path);
    if (!file.ok()) return file.status();
    auto hf = io::gguf_to_hf(*file);
    if (!hf.ok()) return hf.status();
    auto config = ModelConfig::parse(hf->config);
    if (!config.ok())
      return Status(config.status().code(),
                    fmt::format("{}: {}", path.string(), config.status().message()));
    return build_decoder(*config, std::make_shared<const io::Checkpoint>(std::move(hf->tensors)),
                         options);
  }
  auto config = ModelConfig::load(path);
  if (!config.ok()) return config.status();
  auto ckpt = io::Checkpoint::open(path);
  if (!ckpt.ok()) return ckpt.status();
  return build_decoder(*config, std::make_shared<const io::Checkpoint>(std::move(*ckpt)), options);
}

}  // namespace mlhub::models
