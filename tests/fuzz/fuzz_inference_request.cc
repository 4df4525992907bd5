// libFuzzer target: the inference routes' request parsers, which all read untrusted JSON bodies:
// the task API's inputs of every kind, TEI's text / predict inputs and embedding options, TGI's
// parameters, OpenAI chat and completion requests, and the generation config built from them.
//
// Oracles: a parser either returns or throws InferenceError (a clear 4xx); any other exception
// (a nlohmann type_error from an unchecked .get<>(), std::out_of_range, ...) escapes and is
// reported as a crash. What a parser accepts is sane: batches within the client batch limit,
// no empty text, sampling values inside the ranges the routes promise, and a generation config
// that generation::build_logits_processors accepts.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "server/inference/encoder_io.h"
#include "server/inference/generation_params.h"

namespace {

using nlohmann::json;
using namespace mlhub::inference;
using namespace mlhub::inference::enc;
using namespace mlhub::inference::gen;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
  std::abort();
}

#define CHECK(cond)           \
  do {                        \
    if (!(cond)) fail(#cond); \
  } while (0)

template <class F>
void guarded(F&& f) {
  try {
    f();
  } catch (const InferenceError&) {
    // The documented answer to bad input.
  }
}

void check_inputs(const Inputs& in) {
  CHECK(!in.items.empty());
  CHECK(in.items.size() <= enc::kMaxClientBatchSize);
  CHECK(in.batch || in.items.size() == 1);
}

void check_gen(const GenParams& g) {
  CHECK(std::isfinite(g.temperature) && g.temperature >= 0);
  // OpenAI documents top_p in [0, 1] (0 keeps only the most likely token); TGI refuses 0.
  CHECK(std::isfinite(g.top_p) && g.top_p >= 0 && g.top_p <= 1);
  CHECK(g.top_k >= 0);
  CHECK(std::isfinite(g.repetition_penalty) && g.repetition_penalty > 0);
  CHECK(!g.max_new_tokens || *g.max_new_tokens >= 0);
  // Whatever was accepted must give a config the generation module accepts too.
  mlhub::generation::GenerationConfig model;
  auto config = make_config(g, model, /*prompt_length=*/4, /*max_total_tokens=*/64, /*default_new_tokens=*/8);
  try {
    (void)mlhub::generation::build_logits_processors(config, 0);
  } catch (const mlhub::Error& e) {
    std::fprintf(stderr, "accepted parameters rejected by the generation module: %s\n", e.what());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 1 << 16) return 0;
  const json body = json::parse(data, data + size, nullptr, false);
  if (body.is_discarded()) return 0;
  const json& inputs = body.is_object() && body.contains("inputs") ? body["inputs"] : body;
  for (InputKind kind : {InputKind::kText, InputKind::kTextOrPair, InputKind::kQuestion, InputKind::kSimilarity,
                         InputKind::kRanking}) {
    guarded([&] { check_inputs(task_inputs(inputs, kind)); });
  }
  guarded([&] { check_inputs(text_inputs(inputs, "inputs")); });
  guarded([&] { check_inputs(predict_inputs(inputs)); });
  if (body.is_object()) {
    guarded([&] { (void)embed_options(body, true); });
    const json& params = body.contains("parameters") ? body["parameters"] : body;
    for (bool stream : {false, true}) guarded([&] { check_gen(parse_tgi_parameters(params, stream).gen); });
    guarded([&] {
      // Encoder-decoder task parameters: what is accepted is a JSON object of known keys, and
      // its generation keys give a config or a Status, never an exception.
      const json p = seq2seq_pipeline_params(params.is_object() ? params : json::object());
      CHECK(p.is_object());
      json gen = p;
      for (const char* k : {"clean_up_tokenization_spaces", "truncation", "src_lang", "tgt_lang"}) gen.erase(k);
      mlhub::generation::GenerationConfig config;
      (void)config.update(gen);
      if (p.contains("max_new_tokens")) CHECK(p["max_new_tokens"].get<int64_t>() <= 1025);
    });
    guarded([&] {
      const ChatRequest chat = parse_chat_request(body);
      CHECK(chat.messages.is_array() && !chat.messages.empty());
      check_gen(chat.gen);
    });
    guarded([&] {
      const CompletionRequest completion = parse_completion_request(body);
      CHECK(!completion.prompts.empty() && completion.prompts.size() <= gen::kMaxClientBatchSize);
      check_gen(completion.gen);
    });
  }
  return 0;
}
