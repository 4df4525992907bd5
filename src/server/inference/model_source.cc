// Where the inference server's models come from: this hub's own store (local_hub_source), or
// another hub through the hub client (remote_hub_source). Both check that the caller may read the
// repo, resolve the revision to a commit, read the card's pipeline tag and library, and give the
// model loaders a folder with what a model needs (or one .gguf file).
#include <signal.h>
#include <unistd.h>

#include <cstdlib>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <random>

#include <fmt/format.h>

#include "server/hub/hub_server.h"
#include "server/inference/engine.h"

namespace mlhub::inference {
namespace {

namespace fs = std::filesystem;

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool is_weight_file(std::string_view path) {
  return ends_with(path, ".safetensors") || ends_with(path, ".bin") || ends_with(path, ".gguf");
}

// What a model repo's files reduce to for serving.
struct Selection {
  std::vector<std::string> files;
  bool is_gguf = false;
  std::string gguf;  // the file, when is_gguf
};

// Leaves out what our loaders never read: other frameworks' weights (ONNX, TensorFlow, Flax,
// OpenVINO-style folders), and torch .bin weights when safetensors exist. A repo without
// config.json but with .gguf files serves its first .gguf (by name).
Selection select_files(std::vector<std::string> paths) {
  std::sort(paths.begin(), paths.end());
  Selection sel;
  const bool has_config = std::find(paths.begin(), paths.end(), "config.json") != paths.end();
  if (!has_config) {
    for (const std::string& p : paths) {
      if (ends_with(p, ".gguf")) {
        sel.is_gguf = true;
        sel.gguf = p;
        sel.files = {p};
        return sel;
      }
    }
  }
  const bool has_safetensors = std::any_of(paths.begin(), paths.end(), [](const std::string& p) {
    return ends_with(p, ".safetensors");
  });
  for (const std::string& p : paths) {
    const std::string name = p.substr(p.rfind('/') == std::string::npos ? 0 : p.rfind('/') + 1);
    if (ends_with(p, ".onnx") || starts_with(p, "onnx/") || ends_with(p, ".h5") ||
        ends_with(p, ".msgpack") || starts_with(name, "tf_model") || starts_with(name, "flax") ||
        ends_with(p, ".gguf") || starts_with(p, ".git")) {
      continue;
    }
    if (has_safetensors && starts_with(name, "pytorch_model") && ends_with(name, ".bin")) continue;
    sel.files.push_back(p);
  }
  return sel;
}

void require_loadable(const std::string& repo_id, const std::vector<std::string>& paths) {
  const bool config = std::find(paths.begin(), paths.end(), "config.json") != paths.end();
  const bool gguf = std::any_of(paths.begin(), paths.end(),
                                [](const std::string& p) { return ends_with(p, ".gguf"); });
  if (!config && !gguf) {
    throw InferenceError(ErrorKind::kUnsupported,
                         fmt::format("Model {} holds no loadable model (no config.json and no "
                                     ".gguf file)",
                                     repo_id));
  }
}

std::string random_suffix() {
  static std::atomic<uint64_t> counter{0};
  return fmt::format("{}-{}-{:x}", ::getpid(), counter++, std::random_device{}());
}

// ---- this hub --------------------------------------------------------------------------------

class LocalHubSource final : public ModelSource {
 public:
  explicit LocalHubSource(hub::HubServer& hub) : hub_(hub) { remove_stale_temp_folders(); }

  ModelInfo resolve(const std::string& repo_id, const std::string& revision,
                    const std::string& token) override {
    try {
      return resolve_checked(repo_id, revision, token);
    } catch (const InferenceError&) {
      throw;
    } catch (const std::exception& e) {
      // A broken repository or a full disk: the server's fault, not the caller's.
      log(LogLevel::kError, fmt::format("inference: resolving {}: {}", repo_id, e.what()));
      throw InferenceError(ErrorKind::kGeneration,
                           fmt::format("Model {} could not be prepared: {}", repo_id, e.what()));
    }
  }

 private:
  ModelInfo resolve_checked(const std::string& repo_id, const std::string& revision,
                            const std::string& token) {
    const size_t slash = repo_id.find('/');
    if (slash == std::string::npos || repo_id.find('/', slash + 1) != std::string::npos) {
      throw InferenceError(ErrorKind::kNotFound, fmt::format("Model {} does not exist", repo_id));
    }
    const std::string owner = repo_id.substr(0, slash), name = repo_id.substr(slash + 1);
    auto record = hub_.meta().find_repo("model", owner, name);
    if (!record) {
      // A renamed repo keeps answering under its old id, as the hub's file routes do.
      if (auto moved = hub_.meta().redirect_of("model", owner, name)) {
        const size_t s = moved->find('/');
        if (s != std::string::npos) record = hub_.meta().find_repo("model", moved->substr(0, s), moved->substr(s + 1));
      }
    }
    const hub::Caller caller = authenticate(token);
    // Private repos the caller cannot read look exactly like missing ones (the hub's §5.3 rule).
    if (!record || !hub_.can_read(caller, *record)) {
      throw InferenceError(ErrorKind::kNotFound, fmt::format("Model {} does not exist", repo_id));
    }
    if (record->disabled) throw InferenceError(ErrorKind::kForbidden, "Access to this resource is disabled.");
    check_gate(caller, *record);
    const fs::path git_dir = hub_.data_dir() / record->storage;
    hub::GitLease git = hub_.git(git_dir);
    const std::string rev = revision.empty() ? "HEAD" : revision;
    auto commit = git->resolve(rev);
    if (!commit.ok()) {
      throw InferenceError(ErrorKind::kNotFound,
                           fmt::format("Revision {} of model {} does not exist", rev, repo_id));
    }
    const std::string key = fmt::format("{}@{}", record->id, *commit);
    ModelInfo info;
    {
      std::lock_guard lock(mu_);
      auto it = cache_.find(key);
      if (it != cache_.end()) info = it->second;
    }
    if (info.commit.empty()) {
      info = materialise(*git, *record, *commit);
      std::lock_guard lock(mu_);
      cache_[key] = info;
    }
    // What may change without a new commit.
    info.repo_id = record->repo_id();
    info.is_private = record->is_private;
    auto account = hub_.meta().find_account(record->owner);
    info.owner_id = account ? account->id : 0;
    return info;
  }

  // Folders a killed process was writing ("{pid}-..."): removed unless that process still runs.
  void remove_stale_temp_folders() {
    std::error_code ec;
    const fs::path tmp = hub_.data_dir() / "inference" / ".tmp";
    if (!fs::is_directory(tmp, ec)) return;
    for (const auto& entry : fs::directory_iterator(tmp, ec)) {
      const std::string name = entry.path().filename().string();
      const long pid = std::strtol(name.c_str(), nullptr, 10);
      if (pid > 0 && pid != ::getpid() && ::kill(static_cast<pid_t>(pid), 0) == 0) continue;
      if (pid == ::getpid()) continue;
      fs::remove_all(entry.path(), ec);
    }
  }

  hub::Caller authenticate(const std::string& token) {
    hub::Caller caller;
    if (token.empty()) return caller;
    auto found = hub_.meta().authenticate(token);
    if (!found) throw InferenceError(ErrorKind::kUnauthorized, "Invalid credentials in Authorization header");
    caller.user = found->first;
    caller.role = found->second.role;
    caller.token_name = found->second.name;
    return caller;
  }

  // Gated repos: running a model reads its files, so the hub's content rule applies.
  void check_gate(const hub::Caller& caller, const store::RepoRecord& record) {
    if (record.gated.empty()) return;
    const std::string what = "Access to model " + record.repo_id() + " is restricted";
    if (!caller.authenticated()) {
      throw InferenceError(ErrorKind::kUnauthorized,
                           what + ". You must have access to it and be authenticated to access it.");
    }
    if (record.gated != "manual" || caller.user->name == record.owner) return;
    auto org = hub_.meta().find_account(record.owner);
    if (org && org->is_org && hub_.meta().member_role(org->id, caller.user->id)) return;
    throw InferenceError(ErrorKind::kForbidden, what + " and you are not in the authorized list.");
  }

  ModelInfo materialise(const store::GitRepo& git, const store::RepoRecord& record,
                        const std::string& commit) {
    auto tree = git.list_tree(commit, "", true);
    if (!tree.ok()) throw InferenceError(ErrorKind::kGeneration, tree.status().message());
    std::map<std::string, store::TreeEntry> entries;
    std::vector<std::string> paths;
    for (store::TreeEntry& e : *tree) {
      if (e.is_dir || !store::validate_repo_path(e.path).ok()) continue;
      paths.push_back(e.path);
      entries.emplace(e.path, std::move(e));
    }
    require_loadable(record.repo_id(), paths);
    const Selection sel = select_files(paths);

    ModelInfo info;
    info.repo_id = record.repo_id();
    info.commit = commit;
    const store::CardMetadata card = hub::card_at(git, commit, "model");
    info.pipeline_tag = card.pipeline_tag;
    info.library_name = card.library_name;
    info.tags = card.tags;
    info.is_gguf = sel.is_gguf;
    for (const std::string& p : sel.files) {
      const store::TreeEntry& e = entries.at(p);
      if (is_weight_file(p)) info.weight_bytes += e.lfs ? e.lfs->size : e.size;
    }

    const fs::path dir = hub_.data_dir() / "inference" / record.owner / record.name / commit;
    info.path = sel.is_gguf ? dir / sel.gguf : dir;
    std::lock_guard lock(write_mu_);  // one writer per process; the rename makes it atomic
    std::error_code ec;
    if (fs::is_directory(dir, ec)) return info;  // done before (this process or an earlier one)
    const fs::path tmp = hub_.data_dir() / "inference" / ".tmp" / random_suffix();
    fs::create_directories(tmp);
    try {
      for (const std::string& p : sel.files) write_file(git, entries.at(p), tmp / p);
      fs::create_directories(dir.parent_path());
      fs::rename(tmp, dir);
    } catch (...) {
      fs::remove_all(tmp, ec);
      throw;
    }
    return info;
  }

  // LFS files are hard links to the blob store's object (a copy when the link fails, e.g.
  // across file systems); regular files are streamed out of git.
  void write_file(const store::GitRepo& git, const store::TreeEntry& e, const fs::path& to) {
    fs::create_directories(to.parent_path());
    if (e.lfs) {
      auto blob = hub_.blobs().path_of(e.lfs->oid);
      if (!blob.ok()) {
        throw InferenceError(ErrorKind::kGeneration,
                             fmt::format("the LFS object of {} ({}) is missing from the blob store",
                                         e.path, e.lfs->oid));
      }
      std::error_code ec;
      fs::create_hard_link(*blob, to, ec);
      if (ec) fs::copy_file(*blob, to, fs::copy_options::overwrite_existing);
      return;
    }
    std::ofstream out(to, std::ios::binary);
    Status s = git.read_blob(e.oid, 0, UINT64_MAX, [&](const char* data, size_t n) {
      out.write(data, static_cast<std::streamsize>(n));
      return static_cast<bool>(out);
    });
    out.close();
    if (!s.ok() || !out) {
      throw InferenceError(ErrorKind::kGeneration,
                           fmt::format("cannot write {}: {}", to.string(),
                                       s.ok() ? std::string("write failed") : s.message()));
    }
  }

  hub::HubServer& hub_;
  std::mutex mu_;
  std::map<std::string, ModelInfo> cache_;  // "{repo row id}@{commit}" -> resolved files
  std::mutex write_mu_;
};

// ---- another hub -----------------------------------------------------------------------------

InferenceError remote_error(const std::string& repo_id, const Status& s) {
  switch (s.code()) {
    case StatusCode::kNotFound:
      return InferenceError(ErrorKind::kNotFound, s.message());
    case StatusCode::kPermissionDenied:
      // Private repos of others, gated repos and bad tokens: the hub said no.
      return InferenceError(ErrorKind::kNotFound,
                            fmt::format("Model {} is not accessible: {}", repo_id, s.message()));
    case StatusCode::kInvalidArgument:
      return InferenceError(ErrorKind::kNotFound, s.message());
    default:
      return InferenceError(ErrorKind::kUnavailable,
                            fmt::format("The hub could not be reached for model {}: {}", repo_id,
                                        s.message()),
                            5);
  }
}

// fnmatch's special characters in a literal file name, escaped as one-character sets.
std::string literal_pattern(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c == '*' || c == '?' || c == '[') {
      out += '[';
      out += c;
      out += ']';
    } else {
      out += c;
    }
  }
  return out;
}

class RemoteHubSource final : public ModelSource {
 public:
  explicit RemoteHubSource(hub::HubConfig config) : config_(std::move(config)) {}

  ModelInfo resolve(const std::string& repo_id, const std::string& revision,
                    const std::string& token) override {
    // The caller's token, never the server's own: a private model must stay private.
    hub::HubConfig config = config_;
    config.progress = false;
    if (token.empty()) {
      config.token.reset();
    } else {
      config.token = token;
    }
    auto meta = hub::model_info(config, repo_id, revision.empty() ? "main" : revision);
    if (!meta.ok()) throw remote_error(repo_id, meta.status());
    const json& m = *meta;
    const std::string commit = m.value("sha", "");
    if (commit.size() != 40) {
      throw InferenceError(ErrorKind::kUnavailable,
                           fmt::format("the hub's model info for {} has no commit sha", repo_id), 5);
    }
    std::vector<std::string> paths;
    if (m.contains("siblings") && m["siblings"].is_array()) {
      for (const json& s : m["siblings"]) {
        if (s.is_object() && s.contains("rfilename") && s["rfilename"].is_string()) {
          paths.push_back(s["rfilename"]);
        }
      }
    }
    const std::string key = repo_id + "@" + commit;
    ModelInfo info;
    {
      std::lock_guard lock(mu_);
      auto it = cache_.find(key);
      if (it != cache_.end()) info = it->second;
    }
    if (info.commit.empty()) {
      require_loadable(repo_id, paths);
      info = download(config, repo_id, commit, select_files(paths));
      std::lock_guard lock(mu_);
      cache_[key] = info;
    }
    info.pipeline_tag = m.value("pipeline_tag", "");
    info.library_name = m.value("library_name", "");
    info.tags.clear();
    if (m.contains("tags") && m["tags"].is_array()) {
      for (const json& t : m["tags"]) {
        if (t.is_string()) info.tags.push_back(t);
      }
    }
    info.is_private = m.value("private", false);
    return info;
  }

 private:
  ModelInfo download(const hub::HubConfig& config, const std::string& repo_id,
                     const std::string& commit, const Selection& sel) {
    hub::SnapshotOptions opts;
    opts.revision = commit;
    for (const std::string& f : sel.files) opts.allow_patterns.push_back(literal_pattern(f));
    auto folder = hub::snapshot_download(config, repo_id, opts);
    if (!folder.ok()) throw remote_error(repo_id, folder.status());
    ModelInfo info;
    info.repo_id = repo_id;
    info.commit = commit;
    info.is_gguf = sel.is_gguf;
    info.path = sel.is_gguf ? fs::path(*folder) / sel.gguf : fs::path(*folder);
    for (const std::string& f : sel.files) {
      std::error_code ec;
      // Snapshot files are symlinks into blobs/: file_size follows them.
      if (is_weight_file(f)) {
        const uintmax_t n = fs::file_size(fs::path(*folder) / f, ec);
        if (!ec) info.weight_bytes += n;
      }
    }
    return info;
  }

  hub::HubConfig config_;
  std::mutex mu_;
  std::map<std::string, ModelInfo> cache_;  // "{repo}@{commit}" -> the snapshot
};

}  // namespace

std::unique_ptr<ModelSource> local_hub_source(hub::HubServer& hub) {
  return std::make_unique<LocalHubSource>(hub);
}

std::unique_ptr<ModelSource> remote_hub_source(const hub::HubConfig& config) {
  return std::make_unique<RemoteHubSource>(config);
}

}  // namespace mlhub::inference
