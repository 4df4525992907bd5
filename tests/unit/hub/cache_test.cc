// The cache layout as huggingface_hub writes it (paths, symlink targets, refs, CACHEDIR.TAG, the
// tree listing cache, the token files) and the resumable download against a loopback HTTP server.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "hub/internal.h"
#include "fake_hub.h"

namespace mlhub::hub::internal {
namespace {
namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/mlhub_hub_testXXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(HubCache, LinkTargetsAsPythonRelpath) {
  // os.path.relpath(blob, dirname(pointer)) for snapshots/<commit>/<filename>
  EXPECT_EQ(blob_link_target("config.json", "abc"), "../../blobs/abc");
  EXPECT_EQ(blob_link_target("1_Pooling/config.json", "abc"), "../../../blobs/abc");
  EXPECT_EQ(blob_link_target("a/b/c/d.bin", "e"), "../../../../../blobs/e");
}

TEST(HubCache, Paths) {
  RepoCache c("/c", RepoType::kModel, "org/m");
  EXPECT_EQ(c.blob("e").string(), "/c/models--org--m/blobs/e");
  EXPECT_EQ(c.pointer("c0", "a/b.txt").string(), "/c/models--org--m/snapshots/c0/a/b.txt");
  EXPECT_EQ(c.no_exist("c0", "x.json").string(), "/c/models--org--m/.no_exist/c0/x.json");
  EXPECT_EQ(c.lock("e").string(), "/c/.locks/models--org--m/e.lock");
  EXPECT_EQ(c.ref("refs/pr/1").string(), "/c/models--org--m/refs/refs/pr/1");
  EXPECT_EQ(c.tree_cache("c0").string(), "/c/models--org--m/trees/c0.json");
}

TEST(HubCache, RefsTagAndSymlink) {
  TempDir tmp;
  RepoCache c(tmp.path().string(), RepoType::kDataset, "org/d");
  const std::string commit(40, 'a');
  c.write_ref("main", commit);
  EXPECT_EQ(slurp(c.ref("main")), commit);  // no newline, as Path.write_text writes it
  EXPECT_EQ(*c.read_ref("main"), commit);
  c.write_ref(commit, commit);  // a commit is not a ref
  EXPECT_FALSE(fs::exists(c.ref(commit)));
  c.write_ref("refs/pr/1", commit);
  EXPECT_EQ(slurp(c.ref("refs/pr/1")), commit);
  c.tag_cache_dir();
  EXPECT_EQ(slurp(tmp.path() / "CACHEDIR.TAG").rfind("Signature: 8a477f597d28d172789f06886806bc55\n", 0), 0u);
  fs::create_directories(c.blob("e").parent_path());
  std::ofstream(c.blob("e")) << "x";
  c.link_pointer(commit, "sub/f.txt", "e");
  c.link_pointer(commit, "sub/f.txt", "e");  // replacing an existing link works
  EXPECT_EQ(fs::read_symlink(c.pointer(commit, "sub/f.txt")).string(), "../../../blobs/e");
  EXPECT_EQ(slurp(c.pointer(commit, "sub/f.txt")), "x");
}

TEST(HubCache, TreeCacheRoundTrip) {
  TempDir tmp;
  RepoCache c(tmp.path().string(), RepoType::kModel, "org/m");
  std::vector<TreeEntry> entries(2);
  entries[0].path = "z.bin";
  entries[0].size = 5;
  entries[0].blob_id = "b1";
  entries[0].lfs_sha256 = std::string(64, 'f');
  entries[0].lfs_size = 5;
  entries[1].path = "a.json";
  entries[1].size = 2;
  entries[1].blob_id = "b2";
  write_tree_cache(c, "c0", entries);
  // json.dump(indent=1) of {"format_version": 1, "files": {sorted paths}}
  const std::string text = slurp(c.tree_cache("c0"));
  EXPECT_EQ(text.rfind("{\n \"format_version\": 1,\n \"files\": {\n  \"a.json\": {", 0), 0u) << text;
  auto back = read_tree_cache(c, "c0");
  ASSERT_TRUE(back.has_value());
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0].path, "a.json");
  EXPECT_EQ(*(*back)[1].lfs_sha256, std::string(64, 'f'));
  EXPECT_FALSE(read_tree_cache(c, "missing").has_value());
}

TEST(HubCache, SaveTokenLikeHuggingfaceHub) {
  TempDir tmp;
  HubConfig config;
  config.token_path = (tmp.path() / "token").string();
  ASSERT_TRUE(save_token(config, "hf_b", "second").ok());
  ASSERT_TRUE(save_token(config, "hf_a", "first").ok());
  EXPECT_EQ(slurp(tmp.path() / "token"), "hf_a");
  // configparser.write: sections sorted (Python sorts the names), "key = value", blank line.
  EXPECT_EQ(slurp(tmp.path() / "stored_tokens"),
            "[first]\nhf_token = hf_a\n\n[second]\nhf_token = hf_b\n\n");
  EXPECT_EQ(fs::status(tmp.path() / "token").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
}

TEST(HubCache, FileLockExcludes) {
  TempDir tmp;
  const fs::path lock = tmp.path() / ".locks" / "x.lock";
  std::atomic<int> inside{0};
  std::atomic<bool> overlap{false};
  auto work = [&] {
    for (int i = 0; i < 20; ++i) {
      FileLock l(lock);  // separate open file descriptions: flock excludes them
      if (++inside > 1) overlap = true;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      --inside;
    }
  };
  std::thread a(work), b(work);
  a.join();
  b.join();
  EXPECT_FALSE(overlap);
  EXPECT_TRUE(fs::exists(lock));
}

// Serves `body` on any GET through the scripted loopback server, honouring "Range: bytes=N-"
// with 206 unless `ignore_range`. Records the Range headers it saw.
class LoopbackServer {
 public:
  LoopbackServer(std::string body, bool ignore_range)
      : body_(std::move(body)), ignore_range_(ignore_range),
        hub_([this](const testing::FakeRequest& r) { return reply(r); }) {}
  std::string url() const { return hub_.endpoint() + "/f"; }
  std::vector<std::string> ranges;

 private:
  testing::FakeReply reply(const testing::FakeRequest& r) {
    size_t from = 0;
    if (auto it = r.headers.find("range"); it != r.headers.end() && it->second.rfind("bytes=", 0) == 0) {
      from = std::stoull(it->second.substr(6));
      ranges.push_back(std::to_string(from) + "-");
    }
    testing::FakeReply out;
    if (from > 0 && !ignore_range_) {
      out.status = 206;
      out.headers.emplace_back("Content-Range", "bytes " + std::to_string(from) + "-" + std::to_string(body_.size() - 1) +
                                                    "/" + std::to_string(body_.size()));
      out.body = body_.substr(from);
    } else {
      out.body = body_;
    }
    return out;
  }
  std::string body_;
  bool ignore_range_;
  testing::FakeHub hub_;  // last: its thread calls reply(), which uses the members above
};

std::string make_body() {
  std::string body;
  for (int i = 0; i < 300000; ++i) body += static_cast<char>('a' + (i * 7) % 26);
  return body;
}

HubConfig quiet_config() {
  HubConfig c;
  c.progress = false;
  c.endpoint = "http://127.0.0.1:1";
  return c;
}

TEST(HubDownload, ResumesWithRange) {
  const std::string body = make_body();
  LoopbackServer server(body, /*ignore_range=*/false);
  TempDir tmp;
  const fs::path inc = tmp.path() / "blob.incomplete";
  std::ofstream(inc, std::ios::binary) << body.substr(0, 100000);
  download_to_incomplete(quiet_config(), server.url(), inc, sha256_hex(body), body.size(), "f");
  EXPECT_EQ(slurp(inc), body);
  ASSERT_EQ(server.ranges.size(), 1u);
  EXPECT_EQ(server.ranges[0], "100000-");
}

TEST(HubDownload, CompleteLeftoverNeedsNoRequest) {
  const std::string body = make_body();
  TempDir tmp;
  const fs::path inc = tmp.path() / "blob.incomplete";
  std::ofstream(inc, std::ios::binary) << body;
  // Nothing listens on the endpoint's port 1: any request would fail.
  download_to_incomplete(quiet_config(), "http://127.0.0.1:1/f", inc, sha256_hex(body),
                         body.size(), "f");
  EXPECT_EQ(slurp(inc), body);
}

TEST(HubDownload, RestartsWhenRangeIgnored) {
  const std::string body = make_body();
  LoopbackServer server(body, /*ignore_range=*/true);
  TempDir tmp;
  const fs::path inc = tmp.path() / "blob.incomplete";
  std::ofstream(inc, std::ios::binary) << body.substr(0, 5000);
  download_to_incomplete(quiet_config(), server.url(), inc, git_blob_sha1_hex(body), body.size(),
                         "f");
  EXPECT_EQ(slurp(inc), body);
}

TEST(HubDownload, RejectsWrongHashAndSize) {
  const std::string body = make_body();
  LoopbackServer server(body, false);
  TempDir tmp;
  const fs::path inc = tmp.path() / "blob.incomplete";
  try {
    download_to_incomplete(quiet_config(), server.url(), inc, std::string(64, '0'), body.size(),
                           "f");
    FAIL() << "expected a hash mismatch";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::kCorruption);
  }
  EXPECT_FALSE(fs::exists(inc));
  EXPECT_THROW(download_to_incomplete(quiet_config(), server.url(), inc, "not-a-hash",
                                      body.size() + 1, "f"),
               Error);
}

}  // namespace
}  // namespace mlhub::hub::internal
