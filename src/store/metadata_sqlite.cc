// MetadataStore on SQLite: one connection in WAL mode behind a mutex. Names are compared
// case-insensitively (COLLATE NOCASE), as the Hub treats "Alice/Model" and "alice/model" as one.
#include <sqlite3.h>

#include <chrono>
#include <fstream>
#include <mutex>
#include <random>

#include "mlhub/store.h"

namespace mlhub::store {

std::string_view token_role_name(TokenRole role) { return role == TokenRole::kWrite ? "write" : "read"; }

std::string_view member_role_name(MemberRole role) {
  switch (role) {
    case MemberRole::kRead: return "read";
    case MemberRole::kWrite: return "write";
    case MemberRole::kAdmin: return "admin";
  }
  return "read";
}

Result<MemberRole> parse_member_role(std::string_view name) {
  if (name == "read") return MemberRole::kRead;
  if (name == "write" || name == "contributor") return MemberRole::kWrite;
  if (name == "admin") return MemberRole::kAdmin;
  return Status::invalid_argument("unknown member role '" + std::string(name) + "' (read, write or admin)");
}

namespace {

int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string random_base62(size_t n) {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string out(n, '0');
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  unsigned char bytes[256];
  urandom.read(reinterpret_cast<char*>(bytes), static_cast<std::streamsize>(n));
  if (!urandom) {
    std::random_device rd;
    for (size_t i = 0; i < n; ++i) bytes[i] = static_cast<unsigned char>(rd());
  }
  for (size_t i = 0; i < n; ++i) out[i] = kAlphabet[bytes[i] % 62];
  return out;
}

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS accounts (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE, fullname TEXT NOT NULL,
  email TEXT NOT NULL, is_org INTEGER NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS members (
  org_id INTEGER NOT NULL, user_id INTEGER NOT NULL, role TEXT NOT NULL,
  PRIMARY KEY (org_id, user_id));
CREATE TABLE IF NOT EXISTS tokens (
  id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, name TEXT NOT NULL, role TEXT NOT NULL,
  sha256 TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS repos (
  id INTEGER PRIMARY KEY, type TEXT NOT NULL, owner TEXT NOT NULL COLLATE NOCASE,
  name TEXT NOT NULL COLLATE NOCASE, private INTEGER NOT NULL, gated TEXT NOT NULL,
  disabled INTEGER NOT NULL, created_at INTEGER NOT NULL, last_modified INTEGER NOT NULL,
  downloads INTEGER NOT NULL, likes INTEGER NOT NULL, storage TEXT NOT NULL,
  indexed_sha TEXT NOT NULL, card_json TEXT NOT NULL, tags_json TEXT NOT NULL,
  pipeline_tag TEXT NOT NULL, library_name TEXT NOT NULL, UNIQUE (type, owner, name));
CREATE TABLE IF NOT EXISTS redirects (
  type TEXT NOT NULL, from_id TEXT NOT NULL COLLATE NOCASE, to_id TEXT NOT NULL,
  PRIMARY KEY (type, from_id));
CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL);
)sql";

// Inference plans and usage (issue 6). Like kSchema it only creates what is missing, so a data
// folder made by an older mlhub gains these tables the first time a newer one opens it.
// usage rows are looked up by (account, time range); the index covers that.
constexpr const char* kSchemaInference = R"sql(
CREATE TABLE IF NOT EXISTS plans (
  name TEXT PRIMARY KEY, requests_per_minute INTEGER NOT NULL, monthly_characters INTEGER NOT NULL,
  monthly_tokens INTEGER NOT NULL, max_model_bytes INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS account_plans (
  account_id INTEGER PRIMARY KEY, plan TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS usage (
  id INTEGER PRIMARY KEY, time INTEGER NOT NULL, account_id INTEGER NOT NULL,
  user_id INTEGER NOT NULL, token_name TEXT NOT NULL, model TEXT NOT NULL, task TEXT NOT NULL,
  route TEXT NOT NULL, status INTEGER NOT NULL, requests INTEGER NOT NULL,
  input_characters INTEGER NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
  compute_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS usage_by_account_time ON usage (account_id, time);
)sql";

bool valid_plan_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  }
  return true;
}


// A prepared statement with positional binds; steps and reads columns by index.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
      throw Error(StatusCode::kInternal, std::string("sqlite prepare: ") + sqlite3_errmsg(db));
    }
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  // true: a row is ready; false: done. Throws on errors; kAlreadyExists on UNIQUE violations.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    if (rc == SQLITE_CONSTRAINT) throw Error(StatusCode::kAlreadyExists, sqlite3_errmsg(db_));
    throw Error(StatusCode::kIoError, std::string("sqlite: ") + sqlite3_errmsg(db_));
  }
  // Clears the last step so the statement can run again with new binds.
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  int64_t i64(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, col)) : std::string();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

constexpr const char* kPlanColumns = "name, requests_per_minute, monthly_characters, monthly_tokens, max_model_bytes";

constexpr const char* kRepoColumns =
    "id, type, owner, name, private, gated, disabled, created_at, last_modified, downloads, likes, "
    "storage, indexed_sha, card_json, tags_json, pipeline_tag, library_name";

RepoRecord read_repo(const Stmt& s) {
  RepoRecord r;
  r.id = s.i64(0);
  r.type = s.text(1);
  r.owner = s.text(2);
  r.name = s.text(3);
  r.is_private = s.i64(4) != 0;
  r.gated = s.text(5);
  r.disabled = s.i64(6) != 0;
  r.created_at = s.i64(7);
  r.last_modified = s.i64(8);
  r.downloads = s.i64(9);
  r.likes = s.i64(10);
  r.storage = s.text(11);
  r.indexed_sha = s.text(12);
  r.card_json = s.text(13);
  r.tags_json = s.text(14);
  r.pipeline_tag = s.text(15);
  r.library_name = s.text(16);
  return r;
}

Plan read_plan(const Stmt& s) {
  Plan p;
  p.name = s.text(0);
  p.requests_per_minute = s.i64(1);
  p.monthly_characters = s.i64(2);
  p.monthly_tokens = s.i64(3);
  p.max_model_bytes = s.i64(4);
  return p;
}

Account read_account(const Stmt& s) {
  Account a;
  a.id = s.i64(0);
  a.name = s.text(1);
  a.fullname = s.text(2);
  a.email = s.text(3);
  a.is_org = s.i64(4) != 0;
  a.created_at = s.i64(5);
  return a;
}

class SqliteMetadataStore final : public MetadataStore {
 public:
  explicit SqliteMetadataStore(sqlite3* db) : db_(db) {}
  ~SqliteMetadataStore() override { sqlite3_close(db_); }

  void exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      throw Error(StatusCode::kIoError, "sqlite: " + msg);
    }
  }

  Result<Account> create_account(const Account& account) override {
    std::lock_guard lock(mu_);
    return catch_errors([&] {
      Account a = account;
      a.created_at = a.created_at ? a.created_at : now_seconds();
      Stmt s(db_, "INSERT INTO accounts (name, fullname, email, is_org, created_at) VALUES (?, ?, ?, ?, ?)");
      s.bind(1, a.name).bind(2, a.fullname).bind(3, a.email).bind(4, int64_t{a.is_org}).bind(5, a.created_at);
      try {
        s.step();
      } catch (const Error& e) {
        if (e.code() == StatusCode::kAlreadyExists) throw Error(StatusCode::kAlreadyExists, "the name '" + a.name + "' is taken");
        throw;
      }
      a.id = sqlite3_last_insert_rowid(db_);
      return a;
    });
  }

  std::optional<Account> find_account(std::string_view name) override {
    std::lock_guard lock(mu_);
    Stmt s(db_, "SELECT id, name, fullname, email, is_org, created_at FROM accounts WHERE name = ?");
    s.bind(1, name);
    if (!s.step()) return std::nullopt;
    return read_account(s);
  }

  std::optional<Account> account_by_id(int64_t id) override {
    std::lock_guard lock(mu_);
    Stmt s(db_, "SELECT id, name, fullname, email, is_org, created_at FROM accounts WHERE id = ?");
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    return read_account(s);
  }

  Status set_member(int64_t org_id, int64_t user_id, MemberRole role) override {
    std::lock_guard lock(mu_);
    return catch_errors([&] {
             Stmt s(db_, "INSERT OR REPLACE INTO members (org_id, user_id, role) VALUES (?, ?, ?)");
             s.bind(1, org_id).bind(2, user_id).bind(3, member_role_name(role));
             s.step();
             return 0;
           }).status();
  }

  std::optional<MemberRole> member_role(int64_t org_id, int64_t user_id) override {
    std::lock_guard lock(mu_);
    Stmt s(db_, "SELECT role FROM members WHERE org_id = ? AND user_id = ?");
    s.bind(1, org_id).bind(2, user_id);
    if (!s.step()) return std::nullopt;
    auto role = parse_member_role(s.text(0));
    return role.ok() ? std::optional<MemberRole>(*role) : std::nullopt;
  }

  std::vector<std::pair<Account, MemberRole>> orgs_of(int64_t user_id) override {
    std::lock_guard lock(mu_);
    Stmt s(db_,
           "SELECT a.id, a.name, a.fullname, a.email, a.is_org, a.created_at, m.role FROM members m "
           "JOIN accounts a ON a.id = m.org_id WHERE m.user_id = ? ORDER BY a.name");
    s.bind(1, user_id);
    std::vector<std::pair<Account, MemberRole>> out;
    while (s.step()) {
      auto role = parse_member_role(s.text(6));
      out.emplace_back(read_account(s), role.ok() ? *role : MemberRole::kRead);
    }
    return out;
  }

  Result<std::string> create_token(int64_t user_id, std::string_view name, TokenRole role) override {
    std::lock_guard lock(mu_);
    return catch_errors([&] {
      const std::string token = "hf_" + random_base62(34);
      Stmt s(db_, "INSERT INTO tokens (user_id, name, role, sha256, created_at) VALUES (?, ?, ?, ?, ?)");
      s.bind(1, user_id).bind(2, name).bind(3, token_role_name(role)).bind(4, sha256_hex(token)).bind(5, now_seconds());
      s.step();
      return token;
    });
  }

  std::optional<std::pair<Account, AccessToken>> authenticate(std::string_view token) override {
    if (token.empty() || token.size() > 256) return std::nullopt;
    const std::string digest = sha256_hex(token);
    std::lock_guard lock(mu_);
    Stmt s(db_,
           "SELECT a.id, a.name, a.fullname, a.email, a.is_org, a.created_at, t.id, t.name, t.role, "
           "t.created_at FROM tokens t JOIN accounts a ON a.id = t.user_id WHERE t.sha256 = ?");
    s.bind(1, digest);
    if (!s.step()) return std::nullopt;
    AccessToken t;
    t.id = s.i64(6);
    t.user_id = s.i64(0);
    t.name = s.text(7);
    t.role = s.text(8) == "write" ? TokenRole::kWrite : TokenRole::kRead;
    t.created_at = s.i64(9);
    return std::make_pair(read_account(s), t);
  }

  Result<RepoRecord> create_repo(const RepoRecord& repo) override {
    std::lock_guard lock(mu_);
    return catch_errors([&] {
      RepoRecord r = repo;
      if (!r.created_at) r.created_at = now_seconds();
      if (!r.last_modified) r.last_modified = r.created_at;
      const std::string sql = std::string("INSERT INTO repos (") + kRepoColumns +
                              ") VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
      Stmt s(db_, sql.c_str());
      bind_repo(s, r);
      try {
        s.step();
      } catch (const Error& e) {
        if (e.code() == StatusCode::kAlreadyExists) {
          throw Error(StatusCode::kAlreadyExists, "You already created this " + r.type + " repo");
        }
        throw;
      }
      r.id = sqlite3_last_insert_rowid(db_);
      // A new repo under a name that used to redirect replaces the redirect.
      Stmt d(db_, "DELETE FROM redirects WHERE type = ? AND from_id = ?");
      d.bind(1, r.type).bind(2, r.repo_id());
      d.step();
      return r;
    });
  }

  std::optional<RepoRecord> find_repo(std::string_view type, std::string_view owner, std::string_view name) override {
    std::lock_guard lock(mu_);
    const std::string sql = std::string("SELECT ") + kRepoColumns + " FROM repos WHERE type = ? AND owner = ? AND name = ?";
    Stmt s(db_, sql.c_str());
    s.bind(1, type).bind(2, owner).bind(3, name);
    if (!s.step()) return std::nullopt;
    return read_repo(s);
  }

  Status update_repo(const RepoRecord& r) override {
    std::lock_guard lock(mu_);
    return catch_errors([&] {
             Stmt s(db_,
                    "UPDATE repos SET private = ?, gated = ?, disabled = ?, last_modified = ?, likes = ?, "
                    "indexed_sha = ?, card_json = ?, tags_json = ?, pipeline_tag = ?, library_name = ? WHERE id = ?");
             s.bind(1, int64_t{r.is_private}).bind(2, r.gated).bind(3, int64_t{r.disabled}).bind(4, r.last_modified);
             s.bind(5, r.likes).bind(6, r.indexed_sha).bind(7, r.card_json).bind(8, r.tags_json);
             s.bind(9, r.pipeline_tag).bind(10, r.library_name).bind(11, r.id);
             s.step();
             return 0;
           }).status();
  }

  Status delete_repo(int64_t repo_id) override {
    std::lock_guard lock(mu_);
    return catch_errors([&] {
             Stmt s(db_, "DELETE FROM repos WHERE id = ?");
             s.bind(1, repo_id);
             s.step();
             return 0;
           }).status();
  }

  Status move_repo(int64_t repo_id, std::string_view new_owner, std::string_view new_name) override {
    std::lock_guard lock(mu_);
    return catch_errors([&] {
             exec("BEGIN IMMEDIATE");
             try {
               Stmt q(db_, "SELECT type, owner, name FROM repos WHERE id = ?");
               q.bind(1, repo_id);
               if (!q.step()) throw Error(StatusCode::kNotFound, "repository not found");
               const std::string type = q.text(0), old_id = q.text(1) + "/" + q.text(2);
               const std::string new_id = std::string(new_owner) + "/" + std::string(new_name);
               Stmt u(db_, "UPDATE repos SET owner = ?, name = ? WHERE id = ?");
               u.bind(1, new_owner).bind(2, new_name).bind(3, repo_id);
               try {
                 u.step();
               } catch (const Error& e) {
                 if (e.code() == StatusCode::kAlreadyExists) throw Error(StatusCode::kAlreadyExists, "repository " + new_id + " already exists");
                 throw;
               }
               Stmt d(db_, "DELETE FROM redirects WHERE type = ? AND from_id = ?");
               d.bind(1, type).bind(2, new_id);
               d.step();
               Stmt r(db_, "INSERT OR REPLACE INTO redirects (type, from_id, to_id) VALUES (?, ?, ?)");
               r.bind(1, type).bind(2, old_id).bind(3, new_id);
               r.step();
               // Older redirects that pointed at the old id now point at the new one.
               Stmt c(db_, "UPDATE redirects SET to_id = ? WHERE type = ? AND to_id = ?");
               c.bind(1, new_id).bind(2, type).bind(3, old_id);
               c.step();
               exec("COMMIT");
             } catch (...) {
               exec("ROLLBACK");
               throw;
             }
             return 0;
           }).status();
  }

  std::optional<std::string> redirect_of(std::string_view type, std::string_view owner, std::string_view name) override {
    std::lock_guard lock(mu_);
    Stmt s(db_, "SELECT to_id FROM redirects WHERE type = ? AND from_id = ?");
    s.bind(1, type).bind(2, std::string(owner) + "/" + std::string(name));
    if (!s.step()) return std::nullopt;
    return s.text(0);
  }

  std::vector<RepoRecord> list_repos(const RepoQuery& q) override {
    std::string sql = std::string("SELECT ") + kRepoColumns + " FROM repos WHERE type = ?1";
    sql += " AND (private = 0 OR owner IN (SELECT name FROM accounts WHERE id = ?2) OR owner IN "
           "(SELECT a.name FROM members m JOIN accounts a ON a.id = m.org_id WHERE m.user_id = ?2))";
    int next = 3;
    std::vector<std::string> binds;
    for (const auto& term : q.search) {
      sql += " AND instr(lower(owner || '/' || name), lower(?" + std::to_string(next++) + ")) > 0";
      binds.push_back(term);
    }
    if (!q.author.empty()) {
      sql += " AND owner = ?" + std::to_string(next++);
      binds.push_back(q.author);
    }
    for (const auto& tag : q.filters) {
      sql += " AND EXISTS (SELECT 1 FROM json_each(repos.tags_json) WHERE value = ?" + std::to_string(next++) + ")";
      binds.push_back(tag);
    }
    const std::string dir = q.ascending ? " ASC" : " DESC";
    if (q.sort == "downloads") sql += " ORDER BY downloads" + dir + ", id" + dir;
    else if (q.sort == "likes") sql += " ORDER BY likes" + dir + ", id" + dir;
    else if (q.sort == "lastModified") sql += " ORDER BY last_modified" + dir + ", id" + dir;
    else if (q.sort == "createdAt") sql += " ORDER BY created_at" + dir + ", id" + dir;
    else if (q.sort == "id") sql += " ORDER BY owner || '/' || name COLLATE NOCASE" + dir;
    else sql += " ORDER BY id ASC";
    sql += " LIMIT " + std::to_string(q.limit) + " OFFSET " + std::to_string(q.offset);
    std::lock_guard lock(mu_);
    Stmt s(db_, sql.c_str());
    s.bind(1, q.type).bind(2, q.viewer_id);
    for (size_t i = 0; i < binds.size(); ++i) s.bind(static_cast<int>(3 + i), binds[i]);
    std::vector<RepoRecord> out;
    while (s.step()) out.push_back(read_repo(s));
    return out;
  }

  std::vector<RepoRecord> all_repos() override {
    std::lock_guard lock(mu_);
    const std::string sql = std::string("SELECT ") + kRepoColumns + " FROM repos ORDER BY id";
    Stmt s(db_, sql.c_str());
    std::vector<RepoRecord> out;
    while (s.step()) out.push_back(read_repo(s));
    return out;
  }

  void count_download(int64_t repo_id) override {
    std::lock_guard lock(mu_);
    Stmt s(db_, "UPDATE repos SET downloads = downloads + 1 WHERE id = ?");
    s.bind(1, repo_id);
    s.step();
  }

  std::string secret(std::string_view name) override {
    std::lock_guard lock(mu_);
    Stmt ins(db_, "INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)");
    ins.bind(1, name).bind(2, random_base62(48));
    ins.step();
    Stmt s(db_, "SELECT value FROM secrets WHERE name = ?");
    s.bind(1, name);
    s.step();
    return s.text(0);
  }

  Status put_plan(const Plan& plan) override {
    if (!valid_plan_name(plan.name)) {
      return Status::invalid_argument("invalid plan name '" + plan.name +
                                      "': use 1 to 64 of a-z, 0-9, '_' and '-'");
    }
    if (plan.requests_per_minute < 0 || plan.monthly_characters < 0 || plan.monthly_tokens < 0 ||
        plan.max_model_bytes < 0) {
      return Status::invalid_argument("plan '" + plan.name + "': limits must be >= 0 (0 = unlimited)");
    }
    std::lock_guard lock(mu_);
    return catch_errors([&] {
             Stmt s(db_,
                    "INSERT OR REPLACE INTO plans (name, requests_per_minute, monthly_characters, "
                    "monthly_tokens, max_model_bytes) VALUES (?, ?, ?, ?, ?)");
             s.bind(1, plan.name).bind(2, plan.requests_per_minute).bind(3, plan.monthly_characters);
             s.bind(4, plan.monthly_tokens).bind(5, plan.max_model_bytes);
             s.step();
             return 0;
           }).status();
  }

  std::optional<Plan> find_plan(std::string_view name) override {
    std::lock_guard lock(mu_);
    const std::string sql = std::string("SELECT ") + kPlanColumns + " FROM plans WHERE name = ?";
    Stmt s(db_, sql.c_str());
    s.bind(1, name);
    if (!s.step()) return std::nullopt;
    return read_plan(s);
  }

  std::vector<Plan> list_plans() override {
    std::lock_guard lock(mu_);
    const std::string sql = std::string("SELECT ") + kPlanColumns + " FROM plans ORDER BY name";
    Stmt s(db_, sql.c_str());
    std::vector<Plan> out;
    while (s.step()) out.push_back(read_plan(s));
    return out;
  }

  Status assign_plan(int64_t account_id, std::string_view plan) override {
    std::lock_guard lock(mu_);
    return catch_errors([&] {
             Stmt a(db_, "SELECT 1 FROM accounts WHERE id = ?");
             a.bind(1, account_id);
             if (!a.step()) throw Error(StatusCode::kNotFound, "no account with id " + std::to_string(account_id));
             if (plan.empty()) {
               Stmt d(db_, "DELETE FROM account_plans WHERE account_id = ?");
               d.bind(1, account_id);
               d.step();
               return 0;
             }
             Stmt p(db_, "SELECT 1 FROM plans WHERE name = ?");
             p.bind(1, plan);
             if (!p.step()) throw Error(StatusCode::kNotFound, "no plan named '" + std::string(plan) + "'");
             Stmt s(db_, "INSERT OR REPLACE INTO account_plans (account_id, plan) VALUES (?, ?)");
             s.bind(1, account_id).bind(2, plan);
             s.step();
             return 0;
           }).status();
  }

  std::optional<std::string> plan_of(int64_t account_id) override {
    std::lock_guard lock(mu_);
    Stmt s(db_, "SELECT plan FROM account_plans WHERE account_id = ?");
    s.bind(1, account_id);
    if (!s.step()) return std::nullopt;
    return s.text(0);
  }

  Status append_usage(const std::vector<UsageRecord>& records) override {
    if (records.empty()) return Status();
    std::lock_guard lock(mu_);
    return catch_errors([&] {
             exec("BEGIN IMMEDIATE");
             try {
               Stmt s(db_,
                      "INSERT INTO usage (time, account_id, user_id, token_name, model, task, route, status, "
                      "requests, input_characters, input_tokens, output_tokens, compute_ms) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
               for (const UsageRecord& r : records) {
                 s.reset();
                 s.bind(1, r.time).bind(2, r.account_id).bind(3, r.user_id).bind(4, r.token_name);
                 s.bind(5, r.model).bind(6, r.task).bind(7, r.route).bind(8, int64_t{r.status});
                 s.bind(9, r.requests).bind(10, r.input_characters).bind(11, r.input_tokens);
                 s.bind(12, r.output_tokens).bind(13, r.compute_ms);
                 s.step();
               }
               exec("COMMIT");
             } catch (...) {
               exec("ROLLBACK");
               throw;
             }
             return 0;
           }).status();
  }

  std::vector<UsageTotals> usage(int64_t account_id, int64_t from, int64_t to, std::string_view group_by) override {
    const bool by_model = group_by == "model" || group_by == "model,day";
    const bool by_day = group_by == "day" || group_by == "model,day";
    if (!group_by.empty() && !by_model && !by_day) {
      throw Error(StatusCode::kInvalidArgument, "usage: group_by must be \"\", \"model\", \"day\" or \"model,day\"");
    }
    // Days are UTC: unix time has no leap seconds, so a day is always 86400 s.
    std::string keys = by_model ? "model" : "''";
    keys += by_day ? ", (time - (time % 86400 + 86400) % 86400)" : ", 0";
    std::string sql = "SELECT " + keys +
                      ", COALESCE(SUM(requests), 0), COALESCE(SUM(CASE WHEN status >= 400 THEN requests ELSE 0 END), 0), "
                      "COALESCE(SUM(input_characters), 0), COALESCE(SUM(input_tokens), 0), "
                      "COALESCE(SUM(output_tokens), 0), COALESCE(SUM(compute_ms), 0) "
                      "FROM usage WHERE account_id = ? AND time >= ? AND time < ?";
    if (by_model || by_day) sql += " GROUP BY 1, 2 ORDER BY 1, 2";
    std::lock_guard lock(mu_);
    Stmt s(db_, sql.c_str());
    s.bind(1, account_id).bind(2, from).bind(3, to);
    std::vector<UsageTotals> out;
    while (s.step()) {
      UsageTotals t;
      t.model = s.text(0);
      t.day = s.i64(1);
      t.requests = s.i64(2);
      t.errors = s.i64(3);
      t.input_characters = s.i64(4);
      t.input_tokens = s.i64(5);
      t.output_tokens = s.i64(6);
      t.compute_ms = s.i64(7);
      out.push_back(std::move(t));
    }
    return out;
  }

 private:
  static void bind_repo(Stmt& s, const RepoRecord& r) {
    s.bind(1, r.type).bind(2, r.owner).bind(3, r.name).bind(4, int64_t{r.is_private}).bind(5, r.gated);
    s.bind(6, int64_t{r.disabled}).bind(7, r.created_at).bind(8, r.last_modified).bind(9, r.downloads);
    s.bind(10, r.likes).bind(11, r.storage).bind(12, r.indexed_sha).bind(13, r.card_json);
    s.bind(14, r.tags_json).bind(15, r.pipeline_tag).bind(16, r.library_name);
  }

  sqlite3* db_;
  std::mutex mu_;
};

}  // namespace

Result<std::unique_ptr<MetadataStore>> MetadataStore::open_sqlite(const std::filesystem::path& path) {
  return catch_errors([&]() -> std::unique_ptr<MetadataStore> {
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
      sqlite3_close(db);
      throw Error(StatusCode::kIoError, path.string() + ": " + msg);
    }
    auto store = std::make_unique<SqliteMetadataStore>(db);
    sqlite3_busy_timeout(db, 10000);  // admin commands in another process may hold the lock
    store->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
    store->exec(kSchema);
    store->exec(kSchemaInference);
    return store;
  });
}

}  // namespace mlhub::store
