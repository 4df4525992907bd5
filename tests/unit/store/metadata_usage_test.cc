// MetadataStore: inference plans, plan assignments and usage rows (SQLite).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

#include "mlhub/store.h"
#include "store_test_util.h"

namespace mlhub::store {
namespace {

using testing_util::TempDir;

constexpr int64_t kDay = 86400;
// 2026-03-01T00:00:00Z, a UTC day start.
constexpr int64_t kMarch1 = 1772323200;
static_assert(kMarch1 % kDay == 0);

class UsageStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto m = MetadataStore::open_sqlite(dir_.path() / "hub.sqlite");
    ASSERT_TRUE(m.ok()) << m.status().to_string();
    meta_ = std::move(m).value();
  }
  Account account(const std::string& name, bool org = false) {
    Account a;
    a.name = name;
    a.is_org = org;
    auto r = meta_->create_account(a);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? *r : Account{};
  }
  static UsageRecord row(int64_t account, int64_t time, const std::string& model, int status = 200,
                         int64_t requests = 1, int64_t chars = 0, int64_t in_tok = 0, int64_t out_tok = 0,
                         int64_t ms = 0) {
    UsageRecord r;
    r.account_id = account;
    r.user_id = account;
    r.time = time;
    r.model = model;
    r.task = "text-classification";
    r.route = "task";
    r.status = status;
    r.requests = requests;
    r.input_characters = chars;
    r.input_tokens = in_tok;
    r.output_tokens = out_tok;
    r.compute_ms = ms;
    return r;
  }
  TempDir dir_;
  std::unique_ptr<MetadataStore> meta_;
};

TEST_F(UsageStoreTest, PutPlanCreatesReplacesAndLists) {
  Plan free{"free", 10, 1000, 5000, 500'000'000};
  ASSERT_TRUE(meta_->put_plan(free).ok());
  ASSERT_TRUE(meta_->put_plan(Plan{"pro-2", 100, 0, 0, 0}).ok());
  auto found = meta_->find_plan("free");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->requests_per_minute, 10);
  EXPECT_EQ(found->monthly_characters, 1000);
  EXPECT_EQ(found->monthly_tokens, 5000);
  EXPECT_EQ(found->max_model_bytes, 500'000'000);
  EXPECT_FALSE(meta_->find_plan("FREE").has_value());  // names are lowercase only, matched exactly
  EXPECT_FALSE(meta_->find_plan("gold").has_value());

  free.requests_per_minute = 20;  // replace
  ASSERT_TRUE(meta_->put_plan(free).ok());
  EXPECT_EQ(meta_->find_plan("free")->requests_per_minute, 20);

  auto plans = meta_->list_plans();
  ASSERT_EQ(plans.size(), 2u);
  EXPECT_EQ(plans[0].name, "free");
  EXPECT_EQ(plans[1].name, "pro-2");
  EXPECT_EQ(plans[1].requests_per_minute, 100);
}

TEST_F(UsageStoreTest, PutPlanRejectsBadNamesAndNegativeLimits) {
  for (const std::string& name : std::vector<std::string>{"", "Free", "a b", "x/y", "é", std::string(65, 'a')}) {
    const Status s = meta_->put_plan(Plan{name, 1, 0, 0, 0});
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << "'" << name << "'";
  }
  EXPECT_TRUE(meta_->put_plan(Plan{std::string(64, 'a'), 1, 0, 0, 0}).ok());
  EXPECT_EQ(meta_->put_plan(Plan{"p", -1, 0, 0, 0}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(meta_->put_plan(Plan{"p", 0, -1, 0, 0}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(meta_->put_plan(Plan{"p", 0, 0, -1, 0}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(meta_->put_plan(Plan{"p", 0, 0, 0, -1}).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(meta_->find_plan("p").has_value());
  EXPECT_EQ(meta_->list_plans().size(), 1u);
}

TEST_F(UsageStoreTest, AssignPlanToUsersAndOrgs) {
  const Account alice = account("alice");
  const Account acme = account("acme", true);
  ASSERT_TRUE(meta_->put_plan(Plan{"pro", 100, 0, 0, 0}).ok());
  EXPECT_FALSE(meta_->plan_of(alice.id).has_value());

  ASSERT_TRUE(meta_->assign_plan(alice.id, "pro").ok());
  ASSERT_TRUE(meta_->assign_plan(acme.id, "pro").ok());
  EXPECT_EQ(meta_->plan_of(alice.id), "pro");
  EXPECT_EQ(meta_->plan_of(acme.id), "pro");

  const Status unknown_plan = meta_->assign_plan(alice.id, "gold");
  EXPECT_EQ(unknown_plan.code(), StatusCode::kNotFound);
  EXPECT_NE(unknown_plan.message().find("gold"), std::string::npos);
  EXPECT_EQ(meta_->plan_of(alice.id), "pro");  // unchanged
  EXPECT_EQ(meta_->assign_plan(999999, "pro").code(), StatusCode::kNotFound);
  EXPECT_EQ(meta_->assign_plan(999999, "").code(), StatusCode::kNotFound);

  ASSERT_TRUE(meta_->assign_plan(alice.id, "").ok());  // removes
  EXPECT_FALSE(meta_->plan_of(alice.id).has_value());
  EXPECT_EQ(meta_->plan_of(acme.id), "pro");
}

TEST_F(UsageStoreTest, UsageSumsAndGroups) {
  const Account alice = account("alice");
  const Account bob = account("bob");
  const int64_t a = alice.id;
  std::vector<UsageRecord> rows = {
      row(a, kMarch1 + 10, "org/bert", 200, 1, 100, 20, 0, 5),
      row(a, kMarch1 + 20, "org/bert", 200, 3, 300, 60, 0, 15),      // three requests summed
      row(a, kMarch1 + 30, "org/bert", 429, 2, 0, 0, 0, 0),           // two failed requests
      row(a, kMarch1 + kDay + 5, "org/llama", 200, 1, 50, 12, 40, 900),
      row(a, kMarch1 + kDay + 6, "org/bert", 500, 1, 10, 2, 0, 1),
      row(a, kMarch1 + 2 * kDay, "org/bert", 200, 1, 7, 1, 0, 1),    // at `to`: excluded
      row(a, kMarch1 - 1, "org/bert", 200, 1, 7, 1, 0, 1),           // before `from`: excluded
      row(bob.id, kMarch1 + 10, "org/bert", 200, 1, 1000, 1, 1, 1),  // another account
  };
  ASSERT_TRUE(meta_->append_usage(rows).ok());
  const int64_t from = kMarch1, to = kMarch1 + 2 * kDay;

  auto total = meta_->usage(a, from, to);
  ASSERT_EQ(total.size(), 1u);
  EXPECT_EQ(total[0].requests, 8);
  EXPECT_EQ(total[0].errors, 3);
  EXPECT_EQ(total[0].input_characters, 460);
  EXPECT_EQ(total[0].input_tokens, 94);
  EXPECT_EQ(total[0].output_tokens, 40);
  EXPECT_EQ(total[0].compute_ms, 921);

  auto by_model = meta_->usage(a, from, to, "model");
  ASSERT_EQ(by_model.size(), 2u);
  EXPECT_EQ(by_model[0].model, "org/bert");
  EXPECT_EQ(by_model[0].requests, 7);
  EXPECT_EQ(by_model[0].errors, 3);
  EXPECT_EQ(by_model[0].input_characters, 410);
  EXPECT_EQ(by_model[1].model, "org/llama");
  EXPECT_EQ(by_model[1].requests, 1);
  EXPECT_EQ(by_model[1].output_tokens, 40);

  auto by_day = meta_->usage(a, from, to, "day");
  ASSERT_EQ(by_day.size(), 2u);
  EXPECT_EQ(by_day[0].day, kMarch1);
  EXPECT_EQ(by_day[0].requests, 6);
  EXPECT_EQ(by_day[0].errors, 2);
  EXPECT_EQ(by_day[1].day, kMarch1 + kDay);
  EXPECT_EQ(by_day[1].requests, 2);
  EXPECT_EQ(by_day[1].errors, 1);
  EXPECT_EQ(by_day[1].compute_ms, 901);

  auto both = meta_->usage(a, from, to, "model,day");
  ASSERT_EQ(both.size(), 3u);
  EXPECT_EQ(both[0].model, "org/bert");
  EXPECT_EQ(both[0].day, kMarch1);
  EXPECT_EQ(both[0].requests, 6);
  EXPECT_EQ(both[1].model, "org/bert");
  EXPECT_EQ(both[1].day, kMarch1 + kDay);
  EXPECT_EQ(both[1].requests, 1);
  EXPECT_EQ(both[2].model, "org/llama");
  EXPECT_EQ(both[2].day, kMarch1 + kDay);

  // Bob's row is his alone.
  EXPECT_EQ(meta_->usage(bob.id, from, to)[0].input_characters, 1000);
}

TEST_F(UsageStoreTest, NoUsageIsOneZeroRowOrNoGroups) {
  auto total = meta_->usage(42, 0, kMarch1);
  ASSERT_EQ(total.size(), 1u);
  EXPECT_EQ(total[0].requests, 0);
  EXPECT_EQ(total[0].errors, 0);
  EXPECT_EQ(total[0].compute_ms, 0);
  EXPECT_TRUE(meta_->usage(42, 0, kMarch1, "model").empty());
  EXPECT_TRUE(meta_->usage(42, 0, kMarch1, "day").empty());
  EXPECT_THROW(meta_->usage(42, 0, kMarch1, "week"), Error);
  EXPECT_TRUE(meta_->append_usage({}).ok());
}

TEST_F(UsageStoreTest, UsageAndPlansSurviveReopen) {
  const Account alice = account("alice");
  ASSERT_TRUE(meta_->put_plan(Plan{"free", 5, 0, 0, 0}).ok());
  ASSERT_TRUE(meta_->assign_plan(alice.id, "free").ok());
  ASSERT_TRUE(meta_->append_usage({row(alice.id, kMarch1, "m", 200, 4)}).ok());
  meta_.reset();
  auto m = MetadataStore::open_sqlite(dir_.path() / "hub.sqlite");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)->plan_of(alice.id), "free");
  EXPECT_EQ((*m)->usage(alice.id, kMarch1, kMarch1 + 1)[0].requests, 4);
}

// A database written before plans existed (only the issue-1 tables) gains the new tables when
// it is opened, and keeps its data.
TEST_F(UsageStoreTest, OlderDatabaseIsMigratedOnOpen) {
  meta_.reset();
  const auto path = dir_.path() / "old.sqlite";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE, "
                         "fullname TEXT NOT NULL, email TEXT NOT NULL, is_org INTEGER NOT NULL, created_at INTEGER NOT NULL);"
                         "INSERT INTO accounts VALUES (7, 'carol', '', '', 0, 1);",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);

  auto m = MetadataStore::open_sqlite(path);
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  ASSERT_TRUE((*m)->find_account("carol").has_value());
  ASSERT_TRUE((*m)->put_plan(Plan{"free", 1, 0, 0, 0}).ok());
  ASSERT_TRUE((*m)->assign_plan(7, "free").ok());
  EXPECT_EQ((*m)->plan_of(7), "free");
  ASSERT_TRUE((*m)->append_usage({row(7, kMarch1, "m")}).ok());
  EXPECT_EQ((*m)->usage(7, kMarch1, kMarch1 + 1)[0].requests, 1);
}

}  // namespace
}  // namespace mlhub::store
