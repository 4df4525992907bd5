// Meter (src/server/inference/meter.cc): auth, bill-to, plan limits, buffered usage, /api/usage.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <ctime>
#include <filesystem>
#include <regex>
#include <thread>

#include "server/hub/hub_server.h"
#include "server/inference/metering.h"

namespace mlhub::inference {
namespace {

namespace fs = std::filesystem;

int64_t now_unix() { return static_cast<int64_t>(std::time(nullptr)); }

// Start of the next UTC month, computed independently of meter.cc (string arithmetic on dates).
int64_t next_month_start(int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  std::tm next{};
  next.tm_year = tm.tm_mon == 11 ? tm.tm_year + 1 : tm.tm_year;
  next.tm_mon = (tm.tm_mon + 1) % 12;
  next.tm_mday = 1;
  return static_cast<int64_t>(timegm(&next));
}

class MeterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::path(::testing::TempDir()) / "mlhub_meter_XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto m = store::MetadataStore::open_sqlite(dir_ / "hub.sqlite");
    ASSERT_TRUE(m.ok()) << m.status().to_string();
    meta_ = std::move(m).value();
    alice_ = account("alice");
    bob_ = account("bob");
    acme_ = account("acme", true);
    ASSERT_TRUE(meta_->set_member(acme_.id, alice_.id, store::MemberRole::kRead).ok());
  }
  void TearDown() override {
    meta_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  store::Account account(const std::string& name, bool org = false) {
    store::Account a;
    a.name = name;
    a.is_org = org;
    auto r = meta_->create_account(a);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? *r : store::Account{};
  }
  static hub::Caller caller(const store::Account& user, const std::string& token = "laptop") {
    hub::Caller c;
    c.user = user;
    c.token_name = token;
    return c;
  }
  void plan(const std::string& name, int64_t rpm, int64_t chars = 0, int64_t tokens = 0, int64_t bytes = 0) {
    ASSERT_TRUE(meta_->put_plan(store::Plan{name, rpm, chars, tokens, bytes}).ok());
  }
  static store::UsageRecord usage(int64_t chars, int64_t in_tokens = 0, int64_t out_tokens = 0, int status = 200,
                                  const std::string& model = "org/bert") {
    store::UsageRecord r;
    r.model = model;
    r.task = "text-classification";
    r.route = "task";
    r.status = status;
    r.input_characters = chars;
    r.input_tokens = in_tokens;
    r.output_tokens = out_tokens;
    r.compute_ms = 7;
    return r;
  }
  // The kind, message and retry_after of what admit() throws (kind kValidation and "" when it
  // does not throw; no test expects kValidation from admit).
  struct Refusal {
    ErrorKind kind = ErrorKind::kValidation;
    std::string message;
    int retry_after = 0;
  };
  static Refusal refusal(Meter& meter, const hub::Caller& who, const std::string& bill_to = "", uint64_t bytes = 0,
                         const std::string& model = "") {
    try {
      meter.admit(who, bill_to, bytes, model);
    } catch (const InferenceError& e) {
      return {e.kind, e.what(), e.retry_after_seconds};
    }
    return {};
  }
  static std::string header(const Admission& a, const std::string& name) {
    for (const auto& [k, v] : a.headers) {
      if (k == name) return v;
    }
    return "";
  }

  fs::path dir_;
  std::unique_ptr<store::MetadataStore> meta_;
  store::Account alice_, bob_, acme_;
};

TEST_F(MeterTest, TokenIsRequiredUnlessAnonymousCallsAreAllowed) {
  Meter strict(*meta_, MeterOptions{});
  const Refusal r = refusal(strict, hub::Caller{});
  EXPECT_EQ(r.kind, ErrorKind::kUnauthorized);
  EXPECT_EQ(r.message, "Authorization header is required: pass a token with 'Authorization: Bearer hf_...'");

  MeterOptions open;
  open.allow_anonymous = true;
  Meter lenient(*meta_, open);
  const Admission a = lenient.admit(hub::Caller{}, "", 0);
  EXPECT_EQ(a.user_id, 0);
  EXPECT_EQ(a.account_id, 0);
  EXPECT_EQ(a.plan, "anonymous");
  EXPECT_TRUE(a.headers.empty());  // no "anonymous" plan in the store: no limits
  // Billing an org needs a token even where anonymous calls are allowed.
  EXPECT_EQ(refusal(lenient, hub::Caller{}, "acme").kind, ErrorKind::kUnauthorized);
}

TEST_F(MeterTest, AnonymousCallersShareTheAnonymousPlan) {
  plan("anonymous", 2);
  MeterOptions open;
  open.allow_anonymous = true;
  Meter meter(*meta_, open);
  meter.admit(hub::Caller{}, "", 0);
  meter.admit(hub::Caller{}, "", 0);
  const Refusal r = refusal(meter, hub::Caller{});
  EXPECT_EQ(r.kind, ErrorKind::kRateLimited);
  EXPECT_NE(r.message.find("plan 'anonymous'"), std::string::npos) << r.message;
  // A token holder is on the default plan ("free", absent: no limits), not the anonymous one.
  EXPECT_EQ(meter.admit(caller(alice_), "", 0).plan, "free");
}

TEST_F(MeterTest, RateLimitTripsAtNPlusOneWithinAMinute) {
  plan("free", 3);
  Meter meter(*meta_, MeterOptions{});
  const std::regex rate(R"re("api";r=(\d+);t=(\d+))re");
  for (int i = 0; i < 3; ++i) {
    const Admission a = meter.admit(caller(alice_), "", 0);
    EXPECT_EQ(a.plan, "free");
    std::smatch m;
    const std::string value = header(a, "RateLimit");
    ASSERT_TRUE(std::regex_match(value, m, rate)) << value;
    EXPECT_EQ(std::stoi(m[1]), 2 - i);
    EXPECT_GE(std::stoi(m[2]), 1);
    EXPECT_LE(std::stoi(m[2]), 60);
    EXPECT_EQ(header(a, "RateLimit-Policy"), "\"fixed window\";\"api\";q=3;w=60");
  }
  const Refusal r = refusal(meter, caller(alice_));
  EXPECT_EQ(r.kind, ErrorKind::kRateLimited);
  // The oldest of the three requests leaves the window within a minute of now.
  EXPECT_GE(r.retry_after, 55);
  EXPECT_LE(r.retry_after, 60);
  EXPECT_EQ(r.message, "Rate limit reached: 3 requests per minute for plan 'free'. Retry in " +
                           std::to_string(r.retry_after) + " s");
  // Refused requests do not take a slot; other accounts have their own window.
  EXPECT_EQ(refusal(meter, caller(alice_)).kind, ErrorKind::kRateLimited);
  EXPECT_NO_THROW(meter.admit(caller(bob_), "", 0));
  // Billing the org uses the org's window.
  EXPECT_EQ(meter.admit(caller(alice_), "acme", 0).account_id, acme_.id);
}

TEST_F(MeterTest, ConcurrentAdmitsNeverExceedTheLimit) {
  plan("free", 50);
  Meter meter(*meta_, MeterOptions{});
  std::atomic<int> admitted{0}, limited{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        try {
          meter.admit(caller(alice_), "", 0);
          meter.record(Admission{alice_.id, alice_.id, "alice", "laptop", "free", {}}, usage(1));
          ++admitted;
        } catch (const InferenceError& e) {
          if (e.kind == ErrorKind::kRateLimited) ++limited;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(admitted.load(), 50);
  EXPECT_EQ(limited.load(), 160 - 50);
  meter.flush();
  EXPECT_EQ(meta_->usage(alice_.id, 0, now_unix() + 10)[0].requests, 50);
}

TEST_F(MeterTest, MonthlyCharactersTripAndSurviveANewMeter) {
  plan("free", 0, 100);
  {
    Meter meter(*meta_, MeterOptions{});
    Admission a = meter.admit(caller(alice_), "", 0);
    meter.record(a, usage(60));
    a = meter.admit(caller(alice_), "", 0);  // 60 < 100: still allowed
    meter.record(a, usage(50));
    const int64_t before = now_unix();
    const Refusal r = refusal(meter, caller(alice_));
    EXPECT_EQ(r.kind, ErrorKind::kRateLimited);
    const int64_t until = next_month_start(before) - before;
    EXPECT_NEAR(r.retry_after, until, 2);
    EXPECT_NE(r.message.find("100 input characters per month for plan 'free'"), std::string::npos) << r.message;
    EXPECT_NO_THROW(meter.admit(caller(bob_), "", 0));  // bob's month is his own
  }  // the destructor writes the buffered records
  Meter again(*meta_, MeterOptions{});
  EXPECT_EQ(refusal(again, caller(alice_)).kind, ErrorKind::kRateLimited);
  // A larger allowance (a plan change) lets alice go on; her 110 characters still count.
  plan("free", 0, 150);
  Meter bigger(*meta_, MeterOptions{});
  Admission a = bigger.admit(caller(alice_), "", 0);
  bigger.record(a, usage(40));
  EXPECT_EQ(refusal(bigger, caller(alice_)).kind, ErrorKind::kRateLimited);
}

// Records still in the buffer count when an account's month is first read (e.g. at a month
// change, before the background thread wrote them).
TEST_F(MeterTest, MonthlyCountersIncludeUnwrittenRecords) {
  plan("free", 0, 100);
  MeterOptions slow;
  slow.flush_interval_ms = 60'000;
  Meter meter(*meta_, slow);
  meter.record(Admission{bob_.id, bob_.id, "bob", "laptop", "free", {}}, usage(100));
  EXPECT_EQ(meta_->usage(bob_.id, 0, now_unix() + 10)[0].requests, 0);  // not written yet
  EXPECT_EQ(refusal(meter, caller(bob_)).kind, ErrorKind::kRateLimited);
  meter.flush();  // written now: counted once, not twice
  const nlohmann::json j = meter.usage_json(bob_.id, std::nullopt, std::nullopt);
  EXPECT_EQ(j["limits_remaining"]["monthly_characters"], 0);
  EXPECT_EQ(j["total"]["input_characters"], 100);
}

TEST_F(MeterTest, MonthlyTokensCountInputAndOutput) {
  plan("free", 0, 0, 100);
  Meter meter(*meta_, MeterOptions{});
  // Usage written by another process (or an earlier run) before this meter read the month.
  store::UsageRecord earlier = usage(0, 30, 30);
  earlier.account_id = alice_.id;
  earlier.time = now_unix();
  ASSERT_TRUE(meta_->append_usage({earlier}).ok());
  Admission a = meter.admit(caller(alice_), "", 0);  // 60 tokens used
  meter.record(a, usage(0, 10, 29));                  // 99
  a = meter.admit(caller(alice_), "", 0);
  meter.record(a, usage(0, 1, 0));  // 100
  const Refusal r = refusal(meter, caller(alice_));
  EXPECT_EQ(r.kind, ErrorKind::kRateLimited);
  EXPECT_NE(r.message.find("100 tokens per month"), std::string::npos) << r.message;
  // Usage from last month does not count.
  ASSERT_TRUE(meta_->put_plan(store::Plan{"other", 0, 0, 100, 0}).ok());
  ASSERT_TRUE(meta_->assign_plan(bob_.id, "other").ok());
  store::UsageRecord old = usage(0, 500, 0);
  old.account_id = bob_.id;
  old.time = now_unix() - 40 * 86400;
  ASSERT_TRUE(meta_->append_usage({old}).ok());
  EXPECT_EQ(meter.admit(caller(bob_), "", 0).plan, "other");
}

TEST_F(MeterTest, BillToMustNameAnOrgOfTheCaller) {
  Meter meter(*meta_, MeterOptions{});
  const Admission a = meter.admit(caller(alice_, "ci"), "acme", 0);
  EXPECT_EQ(a.user_id, alice_.id);
  EXPECT_EQ(a.account_id, acme_.id);
  EXPECT_EQ(a.account_name, "acme");
  EXPECT_EQ(a.token_name, "ci");

  Refusal r = refusal(meter, caller(bob_), "acme");
  EXPECT_EQ(r.kind, ErrorKind::kForbidden);
  EXPECT_NE(r.message.find("bob is not a member of the organization 'acme'"), std::string::npos) << r.message;
  r = refusal(meter, caller(alice_), "nobody");
  EXPECT_EQ(r.kind, ErrorKind::kForbidden);
  EXPECT_NE(r.message.find("no organization named 'nobody'"), std::string::npos) << r.message;
  EXPECT_EQ(refusal(meter, caller(alice_), "bob").kind, ErrorKind::kForbidden);  // a user, not an org

  // The org's plan applies when the org pays.
  plan("team", 1);
  ASSERT_TRUE(meta_->assign_plan(acme_.id, "team").ok());
  Meter fresh(*meta_, MeterOptions{});
  EXPECT_EQ(fresh.admit(caller(alice_), "acme", 0).plan, "team");
  EXPECT_EQ(refusal(fresh, caller(alice_), "acme").kind, ErrorKind::kRateLimited);
  EXPECT_EQ(fresh.admit(caller(alice_), "", 0).plan, "free");  // alice herself is not limited
}

TEST_F(MeterTest, PlanCapsTheModelSize) {
  plan("free", 0, 0, 0, 500'000'000);
  Meter meter(*meta_, MeterOptions{});
  EXPECT_NO_THROW(meter.admit(caller(alice_), "", 400'000'000, "org/small"));
  EXPECT_NO_THROW(meter.admit(caller(alice_), "", 500'000'000, "org/exact"));
  const Refusal r = refusal(meter, caller(alice_), "", 1'234'000'000, "org/big");
  EXPECT_EQ(r.kind, ErrorKind::kForbidden);
  EXPECT_EQ(r.message, "model org/big is 1.2 GB; plan 'free' allows models up to 500 MB");
  EXPECT_EQ(r.retry_after, 0);
  // A plan without a size limit, and a default plan missing from the store, run anything.
  MeterOptions unknown;
  unknown.default_plan = "does-not-exist";
  Meter open(*meta_, unknown);
  const Admission a = open.admit(caller(alice_), "", 100'000'000'000ull, "org/huge");
  EXPECT_EQ(a.plan, "does-not-exist");
  EXPECT_TRUE(a.headers.empty());
}

TEST_F(MeterTest, FlushWritesMergedRowsAndTheDestructorTheRest) {
  MeterOptions slow;
  slow.flush_interval_ms = 60'000;  // only explicit flushes and the destructor write
  {
    Meter meter(*meta_, slow);
    const Admission a = meter.admit(caller(alice_, "ci"), "", 0);
    store::UsageRecord r = usage(10, 3, 0);
    r.time = now_unix();
    meter.record(a, r);
    meter.record(a, r);  // same second, same key: one row
    meter.record(a, usage(5, -1, 0, 500, "org/other"));  // -1 = unknown token count
    EXPECT_EQ(meta_->usage(alice_.id, 0, now_unix() + 10)[0].requests, 0);  // still buffered
    meter.flush();
    auto total = meta_->usage(alice_.id, 0, now_unix() + 10);
    EXPECT_EQ(total[0].requests, 3);
    EXPECT_EQ(total[0].errors, 1);
    EXPECT_EQ(total[0].input_characters, 25);
    EXPECT_EQ(total[0].input_tokens, 6);
    EXPECT_EQ(total[0].compute_ms, 21);
    auto by_model = meta_->usage(alice_.id, 0, now_unix() + 10, "model");
    ASSERT_EQ(by_model.size(), 2u);
    EXPECT_EQ(by_model[0].model, "org/bert");
    EXPECT_EQ(by_model[0].requests, 2);
    meter.record(a, usage(1000));
  }
  EXPECT_EQ(meta_->usage(alice_.id, 0, now_unix() + 10)[0].input_characters, 1025);
}

TEST_F(MeterTest, BackgroundThreadFlushes) {
  MeterOptions fast;
  fast.flush_interval_ms = 20;
  Meter meter(*meta_, fast);
  const Admission a = meter.admit(caller(alice_), "acme", 0);
  meter.record(a, usage(42));
  int64_t seen = 0;
  for (int i = 0; i < 200 && seen == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    seen = meta_->usage(acme_.id, 0, now_unix() + 10)[0].input_characters;
  }
  EXPECT_EQ(seen, 42);
  EXPECT_EQ(meta_->usage(alice_.id, 0, now_unix() + 10)[0].requests, 0);  // the org paid
}

TEST_F(MeterTest, UsageJson) {
  plan("free", 10, 1000, 0, 500'000'000);
  Meter meter(*meta_, MeterOptions{});
  Admission a = meter.admit(caller(alice_), "", 0);
  meter.record(a, usage(100, 20, 0));
  a = meter.admit(caller(alice_), "", 0);
  meter.record(a, usage(50, 10, 5, 429, "org/llama"));

  const nlohmann::json j = meter.usage_json(alice_.id, std::nullopt, std::nullopt);
  EXPECT_EQ(j["account"], "alice");
  EXPECT_EQ(j["plan"]["name"], "free");
  EXPECT_EQ(j["plan"]["requests_per_minute"], 10);
  EXPECT_EQ(j["plan"]["monthly_characters"], 1000);
  EXPECT_EQ(j["plan"]["monthly_tokens"], 0);
  EXPECT_EQ(j["plan"]["max_model_bytes"], 500'000'000);
  const std::regex iso(R"(\d{4}-\d{2}-01T00:00:00\.000Z)");
  EXPECT_TRUE(std::regex_match(j["period"]["from"].get<std::string>(), iso)) << j["period"];
  EXPECT_TRUE(std::regex_match(j["period"]["to"].get<std::string>(), iso)) << j["period"];
  EXPECT_EQ(j["total"]["requests"], 2);
  EXPECT_EQ(j["total"]["errors"], 1);
  EXPECT_EQ(j["total"]["input_characters"], 150);
  EXPECT_EQ(j["total"]["input_tokens"], 30);
  EXPECT_EQ(j["total"]["output_tokens"], 5);
  EXPECT_EQ(j["total"]["compute_ms"], 14);
  ASSERT_EQ(j["by_model"].size(), 2u);
  EXPECT_EQ(j["by_model"][0]["model"], "org/bert");
  EXPECT_EQ(j["by_model"][1]["model"], "org/llama");
  EXPECT_EQ(j["by_model"][1]["errors"], 1);
  ASSERT_EQ(j["by_day"].size(), 1u);
  char today[16];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(today, sizeof today, "%Y-%m-%d", &tm);
  EXPECT_EQ(j["by_day"][0]["date"], today);
  EXPECT_EQ(j["by_day"][0]["requests"], 2);
  EXPECT_EQ(j["limits_remaining"]["requests_this_minute"], 8);
  EXPECT_EQ(j["limits_remaining"]["monthly_characters"], 850);
  EXPECT_TRUE(j["limits_remaining"]["monthly_tokens"].is_null());  // unlimited

  // An explicit range that holds nothing; a backwards range is refused.
  const nlohmann::json empty = meter.usage_json(alice_.id, 0, 86400);
  EXPECT_EQ(empty["period"]["from"], "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(empty["total"]["requests"], 0);
  EXPECT_TRUE(empty["by_model"].empty());
  try {
    meter.usage_json(alice_.id, 100, 100);
    ADD_FAILURE() << "no error for an empty range";
  } catch (const InferenceError& e) {
    EXPECT_EQ(e.kind, ErrorKind::kValidation);
  }
}

}  // namespace
}  // namespace mlhub::inference
