// Private pieces of the hub client, declared here so unit tests can reach the pure parts.
// Everything in this header throws nothing unless it says so.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mlhub/hub.h"

namespace mlhub::hub::internal {

// Runs `fn` (returning Result<T>) and turns an escaping exception into its Status: mlhub::Error
// keeps its code, filesystem errors become kIoError, anything else kInternal.
template <typename Fn>
auto guarded(Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Error& e) {
    return e.status();
  } catch (const std::filesystem::filesystem_error& e) {
    return Status::io_error(e.what());
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kOutOfRange, "out of memory");
  } catch (const std::exception& e) {
    return Status::internal(e.what());
  }
}

// ---- names and URLs (config.cc) ----------------------------------------------------------------

// huggingface_hub's truthy env values: 1/ON/YES/TRUE, case-insensitive.
bool is_truthy(std::string_view value);
// Removes CR/LF, trims blanks; nullopt when nothing is left.
std::optional<std::string> clean_token(std::string_view token);
// A leading "~" or "~/" becomes $HOME.
std::string expand_user(const std::string& path);
// Percent-encodes every byte except ASCII letters, digits, "_.-~" and the bytes in `safe`
// (Python urllib.parse.quote).
std::string quote(std::string_view s, std::string_view safe = "");
// True for the commit ids huggingface_hub takes as immutable: ^[0-9a-f]{40}$.
bool is_commit_hash(std::string_view s);
// kInvalidArgument unless `repo_id` is "name" or "namespace/name" with [A-Za-z0-9_.-] parts of at
// most 96 characters, no "--" or "..", not starting/ending with '-' or '.', not ending in ".git".
Status validate_repo_id(std::string_view repo_id);
// kInvalidArgument for an empty, absolute or ".."-containing repo path.
Status validate_repo_path(std::string_view path);
// "models--org--name" (datasets--…, spaces--…).
std::string repo_folder_name(RepoType type, std::string_view repo_id);
// "models" / "datasets" / "spaces": the {type} of /api/{type}/….
std::string api_type(RepoType type);
// "" / "datasets/" / "spaces/": the {prefix} of non-API URLs.
std::string url_prefix(RepoType type);
// {endpoint}/{prefix}{repo_id}/resolve/{quote(revision, "")}/{quote(filename, "/")}
std::string resolve_url(std::string_view endpoint, RepoType type, std::string_view repo_id,
                        std::string_view revision, std::string_view filename);
// "scheme://host[:port]" of a URL (lowercased scheme and host), "" when it has none.
std::string url_origin(std::string_view url);
// Standard base64 with padding.
std::string base64_encode(std::string_view data);

// ---- headers (http.cc) -----------------------------------------------------------------------

// ETag as huggingface_hub normalises it: a leading "W/" and surrounding quotes removed.
std::string normalize_etag(std::string_view etag);
// The URL of `rel="next"` in an RFC 8288 Link header, or "".
std::string parse_link_next(std::string_view link);
// The target of a relative redirect as Python's HEAD follows it: `url` with its path replaced by
// the Location's path (the Location's query dropped, the original query kept). nullopt when
// `location` has a host (an absolute redirect, not followed during HEAD).
std::optional<std::string> relative_redirect_target(std::string_view url,
                                                    std::string_view location);

// ---- patterns (snapshot.cc) -------------------------------------------------------------------

// Python fnmatch.fnmatchcase: '*' any run (including '/'), '?' one char, [seq], [!seq].
bool fnmatch(std::string_view name, std::string_view pattern);
// huggingface_hub's filter_repo_objects (a pattern ending in '/' gets a '*').
bool path_selected(std::string_view path, const std::vector<std::string>& allow,
                   const std::vector<std::string>& ignore);
// The files resolve_model downloads out of a repository listing.
bool model_file_wanted(std::string_view path, bool repo_has_safetensors);

// ---- cache layout (cache.cc) -------------------------------------------------------------------

// "../../blobs/<etag>" with one more "../" per '/' in `filename`: the target of the snapshot
// symlink, as os.path.relpath gives it.
std::string blob_link_target(std::string_view filename, std::string_view etag);

struct RepoCache {
  std::filesystem::path cache_dir;  // the cache root
  std::filesystem::path storage;    // <cache_dir>/models--org--name
  std::string folder_name;          // models--org--name

  RepoCache(const std::string& cache_dir, RepoType type, std::string_view repo_id);
  std::filesystem::path blob(std::string_view etag) const;
  std::filesystem::path pointer(std::string_view commit, std::string_view filename) const;
  std::filesystem::path no_exist(std::string_view commit, std::string_view filename) const;
  std::filesystem::path lock(std::string_view etag) const;
  std::filesystem::path snapshot(std::string_view commit) const;
  std::filesystem::path tree_cache(std::string_view commit) const;
  std::filesystem::path ref(std::string_view revision) const;
  // The commit refs/<revision> names, if that file exists.
  std::optional<std::string> read_ref(std::string_view revision) const;
  // Writes refs/<revision> (atomically, no newline) unless revision == commit or it is current.
  void write_ref(std::string_view revision, std::string_view commit) const;
  // Writes CACHEDIR.TAG in the cache root when missing (the content huggingface_hub writes).
  void tag_cache_dir() const;
  // Replaces `pointer` with a relative symlink to blobs/<etag>. Throws Error on failure.
  void link_pointer(std::string_view commit, std::string_view filename,
                    std::string_view etag) const;
};

// One entry of a tree listing (GET /api/{type}/{id}/tree/…, files only).
struct TreeEntry {
  std::string path;
  uint64_t size = 0;
  std::string blob_id;                // git blob sha1 ("oid")
  std::optional<std::string> lfs_sha256;
  std::optional<uint64_t> lfs_size;
};
// trees/<commit>.json, format_version 1, as huggingface_hub >= 1.22 reads and writes it.
std::optional<std::vector<TreeEntry>> read_tree_cache(const RepoCache& repo, std::string_view commit);
void write_tree_cache(const RepoCache& repo, std::string_view commit,
                      const std::vector<TreeEntry>& entries);

// An exclusive flock(2) on a lock file (created with its folders), held for the object's life,
// as Python's filelock takes it. Throws Error when the file cannot be opened.
class FileLock {
 public:
  explicit FileLock(const std::filesystem::path& path);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

// ---- HTTP (http.cc) ----------------------------------------------------------------------------

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;                  // request body (POST)
  std::filesystem::path body_file;   // PUT streams this file instead, when set
  bool follow_redirects = true;
  bool no_auth = false;              // never send the token (pre-signed LFS hrefs)
  // Receives the body of a 2xx response in chunks; returns false to abort. Other responses are
  // kept in HttpResponse::body.
  std::function<bool(long status, const char* data, size_t size)> on_data;
  // Bytes received (download) or sent (upload) so far, and the total when known (else 0).
  std::function<void(uint64_t done, uint64_t total)> on_progress;
};

struct HttpResponse {
  long status = 0;          // 0: the request did not complete (see `error`)
  std::string error;        // libcurl's message when status == 0
  std::vector<std::pair<std::string, std::string>> headers;  // final response; lowercase names
  std::string body;
  std::string url;          // the URL that answered
  std::optional<std::string> header(std::string_view lowercase_name) const;
};

// libcurl, one easy handle per request. Adds User-Agent, and the bearer token of `config` when the
// URL is on the endpoint's origin (never on a redirect to another host).
HttpResponse http_send(const HubConfig& config, const HttpRequest& request);

// Turns a failed response into a one-line Status as huggingface_hub classifies it (X-Error-Code
// RepoNotFound / RevisionNotFound / EntryNotFound / GatedRepo, 401 "Invalid credentials in
// Authorization header", 403, …). `what` names the object, e.g. "model org/name".
Status response_status(const HttpResponse& response, std::string_view method,
                       std::string_view what);
// The X-Error-Code of a response, or "".
std::string error_code(const HttpResponse& response);

// GET/POST JSON helpers: the parsed body of a 2xx response, or the mapped Status.
Result<nlohmann::json> http_json(const HubConfig& config, const HttpRequest& request,
                                 std::string_view what);

// ---- progress (progress.cc) -----------------------------------------------------------------

// One line "name  12.3MB / 45.6MB  3.2MB/s" redrawn with '\r' at most 10 times a second; drawn only
// when enabled and stderr is a TTY. Thread-safe (one bar is drawn at a time per line).
class ProgressBar {
 public:
  ProgressBar(bool enabled, std::string name, uint64_t total, uint64_t initial = 0);
  ~ProgressBar();  // finishes the line
  void update(uint64_t done);

 private:
  void draw(bool final_line);
  bool enabled_;
  std::string name_;
  uint64_t total_, initial_, done_ = 0;
  int64_t start_ms_, last_ms_ = 0;
};

// Human-readable byte count "12.3MB".
std::string format_bytes(double bytes);

// ---- download internals (download.cc) -------------------------------------------------------

// What HEAD /resolve/ says about a file.
struct FileMetadata {
  std::string commit;
  std::string etag;
  uint64_t size = 0;
  std::string location;  // where to GET
};

// Downloads `url` into `incomplete`, resuming with Range from its current size (206 appends,
// 200 restarts, 416 restarts without Range). Verifies size and, for a 64-hex / 40-hex etag,
// sha256 / git blob sha1. Throws Error on failure.
void download_to_incomplete(const HubConfig& config, const std::string& url,
                            const std::filesystem::path& incomplete, const std::string& etag,
                            uint64_t expected_size, const std::string& display_name);

// Records a file copied into `local_dir` as huggingface_hub's local_dir downloads do:
// <local_dir>/.cache/huggingface/download/<filename>.metadata = "commit\netag\ntimestamp\n"
// (plus that folder's .gitignore "*" and CACHEDIR.TAG), so Python sees it as up to date.
void write_local_dir_metadata(const std::filesystem::path& local_dir, std::string_view filename,
                              std::string_view commit, std::string_view etag);

// Applies `fn` to the items [0, n) on up to `workers` threads; returns the first failure.
Status run_parallel(size_t n, size_t workers, const std::function<Status(size_t)>& fn);

}  // namespace mlhub::hub::internal
