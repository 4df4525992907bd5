// GitRepo history: log pagination, commit_info, last_commits.
#include <gtest/gtest.h>

#include "mlhub/store.h"
#include "store_test_util.h"

namespace mlhub::store {
namespace {

using namespace testing_util;

class GitLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = GitRepo::create_bare(repo_path());
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    repo_ = std::make_unique<GitRepo>(std::move(r).value());
    // c0 adds README and a/x; c1 changes a/x; c2 adds b/y; c3 changes README; c4 adds a/z.
    ids_.push_back(commit(*repo_, "", {put(*repo_, "README.md", "r0"), put(*repo_, "a/x", "x0")},
                          "initial commit", 1700000000));
    ids_.push_back(commit(*repo_, ids_.back(), {put(*repo_, "a/x", "x1")}, "change x\n\nbody line", 1700000100));
    ids_.push_back(commit(*repo_, ids_.back(), {put(*repo_, "b/y", "y")}, "add y", 1700000200));
    ids_.push_back(commit(*repo_, ids_.back(), {put(*repo_, "README.md", "r1")}, "readme", 1700000300));
    ids_.push_back(commit(*repo_, ids_.back(), {put(*repo_, "a/z", "z")}, "add z", 1700000400));
  }
  fs::path repo_path() const { return dir_.path() / "repo.git"; }

  TempDir dir_;
  std::unique_ptr<GitRepo> repo_;
  std::vector<std::string> ids_;  // oldest first
};

TEST_F(GitLogTest, Pagination) {
  size_t total = 0;
  auto all = repo_->log("main", 0, 100, &total);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(total, 5u);
  ASSERT_EQ(all->size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ((*all)[i].id, ids_[4 - i]);  // newest first

  auto page = repo_->log("main", 1, 2, &total);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(total, 5u);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].id, ids_[3]);
  EXPECT_EQ((*page)[1].id, ids_[2]);

  auto tail = repo_->log("main", 4, 10, &total);
  ASSERT_TRUE(tail.ok());
  ASSERT_EQ(tail->size(), 1u);
  EXPECT_EQ((*tail)[0].id, ids_[0]);
  EXPECT_TRUE(repo_->log("main", 5, 10, &total)->empty());
  EXPECT_TRUE(repo_->log("main", 0, 0, &total)->empty());
  EXPECT_EQ(total, 5u);
  auto no_total = repo_->log("main", 0, 2);
  ASSERT_TRUE(no_total.ok());
  EXPECT_EQ(no_total->size(), 2u);

  auto from_old = repo_->log(ids_[1], 0, 100, &total);
  ASSERT_TRUE(from_old.ok());
  EXPECT_EQ(total, 2u);
  EXPECT_EQ(repo_->log("nope", 0, 10).status().code(), StatusCode::kNotFound);

  // Same order as git log.
  const std::string git_log =
      trim(run_command("git -C " + sh_quote(repo_path().string()) + " log --format=%H main"));
  std::string ours;
  for (const auto& c : *all) ours += (ours.empty() ? "" : "\n") + c.id;
  EXPECT_EQ(ours, git_log);
}

TEST_F(GitLogTest, CommitInfo) {
  auto info = repo_->commit_info(ids_[1]);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->id, ids_[1]);
  EXPECT_EQ(info->title, "change x");
  EXPECT_EQ(info->message, "change x\n\nbody line");
  EXPECT_EQ(info->author_name, "Ada Lovelace");
  EXPECT_EQ(info->author_email, "ada@example.com");
  EXPECT_EQ(info->time, 1700000100);
  EXPECT_EQ(info->parents, (std::vector<std::string>{ids_[0]}));
  auto root = repo_->commit_info(ids_[0]);
  ASSERT_TRUE(root.ok());
  EXPECT_TRUE(root->parents.empty());
  EXPECT_EQ(root->title, "initial commit");
  EXPECT_EQ(repo_->commit_info("main")->id, ids_[4]);
  EXPECT_EQ(repo_->commit_info(std::string(40, '1')).status().code(), StatusCode::kNotFound);
}

TEST_F(GitLogTest, LastCommits) {
  auto last = repo_->last_commits("main", {"README.md", "a/x", "a", "b", "b/y", "a/z", "missing", "a/missing", ""});
  ASSERT_TRUE(last.ok()) << last.status().to_string();
  EXPECT_EQ(last->at("README.md").id, ids_[3]);
  EXPECT_EQ(last->at("a/x").id, ids_[1]);
  EXPECT_EQ(last->at("a").id, ids_[4]);     // a/z was added to the folder last
  EXPECT_EQ(last->at("b").id, ids_[2]);
  EXPECT_EQ(last->at("b/y").id, ids_[2]);
  EXPECT_EQ(last->at("a/z").id, ids_[4]);
  EXPECT_EQ(last->at("").id, ids_[4]);
  EXPECT_EQ(last->at("a/x").title, "change x");
  EXPECT_EQ(last->at("a/x").time, 1700000100);
  EXPECT_EQ(last->count("missing"), 0u);
  EXPECT_EQ(last->count("a/missing"), 0u);

  // From an older commit: paths added later are absent; others go back to their last change
  // before that commit.
  auto old = repo_->last_commits(ids_[2], {"README.md", "a", "a/z", "b/y"});
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->at("README.md").id, ids_[0]);
  EXPECT_EQ(old->at("a").id, ids_[1]);
  EXPECT_EQ(old->at("b/y").id, ids_[2]);
  EXPECT_EQ(old->count("a/z"), 0u);

  // A file deleted and re-added with the same content is attributed to the re-adding commit.
  const std::string c5 = commit(*repo_, ids_[4], {del("b/y")}, "drop y", 1700000500);
  const std::string c6 = commit(*repo_, c5, {put(*repo_, "b/y", "y")}, "restore y", 1700000600);
  auto again = repo_->last_commits(c6, {"b/y", "b", "a/x"});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->at("b/y").id, c6);
  EXPECT_EQ(again->at("b").id, c6);
  EXPECT_EQ(again->at("a/x").id, ids_[1]);

  // Agrees with `git log -1 -- path`.
  for (const std::string& path : std::vector<std::string>{"README.md", "a", "a/x", "b"}) {
    const std::string expected = trim(run_command("git -C " + sh_quote(repo_path().string()) +
                                                  " log -1 --format=%H " + c6 + " -- " + path));
    EXPECT_EQ(again->count(path) ? again->at(path).id : repo_->last_commits(c6, {path})->at(path).id, expected)
        << path;
  }
  EXPECT_EQ(repo_->last_commits("nope", {"a"}).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace mlhub::store
