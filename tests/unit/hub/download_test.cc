// hf_hub_download / snapshot_download against a scripted loopback hub: relative and absolute
// redirects, the token kept off other hosts, .no_exist markers, offline and unreachable-hub
// fallbacks to the cache, and which errors are final (huggingface_hub's file_download.py rules).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "hub/internal.h"
#include "fake_hub.h"

namespace mlhub::hub {
namespace {
namespace fs = std::filesystem;
using testing::FakeHub;
using testing::FakeReply;
using testing::FakeRequest;

const std::string kCommit = "0123456789abcdef0123456789abcdef01234567";
const std::string kContent = "hello from the fake hub\n";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Scratch {
  Scratch() {
    char tmpl[] = "/tmp/mlhub_hub_dlXXXXXX";
    dir = ::mkdtemp(tmpl);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  fs::path dir;
};

// File metadata as mlhub serve (and huggingface.co for a regular file) sends it.
FakeReply file_reply(const std::string& content) {
  FakeReply r;
  r.headers = {{"X-Repo-Commit", kCommit},
               {"ETag", "\"" + git_blob_sha1_hex(content) + "\""},
               {"Content-Length", std::to_string(content.size())}};
  r.body = content;
  return r;
}

HubConfig config_for(const FakeHub& hub, const Scratch& s) {
  HubConfig c;
  c.endpoint = hub.endpoint();
  c.cache_dir = (s.dir / "cache").string();
  c.token = "hf_secret";
  c.progress = false;
  return c;
}

TEST(HubDownloadFlow, RelativeRedirectThenCacheLayout) {
  FakeHub hub([](const FakeRequest& r) {
    if (r.path == "/old/m/resolve/main/dir/a.txt") {
      FakeReply red;
      red.status = 307;
      red.headers = {{"Location", "/org/m/resolve/main/dir/a.txt?ignored=1"}};
      return red;
    }
    if (r.path == "/org/m/resolve/main/dir/a.txt") return file_reply(kContent);
    return FakeReply{404, {{"X-Error-Code", "RepoNotFound"}}, "", true};
  });
  Scratch s;
  const HubConfig c = config_for(hub, s);
  auto path = hf_hub_download(c, "old/m", "dir/a.txt");
  ASSERT_TRUE(path.ok()) << path.status().to_string();
  const fs::path storage = s.dir / "cache" / "models--old--m";
  EXPECT_EQ(*path, (storage / "snapshots" / kCommit / "dir" / "a.txt").string());
  EXPECT_EQ(fs::read_symlink(*path).string(), "../../../blobs/" + git_blob_sha1_hex(kContent));
  EXPECT_EQ(slurp(*path), kContent);
  EXPECT_EQ(slurp(storage / "refs" / "main"), kCommit);
  EXPECT_TRUE(fs::exists(s.dir / "cache" / ".locks" / "models--old--m" /
                         (git_blob_sha1_hex(kContent) + ".lock")));
  const auto reqs = hub.requests();
  ASSERT_EQ(reqs.size(), 3u);  // HEAD, HEAD after the redirect, GET
  EXPECT_EQ(reqs[0].method, "HEAD");
  EXPECT_EQ(reqs[0].headers.at("accept-encoding"), "identity");
  EXPECT_EQ(reqs[0].headers.at("authorization"), "Bearer hf_secret");
  EXPECT_EQ(reqs[1].path, "/org/m/resolve/main/dir/a.txt");
  EXPECT_EQ(reqs[2].method, "GET");
  // A second call with the commit as revision needs no request.
  DownloadOptions by_commit;
  by_commit.revision = kCommit;
  ASSERT_TRUE(hf_hub_download(c, "old/m", "dir/a.txt", by_commit).ok());
  EXPECT_EQ(hub.requests().size(), 3u);
}

TEST(HubDownloadFlow, AbsoluteRedirectGetsNoToken) {
  const std::string lfs_content(5000, 'z');
  int port = 0;
  FakeHub hub([&](const FakeRequest& r) {
    if (r.method == "HEAD") {
      FakeReply red;
      red.status = 302;
      red.headers = {{"Location", "http://localhost:" + std::to_string(port) + "/cdn/blob?sig=1"},
                     {"X-Repo-Commit", kCommit},
                     {"X-Linked-Etag", "\"" + sha256_hex(lfs_content) + "\""},
                     {"X-Linked-Size", std::to_string(lfs_content.size())}};
      return red;
    }
    if (r.path == "/cdn/blob?sig=1") return FakeReply{200, {}, lfs_content, true};
    return FakeReply{500, {}, "", true};
  });
  port = hub.port();
  Scratch s;
  auto path = hf_hub_download(config_for(hub, s), "org/m", "w.bin");
  ASSERT_TRUE(path.ok()) << path.status().to_string();
  EXPECT_EQ(fs::read_symlink(*path).string(), "../../blobs/" + sha256_hex(lfs_content));
  const auto reqs = hub.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].path, "/cdn/blob?sig=1");
  EXPECT_EQ(reqs[1].headers.count("authorization"), 0u);  // another origin: no token
}

TEST(HubDownloadFlow, EntryNotFoundLeavesMarkerAndIsFinal) {
  FakeHub hub([](const FakeRequest&) {
    return FakeReply{404, {{"X-Error-Code", "EntryNotFound"}, {"X-Repo-Commit", kCommit},
                           {"X-Error-Message", "Entry not found"}}, "", true};
  });
  Scratch s;
  auto path = hf_hub_download(config_for(hub, s), "org/m", "sub/missing.json");
  ASSERT_FALSE(path.ok());
  EXPECT_EQ(path.status().code(), StatusCode::kNotFound);
  EXPECT_NE(path.status().message().find("file not found"), std::string::npos);
  EXPECT_TRUE(fs::exists(s.dir / "cache" / "models--org--m" / ".no_exist" / kCommit / "sub" /
                         "missing.json"));
}

TEST(HubDownloadFlow, CacheAnswersWhenHubFailsOrOffline) {
  std::atomic<int> mode{0};  // 0 ok, 1: 500, 2: RevisionNotFound, 3: RepoNotFound
  FakeHub hub([&](const FakeRequest&) {
    switch (mode.load()) {
      case 1: return FakeReply{500, {}, "{\"error\":\"down\"}", true};
      case 2: return FakeReply{404, {{"X-Error-Code", "RevisionNotFound"}}, "", true};
      case 3: return FakeReply{401, {{"X-Error-Code", "RepoNotFound"}}, "", true};
      default: return file_reply(kContent);
    }
  });
  Scratch s;
  HubConfig c = config_for(hub, s);
  auto first = hf_hub_download(c, "org/m", "a.txt");
  ASSERT_TRUE(first.ok()) << first.status().to_string();
  mode = 1;
  auto r = hf_hub_download(c, "org/m", "a.txt");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(*r, *first);
  auto not_cached = hf_hub_download(c, "org/m", "b.txt");
  EXPECT_EQ(not_cached.status().code(), StatusCode::kIoError);
  EXPECT_NE(not_cached.status().message().find("HTTP 500"), std::string::npos);  // HEAD: no body
  mode = 3;  // a repo the hub now hides: the cached copy still answers, as in Python
  EXPECT_TRUE(hf_hub_download(c, "org/m", "a.txt").ok());
  mode = 2;  // a revision that does not exist (any more) is always an error
  EXPECT_EQ(hf_hub_download(c, "org/m", "a.txt").status().code(), StatusCode::kNotFound);
  mode = 1;
  c.offline = true;
  const size_t before = hub.requests().size();
  EXPECT_EQ(*hf_hub_download(c, "org/m", "a.txt"), *first);
  auto offline_miss = hf_hub_download(c, "org/m", "b.txt");
  EXPECT_NE(offline_miss.status().message().find("offline"), std::string::npos);
  EXPECT_EQ(hub.requests().size(), before);  // offline: nothing left the machine
}

TEST(HubDownloadFlow, MissingMetadataIsReported) {
  FakeHub hub([](const FakeRequest&) { return FakeReply{200, {}, "x", true}; });
  Scratch s;
  auto r = hf_hub_download(config_for(hub, s), "org/m", "a.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("X-Repo-Commit"), std::string::npos);
}

TEST(HubDownloadFlow, SnapshotFollowsLinkPages) {
  const std::string a = "aaa", b = "bbbb";
  std::string base;
  FakeHub hub([&](const FakeRequest& r) {
    if (r.path == "/api/models/org/m/revision/main") {
      return FakeReply{200, {}, "{\"id\":\"org/m\",\"sha\":\"" + kCommit + "\"}", true};
    }
    if (r.path == "/api/models/org/m/tree/" + kCommit + "?recursive=true&expand=false") {
      return FakeReply{200,
                       {{"Link", "<" + base + "/api/models/org/m/tree/" + kCommit +
                                     "?recursive=true&expand=false&cursor=2>; rel=\"next\""}},
                       "[{\"type\":\"file\",\"path\":\"a.txt\",\"size\":3,\"oid\":\"" +
                           git_blob_sha1_hex(a) + "\"},{\"type\":\"directory\",\"path\":\"d\"}]",
                       true};
    }
    if (r.path.find("cursor=2") != std::string::npos) {
      return FakeReply{200, {}, "[{\"type\":\"file\",\"path\":\"d/b.txt\",\"size\":4,\"oid\":\"" +
                                    git_blob_sha1_hex(b) + "\"}]", true};
    }
    if (r.path.find("/resolve/") != std::string::npos) {
      return file_reply(r.path.find("a.txt") != std::string::npos ? a : b);
    }
    return FakeReply{404, {}, "", true};
  });
  base = hub.endpoint();
  Scratch s;
  HubConfig c = config_for(hub, s);
  auto folder = snapshot_download(c, "org/m");
  ASSERT_TRUE(folder.ok()) << folder.status().to_string();
  EXPECT_EQ(slurp(fs::path(*folder) / "a.txt"), a);
  EXPECT_EQ(slurp(fs::path(*folder) / "d" / "b.txt"), b);
  EXPECT_TRUE(fs::exists(s.dir / "cache" / "models--org--m" / "trees" / (kCommit + ".json")));
  // Offline with a complete cached listing: the snapshot; with a pattern selecting a file that
  // is not cached: refused as incomplete.
  c.offline = true;
  EXPECT_EQ(*snapshot_download(c, "org/m"), *folder);
  fs::remove(fs::path(*folder) / "d" / "b.txt");
  SnapshotOptions only_b;
  only_b.allow_patterns = {"d/"};
  auto incomplete = snapshot_download(c, "org/m", only_b);
  ASSERT_FALSE(incomplete.ok());
  EXPECT_NE(incomplete.status().message().find("incomplete"), std::string::npos);
  SnapshotOptions only_a;
  only_a.allow_patterns = {"a.*"};
  EXPECT_TRUE(snapshot_download(c, "org/m", only_a).ok());
}

}  // namespace
}  // namespace mlhub::hub
