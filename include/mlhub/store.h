// mlhub store: where the hub keeps repositories.
//
//   GitRepo        one bare git repository per hub repo (libgit2, SHA-1 object ids), so commit
//                  ids, blob ids and `git clone` agree with what every client computes.
//   BlobStore      large (LFS) file contents, content-addressed by sha256, on the local disk.
//   MetadataStore  users, organizations, tokens (hashed), repo records, card metadata, counters
//                  (SQLite by default).
//
// Durability rule (docs/hub.md): every write is "write new things, verify, then switch one
// pointer atomically" (a rename for blobs, a ref compare-and-swap for commits), so a process
// killed at any point leaves the previous state intact. Stale lock and temp files left by a
// killed process are removed by the recover() calls at server start.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlhub/core.h"

namespace mlhub::store {

// ---- LFS pointers --------------------------------------------------------------------------

// The content of a git-lfs pointer file:
//   version https://git-lfs.github.com/spec/v1\noid sha256:<64 hex>\nsize <n>\n
struct LfsPointer {
  std::string oid;  // sha256, 64 lowercase hex
  uint64_t size = 0;
};
// The pointer text for (oid, size), byte-identical to what git-lfs writes.
std::string format_lfs_pointer(const LfsPointer& pointer);
// Parses a pointer file; nullopt when `text` is not a valid pointer (blobs over 1024 bytes never
// are).
std::optional<LfsPointer> parse_lfs_pointer(std::string_view text);

// ---- BlobStore -----------------------------------------------------------------------------

// Content-addressed storage of LFS objects under `root`: objects/<aa>/<bb>/<sha256> plus a
// tmp/ folder for writes in progress. Thread-safe: writers never share files.
class BlobStore {
 public:
  explicit BlobStore(std::filesystem::path root);  // creates the folders

  // Writes one object. write() chunks, then finish(): the sha256 and size of what was written
  // must equal the expected ones (else kInvalidArgument, and nothing is stored); the file is
  // fsynced and renamed into place. Destroying a Writer without a successful finish() removes
  // its temp file, so an interrupted upload leaves nothing behind.
  class Writer {
   public:
    virtual ~Writer() = default;
    virtual Status write(const void* data, size_t size) = 0;
    virtual Status finish(std::string_view expected_sha256, uint64_t expected_size) = 0;
    virtual uint64_t bytes_written() const = 0;
  };
  Result<std::unique_ptr<Writer>> begin_write();

  bool contains(std::string_view sha256) const;
  // The file holding the object (for streaming it out), or kNotFound.
  Result<std::filesystem::path> path_of(std::string_view sha256) const;
  Result<uint64_t> size_of(std::string_view sha256) const;
  // Removes temp files of writes that never finished (call at start, before serving).
  void recover();

  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path root_;
};

// ---- GitRepo -------------------------------------------------------------------------------

// One entry of a tree listing. Paths are repo-relative with '/' separators, no leading '/'.
struct TreeEntry {
  std::string path;
  bool is_dir = false;
  std::string oid;        // git blob or tree id, 40 hex
  uint64_t size = 0;      // blob size in git (the pointer's size for LFS files); 0 for dirs
  std::optional<LfsPointer> lfs;  // set when the blob is a valid LFS pointer
};

struct CommitInfo {
  std::string id;         // 40 hex
  std::string title;      // first line of the message
  std::string message;    // the whole message
  std::string author_name;
  std::string author_email;
  int64_t time = 0;       // author time, unix seconds (UTC)
  std::vector<std::string> parents;
};

struct GitRef {
  std::string name;        // "main", "v1.0", "refs/pr/1" for PR refs
  std::string ref;         // "refs/heads/main", "refs/tags/v1.0", "refs/pr/1"
  std::string target;      // commit id (tags are peeled to their commit)
};

// One change of a commit. Paths are validated by the caller (see validate_repo_path).
struct FileChange {
  enum class Kind : uint8_t { kPut, kDelete, kDeleteFolder };
  Kind kind = Kind::kPut;
  std::string path;
  std::string blob_oid;    // kPut: id of a blob already written with write_blob / BlobWriter
};

struct CommitRequest {
  std::string ref;                        // full ref name to move, e.g. "refs/heads/main"
  // The commit the ref must still point at when it moves (compare-and-swap); empty = the ref
  // must not exist yet (first commit of a new ref). The new tree is built from this commit's.
  std::string expected_parent;
  std::vector<FileChange> changes;
  std::string message;                    // title + "\n\n" + description, or just the title
  std::string author_name, author_email;  // the token's user
  std::string committer_name = "mlhub", committer_email = "noreply@mlhub.local";
  int64_t time = 0;                       // unix seconds; 0 = now
};

// A bare repository. Not thread-safe: open one per request (opening is cheap); commits to the
// same ref from several objects are safe because of the compare-and-swap.
class GitRepo {
 public:
  GitRepo(GitRepo&&) noexcept;
  GitRepo& operator=(GitRepo&&) noexcept;
  ~GitRepo();

  // Creates a bare repository at `path` (the folder must not exist) whose HEAD is
  // refs/heads/<default_branch>, with no commits.
  static Result<GitRepo> create_bare(const std::filesystem::path& path,
                                     std::string_view default_branch = "main");
  static Result<GitRepo> open(const std::filesystem::path& path);
  // Removes stale *.lock files a killed process left under refs/ (and packed-refs.lock,
  // index.lock) so the next ref update does not fail. Only safe while no writer is running.
  static void recover(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return path_; }

  // Resolves a revision to a commit id: a full or abbreviated (5-40 hex, unambiguous) commit
  // id, a branch name, a tag name (peeled), a full ref ("refs/heads/x", "refs/pr/1",
  // "refs/convert/parquet"), or "HEAD" (the default branch). kNotFound otherwise.
  Result<std::string> resolve(std::string_view revision) const;
  // True when `branch` (short name) exists as refs/heads/<branch>.
  bool has_branch(std::string_view branch) const;

  // Entries of folder `dir` ("" = root) at `commit`: immediate children, or every descendant
  // when `recursive` (folders included, each before its contents). Sorted by path. kNotFound
  // when `dir` does not exist or is a file. Files that are LFS pointers carry `lfs` (the blob
  // is read only when its size could be a pointer, i.e. < 1024 bytes).
  Result<std::vector<TreeEntry>> list_tree(std::string_view commit, std::string_view dir,
                                           bool recursive) const;
  // The entry at `path` (file or folder), or nullopt when absent.
  Result<std::optional<TreeEntry>> stat(std::string_view commit, std::string_view path) const;
  // The content of the blob at `path` in `commit` (kNotFound when absent or a folder).
  Result<std::string> read_file(std::string_view commit, std::string_view path) const;
  // Streams a blob by id in chunks to `sink` (for large regular files), starting at `offset`,
  // at most `length` bytes (UINT64_MAX = to the end). `sink` returns false to stop early.
  Status read_blob(std::string_view blob_oid, uint64_t offset, uint64_t length,
                   const std::function<bool(const char*, size_t)>& sink) const;

  // Writes a blob and returns its id.
  Result<std::string> write_blob(std::string_view content);
  // Streams a blob into the object database without holding it in memory.
  class BlobWriter {
   public:
    virtual ~BlobWriter() = default;
    virtual Status write(const void* data, size_t size) = 0;
    virtual Result<std::string> finish() = 0;  // the blob id
  };
  Result<std::unique_ptr<BlobWriter>> begin_blob();

  // Builds the new tree from request.expected_parent's (or an empty tree), applies `changes` in
  // order, writes the commit and moves `request.ref` by compare-and-swap. Returns the new
  // commit id. Errors: kFailedPrecondition when the ref no longer points at expected_parent
  // (or exists when expected_parent is empty); kNotFound when a kDelete path is not a file or a
  // kDeleteFolder path not a folder (the message names the path); kInvalidArgument when a kPut
  // path collides with an existing folder or goes through an existing file.
  Result<std::string> commit(const CommitRequest& request);

  std::vector<GitRef> branches() const;
  std::vector<GitRef> tags() const;
  std::vector<GitRef> pull_requests() const;  // refs/pr/*, sorted by number
  // kAlreadyExists when the branch exists (and !overwrite); kNotFound when target is unknown.
  Status create_branch(std::string_view name, std::string_view target_commit, bool overwrite = false);
  Status delete_branch(std::string_view name);  // kNotFound when absent
  // A lightweight tag, or an annotated one when `message` is not empty. kAlreadyExists if taken.
  Status create_tag(std::string_view name, std::string_view target_commit, std::string_view message,
                    std::string_view tagger_name, std::string_view tagger_email);
  Status delete_tag(std::string_view name);
  // Points a full ref (e.g. "refs/pr/3") at a commit, creating it if needed.
  Status set_ref(std::string_view full_ref, std::string_view target_commit);

  // Commits reachable from `commit`, newest first (topological + time order, like git log),
  // skipping `skip` and returning at most `limit`. `total`, when given, receives the number of
  // commits reachable.
  Result<std::vector<CommitInfo>> log(std::string_view commit, size_t skip, size_t limit,
                                      size_t* total = nullptr) const;
  Result<CommitInfo> commit_info(std::string_view commit) const;
  // For each path (file or folder), the newest commit reachable from `commit` that changed it.
  // Paths that do not exist are left out.
  Result<std::map<std::string, CommitInfo>> last_commits(std::string_view commit,
                                                         const std::vector<std::string>& paths) const;

 private:
  GitRepo() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::filesystem::path path_;
};

// ---- MetadataStore -------------------------------------------------------------------------

// A user or an organization (both own namespaces; orgs have members).
struct Account {
  int64_t id = 0;
  std::string name;
  std::string fullname;
  std::string email;
  bool is_org = false;
  int64_t created_at = 0;  // unix seconds
};

enum class TokenRole : uint8_t { kRead, kWrite };
std::string_view token_role_name(TokenRole role);  // "read" / "write"

struct AccessToken {
  int64_t id = 0;
  int64_t user_id = 0;
  std::string name;
  TokenRole role = TokenRole::kRead;
  int64_t created_at = 0;
};

enum class MemberRole : uint8_t { kRead, kWrite, kAdmin };
std::string_view member_role_name(MemberRole role);
Result<MemberRole> parse_member_role(std::string_view name);

// One hub repository. `type` is "model", "dataset" or "space". What is derived from the git
// content (card data, tags, pipeline tag, library) is a cache keyed by `indexed_sha`: when the
// branch head differs, the server re-derives it (so a crash between a ref move and the metadata
// update only costs a re-index).
struct RepoRecord {
  int64_t id = 0;
  std::string type = "model";
  std::string owner;          // namespace (user or org name)
  std::string name;
  bool is_private = false;
  std::string gated;          // "" (not gated), "auto" or "manual"
  bool disabled = false;
  int64_t created_at = 0;
  int64_t last_modified = 0;  // unix seconds of the last commit on the default branch
  int64_t downloads = 0;
  int64_t likes = 0;
  std::string storage;        // folder of the bare repo, relative to the data dir
  std::string indexed_sha;    // commit the derived fields below were computed from
  std::string card_json = "{}";  // cardData: the README front matter as JSON
  std::string tags_json = "[]";  // derived tags, JSON array of strings
  std::string pipeline_tag;
  std::string library_name;

  std::string repo_id() const { return owner + "/" + name; }
};

// How /api/models etc. list repos.
struct RepoQuery {
  std::string type = "model";
  std::vector<std::string> search;   // substrings of the repo id (all must match), case-insensitive
  std::string author;                // namespace, exact
  std::vector<std::string> filters;  // tags, all must be present
  std::string sort;                  // "", "downloads", "likes", "lastModified", "createdAt", "id"
  bool ascending = false;            // direction=1 (default descending, like the Hub)
  size_t offset = 0;
  size_t limit = 1000;
  int64_t viewer_id = 0;             // private repos are listed only for their owner and members
};

// An inference plan: the limits applied to the accounts assigned to it. 0 = unlimited.
struct Plan {
  std::string name;                 // [a-z0-9_-]{1,64}
  int64_t requests_per_minute = 0;
  int64_t monthly_characters = 0;   // input characters per calendar month (UTC)
  int64_t monthly_tokens = 0;       // input + output tokens per calendar month
  int64_t max_model_bytes = 0;      // largest model (weight bytes) the plan may run
};

// One inference request's usage (or several identical-key requests summed).
struct UsageRecord {
  int64_t time = 0;            // unix seconds
  int64_t account_id = 0;      // the billed account (0 = anonymous)
  int64_t user_id = 0;         // the token's user (0 = anonymous)
  std::string token_name;
  std::string model;           // repo id
  std::string task;            // "text-classification", "text-generation", ...
  std::string route;           // "task", "generate", "chat", "completions", "embed", ...
  int status = 200;
  int64_t requests = 1;
  int64_t input_characters = 0;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t compute_ms = 0;
};

// Usage summed over a time range, optionally grouped.
struct UsageTotals {
  std::string model;           // set when grouped by model
  int64_t day = 0;             // unix seconds of the UTC day start, when grouped by day
  int64_t requests = 0, errors = 0, input_characters = 0, input_tokens = 0, output_tokens = 0,
          compute_ms = 0;
};

// Users, organizations, tokens (only their sha256 is stored), repo records, redirects of moved
// repos, download counters, inference plans and usage. Thread-safe (one connection behind a mutex; SQLite in WAL mode
// so admin commands in another process can write while the server runs).
class MetadataStore {
 public:
  virtual ~MetadataStore() = default;

  // Opens (creating if needed) the SQLite database at `path` and migrates its schema.
  static Result<std::unique_ptr<MetadataStore>> open_sqlite(const std::filesystem::path& path);

  // kAlreadyExists when the name is taken by a user or an org (names are case-insensitive).
  virtual Result<Account> create_account(const Account& account) = 0;
  virtual std::optional<Account> find_account(std::string_view name) = 0;
  virtual std::optional<Account> account_by_id(int64_t id) = 0;
  virtual Status set_member(int64_t org_id, int64_t user_id, MemberRole role) = 0;
  virtual std::optional<MemberRole> member_role(int64_t org_id, int64_t user_id) = 0;
  // The orgs a user belongs to, with the role.
  virtual std::vector<std::pair<Account, MemberRole>> orgs_of(int64_t user_id) = 0;

  // Creates a token and returns its plaintext ("hf_" + 34 random base62 chars); only its
  // sha256 is stored.
  virtual Result<std::string> create_token(int64_t user_id, std::string_view name, TokenRole role) = 0;
  // The token's owner and record, or nullopt for an unknown token.
  virtual std::optional<std::pair<Account, AccessToken>> authenticate(std::string_view token) = 0;

  // kAlreadyExists when (type, owner, name) is taken (case-insensitive). Returns the record
  // with its id.
  virtual Result<RepoRecord> create_repo(const RepoRecord& repo) = 0;
  virtual std::optional<RepoRecord> find_repo(std::string_view type, std::string_view owner,
                                              std::string_view name) = 0;
  virtual Status update_repo(const RepoRecord& repo) = 0;
  virtual Status delete_repo(int64_t repo_id) = 0;
  // Renames; records a redirect from the old id (kAlreadyExists when the target is taken).
  virtual Status move_repo(int64_t repo_id, std::string_view new_owner, std::string_view new_name) = 0;
  // Where a moved repo went ("owner/name"), following chains.
  virtual std::optional<std::string> redirect_of(std::string_view type, std::string_view owner,
                                                 std::string_view name) = 0;
  virtual std::vector<RepoRecord> list_repos(const RepoQuery& query) = 0;
  virtual std::vector<RepoRecord> all_repos() = 0;
  virtual void count_download(int64_t repo_id) = 0;

  // A random secret stored under `name`, created on first use (e.g. the key that signs LFS
  // upload URLs).
  virtual std::string secret(std::string_view name) = 0;

  // ---- Inference plans and usage (docs/inference.md, "Metering and quotas") ----

  // Creates or replaces the plan `plan.name`. kInvalidArgument when the name is not
  // [a-z0-9_-]{1,64} or a limit is negative.
  virtual Status put_plan(const Plan& plan) = 0;
  virtual std::optional<Plan> find_plan(std::string_view name) = 0;
  virtual std::vector<Plan> list_plans() = 0;  // sorted by name
  // Assigns `plan` to a user or an org; "" removes the assignment (the server's default plan
  // applies). kNotFound when the account or the plan does not exist.
  virtual Status assign_plan(int64_t account_id, std::string_view plan) = 0;
  // The plan assigned to the account, or nullopt when none is.
  virtual std::optional<std::string> plan_of(int64_t account_id) = 0;

  // Appends usage rows in one transaction (all or none).
  virtual Status append_usage(const std::vector<UsageRecord>& records) = 0;
  // Usage of `account_id` with from <= time < to (unix seconds), summed. `group_by`: "" (one
  // row, zeros when there is no usage), "model" (one row per model, by name), "day" (one row
  // per UTC day with usage, by day), "model,day" (by model, then day). `errors` sums the
  // `requests` of rows with status >= 400. Throws mlhub::Error kInvalidArgument for another
  // group_by (a programming error: callers pass constants).
  virtual std::vector<UsageTotals> usage(int64_t account_id, int64_t from, int64_t to,
                                         std::string_view group_by = "") = 0;
};

// ---- Model and dataset cards ---------------------------------------------------------------

// What the hub derives from a repo's README.md YAML front matter (between the leading "---"
// lines) and its file list.
struct CardMetadata {
  std::string card_json = "{}";   // the front matter as a JSON object ("{}" when absent)
  std::vector<std::string> tags;  // tags, library, pipeline tag, license:x, dataset:x, base_model:x,
                                  // languages, file formats (safetensors, pytorch, gguf, onnx),
                                  // the config's model_type; de-duplicated, in that order
  std::string pipeline_tag;
  std::string library_name;
};

// Parses the card. `files` are the repo's paths (for format tags); `config_json` is the
// content of config.json or "". kInvalidArgument (with the YAML error and line) when the front
// matter is not valid YAML or not a mapping.
Result<CardMetadata> parse_card(std::string_view readme, std::string_view repo_type,
                                const std::vector<std::string>& files, std::string_view config_json);

// Checks a repo-relative path from a client: non-empty, at most 4096 bytes, valid UTF-8, no NUL
// or control characters, no leading '/', no backslash, no empty, "." or ".." segments, no
// ".git" segment. Returns kInvalidArgument with a message naming the problem.
Status validate_repo_path(std::string_view path);
// Checks a branch or tag name the way `git check-ref-format --branch` does.
Status validate_ref_name(std::string_view name);

}  // namespace mlhub::store
