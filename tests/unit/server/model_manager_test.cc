// ModelManager over a fake ModelSource that points at the tiny model folders: one load for many
// concurrent acquires, LRU eviction within the memory budget, models in use stay, kModelTooLarge,
// kUnsupported, text-generation and chat sharing one engine, sentence-transformers routing.
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <set>
#include <thread>

#include "inference_test_util.h"
#include "server/inference/engine.h"

namespace mlhub::inference {
namespace {

using testing::kModels;
namespace fs = std::filesystem;

class FakeSource final : public ModelSource {
 public:
  // repo_id -> (folder, weight bytes)
  std::map<std::string, std::pair<fs::path, uint64_t>> repos;
  std::atomic<int> calls{0};

  ModelInfo resolve(const std::string& repo_id, const std::string& revision,
                    const std::string& token) override {
    ++calls;
    auto it = repos.find(repo_id);
    if (it == repos.end()) throw InferenceError(ErrorKind::kNotFound, "Model " + repo_id + " does not exist");
    ModelInfo info;
    info.repo_id = repo_id;
    info.commit = std::string(40, 'a');
    info.path = it->second.first;
    info.weight_bytes = it->second.second;
    if (repo_id == "org/st") info.library_name = "sentence-transformers";
    return info;
  }
};

struct Fixture {
  std::unique_ptr<ModelManager> manager;
  FakeSource* source = nullptr;
  std::atomic<int> encoder_batches{0};

  explicit Fixture(uint64_t budget) {
    auto src = std::make_unique<FakeSource>();
    source = src.get();
    src->repos["org/sentiment"] = {kModels / "bert-tiny-sentiment", 100};
    src->repos["org/nli"] = {kModels / "bert-tiny-nli", 100};
    src->repos["org/ner"] = {kModels / "bert-tiny-ner", 100};
    src->repos["org/encoder"] = {kModels / "bert-tiny-encoder", 100};
    src->repos["org/huge"] = {kModels / "bert-tiny-encoder", 10'000};
    src->repos["org/llama"] = {testing::llama_folder(), 100};
    ManagerOptions opts;
    opts.memory_budget_bytes = budget;
    opts.on_batch = [this](const std::string& model, const char* kind, size_t, double) {
      if (model == "org/sentiment" && std::string(kind) == "encoder") ++encoder_batches;
    };
    manager = std::make_unique<ModelManager>(std::move(src), opts);
  }
  std::set<std::string> loaded() const {
    std::set<std::string> out;
    for (const auto& l : manager->loaded()) out.insert(l.repo_id + ":" + l.task);
    return out;
  }
};

using testing::kind_of;

TEST(ModelManagerTest, ConcurrentAcquiresLoadOnce) {
  Fixture f(1000);
  const ModelInfo info = f.manager->resolve("org/sentiment", "main", "");
  EXPECT_EQ(info.pipeline_tag, "text-classification");  // from config.json's architectures
  constexpr int kThreads = 8;
  std::vector<std::shared_ptr<ServedModel>> got(kThreads);
  std::barrier start(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      got[i] = f.manager->acquire(info, "text-classification");
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) {
    ASSERT_NE(got[i], nullptr);
    EXPECT_EQ(got[i].get(), got[0].get()) << "acquire " << i << " loaded its own copy";
  }
  ASSERT_EQ(f.manager->loaded().size(), 1u);
  EXPECT_TRUE(f.manager->loaded()[0].in_use);
  EXPECT_EQ(f.manager->used_bytes(), 100u);
  ASSERT_NE(got[0]->encoder(), nullptr);
  EXPECT_EQ(got[0]->generator(), nullptr);
  auto out = got[0]->encoder()->run({"lovely"}, json::object(), [] { return false; });
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(f.encoder_batches.load(), 1);
  got.clear();
  EXPECT_FALSE(f.manager->loaded()[0].in_use);
}

TEST(ModelManagerTest, EvictsTheLeastRecentlyUsedUnusedModel) {
  Fixture f(250);  // two models of 100 bytes fit, three do not
  auto sentiment = f.manager->resolve("org/sentiment", "main", "");
  auto nli = f.manager->resolve("org/nli", "main", "");
  auto ner = f.manager->resolve("org/ner", "main", "");
  f.manager->acquire(sentiment, "text-classification");
  f.manager->acquire(nli, "text-classification");
  f.manager->acquire(sentiment, "text-classification");  // nli is now the least recently used
  f.manager->acquire(ner, "token-classification");
  EXPECT_EQ(f.loaded(), (std::set<std::string>{"org/sentiment:text-classification",
                                               "org/ner:token-classification"}));
  EXPECT_EQ(f.manager->used_bytes(), 200u);
  f.manager->acquire(nli, "text-classification");  // sentiment is the oldest now
  EXPECT_EQ(f.loaded(), (std::set<std::string>{"org/nli:text-classification",
                                               "org/ner:token-classification"}));
}

TEST(ModelManagerTest, ModelsInUseAreNotEvicted) {
  Fixture f(250);
  auto sentiment = f.manager->resolve("org/sentiment", "main", "");
  auto nli = f.manager->resolve("org/nli", "main", "");
  auto ner = f.manager->resolve("org/ner", "main", "");
  auto held = f.manager->acquire(sentiment, "text-classification");  // oldest, but held
  f.manager->acquire(nli, "text-classification");
  auto held_ner = f.manager->acquire(ner, "token-classification");
  EXPECT_EQ(f.loaded(), (std::set<std::string>{"org/sentiment:text-classification",
                                               "org/ner:token-classification"}));
  // Both loaded models are held: a third cannot be loaded now (but may be later).
  EXPECT_EQ(kind_of([&] { f.manager->acquire(nli, "text-classification"); }),
            ErrorKind::kOverloaded);
  held_ner.reset();
  EXPECT_NE(f.manager->acquire(nli, "text-classification"), nullptr);
  EXPECT_EQ(held->info().repo_id, "org/sentiment");
  EXPECT_EQ(f.loaded().count("org/sentiment:text-classification"), 1u);
}

TEST(ModelManagerTest, TooLargeUnsupportedAndUnknown) {
  Fixture f(1000);
  auto huge = f.manager->resolve("org/huge", "main", "");
  EXPECT_EQ(kind_of([&] { f.manager->acquire(huge, "feature-extraction"); }),
            ErrorKind::kModelTooLarge);
  auto sentiment = f.manager->resolve("org/sentiment", "main", "");
  EXPECT_EQ(kind_of([&] { f.manager->acquire(sentiment, "summarize-everything"); }),
            ErrorKind::kUnsupported);
  // A sequence classifier has no language-model head.
  EXPECT_EQ(kind_of([&] { f.manager->acquire(sentiment, "text-generation"); }),
            ErrorKind::kUnsupported);
  EXPECT_EQ(kind_of([&] { f.manager->resolve("org/missing", "main", ""); }), ErrorKind::kNotFound);
  // Failed loads leave nothing behind.
  EXPECT_TRUE(f.manager->loaded().empty());
  EXPECT_EQ(f.manager->used_bytes(), 0u);
}

TEST(ModelManagerTest, TextGenerationAndChatShareOneEngine) {
  Fixture f(1000);
  auto llama = f.manager->resolve("org/llama", "main", "");
  EXPECT_EQ(llama.pipeline_tag, "text-generation");
  auto a = f.manager->acquire(llama, "text-generation");
  auto b = f.manager->acquire(llama, "chat");
  EXPECT_EQ(a.get(), b.get());
  ASSERT_NE(a->generator(), nullptr);
  EXPECT_EQ(a->encoder(), nullptr);
  EXPECT_EQ(a->task(), "text-generation");
  EXPECT_EQ(f.manager->loaded().size(), 1u);
}

TEST(ModelManagerTest, SentenceTransformersFeatureExtractionPools) {
  Fixture f(1000);
  f.source->repos["org/st"] = {kModels / "bert-tiny-encoder", 100};
  auto st = f.manager->resolve("org/st", "main", "");
  auto plain = f.manager->resolve("org/encoder", "main", "");
  EXPECT_EQ(st.pipeline_tag, "sentence-similarity");
  EXPECT_EQ(plain.pipeline_tag, "feature-extraction");
  auto a = f.manager->acquire(st, "feature-extraction");
  auto b = f.manager->acquire(plain, "feature-extraction");
  EXPECT_EQ(a->task(), "sentence-embeddings");
  EXPECT_EQ(b->task(), "feature-extraction");
  EXPECT_EQ(a->encoder()->pipeline().task(), "sentence-embeddings");
}

}  // namespace
}  // namespace mlhub::inference
