// Meter: who pays for an inference request, whether the plan allows it, and what it used
// (metering.h). Quotas are checked against in-memory counters so admitting a request costs no
// SQLite write; usage rows are buffered and written in batches by a background thread.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>
#include <unordered_map>

#include "mlhub/server.h"
#include "server/hub/hub_server.h"
#include "server/inference/metering.h"

namespace mlhub::inference {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr auto kWindow = std::chrono::seconds(60);
// `mlhub plan assign` may run in another process while the server runs: a cached plan is
// re-read after this long, so a change applies within seconds without a query per request.
constexpr auto kPlanTtl = std::chrono::seconds(5);
// Records kept while the store refuses writes (disk full): beyond, the oldest are dropped.
constexpr size_t kMaxBuffered = 1'000'000;
constexpr const char* kTokenRequired =
    "Authorization header is required: pass a token with 'Authorization: Bearer hf_...'";

int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// [start, end) of the UTC calendar month holding `t`, in unix seconds.
std::pair<int64_t, int64_t> month_of(int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  tm.tm_mday = 1;
  tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
  const int64_t start = timegm(&tm);
  tm.tm_mon += 1;  // timegm normalises December + 1 to January of the next year
  return {start, static_cast<int64_t>(timegm(&tm))};
}

std::string day_string(int64_t t) { return hub::iso_date(t).substr(0, 10); }  // YYYY-MM-DD

// Whole seconds until `when`, at least 1 (a Retry-After of 0 invites a tight retry loop).
int seconds_until(SteadyClock::time_point when, SteadyClock::time_point now) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(when - now).count();
  return static_cast<int>(std::max<int64_t>(1, (ms + 999) / 1000));
}

nlohmann::json totals_json(const store::UsageTotals& t) {
  return {{"requests", t.requests},         {"errors", t.errors},
          {"input_characters", t.input_characters}, {"input_tokens", t.input_tokens},
          {"output_tokens", t.output_tokens}, {"compute_ms", t.compute_ms}};
}

nlohmann::json limit_or_null(int64_t limit, int64_t used) {
  if (limit <= 0) return nullptr;  // unlimited
  return std::max<int64_t>(0, limit - used);
}

}  // namespace

struct Meter::Impl {
  Impl(store::MetadataStore& m, MeterOptions o) : meta(m), options(std::move(o)) {}

  // Per billed account: the admitted requests of the last minute and this month's usage.
  struct Quota {
    std::deque<SteadyClock::time_point> window;
    int64_t month = -1;  // start of the month the counters below cover; -1 = not read yet
    int64_t characters = 0;
    int64_t tokens = 0;  // input + output
  };
  struct CachedPlan {
    store::Plan plan;
    SteadyClock::time_point at;
  };

  store::MetadataStore& meta;
  const MeterOptions options;

  // Lock order: flush_mu, then mu. flush_mu is held for a whole flush, so a quota seeded from
  // the store never misses the records of a batch on its way there (nor counts them twice).
  std::mutex flush_mu;
  std::mutex mu;
  std::unordered_map<int64_t, Quota> quotas;
  std::unordered_map<int64_t, CachedPlan> plans;
  std::vector<store::UsageRecord> buffer;  // recorded, not yet written

  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stopping = false;
  std::thread flusher;

  // The plan applied to `account_id` (0 = anonymous): its assigned plan, else the default one.
  // A plan name the store does not know means no limits. Caller holds mu.
  const store::Plan& plan_of(int64_t account_id) {
    const auto now = SteadyClock::now();
    auto it = plans.find(account_id);
    if (it != plans.end() && now - it->second.at < kPlanTtl) return it->second.plan;
    std::string name = "anonymous";
    if (account_id != 0) name = meta.plan_of(account_id).value_or(options.default_plan);
    store::Plan plan = meta.find_plan(name).value_or(store::Plan{});
    plan.name = name;
    CachedPlan& cached = plans[account_id];
    cached = {std::move(plan), now};
    return cached.plan;
  }

  // Returns `mu` locked with the account's monthly counters covering the month starting at
  // `month` (read once from the store, plus what is recorded and not yet written).
  std::unique_lock<std::mutex> lock_quota(int64_t account_id, std::pair<int64_t, int64_t> month) {
    std::unique_lock lock(mu);
    if (quotas[account_id].month == month.first) return lock;
    lock.unlock();
    std::lock_guard flushing(flush_mu);
    lock.lock();
    Quota& q = quotas[account_id];
    if (q.month == month.first) return lock;  // another request read it meanwhile
    const auto totals = meta.usage(account_id, month.first, month.second);
    q.characters = totals.empty() ? 0 : totals[0].input_characters;
    q.tokens = totals.empty() ? 0 : totals[0].input_tokens + totals[0].output_tokens;
    for (const auto& r : buffer) {
      if (r.account_id == account_id && r.time >= month.first && r.time < month.second) {
        q.characters += r.input_characters;
        q.tokens += r.input_tokens + r.output_tokens;
      }
    }
    q.month = month.first;
    return lock;
  }

  Admission who_pays(const hub::Caller& caller, const std::string& bill_to) {
    Admission a;
    if (!caller.authenticated()) {
      if (!options.allow_anonymous) throw InferenceError(ErrorKind::kUnauthorized, kTokenRequired);
      if (!bill_to.empty()) {
        throw InferenceError(ErrorKind::kUnauthorized, std::string("X-HF-Bill-To needs a token. ") + kTokenRequired);
      }
      return a;
    }
    a.user_id = a.account_id = caller.user->id;
    a.account_name = caller.user->name;
    a.token_name = caller.token_name;
    if (bill_to.empty()) return a;
    auto org = meta.find_account(bill_to);
    if (!org || !org->is_org) {
      throw InferenceError(ErrorKind::kForbidden, "X-HF-Bill-To: no organization named '" + bill_to + "'");
    }
    if (!meta.member_role(org->id, caller.user->id)) {
      throw InferenceError(ErrorKind::kForbidden, "X-HF-Bill-To: " + caller.user->name +
                                                      " is not a member of the organization '" + org->name + "'");
    }
    a.account_id = org->id;
    a.account_name = org->name;
    return a;
  }

  // Hands the buffer to the store. On failure the records go back to the buffer for the next
  // try. Returns what the store said.
  Status flush() {
    std::lock_guard flushing(flush_mu);
    std::vector<store::UsageRecord> batch;
    {
      std::lock_guard lock(mu);
      batch.swap(buffer);
    }
    if (batch.empty()) return Status();
    const std::vector<store::UsageRecord> rows = merge(batch);
    Status s = meta.append_usage(rows);
    if (!s.ok()) {
      std::lock_guard lock(mu);
      batch.insert(batch.end(), buffer.begin(), buffer.end());
      buffer.swap(batch);
      if (buffer.size() > kMaxBuffered) {
        const size_t dropped = buffer.size() - kMaxBuffered;
        buffer.erase(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(dropped));
        log(LogLevel::kError, "metering: dropped " + std::to_string(dropped) + " usage records the store did not take");
      }
    }
    return s;
  }

  // Records that differ only in their counts become one row (under load, many requests of one
  // token to one model finish in the same second).
  static std::vector<store::UsageRecord> merge(const std::vector<store::UsageRecord>& batch) {
    using Key = std::tuple<int64_t, int64_t, int64_t, std::string, std::string, std::string, std::string, int>;
    std::map<Key, store::UsageRecord> rows;
    for (const auto& r : batch) {
      auto [it, inserted] = rows.try_emplace(Key{r.time, r.account_id, r.user_id, r.token_name, r.model, r.task, r.route, r.status}, r);
      if (inserted) continue;
      store::UsageRecord& m = it->second;
      m.requests += r.requests;
      m.input_characters += r.input_characters;
      m.input_tokens += r.input_tokens;
      m.output_tokens += r.output_tokens;
      m.compute_ms += r.compute_ms;
    }
    std::vector<store::UsageRecord> out;
    out.reserve(rows.size());
    for (auto& [key, r] : rows) out.push_back(std::move(r));
    return out;
  }

  void run_flusher() {
    const auto interval = std::chrono::milliseconds(std::max(10, options.flush_interval_ms));
    std::unique_lock lock(stop_mu);
    while (!stop_cv.wait_for(lock, interval, [this] { return stopping; })) {
      lock.unlock();
      if (Status s = flush(); !s.ok()) log(LogLevel::kWarning, "metering: writing usage failed (will retry): " + s.message());
      lock.lock();
    }
  }
};

Meter::Meter(store::MetadataStore& meta, MeterOptions options)
    : impl_(std::make_unique<Impl>(meta, std::move(options))) {
  impl_->flusher = std::thread([impl = impl_.get()] { impl->run_flusher(); });
}

Meter::~Meter() {
  {
    std::lock_guard lock(impl_->stop_mu);
    impl_->stopping = true;
  }
  impl_->stop_cv.notify_all();
  impl_->flusher.join();
  if (Status s = impl_->flush(); !s.ok()) {
    log(LogLevel::kError, "metering: usage records lost at shutdown: " + s.message());
  }
}

Admission Meter::admit(const hub::Caller& caller, const std::string& bill_to, uint64_t model_bytes,
                       const std::string& model) {
  Admission a = impl_->who_pays(caller, bill_to);
  const int64_t now = now_unix();
  const auto month = month_of(now);
  auto lock = impl_->lock_quota(a.account_id, month);
  const store::Plan plan = impl_->plan_of(a.account_id);
  a.plan = plan.name;

  if (plan.max_model_bytes > 0 && model_bytes > static_cast<uint64_t>(plan.max_model_bytes)) {
    const std::string what = model.empty() ? std::string("this model") : "model " + model;
    throw InferenceError(ErrorKind::kForbidden, what + " is " + server::format_byte_size(model_bytes) + "; plan '" +
                                                    plan.name + "' allows models up to " +
                                                    server::format_byte_size(static_cast<uint64_t>(plan.max_model_bytes)));
  }
  Impl::Quota& q = impl_->quotas[a.account_id];
  const int until_next_month = static_cast<int>(std::max<int64_t>(1, month.second - now));
  if (plan.monthly_characters > 0 && q.characters >= plan.monthly_characters) {
    throw InferenceError(ErrorKind::kRateLimited,
                         "Monthly limit reached: " + std::to_string(plan.monthly_characters) +
                             " input characters per month for plan '" + plan.name + "'. Retry in " +
                             std::to_string(until_next_month) + " s",
                         until_next_month);
  }
  if (plan.monthly_tokens > 0 && q.tokens >= plan.monthly_tokens) {
    throw InferenceError(ErrorKind::kRateLimited,
                         "Monthly limit reached: " + std::to_string(plan.monthly_tokens) + " tokens per month for plan '" +
                             plan.name + "'. Retry in " + std::to_string(until_next_month) + " s",
                         until_next_month);
  }
  if (plan.requests_per_minute > 0) {
    const auto t = SteadyClock::now();
    while (!q.window.empty() && t - q.window.front() >= kWindow) q.window.pop_front();
    const auto rpm = static_cast<size_t>(plan.requests_per_minute);
    if (q.window.size() >= rpm) {
      const int retry = seconds_until(q.window.front() + kWindow, t);
      throw InferenceError(ErrorKind::kRateLimited,
                           "Rate limit reached: " + std::to_string(rpm) + " requests per minute for plan '" + plan.name +
                               "'. Retry in " + std::to_string(retry) + " s",
                           retry);
    }
    q.window.push_back(t);
    // The Hub's headers (hub-docs rate-limits.md; huggingface_hub parses r, t, q and w).
    a.headers.emplace_back("RateLimit", "\"api\";r=" + std::to_string(rpm - q.window.size()) +
                                            ";t=" + std::to_string(seconds_until(q.window.front() + kWindow, t)));
    a.headers.emplace_back("RateLimit-Policy", "\"fixed window\";\"api\";q=" + std::to_string(rpm) + ";w=60");
  }
  return a;
}

void Meter::record(const Admission& who, store::UsageRecord record) {
  record.account_id = who.account_id;
  record.user_id = who.user_id;
  if (record.token_name.empty()) record.token_name = who.token_name;
  if (record.time == 0) record.time = now_unix();
  // -1 means "unknown" for token counts; negative counts would lower the quota counters.
  record.requests = std::max<int64_t>(0, record.requests);
  record.input_characters = std::max<int64_t>(0, record.input_characters);
  record.input_tokens = std::max<int64_t>(0, record.input_tokens);
  record.output_tokens = std::max<int64_t>(0, record.output_tokens);
  record.compute_ms = std::max<int64_t>(0, record.compute_ms);

  std::lock_guard lock(impl_->mu);
  // An account whose month is not read yet gets this record from the buffer when it is read.
  auto it = impl_->quotas.find(record.account_id);
  if (it != impl_->quotas.end() && it->second.month == month_of(record.time).first) {
    it->second.characters += record.input_characters;
    it->second.tokens += record.input_tokens + record.output_tokens;
  }
  impl_->buffer.push_back(std::move(record));
}

void Meter::flush() {
  if (Status s = impl_->flush(); !s.ok()) log(LogLevel::kWarning, "metering: writing usage failed (will retry): " + s.message());
}

nlohmann::json Meter::usage_json(int64_t account_id, std::optional<int64_t> from, std::optional<int64_t> to) {
  const int64_t now = now_unix();
  const auto month = month_of(now);
  const int64_t begin = from.value_or(month.first), end = to.value_or(month.second);
  if (begin >= end) throw InferenceError(ErrorKind::kValidation, "'from' must be before 'to'");
  std::string name = "anonymous";
  if (account_id != 0) {
    auto account = impl_->meta.account_by_id(account_id);
    if (!account) throw InferenceError(ErrorKind::kNotFound, "no account with id " + std::to_string(account_id));
    name = account->name;
  }
  flush();

  nlohmann::json out;
  out["account"] = name;
  out["period"] = {{"from", hub::iso_date(begin)}, {"to", hub::iso_date(end)}};
  const auto total = impl_->meta.usage(account_id, begin, end);
  out["total"] = totals_json(total.empty() ? store::UsageTotals{} : total[0]);
  out["by_model"] = nlohmann::json::array();
  for (const auto& t : impl_->meta.usage(account_id, begin, end, "model")) {
    nlohmann::json row = {{"model", t.model}};
    row.update(totals_json(t));
    out["by_model"].push_back(std::move(row));
  }
  out["by_day"] = nlohmann::json::array();
  for (const auto& t : impl_->meta.usage(account_id, begin, end, "day")) {
    nlohmann::json row = {{"date", day_string(t.day)}};
    row.update(totals_json(t));
    out["by_day"].push_back(std::move(row));
  }

  // What is left now (not in the requested period): null where the plan sets no limit.
  auto lock = impl_->lock_quota(account_id, month);
  const store::Plan plan = impl_->plan_of(account_id);
  Impl::Quota& q = impl_->quotas[account_id];
  const auto t = SteadyClock::now();
  while (!q.window.empty() && t - q.window.front() >= kWindow) q.window.pop_front();
  out["plan"] = {{"name", plan.name},
                 {"requests_per_minute", plan.requests_per_minute},
                 {"monthly_characters", plan.monthly_characters},
                 {"monthly_tokens", plan.monthly_tokens},
                 {"max_model_bytes", plan.max_model_bytes}};
  out["limits_remaining"] = {
      {"requests_this_minute", limit_or_null(plan.requests_per_minute, static_cast<int64_t>(q.window.size()))},
      {"monthly_characters", limit_or_null(plan.monthly_characters, q.characters)},
      {"monthly_tokens", limit_or_null(plan.monthly_tokens, q.tokens)}};
  return out;
}

}  // namespace mlhub::inference
