// hf_hub_download: HEAD /resolve/ for the metadata, the cache lookup (and the offline fallback),
// the resumable GET into blobs/<etag>.incomplete, the hash check and the snapshot symlink.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "hub/internal.h"

namespace mlhub::hub {
namespace internal {
namespace fs = std::filesystem;

namespace {

// Why HEAD did not give usable metadata, and whether the cache may stand in for it.
struct HeadError {
  Status status;
  bool cache_fallback = true;  // false: RevisionNotFound / EntryNotFound are always raised
};

std::string describe(RepoType type, std::string_view repo_id, std::string_view filename,
                     std::string_view revision) {
  return fmt::format("\"{}\" in {} {} at revision \"{}\"", filename, repo_type_name(type),
                     repo_id, revision);
}

// HEAD /resolve/ following relative redirects by hand, as huggingface_hub does.
std::variant<FileMetadata, HeadError> get_metadata(const HubConfig& config, RepoType type,
                                                   std::string_view repo_id,
                                                   std::string_view filename,
                                                   std::string_view revision,
                                                   const RepoCache& cache) {
  const std::string what = describe(type, repo_id, filename, revision);
  if (config.offline) {
    return HeadError{Status::not_found("offline mode is enabled (HF_HUB_OFFLINE) and " + what +
                                       " is not in the cache " + config.cache_dir)};
  }
  HttpRequest req;
  req.method = "HEAD";
  req.url = resolve_url(config.endpoint, type, repo_id, revision, filename);
  req.headers = {"Accept-Encoding: identity"};
  req.follow_redirects = false;
  HttpResponse r;
  for (int hops = 0;; ++hops) {
    r = http_send(config, req);
    if (r.status < 300 || r.status >= 400 || hops > 10) break;
    const auto location = r.header("location");
    if (!location) break;
    const auto next = relative_redirect_target(req.url, *location);
    if (!next) break;  // absolute redirect: the download URL, not followed during HEAD
    req.url = *next;
  }
  if (r.status == 0 || r.status >= 400) {
    const std::string code = error_code(r);
    if (code == "EntryNotFound") {
      // Remember the miss under the commit the hub named, as huggingface_hub does.
      const auto commit = r.header("x-repo-commit");
      if (commit && is_commit_hash(*commit)) {
        std::error_code ec;
        const fs::path marker = cache.no_exist(*commit, filename);
        fs::create_directories(marker.parent_path(), ec);
        std::ofstream touch(marker, std::ios::app);
      }
    }
    const bool fatal = code == "EntryNotFound" || code == "RevisionNotFound";
    return HeadError{response_status(r, "HEAD", what), !fatal};
  }
  FileMetadata meta;
  meta.commit = r.header("x-repo-commit").value_or("");
  meta.etag = normalize_etag(r.header("x-linked-etag").value_or(r.header("etag").value_or("")));
  std::optional<std::string> size = r.header("x-linked-size");
  if (!size && (r.status < 300 || r.status >= 400)) size = r.header("content-length");
  meta.location = r.header("location").value_or(r.url);
  if (meta.commit.empty() || meta.etag.empty() || !size) {
    return HeadError{Status::io_error(
        "the hub did not send X-Repo-Commit, ETag and a size for " + what +
        " (HEAD " + r.url + "); is HF_ENDPOINT a Hugging Face compatible hub?")};
  }
  try {
    meta.size = std::stoull(*size);
  } catch (const std::exception&) {
    return HeadError{Status::io_error("bad size \"" + *size + "\" from HEAD " + r.url)};
  }
  if (meta.etag.find('/') != std::string::npos || meta.etag == "." || meta.etag == "..") {
    return HeadError{Status::io_error("unusable ETag \"" + meta.etag + "\" from HEAD " + r.url)};
  }
  return meta;
}

// Gives the blob the permissions a new file gets in the repo folder (the umask applied), as
// huggingface_hub does before moving it in place: probe with a temporary file, since reading the
// umask with umask(2) would race with other threads.
void chmod_like_new_file(const fs::path& blob, const fs::path& repo_folder) {
  const fs::path probe = repo_folder / ("tmp_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(std::hash<std::thread::id>()(
                                            std::this_thread::get_id())));
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0666);
  if (fd < 0) return;  // keep the download's mode, as Python does on error
  struct stat st {};
  if (::fstat(fd, &st) == 0) ::chmod(blob.c_str(), st.st_mode & 07777);
  ::close(fd);
  ::unlink(probe.c_str());
}

}  // namespace

void write_local_dir_metadata(const fs::path& local_dir, std::string_view filename,
                              std::string_view commit, std::string_view etag) {
  const fs::path meta_dir = local_dir / ".cache" / "huggingface";
  std::error_code ec;
  fs::create_directories(meta_dir / "download", ec);
  if (!fs::exists(meta_dir / ".gitignore", ec)) std::ofstream(meta_dir / ".gitignore") << "*";
  RepoCache(meta_dir.string(), RepoType::kModel, "x").tag_cache_dir();
  const fs::path meta = meta_dir / "download" / (std::string(filename) + ".metadata");
  fs::create_directories(meta.parent_path(), ec);
  const double now = std::chrono::duration<double>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
  FileLock lock(meta.parent_path() / (meta.stem().string() + ".lock"));
  std::ofstream out(meta, std::ios::trunc);
  out << commit << "\n" << etag << "\n" << fmt::format("{:.6f}", now) << "\n";
}

void download_to_incomplete(const HubConfig& config, const std::string& url,
                            const fs::path& incomplete, const std::string& etag,
                            uint64_t expected_size, const std::string& display_name) {
  const bool sha256 = is_lower_hex(etag, 64);
  const bool sha1 = is_lower_hex(etag, 40);
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::error_code ec;
    uint64_t have = fs::exists(incomplete, ec) ? fs::file_size(incomplete, ec) : 0;
    if (ec || have > expected_size) have = 0;
    // Hash what is already there, then every new byte.
    auto hasher = std::make_unique<Hasher>(sha1 ? Hasher::Algorithm::kSha1
                                                : Hasher::Algorithm::kSha256);
    auto restart_hash = [&] {
      hasher = std::make_unique<Hasher>(sha1 ? Hasher::Algorithm::kSha1
                                             : Hasher::Algorithm::kSha256);
      if (sha1) {
        std::string header = "blob ";
        header += std::to_string(expected_size);
        header.push_back('\0');
        hasher->update(header);
      }
    };
    restart_hash();
    if (have > 0) {
      std::ifstream in(incomplete, std::ios::binary);
      std::vector<char> buf(1 << 20);
      uint64_t left = have;
      while (left > 0 && in) {
        in.read(buf.data(), static_cast<std::streamsize>(std::min<uint64_t>(left, buf.size())));
        const auto got = static_cast<uint64_t>(in.gcount());
        if (got == 0) break;
        hasher->update(buf.data(), got);
        left -= got;
      }
      if (left != 0) {
        have = 0;
        restart_hash();
      }
    }
    if (have == expected_size && have > 0) {  // a complete leftover: check it, no request
      if (!(sha256 || sha1) || hasher->hex_digest() == etag) return;
      fs::remove(incomplete, ec);
      continue;
    }
    std::ofstream out;
    uint64_t written = have;
    bool decided = false;  // whether the first body byte told us 200 or 206
    ProgressBar bar(config.progress, display_name, expected_size, have);
    HttpRequest req;
    req.url = url;
    req.headers = {"Accept-Encoding: identity"};
    if (have > 0) req.headers.push_back("Range: bytes=" + std::to_string(have) + "-");
    req.on_data = [&](long status, const char* data, size_t size) {
      if (!decided) {
        decided = true;
        // 206: append to what we have; 200: the server ignored Range, start over.
        const bool append = have > 0 && status == 206;
        if (have > 0) {
          log(LogLevel::kInfo, fmt::format("\"{}\": Range: bytes={}- answered {} ({})", display_name,
                                           have, status, append ? "resuming" : "starting over"));
        }
        out.open(incomplete, std::ios::binary | (append ? std::ios::app : std::ios::trunc));
        if (!append) {
          written = 0;
          restart_hash();
        }
      }
      out.write(data, static_cast<std::streamsize>(size));
      if (!out) return false;
      hasher->update(data, size);
      written += size;
      bar.update(written);
      return written <= expected_size;
    };
    HttpResponse r = http_send(config, req);
    out.close();
    if (r.status == 416 && have > 0) {  // our partial file is not a prefix the server accepts
      fs::remove(incomplete, ec);
      continue;
    }
    if (r.status == 0 && written > have && attempt < 2) continue;  // cut mid-way: resume
    if (r.status < 200 || r.status >= 300) {
      throw Error(response_status(r, "GET", "\"" + display_name + "\""));
    }
    if (!decided && have == 0) {  // an empty file
      std::ofstream touch(incomplete, std::ios::binary | std::ios::trunc);
    }
    if (written != expected_size) {
      fs::remove(incomplete, ec);
      throw Error(StatusCode::kCorruption,
                  "consistency check failed for \"" + display_name + "\": expected " +
                      std::to_string(expected_size) + " bytes, got " + std::to_string(written));
    }
    if (sha256 || sha1) {
      const std::string digest = hasher->hex_digest();
      if (digest != etag) {
        fs::remove(incomplete, ec);
        throw Error(StatusCode::kCorruption, "hash mismatch for \"" + display_name +
                                                 "\": the hub's ETag is " + etag +
                                                 ", the downloaded bytes hash to " + digest);
      }
    }
    return;
  }
  throw Error(StatusCode::kIoError, "download of \"" + display_name + "\" did not complete");
}

Status run_parallel(size_t n, size_t workers, const std::function<Status(size_t)>& fn) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status first;
  auto worker = [&] {
    for (size_t i = next++; i < n; i = next++) {
      Status s;
      try {
        s = fn(i);
      } catch (const Error& e) {
        s = e.status();
      } catch (const std::exception& e) {
        s = Status::internal(e.what());
      }
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (first.ok()) first = s;
      }
    }
  };
  std::vector<std::thread> threads;
  const size_t count = std::max<size_t>(1, std::min(workers, n));
  for (size_t t = 1; t < count; ++t) threads.emplace_back(worker);
  worker();
  for (std::thread& t : threads) t.join();
  return first;
}

}  // namespace internal

Result<std::string> hf_hub_download(const HubConfig& config, std::string_view repo_id,
                                    std::string_view filename, const DownloadOptions& options) {
  using namespace internal;
  namespace fs = std::filesystem;
  return internal::guarded([&]() -> Result<std::string> {
    if (Status s = validate_repo_id(repo_id); !s.ok()) return s;
    if (Status s = validate_repo_path(filename); !s.ok()) return s;
    const std::string revision = options.revision.empty() ? "main" : options.revision;
    const RepoCache cache(config.cache_dir, options.repo_type, repo_id);
    auto finish = [&](const fs::path& pointer) -> Result<std::string> {
      if (!options.local_dir) return pointer.string();
      const fs::path dest = fs::path(*options.local_dir) / std::string(filename);
      fs::create_directories(dest.parent_path());
      fs::copy_file(pointer, dest, fs::copy_options::overwrite_existing);
      // snapshots/<commit>/<filename> -> ../../blobs/<etag>
      const std::string commit = pointer.lexically_relative(cache.storage / "snapshots").begin()->string();
      write_local_dir_metadata(*options.local_dir, filename, commit,
                               fs::read_symlink(pointer).filename().string());
      return dest.string();
    };
    std::error_code ec;
    // A commit is immutable: a cached file needs no request.
    if (is_commit_hash(revision) && !options.force) {
      const fs::path pointer = cache.pointer(revision, filename);
      if (fs::exists(pointer, ec)) return finish(pointer);
    }
    auto head = get_metadata(config, options.repo_type, repo_id, filename, revision, cache);
    if (auto* err = std::get_if<HeadError>(&head)) {
      if (err->cache_fallback && !options.force) {
        std::optional<std::string> commit;
        if (is_commit_hash(revision)) {
          commit = revision;
        } else {
          commit = cache.read_ref(revision);
        }
        if (commit) {
          const fs::path pointer = cache.pointer(*commit, filename);
          if (fs::exists(pointer, ec)) return finish(pointer);
        }
      }
      return err->status;
    }
    const FileMetadata& meta = std::get<FileMetadata>(head);
    const fs::path blob = cache.blob(meta.etag);
    const fs::path pointer = cache.pointer(meta.commit, filename);
    if (!options.force && fs::exists(pointer, ec)) {
      cache.write_ref(revision, meta.commit);
      return finish(pointer);
    }
    fs::create_directories(blob.parent_path());
    fs::create_directories(pointer.parent_path());
    cache.tag_cache_dir();
    cache.write_ref(revision, meta.commit);
    FileLock lock(cache.lock(meta.etag));
    if (options.force || !fs::exists(blob, ec)) {
      const fs::path incomplete = blob.string() + ".incomplete";
      if (options.force) fs::remove(incomplete, ec);
      download_to_incomplete(config, meta.location, incomplete, meta.etag, meta.size,
                             std::string(filename));
      chmod_like_new_file(incomplete, cache.storage);
      fs::rename(incomplete, blob);
    }
    if (options.force || !fs::exists(pointer, ec)) cache.link_pointer(meta.commit, filename, meta.etag);
    return finish(pointer);
  });
}

}  // namespace mlhub::hub
