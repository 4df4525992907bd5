// mlhub core: Status / Result<T>, the Error exception, logging and the thread pool.
//
// Error handling (see docs/error_handling.md): public entry points that can fail for reasons
// outside the caller's control (files, formats, user input) return Status or Result<T>. Code
// inside a module may throw mlhub::Error, which carries the same code; every public entry point
// catches it and returns it as a Status, so no exception crosses the library boundary.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

namespace mlhub {

enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument,   // malformed input: bad JSON, bad UTF-8, bad parameter
  kNotFound,          // a file, token or key that does not exist
  kIoError,           // the OS refused a read or write
  kCorruption,        // a file that is structurally broken
  kUnimplemented,     // a valid input mlhub does not support (yet)
  kOutOfRange,        // an index or size past its limit
  kFailedPrecondition,  // the state changed under the caller (e.g. a stale parent commit)
  kInternal,          // a bug in mlhub
  kAlreadyExists,     // a name that is taken (repo, branch, tag, user)
  kPermissionDenied,  // the caller may not do this
};

// Returns the name of `code`, e.g. "InvalidArgument".
std::string_view status_code_name(StatusCode code);

// The result of an operation: OK, or a code and a human-readable message. Cheap to copy when OK.
class Status {
 public:
  Status() = default;
  static Status ok_status() { return Status(); }
  static Status invalid_argument(std::string msg) { return {StatusCode::kInvalidArgument, std::move(msg)}; }
  static Status not_found(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status io_error(std::string msg) { return {StatusCode::kIoError, std::move(msg)}; }
  static Status corruption(std::string msg) { return {StatusCode::kCorruption, std::move(msg)}; }
  static Status unimplemented(std::string msg) { return {StatusCode::kUnimplemented, std::move(msg)}; }
  static Status out_of_range(std::string msg) { return {StatusCode::kOutOfRange, std::move(msg)}; }
  static Status internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }
  static Status failed_precondition(std::string msg) { return {StatusCode::kFailedPrecondition, std::move(msg)}; }
  static Status already_exists(std::string msg) { return {StatusCode::kAlreadyExists, std::move(msg)}; }
  static Status permission_denied(std::string msg) { return {StatusCode::kPermissionDenied, std::move(msg)}; }

  Status(StatusCode code, std::string msg) : code_(code), msg_(std::move(msg)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return msg_; }
  // "InvalidArgument: <message>" or "OK".
  std::string to_string() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string msg_;
};

// The exception used inside modules; converted to Status at the public boundary.
class Error : public std::runtime_error {
 public:
  Error(StatusCode code, const std::string& msg) : std::runtime_error(msg), code_(code) {}
  explicit Error(const Status& s) : std::runtime_error(s.message()), code_(s.code()) {}
  StatusCode code() const { return code_; }
  Status status() const { return Status(code_, what()); }

 private:
  StatusCode code_;
};

// A value or an error Status. `value()` on an error throws mlhub::Error (a programming error
// in the caller: check `ok()` first).
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    if (std::get<Status>(v_).ok()) v_ = Status::internal("Result constructed from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { check(); return std::get<T>(v_); }
  const T& value() const& { check(); return std::get<T>(v_); }
  T&& value() && { check(); return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  void check() const {
    if (!ok()) throw Error(std::get<Status>(v_));
  }
  std::variant<T, Status> v_;
};

// Runs `fn` and converts an escaping mlhub::Error (or std::exception) into a Status.
template <typename Fn>
auto catch_errors(Fn&& fn) -> Result<decltype(fn())> {
  try {
    return fn();
  } catch (const Error& e) {
    return e.status();
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kOutOfRange, "out of memory");
  } catch (const std::exception& e) {
    return Status::internal(e.what());
  }
}

// ---- hashing (OpenSSL) -------------------------------------------------------------------------

// Incremental SHA-256 / SHA-1; hex digests are lowercase. Not thread-safe per object.
class Hasher {
 public:
  enum class Algorithm : uint8_t { kSha256, kSha1 };
  explicit Hasher(Algorithm algorithm = Algorithm::kSha256);
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  void update(const void* data, size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }
  // The digest of everything given so far, as lowercase hex. Call once.
  std::string hex_digest();

 private:
  void* ctx_;  // EVP_MD_CTX
};

std::string sha256_hex(std::string_view data);
// The git object id of a blob with this content: sha1("blob <size>\0" + data).
std::string git_blob_sha1_hex(std::string_view data);
// True when `s` is `n` lowercase hex digits (n = 0: any non-empty length).
bool is_lower_hex(std::string_view s, size_t n = 0);

// ---- UTF-8 ------------------------------------------------------------------------------------

// Byte position of the first invalid UTF-8 sequence (Unicode Table 3-7: overlong forms,
// surrogates, > U+10FFFF, truncated), or nullopt when `s` is valid.
std::optional<size_t> find_invalid_utf8(std::string_view s);

// ---- URLs ---------------------------------------------------------------------------------------

// Percent-encodes every byte except the unreserved ones (ALPHA DIGIT - . _ ~) and the ASCII
// characters in `safe`, as Python's urllib.parse.quote(s, safe=...) does (uppercase hex).
std::string percent_encode(std::string_view s, std::string_view safe = "");

// ---- logging ---------------------------------------------------------------------------------

enum class LogLevel : uint8_t { kDebug = 0, kInfo, kWarning, kError, kOff };

// Sets the minimum level that is written to stderr (default kWarning, or MLHUB_LOG=debug|info|
// warning|error|off from the environment). Thread-safe.
void set_log_level(LogLevel level);
LogLevel log_level();
// Writes one line "[mlhub W] message" to stderr when `level` is enabled. Thread-safe.
void log(LogLevel level, std::string_view message);

// ---- thread pool -----------------------------------------------------------------------------

// A fixed set of worker threads running submitted jobs in FIFO order. Thread-safe.
class ThreadPool {
 public:
  // num_threads == 0 means std::thread::hardware_concurrency().
  explicit ThreadPool(size_t num_threads = 0);
  ~ThreadPool();  // finishes queued jobs, then joins
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t num_threads() const { return workers_.size(); }
  // How many lanes parallel_for splits work into at most (workers + the calling thread, or the
  // thread count the pool was created for). Kernels size their chunks by it.
  size_t lanes() const { return max_lanes_; }

  // Runs fn(i) for every i in [0, n), split into contiguous chunks over the workers and the
  // calling thread; returns when all calls have finished. The first exception thrown by fn is
  // rethrown here (the remaining chunks still run). Must not be called from a pool worker.
  void parallel_for(size_t n, const std::function<void(size_t)>& fn);

  // The process-wide pool (created on first use, sized by MLHUB_NUM_THREADS or the core count).
  static ThreadPool& global();

 private:
  void submit(std::function<void()> job);
  void worker_loop();

  std::vector<std::thread> workers_;
  std::deque<std::function<void()>> jobs_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  size_t max_lanes_ = 1;
  // Idle workers spin on pending_ for a short while before sleeping on cv_ (a condition
  // variable wake-up costs more than most parallel ops); submit() only notifies when some
  // worker is asleep (sleeping_, guarded by mu_).
  std::atomic<size_t> pending_{0};
  size_t sleeping_ = 0;
};

}  // namespace mlhub
