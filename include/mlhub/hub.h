// mlhub hub client: download from and upload to any Hugging Face compatible hub (ours, or one with
// huggingface.co's API shape), sharing the cache layout of Python `huggingface_hub`.
//
// Cache layout (identical to huggingface_hub, so either client can fill it for the other):
//   <cache_dir>/CACHEDIR.TAG
//   <cache_dir>/.locks/models--org--name/<etag>.lock          flock(2) while a blob is written
//   <cache_dir>/models--org--name/blobs/<etag>                 sha1 (regular) or sha256 (LFS)
//   <cache_dir>/models--org--name/snapshots/<commit>/<path>    relative symlink ../../blobs/<etag>
//   <cache_dir>/models--org--name/refs/<revision>              the commit, no newline
//   <cache_dir>/models--org--name/.no_exist/<commit>/<path>    empty marker of a 404 EntryNotFound
//   <cache_dir>/models--org--name/trees/<commit>.json          the recursive listing (snapshots)
// See docs/hub_client.md for what is (and is not yet) compatible.
//
// Errors: every function returns Status/Result; no exception crosses this API. Codes:
// kNotFound (repository, revision, file, or not cached while offline), kPermissionDenied (bad
// token, gated repo, 403), kIoError (network or filesystem), kCorruption (a download whose size
// or hash does not match the hub's), kInvalidArgument (a bad repo id, path or option).
// Messages are one line, meant to be shown to a user as they are.
//
// Thread-safety: all functions may be called concurrently (each transfer uses its own libcurl
// handle); concurrent downloads of one blob, by mlhub or by Python, serialise on the lock file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlhub/core.h"

namespace mlhub::hub {

enum class RepoType : uint8_t { kModel, kDataset, kSpace };

// "model", "dataset", "space".
std::string_view repo_type_name(RepoType type);
// Parses "model"/"dataset"/"space" (also the plurals); kInvalidArgument otherwise.
Result<RepoType> parse_repo_type(std::string_view name);

// Where the hub is, who we are and where the cache lives.
struct HubConfig {
  std::string endpoint = "https://huggingface.co";  // no trailing '/'
  std::optional<std::string> token;                 // sent as "Authorization: Bearer" to endpoint
  std::string hf_home;                              // ~/.cache/huggingface
  std::string token_path;                           // $HF_HOME/token
  std::string cache_dir;                            // $HF_HOME/hub
  bool offline = false;                             // no network at all: answer from the cache
  bool progress = true;  // progress bars on stderr (only drawn when stderr is a TTY)

  // Reads the environment exactly as huggingface_hub does:
  //   HF_ENDPOINT (trailing '/' stripped; default https://huggingface.co);
  //   HF_HOME (default $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface; '~' expanded);
  //   HF_HUB_CACHE, else HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub;
  //   HF_TOKEN, else HUGGING_FACE_HUB_TOKEN, else the file HF_TOKEN_PATH (default $HF_HOME/token)
  //     (CR/LF removed, blanks trimmed, empty means none);
  //   HF_HUB_OFFLINE, else TRANSFORMERS_OFFLINE: 1/ON/YES/TRUE (any case) means offline.
  static HubConfig from_env();
};

// ---- download --------------------------------------------------------------------------------

struct DownloadOptions {
  std::string revision = "main";  // branch, tag, or commit (40 hex)
  RepoType repo_type = RepoType::kModel;
  // When set, the file is also copied to <local_dir>/<filename> and that path is returned.
  std::optional<std::string> local_dir;
  bool force = false;  // download again even if cached
};

// Downloads one file into the cache (HEAD /resolve/, then GET with resume of a leftover
// `<etag>.incomplete` through Range) and returns its path in snapshots/<commit>/ (a symlink into
// blobs/). When the hub is unreachable, or in offline mode, answers from the cache through
// refs/<revision> (or the commit itself). Size and hash (sha256 for a 64-hex etag, git blob sha1
// for a 40-hex one) are checked before the blob is published.
Result<std::string> hf_hub_download(const HubConfig& config, std::string_view repo_id,
                                    std::string_view filename, const DownloadOptions& options = {});

struct SnapshotOptions {
  std::string revision = "main";
  RepoType repo_type = RepoType::kModel;
  // fnmatch patterns as huggingface_hub applies them: '*' also matches '/', and a pattern ending
  // in '/' means "pattern*". A file is kept when it matches an allow pattern (or there are none)
  // and no ignore pattern.
  std::vector<std::string> allow_patterns;
  std::vector<std::string> ignore_patterns;
  size_t max_workers = 8;
  std::optional<std::string> local_dir;  // also copy the files there and return it
};

// Downloads a whole repository (or the files the patterns select) at one commit and returns the
// snapshot folder. Offline, or when the hub is unreachable, returns the cached snapshot of
// refs/<revision> if the cached tree listing (trees/<commit>.json) says nothing is missing.
Result<std::string> snapshot_download(const HubConfig& config, std::string_view repo_id,
                                      const SnapshotOptions& options = {});

// `spec` is a local folder (returned as is when it exists) or a hub model id
// "org/name[@revision]". For an id, downloads what a model needs to run (config and tokenizer
// files, *.safetensors or else pytorch_model*.bin with their index, sentence-transformers
// module folders) and returns the snapshot folder.
Result<std::string> resolve_model(const HubConfig& config, std::string_view spec);

// GET {endpoint}/api/models/{repo_id}/revision/{revision} (huggingface_hub's model_info): the
// hub's JSON answer as is: "sha" (the commit), "pipeline_tag", "library_name", "tags",
// "private", "siblings" [{"rfilename"}], "cardData", ... Errors as snapshot_download's (no cache
// fallback: the answer depends on the token).
Result<nlohmann::json> model_info(const HubConfig& config, std::string_view repo_id,
                                  std::string_view revision = "main");

// ---- upload ----------------------------------------------------------------------------------

struct CreateRepoOptions {
  RepoType repo_type = RepoType::kModel;
  bool is_private = false;
  bool exist_ok = false;
};

// POST /api/repos/create. Returns the repository URL. With exist_ok an existing repository is
// not an error (kAlreadyExists otherwise).
Result<std::string> create_repo(const HubConfig& config, std::string_view repo_id,
                                const CreateRepoOptions& options = {});

struct UploadOptions {
  RepoType repo_type = RepoType::kModel;
  std::string revision = "main";  // a branch
  std::string commit_message;     // default "Upload <path> with mlhub" / "Upload folder ..."
  std::string commit_description;
};

struct CommitInfo {
  std::string commit_oid;  // the new commit, or the unchanged head when nothing changed
  std::string commit_url;  // empty when nothing changed
  size_t num_files = 0;    // files that went into the commit (unchanged files are skipped)
};

// Uploads one local file as `path_in_repo`: preupload, LFS batch + PUT for "lfs" files, then one
// NDJSON commit. A file whose content is already there is skipped (no commit when nothing
// changed).
Result<CommitInfo> upload_file(const HubConfig& config, std::string_view repo_id,
                               const std::string& local_path, std::string_view path_in_repo,
                               const UploadOptions& options = {});

// Uploads every file under `folder` (except .git/ and .cache/huggingface/) below
// `path_in_repo` ("" = repository root) in one commit.
Result<CommitInfo> upload_folder(const HubConfig& config, std::string_view repo_id,
                                 const std::string& folder, std::string_view path_in_repo = "",
                                 const UploadOptions& options = {});

// ---- auth ------------------------------------------------------------------------------------

struct WhoAmI {
  std::string name;
  std::vector<std::string> orgs;
  std::string token_name;  // auth.accessToken.displayName, if sent
  std::string token_role;  // auth.accessToken.role, if sent
  nlohmann::json raw;      // the whole answer
};

// GET /api/whoami-v2 with `token` (or config.token when empty). kPermissionDenied for a token
// the hub rejects, kInvalidArgument when there is no token at all.
Result<WhoAmI> whoami(const HubConfig& config, std::string_view token = {});

// Stores `token` as huggingface_hub's login does: config.token_path (mode 0600, no newline) and
// the INI file `stored_tokens` next to it, section [token_name] with hf_token = <token>.
Status save_token(const HubConfig& config, std::string_view token, std::string_view token_name);

}  // namespace mlhub::hub
