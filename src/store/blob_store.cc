// BlobStore: LFS objects on the local disk, content-addressed by sha256.
//
// A write goes to a private temp file in tmp/ while its sha256 is computed; finish() checks
// digest and size, fsyncs the file, renames it to objects/<aa>/<bb>/<sha256> and fsyncs that
// folder. A rename is atomic, so readers see either no object or the whole verified object.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>
#include <system_error>

#include "mlhub/store.h"
#include "store/store_internal.h"

namespace mlhub::store {

namespace fs = std::filesystem;

namespace {

std::string errno_message(const std::string& what) { return what + ": " + std::strerror(errno); }

// A temp file name no other writer (thread or process) uses: pid, a process-wide counter and
// 64 random bits.
std::string temp_name() {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 rng(std::random_device{}());
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%ld-%llu-%016llx.tmp", static_cast<long>(::getpid()),
                static_cast<unsigned long long>(counter.fetch_add(1)),
                static_cast<unsigned long long>(rng()));
  return buf;
}

Status fsync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::io_error(errno_message("open " + dir.string()));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) {
    errno = err;
    return Status::io_error(errno_message("fsync " + dir.string()));
  }
  return Status();
}

class FileWriter final : public BlobStore::Writer {
 public:
  FileWriter(fs::path objects, fs::path temp, int fd)
      : objects_(std::move(objects)), temp_(std::move(temp)), fd_(fd) {}
  ~FileWriter() override { discard(); }

  Status write(const void* data, size_t size) override {
    if (done_) return Status::failed_precondition("blob writer already finished");
    if (!error_.ok()) return error_;
    const char* p = static_cast<const char*>(data);
    size_t left = size;
    while (left > 0) {
      const ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        error_ = Status::io_error(errno_message("write " + temp_.string()));
        return error_;
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    hasher_.update(data, size);
    written_ += size;
    return Status();
  }

  Status finish(std::string_view expected_sha256, uint64_t expected_size) override {
    if (done_) return Status::failed_precondition("blob writer already finished");
    done_ = true;  // one finish() per writer: the digest can be computed only once
    Status s = finish_impl(expected_sha256, expected_size);
    if (!s.ok()) discard();
    return s;
  }

  uint64_t bytes_written() const override { return written_; }

 private:
  Status finish_impl(std::string_view expected_sha256, uint64_t expected_size) {
    if (!error_.ok()) return error_;
    if (!is_lower_hex(expected_sha256, 64)) {
      return Status::invalid_argument("not a sha256 (64 lowercase hex): '" + std::string(expected_sha256) + "'");
    }
    const std::string actual = hasher_.hex_digest();
    if (written_ != expected_size) {
      return Status::invalid_argument("size mismatch: expected " + std::to_string(expected_size) + ", got " +
                                      std::to_string(written_));
    }
    if (actual != expected_sha256) {
      return Status::invalid_argument("sha256 mismatch: expected " + std::string(expected_sha256) + ", got " +
                                      actual);
    }
    if (::fsync(fd_) != 0) return Status::io_error(errno_message("fsync " + temp_.string()));
    if (::close(fd_) != 0) {
      fd_ = -1;
      return Status::io_error(errno_message("close " + temp_.string()));
    }
    fd_ = -1;

    const fs::path dir = objects_ / actual.substr(0, 2) / actual.substr(2, 2);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Status::io_error("create " + dir.string() + ": " + ec.message());
    const fs::path target = dir / actual;
    if (fs::exists(target, ec)) {
      discard();  // same content already stored (content addressing makes this a no-op)
      return Status();
    }
    if (::rename(temp_.c_str(), target.c_str()) != 0) {
      return Status::io_error(errno_message("rename to " + target.string()));
    }
    temp_.clear();
    // The rename is durable once the folder holding the new name is synced (and the folders
    // above it, which create_directories may have just made).
    for (const fs::path& d : {dir, dir.parent_path(), objects_}) {
      if (Status s = fsync_dir(d); !s.ok()) return s;
    }
    return Status();
  }

  void discard() {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    if (!temp_.empty()) {
      ::unlink(temp_.c_str());
      temp_.clear();
    }
  }

  fs::path objects_;
  fs::path temp_;  // empty once renamed or removed
  int fd_;
  Hasher hasher_{Hasher::Algorithm::kSha256};
  uint64_t written_ = 0;
  bool done_ = false;
  Status error_;
};

}  // namespace

BlobStore::BlobStore(fs::path root) : root_(std::move(root)) {
  // A constructor cannot return a Status: a failure here shows up as kIoError on first use.
  std::error_code ec;
  fs::create_directories(root_ / "objects", ec);
  fs::create_directories(root_ / "tmp", ec);
}

Result<std::unique_ptr<BlobStore::Writer>> BlobStore::begin_write() {
  return catch_errors([&]() -> std::unique_ptr<Writer> {
    const fs::path temp = root_ / "tmp" / temp_name();
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) throw Error(StatusCode::kIoError, errno_message("create " + temp.string()));
    return std::make_unique<FileWriter>(root_ / "objects", temp, fd);
  });
}

namespace {
// The object path for a well-formed sha256 (lowercase, so a hostile id cannot name other files).
Result<fs::path> object_path(const fs::path& root, std::string_view sha256) {
  if (!is_lower_hex(sha256, 64)) {
    return Status::invalid_argument("not a sha256 (64 lowercase hex): '" + std::string(sha256.substr(0, 80)) + "'");
  }
  const std::string sha(sha256);
  return root / "objects" / sha.substr(0, 2) / sha.substr(2, 2) / sha;
}
}  // namespace

bool BlobStore::contains(std::string_view sha256) const {
  auto path = object_path(root_, sha256);
  std::error_code ec;
  return path.ok() && fs::is_regular_file(*path, ec);
}

Result<fs::path> BlobStore::path_of(std::string_view sha256) const {
  auto path = object_path(root_, sha256);
  if (!path.ok()) return path.status();
  std::error_code ec;
  if (!fs::is_regular_file(*path, ec)) return Status::not_found("LFS object not found: " + std::string(sha256));
  return path;
}

Result<uint64_t> BlobStore::size_of(std::string_view sha256) const {
  auto path = path_of(sha256);
  if (!path.ok()) return path.status();
  std::error_code ec;
  const uint64_t size = fs::file_size(*path, ec);
  if (ec) return Status::io_error("stat " + path->string() + ": " + ec.message());
  return size;
}

void BlobStore::recover() {
  std::error_code ec;
  for (fs::directory_iterator it(root_ / "tmp", ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code rm_ec;
    fs::remove_all(it->path(), rm_ec);
  }
}

}  // namespace mlhub::store
