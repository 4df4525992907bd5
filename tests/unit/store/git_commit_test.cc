// GitRepo::commit: tree edits, their errors, the compare-and-swap and crash recovery.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "mlhub/store.h"
#include "store_test_util.h"

namespace mlhub::store {
namespace {

using namespace testing_util;

class GitCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = GitRepo::create_bare(repo_path());
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    repo_ = std::make_unique<GitRepo>(std::move(r).value());
    base_ = commit(*repo_, "", {put(*repo_, "README.md", "hi\n"), put(*repo_, "a/b.txt", "b"),
                                put(*repo_, "a/c/d.txt", "d"), put(*repo_, "a/c/e.txt", "e"),
                                put(*repo_, "x/y.txt", "y")},
                   "initial commit");
    ASSERT_FALSE(base_.empty());
  }
  fs::path repo_path() const { return dir_.path() / "repo.git"; }
  std::vector<std::string> files(const std::string& rev) {
    std::vector<std::string> out;
    auto all = repo_->list_tree(rev, "", true);
    EXPECT_TRUE(all.ok()) << all.status().to_string();
    if (all.ok()) {
      for (const auto& e : *all) out.push_back(e.is_dir ? e.path + "/" : e.path);
    }
    return out;
  }
  Result<std::string> try_commit(std::vector<FileChange> changes, std::string parent = "") {
    return repo_->commit(request(parent.empty() ? base_ : parent, std::move(changes)));
  }

  TempDir dir_;
  std::unique_ptr<GitRepo> repo_;
  std::string base_;
};

TEST_F(GitCommitTest, DeleteFileAndFolder) {
  const std::string c2 = commit(*repo_, base_, {del("a/c/d.txt")});
  EXPECT_EQ(files(c2), (std::vector<std::string>{"README.md", "a/", "a/b.txt", "a/c/", "a/c/e.txt", "x/",
                                                 "x/y.txt"}));
  // Deleting the last file of a folder removes the folder (git stores no empty trees).
  const std::string c3 = commit(*repo_, c2, {del("x/y.txt")});
  EXPECT_EQ(files(c3), (std::vector<std::string>{"README.md", "a/", "a/b.txt", "a/c/", "a/c/e.txt"}));
  const std::string c4 = commit(*repo_, c3, {del_folder("a")});
  EXPECT_EQ(files(c4), (std::vector<std::string>{"README.md"}));
  // A trailing slash on a folder to delete is allowed.
  ASSERT_TRUE(repo_->create_branch("other", base_).ok());
  auto c5 = repo_->commit(request(base_, {del_folder("a/c/")}, "x", 1700000001, "refs/heads/other"));
  ASSERT_TRUE(c5.ok()) << c5.status().to_string();
  EXPECT_EQ(files(*c5), (std::vector<std::string>{"README.md", "a/", "a/b.txt", "x/", "x/y.txt"}));
  // Everything deleted: an empty tree, still a valid commit.
  auto c6 = repo_->commit(
      request(*c5, {del_folder("a"), del_folder("x"), del("README.md")}, "x", 1700000002, "refs/heads/other"));
  ASSERT_TRUE(c6.ok()) << c6.status().to_string();
  EXPECT_TRUE(files(*c6).empty());
  EXPECT_EQ(*repo_->resolve("other"), *c6);
  EXPECT_EQ(*repo_->resolve("main"), c4);
  EXPECT_EQ(git_fsck(repo_path()), 0);
}

TEST_F(GitCommitTest, DeleteMissingIsNotFoundNamingThePath) {
  struct Case {
    FileChange change;
    std::string path;
  };
  for (const Case& c : std::vector<Case>{{del("nope.txt"), "nope.txt"},
                                         {del("a/nope.txt"), "a/nope.txt"},
                                         {del("nope/x.txt"), "nope/x.txt"},
                                         {del("README.md/x"), "README.md/x"},
                                         {del("a"), "a"},                // a folder, not a file
                                         {del_folder("README.md"), "README.md"},
                                         {del_folder("nope"), "nope"},
                                         {del_folder("a/b.txt/c"), "a/b.txt/c"}}) {
    auto r = try_commit({c.change});
    EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << c.path;
    EXPECT_NE(r.status().message().find(c.path), std::string::npos) << r.status().message();
  }
  EXPECT_EQ(*repo_->resolve("main"), base_);  // nothing moved
}

TEST_F(GitCommitTest, PutCollisionsAreInvalidArgument) {
  auto through_file = try_commit({put(*repo_, "README.md/x.txt", "x")});
  EXPECT_EQ(through_file.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(through_file.status().message().find("README.md"), std::string::npos);
  EXPECT_EQ(try_commit({put(*repo_, "a/b.txt/c/d", "x")}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(try_commit({put(*repo_, "a", "x")}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(try_commit({put(*repo_, "a/c", "x")}).status().code(), StatusCode::kInvalidArgument);
  // Within one commit too.
  EXPECT_EQ(try_commit({put(*repo_, "n/m", "x"), put(*repo_, "n", "y")}).status().code(),
            StatusCode::kInvalidArgument);
  // Invalid paths and unknown blobs.
  for (const std::string& bad : std::vector<std::string>{"../x", "/x", "a//b", ".git/config", "a\\b", ""}) {
    FileChange change{FileChange::Kind::kPut, bad, git_blob_sha1_hex("")};
    ASSERT_TRUE(repo_->write_blob("").ok());
    EXPECT_EQ(try_commit({change}).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(try_commit({{FileChange::Kind::kPut, "f", std::string(40, 'a')}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(try_commit({{FileChange::Kind::kPut, "f", base_}}).status().code(),  // a commit, not a blob
            StatusCode::kInvalidArgument);
  EXPECT_EQ(*repo_->resolve("main"), base_);
}

TEST_F(GitCommitTest, ChangesApplyInOrder) {
  // Replace a folder by a file and a file by a folder in one commit; overwrite a file.
  const std::string c2 = commit(*repo_, base_, {del_folder("x"), put(*repo_, "x", "now a file"), del("README.md"),
                                                put(*repo_, "README.md/inner", "now a folder"),
                                                put(*repo_, "a/b.txt", "new b")});
  EXPECT_EQ(*repo_->read_file(c2, "x"), "now a file");
  EXPECT_EQ(*repo_->read_file(c2, "README.md/inner"), "now a folder");
  EXPECT_EQ(*repo_->read_file(c2, "a/b.txt"), "new b");
  EXPECT_EQ(*repo_->read_file(c2, "a/c/d.txt"), "d");
  // Put then delete in the same commit: gone. An emptied folder may become a file.
  const std::string c3 = commit(*repo_, c2, {put(*repo_, "tmp/t", "t"), del("tmp/t"), put(*repo_, "tmp", "file")});
  EXPECT_EQ(*repo_->read_file(c3, "tmp"), "file");
  // Untouched subtrees keep their ids.
  auto before = repo_->stat(c2, "a/c");
  auto after = repo_->stat(c3, "a/c");
  EXPECT_EQ((*before)->oid, (*after)->oid);
  EXPECT_EQ(git_fsck(repo_path()), 0);
}

TEST_F(GitCommitTest, ExecutableModeIsKept) {
  // A file made executable by a git client stays executable when the hub rewrites it.
  const fs::path work = dir_.path() / "work";
  int rc = 0;
  const std::string q = sh_quote(work.string());
  run_command("git clone -q " + sh_quote(repo_path().string()) + " " + q + " 2>&1 && cd " + q +
                  " && printf 'run' > run.sh && chmod +x run.sh && git add run.sh && git -c user.name=u "
                  "-c user.email=u@x commit -qm exe && git push -q origin main 2>&1",
              &rc);
  ASSERT_EQ(rc, 0);
  const std::string head = *repo_->resolve("main");
  const std::string c2 = commit(*repo_, head, {put(*repo_, "run.sh", "run2")});
  const std::string mode = trim(run_command("git -C " + sh_quote(repo_path().string()) + " ls-tree " + c2 +
                                            " run.sh | cut -c1-6"));
  EXPECT_EQ(mode, "100755");
}

TEST_F(GitCommitTest, CompareAndSwap) {
  const std::string first = commit(*repo_, base_, {put(*repo_, "f", "first")});
  ASSERT_FALSE(first.empty());
  auto second = repo_->commit(request(base_, {put(*repo_, "f", "second")}));
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition) << second.status().to_string();
  EXPECT_EQ(*repo_->resolve("main"), first);
  // The empty parent means "the ref must not exist".
  EXPECT_EQ(repo_->commit(request("", {put(*repo_, "f", "x")})).status().code(), StatusCode::kFailedPrecondition);
  // A parent that is not a full id is rejected.
  EXPECT_EQ(repo_->commit(request("main", {})).status().code(), StatusCode::kInvalidArgument);
  // A new ref from nothing, and a stale parent on a ref that does not exist.
  auto pr = repo_->commit(request("", {put(*repo_, "f", "pr")}, "pr", 1700000000, "refs/pr/1"));
  ASSERT_TRUE(pr.ok()) << pr.status().to_string();
  EXPECT_EQ(*repo_->resolve("refs/pr/1"), *pr);
  EXPECT_EQ(repo_->commit(request(base_, {}, "m", 1, "refs/heads/nope")).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(repo_->commit(request(base_, {}, "m", 1, "heads/main")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(repo_->commit(request(base_, {}, "m", 1, "refs/heads/a..b")).status().code(),
            StatusCode::kInvalidArgument);
  // An empty commit (no changes) is allowed and keeps the tree.
  const std::string empty = commit(*repo_, first, {}, "empty");
  EXPECT_EQ((*repo_->stat(empty, ""))->oid, (*repo_->stat(first, ""))->oid);
}

// "t<thread>/<i>" (snprintf: GCC 12 warns falsely on the operator+ chain).
std::string thread_path(int t, int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "t%d/%d", t, i);
  return buf;
}

// Racing writers, each with its own GitRepo (as the server does per request), retry on
// FailedPrecondition: no commit is lost and history stays linear.
TEST_F(GitCommitTest, ConcurrentCommitsOnOneBranch) {
  constexpr int kThreads = 8;
  constexpr int kCommitsPerThread = 5;
  std::mutex mu;
  std::vector<std::string> successes;
  std::atomic<int> conflicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto opened = GitRepo::open(repo_path());
      ASSERT_TRUE(opened.ok());
      GitRepo repo = std::move(opened).value();
      for (int i = 0; i < kCommitsPerThread; ++i) {
        const std::string path = thread_path(t, i);
        auto blob = repo.write_blob(path);
        ASSERT_TRUE(blob.ok());
        for (int attempt = 0;; ++attempt) {
          ASSERT_LT(attempt, 10000);
          auto head = repo.resolve("main");
          ASSERT_TRUE(head.ok());
          auto r = repo.commit(request(*head, {{FileChange::Kind::kPut, path, *blob}}, path));
          if (r.ok()) {
            std::lock_guard<std::mutex> lock(mu);
            successes.push_back(*r);
            break;
          }
          ASSERT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status().to_string();
          ++conflicts;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(successes.size(), size_t{kThreads * kCommitsPerThread});

  size_t total = 0;
  auto log = repo_->log("main", 0, 1000, &total);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(total, successes.size() + 1);  // + the initial commit
  std::set<std::string> logged;
  for (const auto& c : *log) logged.insert(c.id);
  for (const auto& id : successes) EXPECT_TRUE(logged.count(id)) << id;
  // Linear: each commit has exactly one parent, the next one in the log.
  for (size_t i = 0; i + 1 < log->size(); ++i) {
    ASSERT_EQ((*log)[i].parents.size(), 1u);
    EXPECT_EQ((*log)[i].parents[0], (*log)[i + 1].id);
  }
  // Every file of every thread is in the final tree.
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kCommitsPerThread; ++i) {
      const std::string path = thread_path(t, i);
      EXPECT_EQ(*repo_->read_file("main", path), path);
    }
  }
  EXPECT_EQ(git_fsck(repo_path()), 0);
  std::cerr << "[          ] " << conflicts.load() << " conflicts retried\n";
}

TEST_F(GitCommitTest, RecoverRemovesStaleLocks) {
  write_all(repo_path() / "refs" / "heads" / "main.lock", base_ + "\n");
  write_all(repo_path() / "packed-refs.lock", "");
  write_all(repo_path() / "objects" / "tmp_object_git2_abcdef", "junk");
  write_all(repo_path() / "objects" / "streamed_git2_abcdef", "junk");
  auto blocked = repo_->commit(request(base_, {put(*repo_, "f", "x")}));
  EXPECT_EQ(blocked.status().code(), StatusCode::kIoError);
  // libgit2's own message names the lock file.
  EXPECT_NE(blocked.status().message().find("main.lock"), std::string::npos) << blocked.status().message();
  EXPECT_EQ(*repo_->resolve("main"), base_);

  GitRepo::recover(repo_path());
  EXPECT_FALSE(fs::exists(repo_path() / "refs" / "heads" / "main.lock"));
  EXPECT_FALSE(fs::exists(repo_path() / "packed-refs.lock"));
  EXPECT_FALSE(fs::exists(repo_path() / "objects" / "tmp_object_git2_abcdef"));
  EXPECT_FALSE(fs::exists(repo_path() / "objects" / "streamed_git2_abcdef"));
  EXPECT_TRUE(fs::exists(repo_path() / "HEAD"));
  EXPECT_TRUE(fs::exists(repo_path() / "refs" / "heads" / "main"));
  auto ok = repo_->commit(request(base_, {put(*repo_, "f", "x")}));
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
  EXPECT_EQ(*repo_->resolve("main"), *ok);
  EXPECT_EQ(git_fsck(repo_path()), 0);
}

TEST_F(GitCommitTest, BadSignaturesAreInvalidArgument) {
  CommitRequest req = request(base_, {});
  req.author_name = "";
  EXPECT_EQ(repo_->commit(req).status().code(), StatusCode::kInvalidArgument);
  req = request(base_, {});
  req.author_email = "<evil>";
  EXPECT_EQ(repo_->commit(req).status().code(), StatusCode::kInvalidArgument);
  req = request(base_, {});
  req.message = std::string("a\0b", 3);
  EXPECT_EQ(repo_->commit(req).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*repo_->resolve("main"), base_);
}

}  // namespace
}  // namespace mlhub::store
