// The huggingface_hub cache layout: paths, refs, snapshot symlinks, CACHEDIR.TAG, the tree
// listing cache and the blob lock files.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "hub/internal.h"

namespace mlhub::hub::internal {
namespace fs = std::filesystem;

namespace {

// The content huggingface_hub (>= 1.x) writes into CACHEDIR.TAG (the signature is the standard's).
constexpr const char* kCacheDirTag =
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by huggingface_hub.\n"
    "# For information about cache directory tags, see:\n"
    "#\thttps://bford.info/cachedir/\n";

std::string random_suffix() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  static const char* kHex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 8; ++i) s += kHex[rng() & 15];
  return s;
}

// Writes `content` to `path` through a temporary file and a rename, so readers never see a
// partial file.
void write_atomically(const fs::path& path, std::string_view content) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  const fs::path tmp = path.string() + "." + random_suffix() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out) throw Error(StatusCode::kIoError, "cannot write " + tmp.string());
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw Error(StatusCode::kIoError, "cannot write " + path.string());
  }
}

}  // namespace

std::string blob_link_target(std::string_view filename, std::string_view etag) {
  std::string target = "../../";
  for (char ch : filename) {
    if (ch == '/') target += "../";
  }
  return target + "blobs/" + std::string(etag);
}

RepoCache::RepoCache(const std::string& cache, RepoType type, std::string_view repo_id)
    : cache_dir(cache), folder_name(repo_folder_name(type, repo_id)) {
  storage = cache_dir / folder_name;
}

fs::path RepoCache::blob(std::string_view etag) const { return storage / "blobs" / etag; }

fs::path RepoCache::pointer(std::string_view commit, std::string_view filename) const {
  return storage / "snapshots" / commit / filename;
}

fs::path RepoCache::no_exist(std::string_view commit, std::string_view filename) const {
  return storage / ".no_exist" / commit / filename;
}

fs::path RepoCache::lock(std::string_view etag) const {
  return cache_dir / ".locks" / folder_name / (std::string(etag) + ".lock");
}

fs::path RepoCache::snapshot(std::string_view commit) const {
  return storage / "snapshots" / commit;
}

fs::path RepoCache::tree_cache(std::string_view commit) const {
  return storage / "trees" / (std::string(commit) + ".json");
}

fs::path RepoCache::ref(std::string_view revision) const { return storage / "refs" / revision; }

std::optional<std::string> RepoCache::read_ref(std::string_view revision) const {
  std::ifstream in(ref(revision), std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void RepoCache::write_ref(std::string_view revision, std::string_view commit) const {
  if (revision == commit) return;
  if (read_ref(revision) == std::string(commit)) return;
  write_atomically(ref(revision), commit);
}

void RepoCache::tag_cache_dir() const {
  const fs::path tag = cache_dir / "CACHEDIR.TAG";
  std::error_code ec;
  if (fs::exists(tag, ec)) return;
  fs::create_directories(cache_dir, ec);
  std::ofstream out(tag, std::ios::binary);
  out << kCacheDirTag;  // best effort, as in huggingface_hub
}

void RepoCache::link_pointer(std::string_view commit, std::string_view filename,
                             std::string_view etag) const {
  const fs::path p = pointer(commit, filename);
  std::error_code ec;
  fs::create_directories(p.parent_path(), ec);
  fs::remove(p, ec);
  const std::string target = blob_link_target(filename, etag);
  if (::symlink(target.c_str(), p.c_str()) == 0) return;
  const int err = errno;
  // A concurrent download created the same link between remove and symlink: fine.
  if (err == EEXIST && fs::is_symlink(p, ec) && fs::read_symlink(p, ec).string() == target) return;
  throw Error(StatusCode::kIoError,
              "cannot create the symlink " + p.string() + ": " + std::strerror(err));
}

std::optional<std::vector<TreeEntry>> read_tree_cache(const RepoCache& repo,
                                                      std::string_view commit) {
  std::ifstream in(repo.tree_cache(commit), std::ios::binary);
  if (!in) return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (!j.is_object() || j.value("format_version", 0) != 1 || !j.contains("files") ||
      !j["files"].is_object()) {
    return std::nullopt;
  }
  std::vector<TreeEntry> entries;
  try {
    for (const auto& [path, info] : j["files"].items()) {
      if (info.contains("xet_hash")) return std::nullopt;  // a listing we could not honour
      TreeEntry e;
      e.path = path;
      e.size = info.at("size").get<uint64_t>();
      e.blob_id = info.at("blob_id").get<std::string>();
      if (info.contains("lfs_sha256") && info["lfs_sha256"].is_string()) {
        e.lfs_sha256 = info["lfs_sha256"].get<std::string>();
        if (info.contains("lfs_size") && info["lfs_size"].is_number()) {
          e.lfs_size = info["lfs_size"].get<uint64_t>();
        }
      }
      entries.push_back(std::move(e));
    }
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
  return entries;
}

void write_tree_cache(const RepoCache& repo, std::string_view commit,
                      const std::vector<TreeEntry>& entries) {
  // Python writes json.dump(indent=1) with keys in this order and files sorted by path.
  nlohmann::ordered_json files = nlohmann::ordered_json::object();
  std::vector<const TreeEntry*> sorted;
  for (const TreeEntry& e : entries) sorted.push_back(&e);
  std::sort(sorted.begin(), sorted.end(),
            [](const TreeEntry* a, const TreeEntry* b) { return a->path < b->path; });
  for (const TreeEntry* e : sorted) {
    nlohmann::ordered_json info;
    info["size"] = e->size;
    info["blob_id"] = e->blob_id;
    if (e->lfs_sha256) {
      info["lfs_sha256"] = *e->lfs_sha256;
      info["lfs_size"] = e->lfs_size ? nlohmann::ordered_json(*e->lfs_size) : nlohmann::ordered_json();
    }
    files[e->path] = std::move(info);
  }
  nlohmann::ordered_json data;
  data["format_version"] = 1;
  data["files"] = std::move(files);
  try {
    write_atomically(repo.tree_cache(commit), data.dump(1));
  } catch (const Error& e) {
    log(LogLevel::kWarning, std::string("ignored: ") + e.what());  // a cache, as in Python
  }
}

FileLock::FileLock(const fs::path& path) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw Error(StatusCode::kIoError, "cannot open the lock file " + path.string() + ": " +
                                          std::strerror(errno));
  }
  while (::flock(fd_, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    // A filesystem without flock: go on unlocked, as Python's SoftFileLock fallback would not help.
    log(LogLevel::kWarning, "cannot lock " + path.string() + ": " + std::strerror(errno));
    break;
  }
}

FileLock::~FileLock() {
  if (fd_ >= 0) {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
}

}  // namespace mlhub::hub::internal
