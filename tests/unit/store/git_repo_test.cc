// GitRepo: creating, committing, reading trees and blobs, and agreement with the git CLI.
#include <gtest/gtest.h>

#include <map>

#include "mlhub/store.h"
#include "store_test_util.h"

namespace mlhub::store {
namespace {

using namespace testing_util;

class GitRepoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = GitRepo::create_bare(repo_path());
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    repo_ = std::make_unique<GitRepo>(std::move(r).value());
  }
  fs::path repo_path() const { return dir_.path() / "repo.git"; }
  std::string git(const std::string& args, int* rc = nullptr) {
    return trim(run_command("git -C " + sh_quote(repo_path().string()) + " " + args + " 2>/dev/null", rc));
  }

  TempDir dir_;
  std::unique_ptr<GitRepo> repo_;
};

const std::map<std::string, std::string> kFiles = {
    {".gitattributes", "*.bin filter=lfs diff=lfs merge=lfs -text\n"},
    {"README.md", "# model\n"},
    {"config.json", "{\"hidden_size\": 8}\n"},
    {"a.txt", "a file sorting before folder a\n"},
    {"a/b.txt", "nested\n"},
    {"a/c/d.txt", "deeper\n"},
    {"a-b/e.txt", "dash folder\n"},
    {"empty.txt", ""},
    {"binary.dat", std::string("\0\x01\x02\xff\xfe", 5)},
};

std::vector<FileChange> put_all(GitRepo& repo, const std::map<std::string, std::string>& files) {
  std::vector<FileChange> changes;
  for (const auto& [path, content] : files) changes.push_back(put(repo, path, content));
  return changes;
}

TEST_F(GitRepoTest, CreateBareMakesAnEmptyRepoOnMain) {
  EXPECT_EQ(git("rev-parse --is-bare-repository"), "true");
  EXPECT_EQ(git("symbolic-ref HEAD"), "refs/heads/main");
  EXPECT_EQ(repo_->resolve("HEAD").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(repo_->resolve("main").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(repo_->has_branch("main"));
  EXPECT_TRUE(repo_->branches().empty());
  // The folder must not exist yet.
  EXPECT_EQ(GitRepo::create_bare(repo_path()).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(GitRepo::open(dir_.path() / "missing.git").status().code(), StatusCode::kNotFound);
  // A folder that is not a repository: libgit2's error text comes through.
  fs::create_directories(dir_.path() / "plain");
  auto plain = GitRepo::open(dir_.path() / "plain");
  EXPECT_FALSE(plain.ok());
  EXPECT_NE(plain.status().message().find("plain"), std::string::npos) << plain.status().to_string();
  EXPECT_TRUE(GitRepo::open(repo_path()).ok());
  EXPECT_FALSE(GitRepo::create_bare(dir_.path() / "x.git", "bad..name").ok());

  auto other = GitRepo::create_bare(dir_.path() / "dev.git", "dev");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(trim(run_command("git -C " + sh_quote((dir_.path() / "dev.git").string()) + " symbolic-ref HEAD")),
            "refs/heads/dev");
}

TEST_F(GitRepoTest, CommitReadBackListAndStat) {
  const std::string c1 = commit(*repo_, "", put_all(*repo_, kFiles), "initial commit");
  ASSERT_EQ(c1.size(), 40u);
  EXPECT_EQ(*repo_->resolve("main"), c1);
  EXPECT_EQ(*repo_->resolve("HEAD"), c1);
  EXPECT_TRUE(repo_->has_branch("main"));

  for (const auto& [path, content] : kFiles) {
    auto r = repo_->read_file(c1, path);
    ASSERT_TRUE(r.ok()) << path << ": " << r.status().to_string();
    EXPECT_EQ(*r, content) << path;
  }
  EXPECT_EQ(repo_->read_file(c1, "a").status().code(), StatusCode::kNotFound);  // a folder
  EXPECT_EQ(repo_->read_file(c1, "nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(repo_->read_file("main", "a/b.txt").value(), "nested\n");

  // Root, not recursive: sorted by path, folders as entries with their tree ids.
  auto root = repo_->list_tree(c1, "", false);
  ASSERT_TRUE(root.ok()) << root.status().to_string();
  std::vector<std::string> paths;
  for (const auto& e : *root) paths.push_back(e.path);
  EXPECT_EQ(paths, (std::vector<std::string>{".gitattributes", "README.md", "a", "a-b", "a.txt", "binary.dat",
                                             "config.json", "empty.txt"}));
  for (const auto& e : *root) {
    if (e.path == "a" || e.path == "a-b") {
      EXPECT_TRUE(e.is_dir);
      EXPECT_EQ(e.size, 0u);
      EXPECT_EQ(e.oid, git("rev-parse " + c1 + ":" + e.path));
    } else {
      EXPECT_FALSE(e.is_dir);
      EXPECT_EQ(e.size, kFiles.at(e.path).size());
      EXPECT_EQ(e.oid, git_blob_sha1_hex(kFiles.at(e.path)));
      EXPECT_FALSE(e.lfs.has_value());
    }
  }

  // Recursive: every file and folder, each folder before its contents.
  auto all = repo_->list_tree(c1, "", true);
  ASSERT_TRUE(all.ok());
  paths.clear();
  for (const auto& e : *all) paths.push_back(e.path);
  EXPECT_EQ(paths, (std::vector<std::string>{".gitattributes", "README.md", "a", "a-b", "a-b/e.txt", "a.txt",
                                             "a/b.txt", "a/c", "a/c/d.txt", "binary.dat", "config.json",
                                             "empty.txt"}));

  // A sub-folder, with or without a trailing slash; full paths in the result.
  for (const std::string& dir : std::vector<std::string>{"a", "a/"}) {
    auto sub = repo_->list_tree(c1, dir, false);
    ASSERT_TRUE(sub.ok());
    ASSERT_EQ(sub->size(), 2u);
    EXPECT_EQ((*sub)[0].path, "a/b.txt");
    EXPECT_EQ((*sub)[1].path, "a/c");
    EXPECT_TRUE((*sub)[1].is_dir);
  }
  auto sub_rec = repo_->list_tree(c1, "a", true);
  ASSERT_TRUE(sub_rec.ok());
  EXPECT_EQ(sub_rec->size(), 3u);
  EXPECT_EQ(repo_->list_tree(c1, "missing", false).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(repo_->list_tree(c1, "a.txt", false).status().code(), StatusCode::kNotFound);  // a file
  EXPECT_EQ(repo_->list_tree(c1, "a/missing", true).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(repo_->list_tree("0000000000000000000000000000000000000000", "", false).status().code(),
            StatusCode::kNotFound);

  // stat
  auto st = repo_->stat(c1, "a/c/d.txt");
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE(st->has_value());
  EXPECT_EQ((*st)->path, "a/c/d.txt");
  EXPECT_FALSE((*st)->is_dir);
  EXPECT_EQ((*st)->size, 7u);
  EXPECT_EQ((*st)->oid, git_blob_sha1_hex("deeper\n"));
  auto st_dir = repo_->stat(c1, "a/c");
  ASSERT_TRUE(st_dir.ok() && st_dir->has_value());
  EXPECT_TRUE((*st_dir)->is_dir);
  EXPECT_EQ((*st_dir)->oid, git("rev-parse " + c1 + ":a/c"));
  auto st_root = repo_->stat(c1, "");
  ASSERT_TRUE(st_root.ok() && st_root->has_value());
  EXPECT_TRUE((*st_root)->is_dir);
  EXPECT_EQ((*st_root)->oid, git("rev-parse " + c1 + "^{tree}"));
  for (const std::string& missing : std::vector<std::string>{"nope", "a/nope", "a.txt/x", "a/", "/a", "a//b.txt"}) {
    auto m = repo_->stat(c1, missing);
    ASSERT_TRUE(m.ok()) << missing;
    EXPECT_FALSE(m->has_value()) << missing;
  }
}

TEST_F(GitRepoTest, GitCliAgrees) {
  const std::string c1 = commit(*repo_, "", put_all(*repo_, kFiles), "initial commit\n\nwith a body");
  EXPECT_EQ(git_fsck(repo_path()), 0);
  EXPECT_EQ(git("rev-parse main"), c1);
  EXPECT_EQ(git("log -1 --format=%an%n%ae%n%at%n%s%n%cn%n%ce main"),
            "Ada Lovelace\nada@example.com\n1700000000\ninitial commit\nmlhub\nnoreply@mlhub.local");
  const std::string cat = git("cat-file -p " + c1);
  EXPECT_NE(cat.find("author Ada Lovelace <ada@example.com> 1700000000 +0000"), std::string::npos) << cat;

  // A clone over the file path has every file, byte for byte.
  const fs::path clone = dir_.path() / "clone";
  int rc = 0;
  run_command("git clone -q " + sh_quote(repo_path().string()) + " " + sh_quote(clone.string()) + " 2>&1", &rc);
  ASSERT_EQ(rc, 0);
  for (const auto& [path, content] : kFiles) EXPECT_EQ(read_all(clone / path), content) << path;
  size_t files = 0;
  for (auto it = fs::recursive_directory_iterator(clone); it != fs::recursive_directory_iterator(); ++it) {
    if (it->path().filename() == ".git") {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file()) ++files;
  }
  EXPECT_EQ(files, kFiles.size());
}

TEST_F(GitRepoTest, BlobIdsEqualGitHashObject) {
  for (const std::string& content : std::vector<std::string>{std::string(), std::string("hello\n"), std::string(70000, 'q'),
                                    std::string("\0\0\0", 3)}) {
    const fs::path file = dir_.path() / "blob";
    write_all(file, content);
    const std::string expected = trim(run_command("git hash-object " + sh_quote(file.string())));
    auto id = repo_->write_blob(content);
    ASSERT_TRUE(id.ok());
    EXPECT_EQ(*id, expected);
    EXPECT_EQ(*id, git_blob_sha1_hex(content));
    EXPECT_EQ(git("cat-file -t " + *id), "blob");

    auto writer = repo_->begin_blob();
    ASSERT_TRUE(writer.ok());
    for (size_t pos = 0; pos < content.size(); pos += 1000) {
      ASSERT_TRUE((*writer)->write(content.data() + pos, std::min<size_t>(1000, content.size() - pos)).ok());
    }
    auto streamed = (*writer)->finish();
    ASSERT_TRUE(streamed.ok()) << streamed.status().to_string();
    EXPECT_EQ(*streamed, expected);
  }
}

std::string read_range(const GitRepo& repo, const std::string& oid, uint64_t offset, uint64_t length,
                       Status* status = nullptr) {
  std::string out;
  Status s = repo.read_blob(oid, offset, length, [&](const char* data, size_t n) {
    out.append(data, n);
    return true;
  });
  if (status) *status = s;
  EXPECT_TRUE(status || s.ok()) << s.to_string();
  return out;
}

TEST_F(GitRepoTest, ReadBlobRangesLooseAndPacked) {
  std::string content(300000, '\0');
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>((i * 2654435761u) >> 13);
  auto writer = repo_->begin_blob();
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->write(content.data(), content.size()).ok());
  auto id = (*writer)->finish();
  ASSERT_TRUE(id.ok());
  const std::string c1 = commit(*repo_, "", {{FileChange::Kind::kPut, "big.bin", *id}});

  auto check_ranges = [&] {
    EXPECT_EQ(read_range(*repo_, *id, 0, UINT64_MAX), content);
    EXPECT_EQ(read_range(*repo_, *id, 100000, 70000), content.substr(100000, 70000));
    EXPECT_EQ(read_range(*repo_, *id, 65535, 3), content.substr(65535, 3));
    EXPECT_EQ(read_range(*repo_, *id, content.size() - 5, UINT64_MAX), content.substr(content.size() - 5));
    EXPECT_EQ(read_range(*repo_, *id, content.size(), 10), "");
    Status s;
    read_range(*repo_, *id, content.size() + 1, 10, &s);
    EXPECT_EQ(s.code(), StatusCode::kOutOfRange);
    // The sink stops the stream early.
    size_t calls = 0;
    EXPECT_TRUE(repo_->read_blob(*id, 0, UINT64_MAX, [&](const char*, size_t) { return ++calls < 2; }).ok());
    EXPECT_EQ(calls, 2u);
  };
  check_ranges();
  // After a repack the blob is in a pack (no streaming reader): same answers.
  int rc = 0;
  git("repack -a -d -q", &rc);
  ASSERT_EQ(rc, 0);
  git("prune", &rc);
  ASSERT_TRUE(fs::exists(repo_path() / "objects" / "pack"));
  auto reopened = GitRepo::open(repo_path());
  ASSERT_TRUE(reopened.ok());
  *repo_ = std::move(reopened).value();
  check_ranges();
  EXPECT_EQ(*repo_->read_file(c1, "big.bin"), content);

  Status s;
  read_range(*repo_, c1, 0, 10, &s);  // a commit, not a blob
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  read_range(*repo_, std::string(40, 'a'), 0, 10, &s);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  read_range(*repo_, "xyz", 0, 10, &s);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

TEST_F(GitRepoTest, AbandonedBlobWriterLeavesNoTempFile) {
  {
    auto writer = repo_->begin_blob();
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->write("abc", 3).ok());
  }
  for (const auto& e : fs::directory_iterator(repo_path() / "objects")) {
    EXPECT_FALSE(e.is_regular_file()) << e.path();
  }
}

TEST_F(GitRepoTest, LfsPointersAreDetected) {
  const std::string sha = sha256_hex("weights");
  const std::string pointer = format_lfs_pointer({sha, 123456789});
  const std::string not_pointer = pointer + "extra\n";
  const std::string c1 = commit(*repo_, "", {put(*repo_, "model.bin", pointer), put(*repo_, "x/y.bin", pointer),
                                             put(*repo_, "fake.bin", not_pointer),
                                             put(*repo_, "large.txt", std::string(2000, 'x'))});
  auto all = repo_->list_tree(c1, "", true);
  ASSERT_TRUE(all.ok());
  std::map<std::string, TreeEntry> by_path;
  for (auto& e : *all) by_path[e.path] = e;
  ASSERT_TRUE(by_path["model.bin"].lfs.has_value());
  EXPECT_EQ(by_path["model.bin"].lfs->oid, sha);
  EXPECT_EQ(by_path["model.bin"].lfs->size, 123456789u);
  EXPECT_EQ(by_path["model.bin"].size, pointer.size());  // the git blob size
  EXPECT_TRUE(by_path["x/y.bin"].lfs.has_value());
  EXPECT_FALSE(by_path["fake.bin"].lfs.has_value());
  EXPECT_FALSE(by_path["large.txt"].lfs.has_value());
  EXPECT_FALSE(by_path["x"].lfs.has_value());
  auto st = repo_->stat(c1, "x/y.bin");
  ASSERT_TRUE(st.ok() && st->has_value());
  ASSERT_TRUE((*st)->lfs.has_value());
  EXPECT_EQ((*st)->lfs->size, 123456789u);
}

TEST_F(GitRepoTest, ResolveRevisions) {
  const std::string c1 = commit(*repo_, "", {put(*repo_, "f", "1")}, "one", 1700000000);
  const std::string c2 = commit(*repo_, c1, {put(*repo_, "f", "2")}, "two", 1700000100);
  EXPECT_EQ(*repo_->resolve("main"), c2);
  EXPECT_EQ(*repo_->resolve("HEAD"), c2);
  EXPECT_EQ(*repo_->resolve("refs/heads/main"), c2);
  EXPECT_EQ(*repo_->resolve(c1), c1);
  EXPECT_EQ(*repo_->resolve(c1.substr(0, 7)), c1);
  EXPECT_EQ(*repo_->resolve(c1.substr(0, 5)), c1);
  EXPECT_EQ(repo_->resolve(c1.substr(0, 4)).status().code(), StatusCode::kNotFound);  // too short

  ASSERT_TRUE(repo_->create_tag("v1", c1, "", "", "").ok());
  ASSERT_TRUE(repo_->create_tag("v2", c2, "release two", "Tagger", "t@example.com").ok());
  EXPECT_EQ(*repo_->resolve("v1"), c1);
  EXPECT_EQ(*repo_->resolve("v2"), c2);  // peeled from the annotated tag object
  EXPECT_EQ(*repo_->resolve("refs/tags/v2"), c2);
  EXPECT_EQ(git("cat-file -t refs/tags/v2"), "tag");

  ASSERT_TRUE(repo_->set_ref("refs/pr/1", c1).ok());
  ASSERT_TRUE(repo_->set_ref("refs/convert/parquet", c2).ok());
  EXPECT_EQ(*repo_->resolve("refs/pr/1"), c1);
  EXPECT_EQ(*repo_->resolve("refs/convert/parquet"), c2);

  for (const std::string& unknown : std::vector<std::string>{"nope", "refs/heads/nope", "refs/pr/2", "", "deadbeef", std::string(40, '0'),
                                    "refs/../../config", "../HEAD", "main~1", "main^", "HEAD@{0}", "pr/1"}) {
    EXPECT_EQ(repo_->resolve(unknown).status().code(), StatusCode::kNotFound) << unknown;
  }
  // A blob id is not a revision.
  EXPECT_EQ(repo_->resolve(git_blob_sha1_hex("1")).status().code(), StatusCode::kNotFound);
}

TEST_F(GitRepoTest, AmbiguousAbbreviationIsNotFound) {
  // Write blobs until two objects share a 5-hex prefix with the commit; then that prefix is
  // ambiguous even though only one of them is a commit.
  const std::string c1 = commit(*repo_, "", {put(*repo_, "f", "x")});
  const std::string prefix = c1.substr(0, 5);
  bool found = false;
  for (int i = 0; i < 20000000 && !found; ++i) {
    const std::string content = "collide " + std::to_string(i);
    if (git_blob_sha1_hex(content).compare(0, 5, prefix) == 0) {
      ASSERT_TRUE(repo_->write_blob(content).ok());
      found = true;
    }
  }
  ASSERT_TRUE(found);
  EXPECT_EQ(repo_->resolve(prefix).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(*repo_->resolve(c1), c1);
}

}  // namespace
}  // namespace mlhub::store
