// local_hub_source over a HubServer on a temporary data folder: a repo made through the store
// (git commit with an LFS weight file in the blob store) resolves to a folder of its files (the
// weights hard-linked from the blob store, other frameworks' files left out), the card's pipeline
// tag and library, weight_bytes; the folder is written once; private repos are invisible without
// a token of a user who may read them; a GGUF-only repo serves its first .gguf. remote_hub_source
// does the same through the hub client against that hub served on loopback.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "inference_test_util.h"
#include "server/http/http.h"
#include "server/hub/hub_server.h"
#include "server/inference/engine.h"

namespace mlhub::inference {
namespace {

namespace fs = std::filesystem;
using testing::kModels;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class LocalSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::path(::testing::TempDir()) / "mlhub_inference_XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    hub_ = std::make_unique<hub::HubServer>(dir_);
    auto alice = hub_->meta().create_account({0, "alice", "", "alice@example.com", false, 0});
    auto bob = hub_->meta().create_account({0, "bob", "", "bob@example.com", false, 0});
    ASSERT_TRUE(alice.ok() && bob.ok());
    alice_token_ = *hub_->meta().create_token(alice->id, "t", store::TokenRole::kRead);
    bob_token_ = *hub_->meta().create_token(bob->id, "t", store::TokenRole::kRead);
    alice_id_ = alice->id;
  }
  void TearDown() override {
    hub_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Creates alice/{name} with `files` (path -> content); paths in `lfs` go through the blob store
  // as LFS pointers. Returns the commit.
  std::string make_repo(const std::string& name, bool is_private,
                        const std::map<std::string, std::string>& files,
                        const std::set<std::string>& lfs) {
    const std::string storage = "repos/models/" + name + ".git";
    auto git = store::GitRepo::create_bare(dir_ / storage);
    EXPECT_TRUE(git.ok());
    store::RepoRecord r;
    r.owner = "alice";
    r.name = name;
    r.is_private = is_private;
    r.storage = storage;
    EXPECT_TRUE(hub_->meta().create_repo(r).ok());
    store::CommitRequest req;
    req.ref = "refs/heads/main";
    req.message = "add model";
    req.author_name = "alice";
    req.author_email = "alice@example.com";
    for (const auto& [path, content] : files) {
      std::string stored = content;
      if (lfs.count(path)) {
        auto w = hub_->blobs().begin_write();
        EXPECT_TRUE(w.ok());
        EXPECT_TRUE((*w)->write(content.data(), content.size()).ok());
        const std::string oid = sha256_hex(content);
        EXPECT_TRUE((*w)->finish(oid, content.size()).ok());
        stored = store::format_lfs_pointer({oid, content.size()});
      }
      auto blob = git->write_blob(stored);
      EXPECT_TRUE(blob.ok());
      req.changes.push_back({store::FileChange::Kind::kPut, path, *blob});
    }
    auto commit = git->commit(req);
    EXPECT_TRUE(commit.ok()) << commit.status().to_string();
    return *commit;
  }

  std::map<std::string, std::string> sentiment_files() {
    std::map<std::string, std::string> files;
    for (const auto& e : fs::directory_iterator(kModels / "bert-tiny-sentiment")) {
      files[e.path().filename().string()] = read_file(e.path());
    }
    files["README.md"] = "---\npipeline_tag: text-classification\nlibrary_name: transformers\n---\n# tiny\n";
    files["onnx/model.onnx"] = "not really onnx";
    files["tf_model.h5"] = "not really tensorflow";
    files["pytorch_model.bin"] = "ignored: safetensors exist";
    return files;
  }

  ErrorKind resolve_error(ModelSource& src, const std::string& id, const std::string& token) {
    try {
      src.resolve(id, "main", token);
    } catch (const InferenceError& e) {
      return e.kind;
    }
    ADD_FAILURE() << id << " resolved";
    return ErrorKind::kGeneration;
  }

  fs::path dir_;
  std::unique_ptr<hub::HubServer> hub_;
  std::string alice_token_, bob_token_;
  int64_t alice_id_ = 0;
};

TEST_F(LocalSourceTest, ResolvesAndMaterialisesACommit) {
  const auto files = sentiment_files();
  const std::string commit = make_repo("sentiment", false, files, {"model.safetensors", "pytorch_model.bin"});
  // What a killed process left half-written is removed when a source starts.
  const fs::path stale = dir_ / "inference/.tmp/999999999-0-abc";
  fs::create_directories(stale);
  auto src = local_hub_source(*hub_);
  EXPECT_FALSE(fs::exists(stale));
  const ModelInfo info = src->resolve("alice/sentiment", "main", "");
  EXPECT_EQ(info.repo_id, "alice/sentiment");
  EXPECT_EQ(info.commit, commit);
  EXPECT_EQ(info.pipeline_tag, "text-classification");
  EXPECT_EQ(info.library_name, "transformers");
  EXPECT_FALSE(info.is_gguf);
  EXPECT_FALSE(info.is_private);
  EXPECT_EQ(info.owner_id, alice_id_);
  EXPECT_EQ(info.weight_bytes, files.at("model.safetensors").size());
  EXPECT_EQ(info.path, dir_ / "inference/alice/sentiment" / commit);
  for (const char* f : {"config.json", "model.safetensors", "tokenizer.json", "vocab.txt", "README.md"}) {
    EXPECT_EQ(read_file(info.path / f), files.at(f)) << f;
  }
  for (const char* f : {"onnx", "tf_model.h5", "pytorch_model.bin"}) {
    EXPECT_FALSE(fs::exists(info.path / f)) << f;
  }
  // The weights are the blob store's object, not a copy.
  struct stat st {};
  ASSERT_EQ(::stat((info.path / "model.safetensors").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 2u);
  // The folder loads and runs.
  auto p = pipeline("text-classification", info.path);
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  auto want = pipeline("text-classification", kModels / "bert-tiny-sentiment");
  EXPECT_EQ((*p)->run("great"), (*want)->run("great"));
  EXPECT_EQ(src->resolve("alice/sentiment", commit, "").path, info.path);
  EXPECT_FALSE(fs::exists(dir_ / "inference/.tmp") && !fs::is_empty(dir_ / "inference/.tmp"));

  // A second resolution does no file work: a file removed from the folder stays removed.
  fs::remove(info.path / "README.md");
  EXPECT_EQ(src->resolve("alice/sentiment", "main", "").commit, commit);
  EXPECT_FALSE(fs::exists(info.path / "README.md"));
  // A new source (a restarted server) finds the folder already written.
  auto again = local_hub_source(*hub_);
  EXPECT_EQ(again->resolve("alice/sentiment", "main", "").path, info.path);
  EXPECT_FALSE(fs::exists(info.path / "README.md"));

  EXPECT_EQ(resolve_error(*src, "alice/nothing", ""), ErrorKind::kNotFound);
  EXPECT_EQ(resolve_error(*src, "sentiment", ""), ErrorKind::kNotFound);
  try {
    src->resolve("alice/sentiment", "no-such-branch", "");
    ADD_FAILURE();
  } catch (const InferenceError& e) {
    EXPECT_EQ(e.kind, ErrorKind::kNotFound);
  }
}

TEST_F(LocalSourceTest, PrivateReposNeedATokenThatMayReadThem) {
  make_repo("secret", true, sentiment_files(), {"model.safetensors"});
  auto src = local_hub_source(*hub_);
  EXPECT_EQ(resolve_error(*src, "alice/secret", ""), ErrorKind::kNotFound);
  EXPECT_EQ(resolve_error(*src, "alice/secret", bob_token_), ErrorKind::kNotFound);
  EXPECT_EQ(resolve_error(*src, "alice/secret", "hf_not_a_token"), ErrorKind::kUnauthorized);
  EXPECT_FALSE(fs::exists(dir_ / "inference/alice/secret"));
  const ModelInfo info = src->resolve("alice/secret", "main", alice_token_);
  EXPECT_TRUE(info.is_private);
  EXPECT_TRUE(fs::exists(info.path / "config.json"));
  // Cached for alice, still invisible to others.
  EXPECT_EQ(resolve_error(*src, "alice/secret", ""), ErrorKind::kNotFound);
}

TEST_F(LocalSourceTest, MovedReposFollowTheirNewIdAndDisabledOnesAreForbidden) {
  const std::string commit = make_repo("old-name", false, sentiment_files(), {"model.safetensors"});
  auto record = hub_->meta().find_repo("model", "alice", "old-name");
  ASSERT_TRUE(record.has_value());
  ASSERT_TRUE(hub_->meta().move_repo(record->id, "alice", "new-name").ok());
  auto src = local_hub_source(*hub_);
  const ModelInfo info = src->resolve("alice/old-name", "main", "");
  EXPECT_EQ(info.repo_id, "alice/new-name");
  EXPECT_EQ(info.commit, commit);
  record = hub_->meta().find_repo("model", "alice", "new-name");
  record->disabled = true;
  ASSERT_TRUE(hub_->meta().update_repo(*record).ok());
  EXPECT_EQ(resolve_error(*src, "alice/new-name", alice_token_), ErrorKind::kForbidden);
}

TEST_F(LocalSourceTest, GgufOnlyRepoServesItsFirstGguf) {
  make_repo("gguf", false,
            {{"b-model.Q8_0.gguf", "second"}, {"a-model.Q4_0.gguf", "first gguf bytes"},
             {"README.md", "---\nlibrary_name: gguf\n---\n"}},
            {"a-model.Q4_0.gguf", "b-model.Q8_0.gguf"});
  auto src = local_hub_source(*hub_);
  const ModelInfo info = src->resolve("alice/gguf", "main", "");
  EXPECT_TRUE(info.is_gguf);
  EXPECT_EQ(info.path.filename(), "a-model.Q4_0.gguf");
  EXPECT_EQ(read_file(info.path), "first gguf bytes");
  EXPECT_EQ(info.weight_bytes, 16u);
  EXPECT_FALSE(fs::exists(info.path.parent_path() / "b-model.Q8_0.gguf"));
  EXPECT_EQ(info.library_name, "gguf");

  make_repo("empty", false, {{"README.md", "# nothing to run\n"}}, {});
  EXPECT_EQ(resolve_error(*src, "alice/empty", ""), ErrorKind::kUnsupported);
}

// The same hub served on loopback and read through the hub client, as `mlhub serve
// --inference-only --hub URL` does.
TEST_F(LocalSourceTest, RemoteSourceDownloadsThroughTheHubClient) {
  const auto files = sentiment_files();
  const std::string commit = make_repo("sentiment", false, files, {"model.safetensors"});
  make_repo("secret", true, files, {"model.safetensors"});
  http::ListenOptions listen;
  listen.port = 0;
  http::Server server(listen, [&](http::Request& req) { return hub_->handle(req); });
  const int port = server.bind();
  std::thread serving([&] { server.run(); });
  struct Stop {
    http::Server& s;
    std::thread& t;
    ~Stop() {
      s.stop();
      t.join();
    }
  } stop{server, serving};

  hub::HubConfig config;
  config.endpoint = "http://127.0.0.1:" + std::to_string(port);
  config.hf_home = (dir_ / "hf").string();
  config.cache_dir = (dir_ / "hf/hub").string();
  config.token = alice_token_;  // the server's own token is never used for a caller
  config.progress = false;
  auto src = remote_hub_source(config);
  const ModelInfo info = src->resolve("alice/sentiment", "main", "");
  EXPECT_EQ(info.commit, commit);
  EXPECT_EQ(info.pipeline_tag, "text-classification");
  EXPECT_EQ(info.library_name, "transformers");
  EXPECT_EQ(info.weight_bytes, files.at("model.safetensors").size());
  EXPECT_EQ(info.path, dir_ / "hf/hub/models--alice--sentiment/snapshots" / commit);
  for (const char* f : {"config.json", "model.safetensors", "tokenizer.json"}) {
    EXPECT_EQ(read_file(info.path / f), files.at(f)) << f;
  }
  EXPECT_FALSE(fs::exists(info.path / "tf_model.h5"));
  EXPECT_FALSE(fs::exists(info.path / "onnx"));
  auto p = pipeline("text-classification", info.path);
  ASSERT_TRUE(p.ok()) << p.status().to_string();

  EXPECT_EQ(resolve_error(*src, "alice/secret", ""), ErrorKind::kNotFound);
  EXPECT_EQ(resolve_error(*src, "alice/secret", bob_token_), ErrorKind::kNotFound);
  EXPECT_EQ(resolve_error(*src, "alice/missing", ""), ErrorKind::kNotFound);
  const ModelInfo secret = src->resolve("alice/secret", "main", alice_token_);
  EXPECT_TRUE(secret.is_private);
  EXPECT_TRUE(fs::exists(secret.path / "model.safetensors"));
}

}  // namespace
}  // namespace mlhub::inference
