// The Hub API server: state shared by the route handlers, and the helpers they have in common
// (auth, the visibility matrix of docs/hub-api.md §5.3, revision resolution, JSON shapes).
// Each routes_*.cc file implements one group of routes; hub_server.cc dispatches to them.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlhub/store.h"
#include "server/http/http.h"

namespace mlhub::hub {

using nlohmann::json;
using http::HttpError;
using http::Request;
using http::Response;

// How preupload answers huggingface_hub >= 1.20, which sends every "lfs" file through Xet when
// hf_xet is installed (docs/hub.md, "Xet"): kRegular answers "regular" for every file so the
// bytes travel inside the commit; kLfs decides normally (for users who set HF_HUB_DISABLE_XET=1).
enum class XetFallback : uint8_t { kRegular, kLfs };

// Who is calling: the token's user, or nobody.
struct Caller {
  std::optional<store::Account> user;
  store::TokenRole role = store::TokenRole::kRead;
  std::string token_name;
  bool authenticated() const { return user.has_value(); }
};

// What a request may do with a repo.
enum class Access : uint8_t { kRead, kReadContent, kWrite };

// A repo found from a URL, with the caller's rights checked.
struct RepoHandle {
  store::RepoRecord record;
  std::filesystem::path git_dir;
};

class HubServer;

// An open GitRepo borrowed from the server's pool; returned to it when destroyed. Opening a
// repository costs dozens of file system calls (config discovery, refs, object database), more
// than a typical metadata request itself, so open repositories are reused.
class GitLease {
 public:
  GitLease(HubServer* hub, std::string key, std::unique_ptr<store::GitRepo> repo)
      : hub_(hub), key_(std::move(key)), repo_(std::move(repo)) {}
  GitLease(GitLease&&) = default;
  ~GitLease();
  store::GitRepo* operator->() const { return repo_.get(); }
  store::GitRepo& operator*() const { return *repo_; }

 private:
  HubServer* hub_;
  std::string key_;
  std::unique_ptr<store::GitRepo> repo_;
};

class HubServer {
 public:
  explicit HubServer(std::filesystem::path data_dir, XetFallback xet = XetFallback::kRegular);

  // Removes what a killed process left half-done (temp blobs, lock files, repo folders without a
  // record) and re-derives stale card metadata. Call before serving.
  void recover();
  Response handle(Request& req);

  store::MetadataStore& meta() { return *meta_; }
  store::BlobStore& blobs() { return blobs_; }
  const std::filesystem::path& data_dir() const { return data_dir_; }

  // ---- helpers shared by the routes ----
  Caller authenticate(const Request& req);
  // Finds (type, owner, name) and checks `access`; throws the exact §5.3 errors, or a 307 to
  // the new location of a moved repo (`rest` is the path after the repo id, kept in Location).
  RepoHandle require_repo(const Request& req, const Caller& caller, const std::string& type,
                          const std::string& owner, const std::string& name, Access access);
  // Whether the caller may write to repos of `owner_name` (the user itself, or an org member
  // with write/admin) with its token.
  bool can_write_namespace(const Caller& caller, const std::string& owner_name);
  bool can_read(const Caller& caller, const store::RepoRecord& repo);
  // Resolves a revision or throws 404 RevisionNotFound.
  std::string resolve_revision(const store::GitRepo& git, const std::string& revision);
  // Serialises commits to one repo (the ref compare-and-swap makes this an optimisation, not a
  // correctness requirement: it keeps concurrent commits from failing with 412 needlessly).
  std::shared_ptr<std::mutex> repo_lock(int64_t repo_id);
  // Re-derives card metadata, tags and lastModified from the default branch head.
  void reindex(store::RepoRecord& repo, const store::GitRepo& git);
  // "http://host:port" from the request's Host header (URLs we return must match HF_ENDPOINT).
  std::string base_url(const Request& req) const;
  std::string sign(const std::string& payload) const;  // HMAC-SHA256 hex with the server secret
  // An open repository from the pool (opened on a miss). Throws on a broken repository.
  GitLease git(const std::filesystem::path& git_dir);
  // Returns a lease's repository to the pool (called by ~GitLease).
  void give_back(const std::string& key, std::unique_ptr<store::GitRepo> repo);
  // Drops pooled repositories of a folder about to be deleted.
  void forget_git(const std::filesystem::path& git_dir);
  XetFallback xet_fallback() const { return xet_; }

 private:
  Response dispatch(Request& req);

  std::filesystem::path data_dir_;
  std::unique_ptr<store::MetadataStore> meta_;
  store::BlobStore blobs_;
  XetFallback xet_;
  std::string secret_;
  std::mutex pool_mu_;
  std::map<std::string, std::vector<std::unique_ptr<store::GitRepo>>> pool_;
  size_t pooled_ = 0;
  std::mutex locks_mu_;
  std::map<int64_t, std::shared_ptr<std::mutex>> locks_;
};

// The card metadata (cardData, tags, pipeline tag, library) of a repo at `commit`.
store::CardMetadata card_at(const store::GitRepo& git, const std::string& commit, const std::string& repo_type);

// The §5.3 answer for a missing or invisible repo: 401 without a token, 404 with one.
[[noreturn]] void throw_repo_not_found(const Caller& caller);

// ---- route groups (routes_*.cc) ------------------------------------------------------------

// A request aimed at one repo: /api/{type}s/{owner}/{name}/{action}/..., or the file routes
// /{prefix}{owner}/{name}/{resolve|raw}/{rev}/{path}. `rest` holds the still-encoded segments
// after the action.
struct RepoRoute {
  std::string type;    // "model", "dataset", "space"
  std::string owner, name;
  std::string action;  // "" (info), "revision", "tree", "resolve", ...
  std::vector<std::string> rest;
};

Response handle_file(HubServer& hub, Request& req, const Caller& caller, const RepoRoute& route);
Response handle_repo_info(HubServer& hub, Request& req, const Caller& caller, const RepoRoute& route);
Response handle_tree(HubServer& hub, Request& req, const Caller& caller, const RepoRoute& route);
Response handle_paths_info(HubServer& hub, Request& req, const Caller& caller, const RepoRoute& route);
Response handle_refs(HubServer& hub, Request& req, const Caller& caller, const RepoRoute& route);
Response handle_commits(HubServer& hub, Request& req, const Caller& caller, const RepoRoute& route);
Response handle_list(HubServer& hub, Request& req, const Caller& caller, const std::string& type);
Response handle_whoami(HubServer& hub, Request& req, const Caller& caller);
Response handle_create_repo(HubServer& hub, Request& req, const Caller& caller);
Response handle_delete_repo(HubServer& hub, Request& req, const Caller& caller);
Response handle_move_repo(HubServer& hub, Request& req, const Caller& caller);
Response handle_settings(HubServer& hub, Request& req, const Caller& caller, const RepoRoute& route);
Response handle_validate_yaml(HubServer& hub, Request& req);
Response handle_branch(HubServer& hub, Request& req, const Caller& caller, const RepoRoute& route);
Response handle_tag(HubServer& hub, Request& req, const Caller& caller, const RepoRoute& route);
Response handle_preupload(HubServer& hub, Request& req, const Caller& caller, const RepoRoute& route);
Response handle_commit(HubServer& hub, Request& req, const Caller& caller, const RepoRoute& route);
Response handle_lfs_batch(HubServer& hub, Request& req, const Caller& caller, const RepoRoute& route);
Response handle_lfs_verify(HubServer& hub, Request& req, const Caller& caller, const RepoRoute& route);
// PUT /lfs-upload/{repo id number}/{oid}?size=&exp=&sig= (self-signed, no auth header).
Response handle_lfs_upload(HubServer& hub, Request& req, const std::vector<std::string>& segments);
// git smart HTTP on the clone URL (routes_git.cc): whether the request is one (GET info/refs,
// POST git-upload-pack / git-receive-pack), and its handler, which authenticates by itself (its
// 401s carry a Basic challenge so git asks for credentials).
bool is_git_http_request(const Request& req, const std::vector<std::string>& segments);
Response handle_git_http(HubServer& hub, Request& req, const std::vector<std::string>& segments);

// ---- shared JSON and text helpers ----------------------------------------------------------

// "2024-01-31T12:00:00.000Z"
std::string iso_date(int64_t unix_seconds);
// Parses a JSON request body (limit 16 MB) or throws 400.
json parse_json_body(Request& req, size_t limit = 16u << 20);
// A JSON response.
Response json_response(int status, const json& body);
// Decodes standard base64 (padding and line breaks ignored); HttpError 400 on other characters.
std::string base64_decode(std::string_view in);
// The plural used in API paths: "models", "datasets", "spaces".
std::string plural(const std::string& type);
// The prefix of non-API URLs: "", "datasets/", "spaces/".
std::string url_prefix(const std::string& type);
// A 24-hex opaque id from a row id.
std::string opaque_id(int64_t id);
// The revision segment(s) at the start of `rest`: one percent-decoded segment, or the raw
// 3-segment forms refs/pr/N and refs/convert/x. `consumed` receives how many segments it took.
std::string take_revision(const std::vector<std::string>& rest, size_t* consumed);
// Joins and percent-decodes path segments with '/'.
std::string join_decoded(const std::vector<std::string>& segments, size_t from);
// A file entry in tree / paths-info shape (§3.3).
json tree_entry_json(const store::TreeEntry& entry);
// Validates a repo name part ([\w\-.]{1,96}, no "--" or "..", not ending in ".git").
bool valid_name_part(const std::string& s);
// The Link header value for the next page: the request URL with `cursor` replaced.
std::string next_link(HubServer& hub, const Request& req, size_t next_offset);
// Reads the `cursor` (offset) and `limit` query parameters.
size_t query_offset(const Request& req);
size_t query_limit(const Request& req, size_t default_limit, size_t max_limit);

// The default .gitattributes of a new repo (the Hub's list of binary/LFS patterns).
extern const char* const kDefaultGitattributes;

}  // namespace mlhub::hub
