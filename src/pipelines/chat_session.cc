// ChatSession (include/mlhub/pipelines.h): the chat pipeline's prompt and decoding rules, with one
// KV cache kept across turns. The decode loop is generation's greedy / sampling step (processors
// on the raw logits row, then argmax or a draw) run directly on the session's own cache, which
// generation::generate() does not take.
#include <algorithm>
#include <random>

#include "pipelines/decoder_support.h"

namespace mlhub {

using pipelines::ojson;

struct ChatSession::Impl {
  std::shared_ptr<const pipelines::DecoderAssets> a;
  generation::GenerationConfig config;
  std::string system;
  ojson messages = ojson::array();
  models::KvCache cache;
  std::shared_ptr<const std::vector<std::string>> token_strings;  // for stop_strings
  generation::Rng rng;
  int64_t reused = 0;

  void clear() {
    messages = ojson::array();
    if (!system.empty()) messages.push_back(ojson{{"role", "system"}, {"content", system}});
    cache.truncate(0);
  }

  // Runs `prompt` (reusing the cache's common prefix) and generates the reply's tokens.
  std::vector<int64_t> generate(const std::vector<int64_t>& prompt,
                                generation::TextStreamer& streamer);
};

namespace {

size_t common_prefix(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

bool contains(const std::vector<int64_t>& v, int64_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

std::vector<int64_t> ChatSession::Impl::generate(const std::vector<int64_t>& prompt,
                                                 generation::TextStreamer& streamer) {
  const models::DecoderModel& model = *a->model;
  const int64_t prompt_len = static_cast<int64_t>(prompt.size());
  const int64_t max_length = config.resolved_max_length(prompt_len, model.max_positions());
  if (prompt_len >= max_length) {
    throw Error(StatusCode::kInvalidArgument, "the conversation has " + std::to_string(prompt_len) +
                                                  " tokens, the model takes at most " +
                                                  std::to_string(max_length) +
                                                  ": /reset to start over");
  }
  // Keep the cached tokens the new prompt starts with; at least one prompt token must run to
  // give the next token's logits.
  size_t keep = common_prefix(cache.tokens(), prompt);
  if (keep == prompt.size()) --keep;
  cache.truncate(static_cast<int64_t>(keep));
  reused = static_cast<int64_t>(keep);

  const generation::LogitsProcessorList processors =
      generation::build_logits_processors(config, config.resolved_min_length(prompt_len));
  std::optional<generation::StopStringMatcher> stop;
  if (!config.stop_strings.empty()) stop.emplace(config.stop_strings, token_strings);
  Status s = streamer.put_prompt(prompt);
  if (!s.ok()) throw Error(s);

  std::vector<int64_t> tokens = prompt;
  std::vector<int64_t> generated;
  std::vector<int64_t> feed(prompt.begin() + static_cast<std::ptrdiff_t>(keep), prompt.end());
  std::vector<float> scores;
  while (true) {
    const models::DecoderSequence seq{feed, &cache, false};
    const Tensor logits = model.forward(std::span<const models::DecoderSequence>(&seq, 1))
                              .to(DType::kF32)
                              .contiguous();
    const float* row = logits.data<float>();
    scores.assign(row, row + logits.dim(-1));
    processors.apply({tokens, prompt_len}, scores);
    const int64_t next =
        config.do_sample ? generation::sample_from_logits(scores, rng) : generation::argmax(scores);
    tokens.push_back(next);
    generated.push_back(next);
    s = streamer.put(next);
    if (!s.ok()) throw Error(s);
    if (contains(config.eos_token_id, next)) break;
    if (static_cast<int64_t>(tokens.size()) >= max_length) break;
    if (stop && stop->matches(tokens)) break;
    feed.assign(1, next);
  }
  s = streamer.end();
  if (!s.ok()) throw Error(s);
  return generated;
}

ChatSession::ChatSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ChatSession::~ChatSession() = default;

Result<std::unique_ptr<ChatSession>> ChatSession::open(const std::filesystem::path& model,
                                                       const Options& options) {
  return catch_errors([&]() -> std::unique_ptr<ChatSession> {
    auto impl = std::make_unique<Impl>();
    impl->a = pipelines::load_decoder_assets(model);
    if (!impl->a->chat_template) {
      throw Error(StatusCode::kInvalidArgument,
                  "the model's tokenizer has no chat template (tokenizer_config.json "
                  "chat_template or chat_template.jinja)");
    }
    impl->config = impl->a->pipeline_config;
    Status s = impl->config.update(options.generate.is_null() ? nlohmann::json::object()
                                                              : options.generate);
    if (s.ok()) s = impl->config.validate();
    if (!s.ok()) throw Error(s);
    if (impl->config.num_beams > 1 || impl->config.num_return_sequences > 1) {
      throw Error(StatusCode::kInvalidArgument,
                  "chat generates one reply by greedy decoding or sampling: num_beams and "
                  "num_return_sequences must be 1");
    }
    if (!impl->config.stop_strings.empty()) {
      auto table = generation::token_strings_for(impl->a->files.tok.tokenizer);
      if (!table.ok()) throw Error(table.status());
      impl->token_strings = std::make_shared<const std::vector<std::string>>(std::move(*table));
    }
    impl->rng = generation::Rng(impl->config.seed ? *impl->config.seed : std::random_device{}());
    impl->system = options.system;
    impl->cache = impl->a->model->new_cache();
    impl->clear();
    return std::unique_ptr<ChatSession>(new ChatSession(std::move(impl)));
  });
}

Result<std::string> ChatSession::send(std::string_view user_text,
                                      const std::function<void(std::string_view)>& on_text) {
  Impl& s = *impl_;
  s.messages.push_back(ojson{{"role", "user"}, {"content", std::string(user_text)}});
  auto reply = catch_errors([&]() -> std::string {
    const std::vector<int64_t> prompt = pipelines::chat_prompt_ids(*s.a, s.messages, false);
    generation::TextStreamer streamer(s.a->files.tok.tokenizer, on_text, /*skip_prompt=*/true,
                                      /*skip_special_tokens=*/true);
    const std::vector<int64_t> generated = s.generate(prompt, streamer);
    return pipelines::text_after_prompt(*s.a, prompt, generated, true, true);
  });
  if (!reply.ok()) {
    s.messages.erase(s.messages.end() - 1);
    return reply.status();
  }
  s.messages.push_back(ojson{{"role", "assistant"}, {"content", *reply}});
  return reply;
}

void ChatSession::reset() {
  impl_->clear();
}

const nlohmann::ordered_json& ChatSession::messages() const {
  return impl_->messages;
}

int64_t ChatSession::reused_tokens() const {
  return impl_->reused;
}

}  // namespace mlhub
