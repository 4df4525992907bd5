// The generation routes' request parsing and response shaping (generation_params.h): TGI's
// validation messages (taken from text-generation-inference's router/src/validation.rs), OpenAI's
// ranges, the mapping onto GenerationConfig, and the stop-sequence trimming of streamed text.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "server/inference/generation_params.h"

namespace mlhub::inference::gen {
namespace {

using generation::FinishReason;

// The message of the InferenceError `fn` throws (and that it is a validation error).
template <typename Fn>
std::string validation_message(Fn&& fn) {
  try {
    fn();
  } catch (const InferenceError& e) {
    EXPECT_EQ(e.kind, ErrorKind::kValidation) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no InferenceError thrown";
  return "";
}

std::string tgi_error(const json& params, bool stream = false) {
  return validation_message([&] { parse_tgi_parameters(params, stream); });
}

TEST(TgiParameters, DefaultsAreGreedyWithoutDetails) {
  const TgiRequest r = parse_tgi_parameters(nullptr, false);
  EXPECT_FALSE(r.gen.do_sample);
  EXPECT_FALSE(r.details);
  EXPECT_FALSE(r.decoder_input_details);
  EXPECT_FALSE(r.return_full_text.has_value());
  EXPECT_FALSE(r.gen.max_new_tokens.has_value());
  EXPECT_EQ(r.gen.top_k, 0);
  EXPECT_EQ(r.gen.top_p, 1.0);
  EXPECT_TRUE(r.gen.stop.empty());
}

TEST(TgiParameters, NullMembersCountAsAbsent) {
  // What text_generation.Client.generate posts (pydantic's .dict() keeps the Nones).
  const json params = json::parse(R"({"best_of": null, "details": true, "do_sample": false,
    "max_new_tokens": 20, "repetition_penalty": null, "frequency_penalty": null,
    "return_full_text": false, "seed": null, "stop": [], "temperature": null, "top_k": null,
    "top_p": null, "truncate": null, "typical_p": null, "watermark": false,
    "decoder_input_details": false, "top_n_tokens": null, "grammar": null})");
  const TgiRequest r = parse_tgi_parameters(params, false);
  EXPECT_FALSE(r.gen.do_sample);
  EXPECT_TRUE(r.details);
  EXPECT_EQ(r.gen.max_new_tokens, 20);
  EXPECT_EQ(r.return_full_text, false);
  EXPECT_FALSE(r.gen.seed.has_value());
  EXPECT_FALSE(r.gen.truncate.has_value());
}

TEST(TgiParameters, ValidationMessagesAreTgis) {
  EXPECT_EQ(tgi_error({{"temperature", -1}}),
            "Input validation error: `temperature` must be strictly positive");
  EXPECT_EQ(tgi_error({{"temperature", 0}}),
            "Input validation error: `temperature` must be strictly positive");
  EXPECT_EQ(tgi_error({{"top_p", 2}}), "Input validation error: `top_p` must be > 0.0 and < 1.0");
  EXPECT_EQ(tgi_error({{"top_p", 1.0}}), "Input validation error: `top_p` must be > 0.0 and < 1.0");
  EXPECT_EQ(tgi_error({{"typical_p", 0}}),
            "Input validation error: `typical_p` must be > 0.0 and < 1.0");
  EXPECT_EQ(tgi_error({{"top_k", 0}}), "Input validation error: `top_k` must be strictly positive");
  EXPECT_EQ(tgi_error({{"repetition_penalty", 0}}),
            "Input validation error: `repetition_penalty` must be strictly positive");
  EXPECT_EQ(tgi_error({{"frequency_penalty", 2.5}}),
            "Input validation error: `frequency_penalty` must be >= -2.0 and <= 2.0");
  EXPECT_EQ(tgi_error({{"max_new_tokens", 0}}),
            "Input validation error: `max_new_tokens` must be strictly positive");
  EXPECT_EQ(tgi_error({{"max_new_tokens", -3}}),
            "Input validation error: `max_new_tokens` must be strictly positive");
  EXPECT_EQ(tgi_error({{"stop", {"a", "b", "c", "d", "e"}}}),
            "Input validation error: `stop` supports up to 4 stop sequences. Given: 5");
  EXPECT_EQ(tgi_error({{"best_of", 2}, {"do_sample", true}}),
            "Input validation error: `best_of` != 1 is not allowed for this endpoint");
  EXPECT_EQ(tgi_error({{"best_of", 2}, {"do_sample", true}}, true),
            "Input validation error: `best_of` != 1 is not supported when streaming tokens");
  EXPECT_EQ(tgi_error({{"top_n_tokens", 3}}),
            "Input validation error: `top_n_tokens` != 0 is not allowed for this endpoint");
  EXPECT_EQ(tgi_error({{"decoder_input_details", true}}, true),
            "Input validation error: `decoder_input_details` == true is not supported when "
            "streaming tokens");
  EXPECT_EQ(tgi_error({{"grammar", {{"type", "json"}, {"value", json::object()}}}}),
            "Input validation error: grammar is not supported");
  EXPECT_EQ(tgi_error({{"temperature", "hot"}}),
            "Input validation error: `temperature` must be a number");
  EXPECT_EQ(tgi_error({{"max_new_tokens", 2.5}}),
            "Input validation error: `max_new_tokens` must be an integer");
  EXPECT_EQ(tgi_error({{"details", "yes"}}), "Input validation error: `details` must be a boolean");
  EXPECT_EQ(tgi_error({{"seed", -1}}),
            "Input validation error: `seed` must be a non-negative integer");
  EXPECT_EQ(tgi_error(json::array()), "Input validation error: `parameters` must be an object");
  // Accepted: top_n_tokens 0, best_of 1, decoder_input_details without streaming.
  EXPECT_NO_THROW(parse_tgi_parameters(
      {{"top_n_tokens", 0}, {"best_of", 1}, {"decoder_input_details", true}}, false));
}

TEST(TgiParameters, AnyWarperTurnsSamplingOn) {
  // TGI's server samples when do_sample is set or a warper would change the distribution.
  EXPECT_TRUE(parse_tgi_parameters({{"do_sample", true}}, false).gen.do_sample);
  EXPECT_TRUE(parse_tgi_parameters({{"temperature", 0.5}}, false).gen.do_sample);
  EXPECT_TRUE(parse_tgi_parameters({{"top_k", 5}}, false).gen.do_sample);
  EXPECT_TRUE(parse_tgi_parameters({{"top_p", 0.9}}, false).gen.do_sample);
  EXPECT_TRUE(parse_tgi_parameters({{"typical_p", 0.9}}, false).gen.do_sample);
  EXPECT_FALSE(parse_tgi_parameters({{"temperature", 1.0}}, false).gen.do_sample);
  EXPECT_FALSE(
      parse_tgi_parameters({{"repetition_penalty", 1.2}, {"seed", 7}}, false).gen.do_sample);
  const TgiRequest r =
      parse_tgi_parameters({{"temperature", 0.7}, {"top_k", 40}, {"seed", 42}}, false);
  EXPECT_DOUBLE_EQ(r.gen.temperature, 0.7);
  EXPECT_EQ(r.gen.top_k, 40);
  EXPECT_EQ(r.gen.seed, 42u);
}

TEST(TgiParameters, StopSequencesUnderEitherName) {
  EXPECT_EQ(parse_tgi_parameters({{"stop", {"\n\n", ""}}}, false).gen.stop,
            std::vector<std::string>{"\n\n"});
  EXPECT_EQ(parse_tgi_parameters({{"stop_sequences", {"END"}}}, false).gen.stop,
            std::vector<std::string>{"END"});
  EXPECT_EQ(parse_tgi_parameters({{"stop", "END"}}, false).gen.stop,
            std::vector<std::string>{"END"});
}

TEST(TgiShapes, FinishReasonsAndTokens) {
  EXPECT_EQ(tgi_finish_reason(FinishReason::kLength), "length");
  EXPECT_EQ(tgi_finish_reason(FinishReason::kEos), "eos_token");
  EXPECT_EQ(tgi_finish_reason(FinishReason::kStopString), "stop_sequence");
  EXPECT_EQ(openai_finish_reason(FinishReason::kLength), "length");
  EXPECT_EQ(openai_finish_reason(FinishReason::kEos), "stop");
  EXPECT_EQ(openai_finish_reason(FinishReason::kStopString), "stop");

  TokenEvent word{.id = 837,
                  .text = " am",
                  .token_text = "Ġam",
                  .logprob = -0.5f,
                  .special = false,
                  .index = 0};
  TokenEvent eos{.id = 2,
                 .text = "",
                 .token_text = "<|im_end|>",
                 .logprob = -0.25f,
                 .special = true,
                 .index = 1};
  EXPECT_EQ(tgi_token(word),
            json::parse(R"({"id": 837, "text": " am", "logprob": -0.5, "special": false})"));
  // A special token shows its own text; the generated text leaves it out.
  EXPECT_EQ(tgi_token(eos)["text"], "<|im_end|>");
  EXPECT_EQ(tgi_token(word, std::string(" am\xEF\xBF\xBD"))["text"], " am\xEF\xBF\xBD");

  GenerationOutcome out;
  out.tokens = {837, 2};
  out.finish_reason = FinishReason::kEos;
  out.seed = 1234;
  const json greedy = tgi_details(out, false, {word, eos}, nullptr);
  EXPECT_EQ(greedy["finish_reason"], "eos_token");
  EXPECT_EQ(greedy["generated_tokens"], 2);
  EXPECT_TRUE(greedy["seed"].is_null());
  EXPECT_EQ(greedy["prefill"], json::array());
  ASSERT_EQ(greedy["tokens"].size(), 2u);
  EXPECT_EQ(greedy["tokens"][1]["special"], true);
  EXPECT_EQ(tgi_details(out, true, {word, eos}, nullptr)["seed"], 1234);

  const std::vector<int64_t> prompt = {1, 50, 60};
  const json prefill = tgi_prefill(prompt, {"<s>", "My", " name"}, {-2.5f, -0.5f});
  ASSERT_EQ(prefill.size(), 3u);
  EXPECT_EQ(prefill[0], json::parse(R"({"id": 1, "text": "<s>", "logprob": null})"));
  EXPECT_EQ(prefill[1]["logprob"], -2.5);
  EXPECT_EQ(prefill[2]["text"], " name");
  EXPECT_EQ(prefill[2]["logprob"], -0.5);
}

// ---- OpenAI -------------------------------------------------------------------------------------

json chat(json extra = json::object()) {
  json body{{"model", "org/model"}, {"messages", {{{"role", "user"}, {"content", "Hi"}}}}};
  for (auto& [k, v] : extra.items()) body[k] = v;
  return body;
}

std::string chat_error(const json& extra) {
  return validation_message([&] { parse_chat_request(chat(extra)); });
}

TEST(ChatRequest, DefaultsSampleAtTemperatureOneAndTemperatureZeroIsGreedy) {
  const ChatRequest r = parse_chat_request(chat());
  EXPECT_TRUE(r.gen.do_sample);
  EXPECT_DOUBLE_EQ(r.gen.temperature, 1.0);
  EXPECT_EQ(r.gen.max_new_tokens, kDefaultMaxNewTokens);
  EXPECT_FALSE(r.stream);
  EXPECT_FALSE(r.logprobs);
  const ChatRequest greedy =
      parse_chat_request(chat({{"temperature", 0}, {"max_tokens", 12}, {"seed", 5}}));
  EXPECT_FALSE(greedy.gen.do_sample);
  EXPECT_EQ(greedy.gen.max_new_tokens, 12);
  EXPECT_EQ(greedy.gen.seed, 5u);
  EXPECT_EQ(parse_chat_request(chat({{"max_completion_tokens", 7}})).gen.max_new_tokens, 7);
  const ChatRequest s = parse_chat_request(chat({{"stream", true},
                                                 {"stream_options", {{"include_usage", true}}},
                                                 {"stop", "\n"},
                                                 {"logprobs", true}}));
  EXPECT_TRUE(s.stream);
  EXPECT_TRUE(s.include_usage);
  EXPECT_TRUE(s.logprobs);
  EXPECT_EQ(s.gen.stop, std::vector<std::string>{"\n"});
}

TEST(ChatRequest, MessagesBecomeTemplateInput) {
  const json body = chat({{"messages", json::parse(R"([
      {"role": "system", "content": "Be brief."},
      {"role": "user", "content": [{"type": "text", "text": "Héllo "}, {"type": "text", "text": "there"}]},
      {"role": "assistant", "content": null, "name": "bot"}])")}});
  const ChatRequest r = parse_chat_request(body);
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_EQ(r.messages[1]["content"], "Héllo there");
  EXPECT_EQ(r.messages[2]["content"], "");
  EXPECT_EQ(r.messages[2]["name"], "bot");
  EXPECT_EQ(r.messages[0].begin().key(), "role");
  EXPECT_EQ(r.input_characters, 9 + 11);  // code points, not bytes
}

TEST(ChatRequest, BadFieldsAreRejectedWithOpenAiMessages) {
  EXPECT_EQ(chat_error({{"temperature", -1}}),
            "Invalid 'temperature': decimal below minimum value. Expected a value >= 0, but got -1 "
            "instead.");
  EXPECT_EQ(chat_error({{"temperature", 2.5}}),
            "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got "
            "2.5 instead.");
  EXPECT_EQ(
      chat_error({{"top_p", 2}}),
      "Invalid 'top_p': decimal above maximum value. Expected a value <= 1, but got 2 instead.");
  EXPECT_EQ(chat_error({{"max_tokens", -5}}),
            "Invalid 'max_tokens': integer below minimum value. Expected a value >= 1, but got -5 "
            "instead.");
  EXPECT_NE(chat_error({{"n", 2}}).find("only n = 1 is supported"), std::string::npos);
  EXPECT_NE(chat_error({{"stop", {"a", "b", "c", "d", "e"}}}).find("maximum length 4"),
            std::string::npos);
  EXPECT_NE(
      chat_error({{"top_logprobs", 2}, {"logprobs", true}}).find("'top_logprobs' is not supported"),
      std::string::npos);
  EXPECT_NE(chat_error({{"response_format", {{"type", "json_object"}}}})
                .find("'response_format' is not supported"),
            std::string::npos);
  const json tools =
      json::parse(R"([{"type": "function", "function": {"name": "f", "parameters": {}}}])");
  EXPECT_NE(chat_error({{"tools", tools}}).find("'tools' is not supported"), std::string::npos);
  EXPECT_NE(chat_error({{"messages", json::array()}}).find("'messages' is required"),
            std::string::npos);
  EXPECT_NE(chat_error({{"messages", {{{"content", "no role"}}}}}).find("'role'"),
            std::string::npos);
  EXPECT_NE(
      chat_error({{"messages", json::parse(R"([{"role": "user", "content": [{"type": "image_url",
      "image_url": {"url": "http://x/y.png"}}]}])")}})
          .find("'image_url' are not supported"),
      std::string::npos);
  EXPECT_NE(chat_error({{"logit_bias", {{"50", 10}}}}).find("'logit_bias' is not supported"),
            std::string::npos);
  // What needs no support: tools switched off, a text response format, n = 1, empty logit_bias.
  EXPECT_NO_THROW(parse_chat_request(chat({{"tools", tools},
                                           {"tool_choice", "none"},
                                           {"response_format", {{"type", "text"}}},
                                           {"n", 1},
                                           {"logit_bias", json::object()},
                                           {"top_logprobs", 0}})));
}

TEST(CompletionRequest, PromptsAndDefaults) {
  const CompletionRequest one = parse_completion_request({{"model", "m"}, {"prompt", "Once"}});
  EXPECT_EQ(one.prompts, std::vector<std::string>{"Once"});
  EXPECT_EQ(one.gen.max_new_tokens, kDefaultCompletionTokens);
  EXPECT_TRUE(one.gen.do_sample);
  const CompletionRequest many = parse_completion_request({{"prompt", {"a", "b"}},
                                                           {"echo", true},
                                                           {"temperature", 0},
                                                           {"stream", true},
                                                           {"max_tokens", 3}});
  EXPECT_EQ(many.prompts.size(), 2u);
  EXPECT_TRUE(many.echo);
  EXPECT_TRUE(many.stream);
  EXPECT_FALSE(many.gen.do_sample);
  EXPECT_EQ(many.gen.max_new_tokens, 3);
  // @huggingface/inference forwards TGI parameters: do_sample false without a temperature is
  // greedy.
  EXPECT_FALSE(parse_completion_request({{"prompt", "x"}, {"do_sample", false}, {"top_k", 5}})
                   .gen.do_sample);

  auto error = [](const json& body) {
    return validation_message([&] { parse_completion_request(body); });
  };
  EXPECT_NE(error({{"prompt", "x"}, {"suffix", "end"}}).find("'suffix' is not supported"),
            std::string::npos);
  EXPECT_NE(error({{"prompt", {1, 2, 3}}}).find("token id prompts are not supported"),
            std::string::npos);
  EXPECT_NE(error({{"prompt", "x"}, {"logprobs", 2}}).find("'logprobs' is not supported"),
            std::string::npos);
  EXPECT_NE(error({{"prompt", "x"}, {"best_of", 3}}).find("best_of = 1"), std::string::npos);
  EXPECT_NE(error(json::object()).find("'prompt' is required"), std::string::npos);
  EXPECT_NE(
      error({{"prompt", std::vector<std::string>(kMaxClientBatchSize + 1, "p")}}).find("at most"),
      std::string::npos);
}

TEST(OpenAiShapes, LogprobAndIds) {
  const TokenEvent e{
      .id = 5, .text = "é", .token_text = "é", .logprob = -1.5f, .special = false, .index = 0};
  EXPECT_EQ(
      openai_logprob(e),
      json::parse(R"({"token": "é", "logprob": -1.5, "bytes": [195, 169], "top_logprobs": []})"));
  const std::string a = random_id("chatcmpl-"), b = random_id("chatcmpl-");
  EXPECT_EQ(a.rfind("chatcmpl-", 0), 0u);
  EXPECT_EQ(a.size(), 9u + 24u);
  EXPECT_NE(a, b);
}

// ---- StopTrimmer --------------------------------------------------------------------------------

TEST(StopTrimmer, CutsBeforeTheStopSequence) {
  StopTrimmer t({"\nUser:"});
  EXPECT_EQ(t.feed("Paris is"), "Paris is");
  EXPECT_EQ(t.feed(" nice.\nUs"), " nice.");  // "\nUs" may still become the stop
  EXPECT_EQ(t.feed("er: hi"), "");
  EXPECT_TRUE(t.stopped());
  EXPECT_EQ(t.feed("more"), "");
  EXPECT_EQ(t.finish(), "");
}

TEST(StopTrimmer, ReleasesAHeldTailThatDidNotBecomeAStop) {
  StopTrimmer t({"END"});
  EXPECT_EQ(t.feed("the EN"), "the ");
  EXPECT_EQ(t.feed("D"), "");
  EXPECT_TRUE(t.stopped());

  StopTrimmer u({"END"});
  EXPECT_EQ(u.feed("the EN"), "the ");
  EXPECT_EQ(u.feed("TRY"), "ENTRY");
  EXPECT_EQ(u.feed("E"), "");
  EXPECT_EQ(u.finish(), "E");
  EXPECT_FALSE(u.stopped());

  StopTrimmer none({});
  EXPECT_EQ(none.feed("anything"), "anything");
  EXPECT_EQ(none.finish(), "");
}

TEST(StopTrimmer, PiecesReleaseWhatTheWholeTextReleases) {
  // Every way to cut the text into three pieces gives the same shown text as feeding it whole.
  const std::string text = "ab\xC3\xA9 stop\xC3\xA9 st";  // "abé stopé st"
  for (const std::vector<std::string>& stops :
       {std::vector<std::string>{"stop"}, {"\xC3\xA9 s"}, {"zz", "p\xC3\xA9"}, {"st"}, {"none"}}) {
    StopTrimmer whole(stops);
    const std::string expected = whole.feed(text) + whole.finish();
    for (size_t i = 0; i <= text.size(); ++i) {
      for (size_t j = i; j <= text.size(); ++j) {
        StopTrimmer t(stops);
        std::string shown = t.feed(text.substr(0, i));
        shown += t.feed(text.substr(i, j - i));
        shown += t.feed(text.substr(j));
        shown += t.finish();
        ASSERT_EQ(shown, expected) << "stops[0]=" << stops[0] << " cuts " << i << "," << j;
      }
    }
  }
  StopTrimmer t({"stop"});
  EXPECT_EQ(t.feed(text) + t.finish(), "ab\xC3\xA9 ");
}

// ---- Engine requests ----------------------------------------------------------------------------

TEST(FitPrompt, TruncatesAndChecksLengths) {
  std::vector<int64_t> ids = {1, 2, 3, 4, 5, 6};
  fit_prompt(ids, 4, 10);
  EXPECT_EQ(ids, (std::vector<int64_t>{3, 4, 5, 6}));  // TGI keeps the last tokens
  std::vector<int64_t> long_ids(12, 7);
  EXPECT_EQ(validation_message([&] { fit_prompt(long_ids, std::nullopt, 10); }),
            "Input validation error: `inputs` must have less than 10 tokens. Given: 12");
  EXPECT_EQ(
      validation_message([&] { fit_prompt(long_ids, 0, 10); }),
      "Input validation error: `truncate` must be strictly positive and less than 10. Given: 0");
  EXPECT_EQ(
      validation_message([&] { fit_prompt(long_ids, 11, 10); }),
      "Input validation error: `truncate` must be strictly positive and less than 10. Given: 11");
  fit_prompt(long_ids, 10, 10);
  EXPECT_EQ(long_ids.size(), 10u);
  std::vector<int64_t> empty;
  EXPECT_EQ(validation_message([&] { fit_prompt(empty, std::nullopt, 10); }),
            "Input validation error: `inputs` cannot be empty");
}

TEST(MakeConfig, KeepsTheModelsTokensAndReplacesItsStrategy) {
  generation::GenerationConfig model;
  model.eos_token_id = {2, 7};
  model.bos_token_id = 1;
  model.pad_token_id = 0;
  model.do_sample = true;  // a model's sampling defaults do not apply
  model.temperature = 0.2;
  model.top_k = 50;
  model.top_p = 0.9;
  model.repetition_penalty = 1.3;
  model.max_length = 64;
  model.num_beams = 4;

  GenParams p;
  p.stop = {"\n\n"};
  p.seed = 9;
  generation::GenerationConfig c = make_config(p, model, 10, 2048, kDefaultMaxNewTokens);
  EXPECT_EQ(c.eos_token_id, (std::vector<int64_t>{2, 7}));
  EXPECT_EQ(c.bos_token_id, 1);
  EXPECT_EQ(c.pad_token_id, 0);
  EXPECT_FALSE(c.do_sample);
  EXPECT_EQ(c.top_k, 0);
  EXPECT_EQ(c.top_p, 1.0);
  EXPECT_EQ(c.repetition_penalty, 1.0);
  EXPECT_EQ(c.num_beams, 1);
  EXPECT_FALSE(c.max_length.has_value());
  EXPECT_EQ(c.max_new_tokens, kDefaultMaxNewTokens);
  EXPECT_EQ(c.stop_strings, std::vector<std::string>{"\n\n"});
  EXPECT_EQ(c.seed, 9u);

  // The default and an explicit request are both capped to the context left after the prompt.
  EXPECT_EQ(make_config(p, model, 100, 128, kDefaultMaxNewTokens).max_new_tokens, 28);
  p.max_new_tokens = 500;
  EXPECT_EQ(make_config(p, model, 100, 128, kDefaultMaxNewTokens).max_new_tokens, 28);
  p.max_new_tokens = 10;
  EXPECT_EQ(make_config(p, model, 100, 128, kDefaultMaxNewTokens).max_new_tokens, 10);

  const TgiRequest sampled = parse_tgi_parameters({{"temperature", 0.5}, {"top_p", 0.8}}, false);
  c = make_config(sampled.gen, model, 10, 2048, kDefaultMaxNewTokens);
  EXPECT_TRUE(c.do_sample);
  EXPECT_DOUBLE_EQ(c.temperature, 0.5);
  EXPECT_DOUBLE_EQ(c.top_p, 0.8);
  EXPECT_EQ(c.top_k, 0);
}

}  // namespace
}  // namespace mlhub::inference::gen
