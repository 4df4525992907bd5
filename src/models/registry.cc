// The one list of encoder architectures: config.json model_type -> factory (CTranslate2's
// register_supported_models). A new architecture is one file plus one line here.
#include "models/registry.h"

namespace mlhub::models {
namespace {

// model_type, transformers' base_model_prefix, factory.
const EncoderRegistration kEncoders[] = {
    {"bert", "bert", make_bert},
    {"roberta", "roberta", make_roberta},
    {"xlm-roberta", "roberta", make_roberta},
    {"electra", "electra", make_electra},
    {"distilbert", "distilbert", make_distilbert},
    {"mpnet", "mpnet", make_mpnet},
    {"deberta-v2", "deberta", make_deberta_v2},
    {"xlnet", "transformer", make_xlnet},
};

}  // namespace

const EncoderRegistration* find_registration(std::string_view model_type) {
  for (const auto& r : kEncoders)
    if (model_type == r.model_type) return &r;
  return nullptr;
}

std::vector<std::string> supported_model_types() {
  std::vector<std::string> out;
  for (const auto& r : kEncoders) out.push_back(r.model_type);
  return out;
}

}  // namespace mlhub::models
