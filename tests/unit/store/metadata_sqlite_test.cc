#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "mlhub/store.h"

namespace mlhub::store {
namespace {

class MetadataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("mlhub-meta-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto m = MetadataStore::open_sqlite(dir_ / "hub.sqlite");
    ASSERT_TRUE(m.ok()) << m.status().to_string();
    meta_ = std::move(m).value();
  }
  void TearDown() override {
    meta_.reset();
    std::filesystem::remove_all(dir_);
  }
  Account user(const std::string& name, bool org = false) {
    Account a;
    a.name = name;
    a.is_org = org;
    auto r = meta_->create_account(a);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return *r;
  }
  RepoRecord repo(const std::string& owner, const std::string& name, bool is_private = false, const std::string& tags = "[]") {
    RepoRecord r;
    r.owner = owner;
    r.name = name;
    r.is_private = is_private;
    r.storage = "repos/models/" + name + ".git";
    r.tags_json = tags;
    auto c = meta_->create_repo(r);
    EXPECT_TRUE(c.ok()) << c.status().to_string();
    return *c;
  }
  std::filesystem::path dir_;
  std::unique_ptr<MetadataStore> meta_;
};

TEST_F(MetadataTest, AccountNamesAreUniqueCaseInsensitively) {
  user("alice");
  Account again;
  again.name = "ALICE";
  EXPECT_EQ(meta_->create_account(again).status().code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(meta_->find_account("Alice").has_value());
  EXPECT_EQ(meta_->find_account("Alice")->name, "alice");
  EXPECT_FALSE(meta_->find_account("bob").has_value());
}

TEST_F(MetadataTest, TokensAreStoredHashedAndAuthenticate) {
  const Account alice = user("alice");
  auto token = meta_->create_token(alice.id, "laptop", TokenRole::kWrite);
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->rfind("hf_", 0), 0u);
  EXPECT_EQ(token->size(), 37u);
  auto found = meta_->authenticate(*token);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->first.name, "alice");
  EXPECT_EQ(found->second.role, TokenRole::kWrite);
  EXPECT_EQ(found->second.name, "laptop");
  EXPECT_FALSE(meta_->authenticate(*token + "x").has_value());
  EXPECT_FALSE(meta_->authenticate("").has_value());
  // The plaintext is nowhere in the database file.
  meta_.reset();
  std::ifstream db(dir_ / "hub.sqlite", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(db)), std::istreambuf_iterator<char>());
  std::ifstream wal(dir_ / "hub.sqlite-wal", std::ios::binary);
  bytes.append((std::istreambuf_iterator<char>(wal)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes.find(*token), std::string::npos);
  EXPECT_NE(bytes.find(sha256_hex(*token)), std::string::npos);
}

TEST_F(MetadataTest, MembersAndRoles) {
  const Account alice = user("alice");
  const Account acme = user("acme", true);
  EXPECT_FALSE(meta_->member_role(acme.id, alice.id).has_value());
  ASSERT_TRUE(meta_->set_member(acme.id, alice.id, MemberRole::kWrite).ok());
  EXPECT_EQ(meta_->member_role(acme.id, alice.id), MemberRole::kWrite);
  auto orgs = meta_->orgs_of(alice.id);
  ASSERT_EQ(orgs.size(), 1u);
  EXPECT_EQ(orgs[0].first.name, "acme");
  EXPECT_EQ(parse_member_role("nope").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(MetadataTest, ReposCreateFindConflictMoveRedirect) {
  user("alice");
  user("bob");
  const RepoRecord r = repo("alice", "bert");
  EXPECT_GT(r.id, 0);
  RepoRecord dup;
  dup.owner = "Alice";
  dup.name = "BERT";
  EXPECT_EQ(meta_->create_repo(dup).status().code(), StatusCode::kAlreadyExists);
  // A dataset may share the name.
  dup.type = "dataset";
  EXPECT_TRUE(meta_->create_repo(dup).ok());
  ASSERT_TRUE(meta_->move_repo(r.id, "bob", "bert2").ok());
  EXPECT_FALSE(meta_->find_repo("model", "alice", "bert").has_value());
  EXPECT_TRUE(meta_->find_repo("model", "bob", "bert2").has_value());
  EXPECT_EQ(meta_->redirect_of("model", "alice", "bert"), "bob/bert2");
  // Chains collapse: a second move updates the first redirect.
  ASSERT_TRUE(meta_->move_repo(r.id, "bob", "bert3").ok());
  EXPECT_EQ(meta_->redirect_of("model", "alice", "bert"), "bob/bert3");
  EXPECT_EQ(meta_->redirect_of("model", "bob", "bert2"), "bob/bert3");
  // Moving onto an existing repo fails and changes nothing.
  const RepoRecord other = repo("bob", "taken");
  EXPECT_EQ(meta_->move_repo(r.id, "bob", "taken").code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(meta_->find_repo("model", "bob", "bert3").has_value());
  (void)other;
}

TEST_F(MetadataTest, ListingFiltersSortsPagesAndHidesPrivateRepos) {
  const Account alice = user("alice");
  const Account bob = user("bob");
  const Account acme = user("acme", true);
  ASSERT_TRUE(meta_->set_member(acme.id, bob.id, MemberRole::kRead).ok());
  repo("alice", "bert-base", false, R"(["license:mit","bert"])");
  repo("alice", "gpt-small", false, R"(["license:apache-2.0"])");
  repo("alice", "secret-bert", true, R"(["license:mit"])");
  repo("acme", "internal-bert", true, R"(["license:mit"])");
  RepoQuery q;
  q.viewer_id = -1;
  EXPECT_EQ(meta_->list_repos(q).size(), 2u);  // anonymous: public only
  q.viewer_id = alice.id;
  EXPECT_EQ(meta_->list_repos(q).size(), 3u);  // + her private repo
  q.viewer_id = bob.id;
  EXPECT_EQ(meta_->list_repos(q).size(), 3u);  // + his org's private repo
  q.search = {"BERT"};
  auto found = meta_->list_repos(q);
  ASSERT_EQ(found.size(), 2u);
  q.search.clear();
  q.filters = {"license:mit"};
  q.viewer_id = alice.id;
  EXPECT_EQ(meta_->list_repos(q).size(), 2u);
  q.filters = {"license:mit", "bert"};
  EXPECT_EQ(meta_->list_repos(q).size(), 1u);
  q.filters.clear();
  q.author = "alice";
  q.sort = "id";
  q.limit = 2;
  auto page1 = meta_->list_repos(q);
  q.offset = 2;
  auto page2 = meta_->list_repos(q);
  ASSERT_EQ(page1.size(), 2u);
  ASSERT_EQ(page2.size(), 1u);
  EXPECT_EQ(page1[0].name, "secret-bert");  // descending by id
  EXPECT_EQ(page2[0].name, "bert-base");
}

TEST_F(MetadataTest, DownloadsCountAndSecretsPersist) {
  user("alice");
  const RepoRecord r = repo("alice", "m");
  meta_->count_download(r.id);
  meta_->count_download(r.id);
  EXPECT_EQ(meta_->find_repo("model", "alice", "m")->downloads, 2);
  const std::string s = meta_->secret("k");
  EXPECT_EQ(s.size(), 48u);
  EXPECT_EQ(meta_->secret("k"), s);
  meta_.reset();
  auto reopened = MetadataStore::open_sqlite(dir_ / "hub.sqlite");
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->secret("k"), s);
}

}  // namespace
}  // namespace mlhub::store
