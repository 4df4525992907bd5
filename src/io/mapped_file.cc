// Read-only memory mappings (POSIX mmap) and whole-file reads.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "io/io_internal.h"

namespace mlhub::io {
namespace {

[[noreturn]] void fail_errno(const std::filesystem::path& file, const char* what, int err) {
  const StatusCode code = err == ENOENT ? StatusCode::kNotFound : StatusCode::kIoError;
  throw Error(code, fmt::format("{}: cannot {}: {}", file.string(), what, std::strerror(err)));
}

// Closes a file descriptor on every path out of map_file.
struct FdCloser {
  int fd;
  ~FdCloser() { ::close(fd); }
};

}  // namespace

MappedFile map_file(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail_errno(file, "open", errno);
  FdCloser closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail_errno(file, "stat", errno);
  if (!S_ISREG(st.st_mode))
    throw Error(StatusCode::kIoError, fmt::format("{}: not a regular file", file.string()));
  MappedFile mapped;
  mapped.size = static_cast<size_t>(st.st_size);
  if (mapped.size == 0) {
    // mmap refuses empty lengths; an empty file has nothing to map (readers reject it).
    mapped.owner = std::make_shared<int>(0);
    return mapped;
  }
  void* p = ::mmap(nullptr, mapped.size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) fail_errno(file, "mmap", errno);
  const size_t size = mapped.size;
  // The mapping lives as long as any tensor viewing it; the last owner unmaps it.
  mapped.owner = std::shared_ptr<const void>(p, [size](const void* q) {
    ::munmap(const_cast<void*>(q), size);
  });
  mapped.data = static_cast<const std::byte*>(p);
  return mapped;
}

Result<std::string> read_text_file(const std::filesystem::path& file) {
  return catch_errors([&]() -> std::string {
    const MappedFile mapped = map_file(file);
    return std::string(reinterpret_cast<const char*>(mapped.data), mapped.size);
  });
}

}  // namespace mlhub::io
