// The Generator (requests join and leave between steps; one model forward per step over every
// running sequence) and generate(), which runs a fixed batch of prompts through it.
#include <algorithm>
#include <map>
#include <random>

#include <fmt/format.h>

#include "search.h"

namespace mlhub::generation {

using internal::RequestContext;
using internal::Search;

struct Generator::Impl {
  const models::DecoderModel* model = nullptr;
  const tok::Tokenizer* tokenizer = nullptr;
  std::shared_ptr<const std::vector<std::string>> token_strings;  // built on first stop_strings
  std::map<uint64_t, std::unique_ptr<Search>> running;            // in request order
  std::map<uint64_t, GenerationResult> done;
  uint64_t next_id = 1;

  Result<std::shared_ptr<RequestContext>> make_context(std::vector<int64_t> prompt,
                                                       const GenerationConfig& config);
};

Result<std::shared_ptr<RequestContext>> Generator::Impl::make_context(
    std::vector<int64_t> prompt, const GenerationConfig& config) {
  Status s = config.validate();
  if (!s.ok()) return s;
  const int64_t vocab = model->vocab_size();
  if (prompt.empty()) {
    // transformers starts from bos_token_id when no input is given.
    if (!config.bos_token_id)
      return Status::invalid_argument("generate: empty prompt and no bos_token_id");
    prompt.push_back(*config.bos_token_id);
  }
  for (int64_t t : prompt) {
    if (t < 0 || t >= vocab) {
      return Status::invalid_argument(
          fmt::format("generate: prompt token {} is outside the vocabulary ({})", t, vocab));
    }
  }
  auto ctx = std::make_shared<RequestContext>();
  ctx->config = config;
  ctx->vocab_size = vocab;
  const int64_t prompt_len = static_cast<int64_t>(prompt.size());
  ctx->max_length = config.resolved_max_length(prompt_len, model->max_positions());
  ctx->min_length = config.resolved_min_length(prompt_len);
  if (prompt_len >= ctx->max_length) {
    return Status::invalid_argument(
        fmt::format("generate: the prompt has {} tokens but max_length is {} (set max_new_tokens)",
                    prompt_len, ctx->max_length));
  }
  ctx->prompt = std::move(prompt);
  auto processors =
      catch_errors([&]() { return build_logits_processors(config, ctx->min_length, ctx->max_length); });
  if (!processors.ok()) return processors.status();
  ctx->processors = std::move(*processors);
  if (!config.stop_strings.empty()) {
    if (!tokenizer) return Status::invalid_argument("generate: stop_strings need a tokenizer");
    if (!token_strings) {
      auto table = token_strings_for(*tokenizer);
      if (!table.ok()) return table.status();
      token_strings = std::make_shared<const std::vector<std::string>>(std::move(*table));
    }
    ctx->stop = std::make_unique<StopStringMatcher>(config.stop_strings, token_strings);
  }
  ctx->seed =
      config.seed ? *config.seed : std::random_device{}() * 0x100000001ull + std::random_device{}();
  return ctx;
}

Generator::Generator(const models::DecoderModel& model, const tok::Tokenizer* tokenizer)
    : impl_(std::make_unique<Impl>()) {
  impl_->model = &model;
  impl_->tokenizer = tokenizer;
}

Generator::~Generator() = default;

Result<uint64_t> Generator::add(std::vector<int64_t> prompt, const GenerationConfig& config,
                                std::shared_ptr<const models::CrossMemory> cross) {
  auto ctx = impl_->make_context(std::move(prompt), config);
  if (!ctx.ok()) return ctx.status();
  (*ctx)->cross = std::move(cross);
  std::shared_ptr<const RequestContext> c = std::move(*ctx);
  const uint64_t id = impl_->next_id++;
  impl_->running[id] = config.num_beams > 1 ? internal::make_beam_search(*impl_->model, c)
                                            : internal::make_sample_search(*impl_->model, c);
  return id;
}

void Generator::cancel(uint64_t request) {
  auto it = impl_->running.find(request);
  if (it == impl_->running.end()) return;
  it->second->cancel();
  impl_->done[request] = it->second->result();
  impl_->running.erase(it);
}

Result<std::vector<Generator::Event>> Generator::step() {
  return catch_errors([&]() -> std::vector<Event> {
    std::vector<models::DecoderSequence> batch;
    std::vector<std::pair<Search*, size_t>> rows;  // (request, its first row)
    std::vector<uint64_t> ids;
    for (auto& [id, search] : impl_->running) {
      const size_t first = batch.size();
      search->collect(batch);
      rows.emplace_back(search.get(), first);
      ids.push_back(id);
    }
    std::vector<Event> events;
    if (batch.empty()) return events;
    Tensor logits = impl_->model->forward(batch);
    if (logits.dtype() != DType::kF32 || logits.ndim() != 2 ||
        logits.dim(0) != static_cast<int64_t>(batch.size()) ||
        logits.dim(1) != impl_->model->vocab_size()) {
      throw Error(StatusCode::kInternal,
                  "generate: the model returned logits of an unexpected shape");
    }
    const Tensor contiguous = logits.contiguous();
    const float* data = contiguous.data<float>();
    const int64_t v = impl_->model->vocab_size();
    for (size_t r = 0; r < rows.size(); ++r) {
      rows[r].first->consume(data + rows[r].second * v, ids[r], events);
    }
    for (auto it = impl_->running.begin(); it != impl_->running.end();) {
      if (it->second->finished()) {
        impl_->done[it->first] = it->second->result();
        it = impl_->running.erase(it);
      } else {
        ++it;
      }
    }
    return events;
  });
}

bool Generator::has_running() const {
  return !impl_->running.empty();
}

Result<GenerationResult> Generator::take(uint64_t request) {
  auto it = impl_->done.find(request);
  if (it == impl_->done.end()) {
    return Status::not_found(
        fmt::format("generator: request {} has no result (running or taken)", request));
  }
  GenerationResult r = std::move(it->second);
  impl_->done.erase(it);
  return r;
}

namespace {

// Steps `generator` until every request of `request_of` (request id -> input index) finishes
// and returns the results by input index.
Result<std::vector<GenerationResult>> run_to_end(Generator& generator,
                                                 const std::map<uint64_t, size_t>& input_of,
                                                 size_t inputs, const GenerateOptions& options) {
  while (generator.has_running()) {
    auto events = generator.step();
    if (!events.ok()) return events.status();
    if (options.on_token) {
      for (const auto& e : *events) {
        if (e.token >= 0) options.on_token(input_of.at(e.request), e.index, e.token);
      }
    }
  }
  std::vector<GenerationResult> out(inputs);
  for (const auto& [id, i] : input_of) {
    auto r = generator.take(id);
    if (!r.ok()) return r.status();
    out[i] = std::move(*r);
  }
  return out;
}

// One seed for every input (drawn once when unset), so an input samples the same tokens in a
// batch as alone with that seed.
GenerationConfig seeded(const GenerationConfig& config) {
  GenerationConfig c = config;
  if (!c.seed) c.seed = std::random_device{}() * 0x100000001ull + std::random_device{}();
  return c;
}

}  // namespace

Result<std::vector<GenerationResult>> generate(const models::DecoderModel& model,
                                               const std::vector<std::vector<int64_t>>& prompts,
                                               const GenerationConfig& config,
                                               const GenerateOptions& options) {
  Generator generator(model, options.tokenizer);
  const GenerationConfig c = seeded(config);
  std::map<uint64_t, size_t> prompt_of;
  for (size_t i = 0; i < prompts.size(); ++i) {
    auto id = generator.add(prompts[i], c);
    if (!id.ok())
      return Status(id.status().code(), fmt::format("prompt {}: {}", i, id.status().message()));
    prompt_of[*id] = i;
  }
  return run_to_end(generator, prompt_of, prompts.size(), options);
}

Result<std::vector<GenerationResult>> generate_seq2seq(const models::Seq2SeqModel& model,
                                                       const std::vector<std::vector<int64_t>>& sources,
                                                       const GenerationConfig& config,
                                                       const GenerateOptions& options) {
  const GenerationConfig c = seeded(config);
  const int64_t start = c.decoder_start_token_id.value_or(model.decoder_start_token_id());
  auto memories = encode_sources(model, sources);
  if (!memories.ok()) return memories.status();
  Generator generator(model, options.tokenizer);
  std::map<uint64_t, size_t> source_of;
  for (size_t i = 0; i < sources.size(); ++i) {
    auto id = generator.add({start}, c, (*memories)[i]);
    if (!id.ok())
      return Status(id.status().code(), fmt::format("source {}: {}", i, id.status().message()));
    source_of[*id] = i;
  }
  return run_to_end(generator, source_of, sources.size(), options);
}

Result<std::vector<std::shared_ptr<const models::CrossMemory>>> encode_sources(
    const models::Seq2SeqModel& model, const std::vector<std::vector<int64_t>>& sources) {
  return catch_errors([&]() {
    std::vector<std::shared_ptr<const models::CrossMemory>> out;
    out.reserve(sources.size());
    const int64_t limit = model.max_source_positions();
    for (size_t i = 0; i < sources.size(); ++i) {
      const auto n = static_cast<int64_t>(sources[i].size());
      if (n == 0) throw Error(StatusCode::kInvalidArgument, fmt::format("source {} is empty", i));
      if (limit > 0 && n > limit)
        throw Error(StatusCode::kInvalidArgument,
                    fmt::format("source {} has {} tokens; the model takes at most {}", i, n, limit));
    }
    // Sources of similar length run through the encoder together (right-padded), in chunks that
    // bound the padded activation; each source's rows are then cut out without their padding.
    std::vector<size_t> order(sources.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return sources[a].size() < sources[b].size(); });
    out.resize(sources.size());
    constexpr int64_t kChunkTokens = 8192;
    for (size_t first = 0; first < order.size();) {
      const int64_t width = static_cast<int64_t>(sources[order[first]].size());
      size_t last = first + 1;
      while (last < order.size() &&
             static_cast<int64_t>(last - first + 1) * static_cast<int64_t>(sources[order[last]].size()) <=
                 std::max(kChunkTokens, width))
        ++last;
      const int64_t len = static_cast<int64_t>(sources[order[last - 1]].size());
      const int64_t b = static_cast<int64_t>(last - first);
      std::vector<int64_t> ids(static_cast<size_t>(b * len), 0), mask(static_cast<size_t>(b * len), 0);
      for (int64_t r = 0; r < b; ++r) {
        const auto& src = sources[order[first + static_cast<size_t>(r)]];
        for (size_t t = 0; t < src.size(); ++t) {
          ids[static_cast<size_t>(r * len) + t] = src[t];
          mask[static_cast<size_t>(r * len) + t] = 1;
        }
      }
      models::EncoderInput input;
      input.input_ids = Tensor::from_ints(ids, {b, len});
      input.attention_mask = Tensor::from_ints(mask, {b, len});
      const Tensor states = model.encode(input).last_hidden_state;
      for (int64_t r = 0; r < b; ++r) {
        const size_t i = order[first + static_cast<size_t>(r)];
        const auto n = static_cast<int64_t>(sources[i].size());
        out[i] = model.cross_memory(states.select(0, r).slice(0, 0, n).contiguous());
      }
      first = last;
    }
    return out;
  });
}

}  // namespace mlhub::generation
