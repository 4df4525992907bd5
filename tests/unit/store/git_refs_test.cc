// GitRepo branches, tags and other refs.
#include <gtest/gtest.h>

#include "mlhub/store.h"
#include "store_test_util.h"

namespace mlhub::store {
namespace {

using namespace testing_util;

class GitRefsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = GitRepo::create_bare(repo_path());
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    repo_ = std::make_unique<GitRepo>(std::move(r).value());
    c1_ = commit(*repo_, "", {put(*repo_, "f", "1")}, "one", 1700000000);
    c2_ = commit(*repo_, c1_, {put(*repo_, "f", "2")}, "two", 1700000100);
  }
  fs::path repo_path() const { return dir_.path() / "repo.git"; }

  TempDir dir_;
  std::unique_ptr<GitRepo> repo_;
  std::string c1_, c2_;
};

std::vector<std::string> names(const std::vector<GitRef>& refs) {
  std::vector<std::string> out;
  for (const auto& r : refs) out.push_back(r.name);
  return out;
}

TEST_F(GitRefsTest, Branches) {
  ASSERT_EQ(repo_->branches().size(), 1u);
  EXPECT_EQ(repo_->branches()[0].name, "main");
  EXPECT_EQ(repo_->branches()[0].ref, "refs/heads/main");
  EXPECT_EQ(repo_->branches()[0].target, c2_);

  ASSERT_TRUE(repo_->create_branch("dev", c1_).ok());
  ASSERT_TRUE(repo_->create_branch("feature/x", "main").ok());
  EXPECT_TRUE(repo_->has_branch("dev"));
  EXPECT_TRUE(repo_->has_branch("feature/x"));
  EXPECT_FALSE(repo_->has_branch("feature"));
  EXPECT_EQ(*repo_->resolve("dev"), c1_);
  EXPECT_EQ(names(repo_->branches()), (std::vector<std::string>{"dev", "feature/x", "main"}));

  EXPECT_EQ(repo_->create_branch("dev", c2_).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*repo_->resolve("dev"), c1_);
  ASSERT_TRUE(repo_->create_branch("dev", c2_, /*overwrite=*/true).ok());
  EXPECT_EQ(*repo_->resolve("dev"), c2_);
  EXPECT_EQ(repo_->create_branch("other", std::string(40, 'e')).code(), StatusCode::kNotFound);
  EXPECT_EQ(repo_->create_branch("other", "nope").code(), StatusCode::kNotFound);
  EXPECT_EQ(repo_->create_branch("bad..name", c1_).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(repo_->create_branch("HEAD", c1_).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(repo_->has_branch("other"));

  ASSERT_TRUE(repo_->delete_branch("dev").ok());
  EXPECT_FALSE(repo_->has_branch("dev"));
  EXPECT_EQ(repo_->delete_branch("dev").code(), StatusCode::kNotFound);
  EXPECT_EQ(repo_->delete_branch("never").code(), StatusCode::kNotFound);
  EXPECT_EQ(repo_->delete_branch("../main").code(), StatusCode::kNotFound);
  EXPECT_EQ(names(repo_->branches()), (std::vector<std::string>{"feature/x", "main"}));
  // Branches agree with git.
  EXPECT_EQ(trim(run_command("git -C " + sh_quote(repo_path().string()) + " for-each-ref --format='%(refname)' refs/heads")),
            "refs/heads/feature/x\nrefs/heads/main");
}

TEST_F(GitRefsTest, Tags) {
  ASSERT_TRUE(repo_->create_tag("v1.0", c1_, "", "", "").ok());
  ASSERT_TRUE(repo_->create_tag("v2.0", "main", "Release 2\n\nnotes", "Tagger", "tagger@example.com").ok());
  auto tags = repo_->tags();
  ASSERT_EQ(tags.size(), 2u);
  EXPECT_EQ(tags[0].name, "v1.0");
  EXPECT_EQ(tags[0].ref, "refs/tags/v1.0");
  EXPECT_EQ(tags[0].target, c1_);
  EXPECT_EQ(tags[1].name, "v2.0");
  EXPECT_EQ(tags[1].target, c2_);  // peeled

  const std::string q = "git -C " + sh_quote(repo_path().string());
  EXPECT_EQ(trim(run_command(q + " cat-file -t v1.0")), "commit");
  EXPECT_EQ(trim(run_command(q + " cat-file -t v2.0")), "tag");
  const std::string tag = run_command(q + " cat-file -p v2.0");
  EXPECT_NE(tag.find("tagger Tagger <tagger@example.com>"), std::string::npos) << tag;
  EXPECT_NE(tag.find("Release 2\n\nnotes"), std::string::npos) << tag;

  EXPECT_EQ(repo_->create_tag("v1.0", c2_, "", "", "").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(repo_->create_tag("v2.0", c1_, "again", "T", "t@x").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*repo_->resolve("v1.0"), c1_);
  EXPECT_EQ(repo_->create_tag("v3", "nope", "", "", "").code(), StatusCode::kNotFound);
  EXPECT_EQ(repo_->create_tag("v 3", c1_, "", "", "").code(), StatusCode::kInvalidArgument);

  ASSERT_TRUE(repo_->delete_tag("v2.0").ok());
  EXPECT_EQ(repo_->delete_tag("v2.0").code(), StatusCode::kNotFound);
  EXPECT_EQ(repo_->resolve("v2.0").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(names(repo_->tags()), (std::vector<std::string>{"v1.0"}));
  EXPECT_EQ(git_fsck(repo_path()), 0);
}

TEST_F(GitRefsTest, PullRequestRefsSortNumerically) {
  for (int n : {10, 2, 1, 33}) ASSERT_TRUE(repo_->set_ref("refs/pr/" + std::to_string(n), c1_).ok());
  ASSERT_TRUE(repo_->set_ref("refs/pr/2", c2_).ok());  // moves an existing ref
  ASSERT_TRUE(repo_->set_ref("refs/convert/parquet", c2_).ok());
  auto prs = repo_->pull_requests();
  EXPECT_EQ(names(prs), (std::vector<std::string>{"refs/pr/1", "refs/pr/2", "refs/pr/10", "refs/pr/33"}));
  ASSERT_EQ(prs.size(), 4u);
  EXPECT_EQ(prs[1].ref, "refs/pr/2");
  EXPECT_EQ(prs[1].target, c2_);
  EXPECT_EQ(prs[0].target, c1_);
  // PR and convert refs are neither branches nor tags.
  EXPECT_EQ(names(repo_->branches()), (std::vector<std::string>{"main"}));
  EXPECT_TRUE(repo_->tags().empty());

  EXPECT_EQ(repo_->set_ref("pr/3", c1_).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(repo_->set_ref("refs/pr/../../x", c1_).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(repo_->set_ref("refs/pr/4", "nope").code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace mlhub::store
