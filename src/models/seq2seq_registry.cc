// The one list of encoder-decoder architectures (config.json model_type -> factory), and
// load_seq2seq.
#include <fmt/format.h>

#include "models/common.h"
#include "models/seq2seq_common.h"

namespace mlhub::models {
namespace {

// model_type, base prefix of the generation class's checkpoints, factory.
const std::vector<Seq2SeqRegistration> kSeq2Seq = {
    {"t5", "", make_t5},
};

}  // namespace

const Seq2SeqRegistration* find_seq2seq_registration(std::string_view model_type) {
  for (const auto& r : kSeq2Seq)
    if (model_type == r.model_type) return &r;
  return nullptr;
}

std::vector<std::string> supported_seq2seq_types() {
  std::vector<std::string> out;
  for (const auto& r : kSeq2Seq) out.push_back(r.model_type);
  return out;
}

Result<std::unique_ptr<Seq2SeqModel>> load_seq2seq(const std::filesystem::path& folder,
                                                   const LoadOptions& options) {
  auto config = ModelConfig::load(folder);
  if (!config.ok()) return config.status();
  const Seq2SeqRegistration* reg = find_seq2seq_registration(config->model_type);
  if (reg == nullptr)
    return Status(StatusCode::kUnimplemented,
                  fmt::format("encoder-decoder model_type \"{}\" is not supported (supported: {})",
                              config->model_type, fmt::join(supported_seq2seq_types(), ", ")));
  auto ckpt = io::Checkpoint::open(folder);
  if (!ckpt.ok()) return ckpt.status();
  return catch_errors([&]() -> std::unique_ptr<Seq2SeqModel> {
    nn::WeightMap weights(std::make_shared<const io::Checkpoint>(std::move(*ckpt)), reg->base_prefix,
                          /*head_model=*/true);
    std::unique_ptr<Seq2SeqBase> model = reg->factory(*config, weights);
    auto report = weights.finish(options.allow_missing);
    if (!report.ok()) throw Error(report.status());
    model->set_load_report(std::move(*report));
    return model;
  });
}

}  // namespace mlhub::models
