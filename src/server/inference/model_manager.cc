// ModelManager: which models are loaded. One entry per (repo, commit, kind of work); a model
// loads once however many requests ask for it at the same time (the first caller loads, the
// others wait on its shared_future); the weight sizes of loaded and loading models stay within
// the memory budget by evicting the least recently used models that no request holds.
#include <algorithm>
#include <atomic>
#include <fstream>
#include <future>

#include <fmt/format.h>

#include "server/inference/engine.h"

namespace mlhub::inference {
namespace {

namespace fs = std::filesystem;

bool is_generation_task(const std::string& task) {
  return task == "text-generation" || task == "chat";
}

bool is_sentence_transformers(const ModelInfo& info) {
  std::error_code ec;
  return info.library_name == "sentence-transformers" ||
         (!info.is_gguf && fs::exists(info.path / "modules.json", ec));
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The task of a model whose card names none, from what its files say (transformers' pipeline()
// reads the same config field when no task is given).
std::string default_task(const ModelInfo& info) {
  if (info.is_gguf) return "text-generation";
  if (is_sentence_transformers(info)) return "sentence-similarity";
  std::ifstream in(info.path / "config.json");
  json config = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!config.is_object() || !config.contains("architectures") ||
      !config["architectures"].is_array() || config["architectures"].empty() ||
      !config["architectures"][0].is_string()) {
    return "";
  }
  const std::string arch = config["architectures"][0];
  if (ends_with(arch, "ForSequenceClassification")) return "text-classification";
  if (ends_with(arch, "ForTokenClassification")) return "token-classification";
  if (ends_with(arch, "ForQuestionAnswering") || ends_with(arch, "ForQuestionAnsweringSimple"))
    return "question-answering";  // XLNet's span head is *ForQuestionAnsweringSimple
  if (ends_with(arch, "ForMaskedLM")) return "fill-mask";
  if (ends_with(arch, "ForCausalLM")) return "text-generation";
  if (ends_with(arch, "ForConditionalGeneration") || ends_with(arch, "MTModel"))
    return "text2text-generation";
  if (ends_with(arch, "Model")) return "feature-extraction";
  return "";
}

// Load failures that say the files cannot serve the task (not a passing fault).
bool means_unsupported(StatusCode code) {
  return code == StatusCode::kUnimplemented || code == StatusCode::kInvalidArgument ||
         code == StatusCode::kNotFound || code == StatusCode::kCorruption;
}

InferenceError load_error(const ModelInfo& info, const std::string& task, const Status& s) {
  if (means_unsupported(s.code())) {
    return InferenceError(ErrorKind::kUnsupported,
                          fmt::format("Model {} cannot run the task {}: {}", info.repo_id, task,
                                      s.message()));
  }
  return InferenceError(ErrorKind::kGeneration,
                        fmt::format("Model {} failed to load: {}", info.repo_id, s.message()));
}

}  // namespace

struct ModelManager::Impl {
  struct Entry {
    std::string repo_id, commit, task;
    uint64_t bytes = 0;
    std::shared_ptr<ServedModel> model;   // null while loading
    std::shared_future<void> loaded;      // ready when the load ended (either way)
    uint64_t last_used = 0;
  };

  std::unique_ptr<ModelSource> source;
  ManagerOptions options;
  mutable std::mutex mu;
  std::map<std::string, Entry> entries;
  uint64_t clock = 0;  // LRU ticks

  uint64_t used() const {
    uint64_t sum = 0;
    for (const auto& [k, e] : entries) sum += e.bytes;
    return sum;
  }
  static bool in_use(const Entry& e) {
    // The entry's own reference is the only one when no request holds the model.
    return !e.model || e.model.use_count() > 1;
  }
  // Evicts unused models, least recently used first, until `bytes` more fit. Called with mu held;
  // the evicted models are moved to `evicted` so their threads are joined outside the lock.
  bool make_room(uint64_t bytes, std::vector<std::shared_ptr<ServedModel>>& evicted);
  std::shared_ptr<ServedModel> load(const ModelInfo& info, const std::string& task);
};

bool ModelManager::Impl::make_room(uint64_t bytes,
                                   std::vector<std::shared_ptr<ServedModel>>& evicted) {
  while (used() + bytes > options.memory_budget_bytes) {
    auto victim = entries.end();
    for (auto it = entries.begin(); it != entries.end(); ++it) {
      if (in_use(it->second)) continue;
      if (victim == entries.end() || it->second.last_used < victim->second.last_used) victim = it;
    }
    if (victim == entries.end()) return false;
    log(LogLevel::kInfo, fmt::format("inference: unloading {}@{} ({}) to make room",
                                     victim->second.repo_id, victim->second.commit.substr(0, 8),
                                     victim->second.task));
    evicted.push_back(std::move(victim->second.model));
    entries.erase(victim);
  }
  return true;
}

std::shared_ptr<ServedModel> ModelManager::Impl::load(const ModelInfo& info,
                                                      const std::string& task) {
  auto served = std::make_shared<ServedModel>();
  served->info_ = info;
  served->task_ = task;
  auto on_batch = options.on_batch;
  const std::string repo = info.repo_id;
  if (task == "text-generation") {
    auto lm = LanguageModel::load(info.path);
    if (!lm.ok()) throw load_error(info, task, lm.status());
    GenerationOptions g = options.generation;
    if (on_batch) {
      g.on_batch = [on_batch, repo](const char* kind, size_t size, double seconds) {
        on_batch(repo, kind, size, seconds);
      };
    }
    served->generator_ = std::make_unique<GenerationEngine>(std::move(*lm), g);
  } else {
    if (info.is_gguf) {
      throw InferenceError(ErrorKind::kUnsupported,
                           fmt::format("Model {} is a GGUF language model: it runs "
                                       "text-generation and chat, not {}",
                                       info.repo_id, task));
    }
    auto p = pipeline(task, info.path);
    if (!p.ok()) throw load_error(info, task, p.status());
    QueueOptions q = options.queue;
    if (on_batch) {
      q.on_batch = [on_batch, repo](size_t size, double seconds) {
        on_batch(repo, "encoder", size, seconds);
      };
    }
    served->encoder_ = std::make_unique<EncoderQueue>(std::move(*p), q);
  }
  return served;
}

ModelManager::ModelManager(std::unique_ptr<ModelSource> source, ManagerOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->source = std::move(source);
  impl_->options = std::move(options);
}

ModelManager::~ModelManager() = default;

ModelInfo ModelManager::resolve(const std::string& repo_id, const std::string& revision,
                                const std::string& token) {
  ModelInfo info = impl_->source->resolve(repo_id, revision, token);
  if (info.pipeline_tag.empty()) info.pipeline_tag = default_task(info);
  return info;
}

std::shared_ptr<ServedModel> ModelManager::acquire(const ModelInfo& info, const std::string& task) {
  // text-generation and chat share one language model; sentence-transformers repos answer
  // feature-extraction with pooled sentence vectors, as the Hugging Face API does.
  std::string kind = task;
  if (is_generation_task(task)) {
    kind = "text-generation";
  } else if (task == "feature-extraction" && is_sentence_transformers(info)) {
    kind = "sentence-embeddings";
  }
  const std::string key = info.repo_id + "@" + info.commit + "#" + kind;
  Impl& m = *impl_;
  if (info.weight_bytes > m.options.memory_budget_bytes) {
    throw InferenceError(ErrorKind::kModelTooLarge,
                         fmt::format("Model {} needs {} bytes of weights, more than this server's "
                                     "memory budget of {} bytes",
                                     info.repo_id, info.weight_bytes,
                                     m.options.memory_budget_bytes));
  }
  while (true) {
    std::vector<std::shared_ptr<ServedModel>> evicted;  // destroyed after the lock is released
    std::shared_future<void> wait_for;
    std::promise<void> done;
    {
      std::lock_guard lock(m.mu);
      auto it = m.entries.find(key);
      if (it != m.entries.end() && it->second.model) {
        it->second.last_used = ++m.clock;
        return it->second.model;
      }
      if (it != m.entries.end()) {
        wait_for = it->second.loaded;
      } else {
        if (!m.make_room(info.weight_bytes, evicted)) {
          throw InferenceError(ErrorKind::kOverloaded,
                               fmt::format("Model {} cannot be loaded now: the models in use take "
                                           "the memory budget",
                                           info.repo_id),
                               5);
        }
        Impl::Entry e;
        e.repo_id = info.repo_id;
        e.commit = info.commit;
        e.task = kind;
        e.bytes = info.weight_bytes;
        e.loaded = done.get_future().share();
        e.last_used = ++m.clock;
        m.entries.emplace(key, std::move(e));
      }
    }
    evicted.clear();
    if (wait_for.valid()) {
      // Someone else loads it; its failure reaches us through the future, then we try again
      // (the entry is gone, so a failed load is retried once by the next caller, not cached).
      wait_for.wait();
      {
        std::lock_guard lock(m.mu);
        auto it = m.entries.find(key);
        if (it != m.entries.end() && it->second.model) {
          it->second.last_used = ++m.clock;
          return it->second.model;
        }
      }
      wait_for.get();  // rethrows the loader's InferenceError
      continue;  // loaded then evicted before we looked: load again
    }
    std::shared_ptr<ServedModel> served;
    try {
      try {
        served = m.load(info, kind);
      } catch (const InferenceError&) {
        throw;
      } catch (const Error& e) {
        throw load_error(info, kind, e.status());
      } catch (const std::exception& e) {
        throw InferenceError(ErrorKind::kGeneration,
                             fmt::format("Model {} failed to load: {}", info.repo_id, e.what()));
      }
    } catch (...) {
      {
        std::lock_guard lock(m.mu);
        m.entries.erase(key);
      }
      done.set_exception(std::current_exception());
      throw;
    }
    {
      std::lock_guard lock(m.mu);
      m.entries[key].model = served;
    }
    done.set_value();
    return served;
  }
}

std::vector<ModelManager::Loaded> ModelManager::loaded() const {
  std::lock_guard lock(impl_->mu);
  std::vector<Loaded> out;
  for (const auto& [key, e] : impl_->entries) {
    if (!e.model) continue;
    Loaded l{e.repo_id, e.commit, e.task, e.bytes, Impl::in_use(e)};
    if (const EncoderQueue* q = e.model->encoder()) l.queued = q->queued();
    if (const GenerationEngine* g = e.model->generator()) {
      l.queued = g->queued();
      l.running = g->running();
    }
    out.push_back(std::move(l));
  }
  return out;
}

const ManagerOptions& ModelManager::options() const { return impl_->options; }

uint64_t ModelManager::used_bytes() const {
  std::lock_guard lock(impl_->mu);
  return impl_->used();
}

}  // namespace mlhub::inference
