// snapshot_download (revision -> commit, the paginated tree listing, pattern filtering, parallel
// hf_hub_download) and resolve_model (a folder or "org/name[@revision]").
#include <fstream>

#include <fmt/format.h>

#include "hub/internal.h"

namespace mlhub::hub {
namespace internal {
namespace fs = std::filesystem;

bool fnmatch(std::string_view name, std::string_view pattern) {
  size_t n = 0, p = 0;
  size_t star_p = std::string_view::npos, star_n = 0;
  // Matches one [seq] at pattern[p] against c; sets `end` past the ']'. A '[' without a closing
  // ']' is a literal, as in Python's translate().
  auto match_class = [&](size_t at, char c, size_t& end, bool& is_class) {
    size_t i = at + 1;
    bool negate = false;
    if (i < pattern.size() && pattern[i] == '!') {
      negate = true;
      ++i;
    }
    size_t j = i;
    if (j < pattern.size() && pattern[j] == ']') ++j;  // a leading ']' is literal
    while (j < pattern.size() && pattern[j] != ']') ++j;
    if (j >= pattern.size()) {
      is_class = false;
      return false;
    }
    is_class = true;
    end = j + 1;
    bool hit = false;
    for (size_t k = i; k < j; ++k) {
      if (k + 2 < j && pattern[k + 1] == '-') {
        if (pattern[k] <= c && c <= pattern[k + 2]) hit = true;
        k += 2;
      } else if (pattern[k] == c) {
        hit = true;
      }
    }
    return hit != negate;
  };
  while (n < name.size()) {
    if (p < pattern.size()) {
      const char pc = pattern[p];
      if (pc == '*') {
        star_p = p++;
        star_n = n;
        continue;
      }
      if (pc == '?') {
        ++p;
        ++n;
        continue;
      }
      if (pc == '[') {
        size_t end = 0;
        bool is_class = false;
        const bool hit = match_class(p, name[n], end, is_class);
        if (is_class) {
          if (hit) {
            p = end;
            ++n;
            continue;
          }
        } else if (name[n] == '[') {
          ++p;
          ++n;
          continue;
        }
      } else if (pc == name[n]) {
        ++p;
        ++n;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p + 1;
    n = ++star_n;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool path_selected(std::string_view path, const std::vector<std::string>& allow,
                   const std::vector<std::string>& ignore) {
  auto any = [&](const std::vector<std::string>& patterns) {
    for (const std::string& pat : patterns) {
      if (pat.empty()) continue;
      if (fnmatch(path, pat.back() == '/' ? pat + "*" : pat)) return true;
    }
    return false;
  };
  if (!allow.empty() && !any(allow)) return false;
  return ignore.empty() || !any(ignore);
}

bool model_file_wanted(std::string_view path, bool repo_has_safetensors) {
  auto ends_with = [&](std::string_view suffix) {
    return path.size() >= suffix.size() && path.substr(path.size() - suffix.size()) == suffix;
  };
  const size_t slash = path.find('/');
  if (slash != std::string_view::npos) {
    // sentence-transformers module folders ("1_Pooling/config.json", "2_Dense/…").
    const std::string_view folder = path.substr(0, slash);
    const bool module_folder = !folder.empty() && std::isdigit(static_cast<unsigned char>(folder[0])) &&
                               folder.find('_') != std::string_view::npos &&
                               path.find('/', slash + 1) == std::string_view::npos;
    return module_folder && (ends_with(".json") || ends_with(".safetensors") ||
                             (!repo_has_safetensors && ends_with(".bin")));
  }
  // .jinja: transformers 4.57 saves chat templates as chat_template.jinja.
  if (ends_with(".json") || ends_with(".txt") || ends_with(".model") || ends_with(".tiktoken") ||
      ends_with(".jinja")) {
    return true;
  }
  if (ends_with(".safetensors")) return true;
  if (!repo_has_safetensors && fnmatch(path, "pytorch_model*.bin")) return true;
  return false;
}

namespace {

bool has_top_level_safetensors(const std::vector<TreeEntry>& tree) {
  for (const TreeEntry& e : tree) {
    if (e.path.find('/') == std::string::npos && e.path.size() > 12 &&
        e.path.substr(e.path.size() - 12) == ".safetensors") {
      return true;
    }
  }
  return false;
}

Result<std::string> resolve_commit(const HubConfig& config, RepoType type,
                                   std::string_view repo_id, const std::string& revision) {
  HttpRequest req;
  req.url = config.endpoint + "/api/" + api_type(type) + "/" + std::string(repo_id) +
            "/revision/" + quote(revision);
  auto info = http_json(config, req,
                        std::string(repo_type_name(type)) + " " + std::string(repo_id) +
                            " at revision \"" + revision + "\"");
  if (!info.ok()) return info.status();
  if (!info->is_object() || !(*info).contains("sha") || !(*info)["sha"].is_string() ||
      !is_commit_hash((*info)["sha"].get<std::string>())) {
    return Status::io_error("the hub's answer to GET " + req.url + " has no 40-hex \"sha\"");
  }
  return (*info)["sha"].get<std::string>();
}

Result<std::vector<TreeEntry>> list_tree(const HubConfig& config, RepoType type,
                                         std::string_view repo_id, const std::string& commit) {
  std::vector<TreeEntry> entries;
  std::string url = config.endpoint + "/api/" + api_type(type) + "/" + std::string(repo_id) +
                    "/tree/" + quote(commit) + "?recursive=true&expand=false";
  const std::string what = std::string(repo_type_name(type)) + " " + std::string(repo_id);
  for (int page = 0; !url.empty(); ++page) {
    if (page > 100000) return Status::io_error("the tree listing of " + what + " does not end");
    HttpRequest req;
    req.url = url;
    HttpResponse r = http_send(config, req);
    if (r.status < 200 || r.status >= 300) return response_status(r, "GET", what);
    nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    if (!j.is_array()) return Status::io_error("GET " + url + " did not answer a JSON array");
    for (const auto& item : j) {
      if (!item.is_object() || item.value("type", "") != "file") continue;
      TreeEntry e;
      e.path = item.value("path", "");
      e.size = item.value("size", uint64_t{0});
      e.blob_id = item.value("oid", "");
      if (item.contains("lfs") && item["lfs"].is_object()) {
        e.lfs_sha256 = item["lfs"].value("oid", item["lfs"].value("sha256", ""));
        e.lfs_size = item["lfs"].value("size", e.size);
      }
      if (!e.path.empty()) entries.push_back(std::move(e));
    }
    std::string next = parse_link_next(r.header("link").value_or(""));
    if (!next.empty() && next.find("://") == std::string::npos) {
      next = url_origin(url) + (next.front() == '/' ? "" : "/") + next;
    }
    url = next;
  }
  return entries;
}

// The offline / unreachable-hub answer: refs/<revision> -> snapshots/<commit>, refused when the
// cached listing shows missing files.
Result<std::string> cached_snapshot(const HubConfig& config, const RepoCache& cache,
                                    std::string_view repo_id, const std::string& revision,
                                    const std::function<bool(const TreeEntry&, bool)>& select,
                                    const Status& why) {
  std::optional<std::string> commit =
      is_commit_hash(revision) ? std::optional<std::string>(revision) : cache.read_ref(revision);
  std::error_code ec;
  if (commit && fs::is_directory(cache.snapshot(*commit), ec)) {
    if (auto tree = read_tree_cache(cache, *commit)) {
      const bool safetensors = has_top_level_safetensors(*tree);
      for (const TreeEntry& e : *tree) {
        if (select(e, safetensors) && !fs::exists(cache.pointer(*commit, e.path), ec)) {
          return Status::not_found("the cached snapshot of " + std::string(repo_id) + " at \"" +
                                   revision + "\" is incomplete (\"" + e.path +
                                   "\" is missing) and the hub cannot be used: " + why.message());
        }
      }
    }
    return cache.snapshot(*commit).string();
  }
  if (config.offline) {
    return Status::not_found("offline mode is enabled (HF_HUB_OFFLINE) and no snapshot of " +
                             std::string(repo_id) + " at revision \"" + revision +
                             "\" is in the cache " + config.cache_dir);
  }
  return why;
}

Result<std::string> snapshot_impl(const HubConfig& config, std::string_view repo_id,
                                  const SnapshotOptions& options,
                                  const std::function<bool(const TreeEntry&, bool)>& select) {
  if (Status s = validate_repo_id(repo_id); !s.ok()) return s;
  const std::string revision = options.revision.empty() ? "main" : options.revision;
  const RepoCache cache(config.cache_dir, options.repo_type, repo_id);
  std::string commit = is_commit_hash(revision) ? revision : "";
  Status failure;
  if (config.offline) {
    failure = Status::io_error("offline mode is enabled");
  } else if (commit.empty()) {
    auto c = resolve_commit(config, options.repo_type, repo_id, revision);
    if (c.ok()) {
      commit = *c;
    } else {
      failure = c.status();
    }
  }
  std::optional<std::vector<TreeEntry>> tree;
  if (failure.ok()) {
    tree = read_tree_cache(cache, commit);
    if (!tree) {
      auto listed = list_tree(config, options.repo_type, repo_id, commit);
      if (!listed.ok()) {
        failure = listed.status();
      } else {
        tree = std::move(*listed);
        write_tree_cache(cache, commit, *tree);
      }
    }
  }
  if (!failure.ok()) {
    // Like huggingface_hub: only connection trouble, offline mode and HTTP errors other than
    // RevisionNotFound fall back to the cache; a repo the hub denies is re-raised when not cached.
    if (failure.message().rfind("revision not found", 0) == 0) return failure;
    return cached_snapshot(config, cache, repo_id, revision, select, failure);
  }
  const bool safetensors = has_top_level_safetensors(*tree);
  std::vector<const TreeEntry*> files;
  for (const TreeEntry& e : *tree) {
    if (select(e, safetensors)) files.push_back(&e);
  }
  std::error_code ec;
  fs::create_directories(cache.snapshot(commit), ec);
  cache.write_ref(revision, commit);
  DownloadOptions dl;
  dl.revision = commit;
  dl.repo_type = options.repo_type;
  dl.local_dir = options.local_dir;
  Status s = run_parallel(files.size(), options.max_workers == 0 ? 8 : options.max_workers,
                          [&](size_t i) -> Status {
                            return hf_hub_download(config, repo_id, files[i]->path, dl).status();
                          });
  if (!s.ok()) return s;
  if (options.local_dir) {
    // huggingface_hub keeps the listing of a local_dir download in its .cache/huggingface/.
    RepoCache local = cache;
    local.storage = fs::path(*options.local_dir) / ".cache" / "huggingface";
    write_tree_cache(local, commit, *tree);
    return fs::absolute(*options.local_dir).string();
  }
  return cache.snapshot(commit).string();
}

}  // namespace
}  // namespace internal

Result<std::string> snapshot_download(const HubConfig& config, std::string_view repo_id,
                                      const SnapshotOptions& options) {
  return internal::guarded([&]() -> Result<std::string> {
    return internal::snapshot_impl(
        config, repo_id, options, [&](const internal::TreeEntry& e, bool) {
          return internal::path_selected(e.path, options.allow_patterns, options.ignore_patterns);
        });
  });
}

Result<nlohmann::json> model_info(const HubConfig& config, std::string_view repo_id,
                                  std::string_view revision) {
  return internal::guarded([&]() -> Result<nlohmann::json> {
    if (Status s = internal::validate_repo_id(repo_id); !s.ok()) return s;
    if (config.offline) return Status::io_error("offline mode is enabled (HF_HUB_OFFLINE)");
    const std::string rev = revision.empty() ? "main" : std::string(revision);
    internal::HttpRequest req;
    req.url = config.endpoint + "/api/models/" + std::string(repo_id) + "/revision/" +
              internal::quote(rev);
    auto info = internal::http_json(config, req,
                                    "model " + std::string(repo_id) + " at revision \"" + rev + "\"");
    if (!info.ok()) return info.status();
    if (!info->is_object()) return Status::io_error("GET " + req.url + " did not answer a JSON object");
    return info;
  });
}

Result<std::string> resolve_model(const HubConfig& config, std::string_view spec) {
  return internal::guarded([&]() -> Result<std::string> {
    std::error_code ec;
    if (std::filesystem::is_directory(std::string(spec), ec)) return std::string(spec);
    std::string repo_id(spec);
    SnapshotOptions options;
    const size_t at = repo_id.find('@');
    if (at != std::string::npos) {
      options.revision = repo_id.substr(at + 1);
      repo_id.resize(at);
    }
    if (Status s = internal::validate_repo_id(repo_id); !s.ok()) {
      return Status::not_found(fmt::format(
          "\"{}\" is neither a model folder nor a hub model id (org/name[@revision])", spec));
    }
    auto folder = internal::snapshot_impl(
        config, repo_id, options, [](const internal::TreeEntry& e, bool has_safetensors) {
          return internal::model_file_wanted(e.path, has_safetensors);
        });
    if (folder.ok()) return folder;
    // Say both readings of `spec`: a missing local folder is the likelier typo.
    return Status(folder.status().code(),
                  fmt::format("no folder \"{}\", and as a hub model id: {}", spec,
                              folder.status().message()));
  });
}

}  // namespace mlhub::hub
