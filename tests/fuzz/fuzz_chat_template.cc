// libFuzzer target: arbitrary bytes as a chat template, parsed and rendered over fixed messages
// (with tools, documents and special tokens) under each option combination. Parsing and
// rendering must fail cleanly or succeed; a rendered string must be valid UTF-8 and within the
// output limit. Seeds: corpus/fuzz_chat_template (the golden templates).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_util.h"
#include "mlhub/generation.h"

namespace {

using ojson = nlohmann::ordered_json;

const ojson& messages() {
  static const ojson kMessages = ojson::parse(R"([
    {"role": "system", "content": "Be brief. 你好"},
    {"role": "user", "content": "Hi \"there\" {{ x }}\n"},
    {"role": "assistant", "content": "", "tool_calls": [
      {"type": "function", "function": {"name": "f", "arguments": {"a": 1, "b": [true, null, 2.5]}}}]},
    {"role": "tool", "name": "f", "content": "42"},
    {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What?"}]},
    {"role": "assistant", "content": "Partial answer "}
  ])");
  return kMessages;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view src(reinterpret_cast<const char*>(data), size);
  auto tmpl = mlhub::generation::ChatTemplate::parse(src);
  if (!tmpl.ok()) return 0;
  for (int variant = 0; variant < 3; ++variant) {
    mlhub::generation::ChatTemplateOptions opts;
    opts.add_generation_prompt = variant == 1;
    opts.continue_final_message = variant == 2;
    opts.special_tokens = {{"bos_token", "<s>"}, {"eos_token", "</s>"}};
    if (variant == 1) {
      opts.tools = ojson::parse(R"([{"type": "function", "function": {"name": "f", "parameters": {}}}])");
      opts.documents = ojson::parse(R"([{"title": "t", "text": "x"}])");
    }
    auto out = tmpl->render(messages(), opts);
    if (!out.ok()) continue;
    MLHUB_FUZZ_CHECK(mlhub::fuzz::valid_utf8(*out));
    MLHUB_FUZZ_CHECK(out->size() <= (size_t{16} << 20));
  }
  return 0;
}
