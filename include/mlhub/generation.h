// mlhub generation: what turns a decoder model into text: chat templates (the Jinja subset that
// tokenizer_config.json chat_template fields use, rendered exactly as transformers'
// apply_chat_template), and generation (logits processors, greedy / sampling / beam search,
// stopping criteria, streamers) with transformers' GenerationConfig semantics.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlhub/core.h"
#include "mlhub/models.h"
#include "mlhub/tokenizers.h"

namespace mlhub::generation {

// ==== Chat templates (src/generation/chat_template*.cc) =======================================

// ==== Generation (src/generation/generate*.cc and friends) ====================================

}  // namespace mlhub::generation
