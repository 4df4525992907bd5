// git smart HTTP (docs/hub-api.md §9 (d)): `git clone`, `git pull` and `git push` on the clone
// URL {EP}/{prefix}{owner}/{name}[.git]. The hub authorises the request (anonymous upload-pack
// on readable repos; HTTP Basic with a token as the password otherwise; write access for
// receive-pack), then runs `git http-backend` as a CGI child on the repo's bare directory,
// streaming the request body into it and its output back (chunked).
//
// Pushes go through a pre-receive hook that the server writes to DATA/git-hooks and points
// every receive-pack at (core.hooksPath, through GIT_CONFIG_* variables, so repos need no
// per-repo setup). It refuses, before any ref moves: refs outside refs/heads/, refs/tags/ (and
// updates of existing refs/pr/N),
// deleting the default branch, blobs over 10 MB that are not in LFS (the Hub's rule), and LFS
// pointers whose object was never uploaded. A push's request body is first spooled to an
// unlinked temp file, so that receive-pack runs under the repo's commit lock only for the time
// git needs, not for the client's upload; it runs with receive.fsckObjects, and the default
// branch is re-indexed when it ends.
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "server/hub/hub_server.h"

namespace mlhub::hub {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kGitTimeoutSeconds = 3600;       // wall-clock bound of one git child
constexpr size_t kMaxEarlyOutput = 64u << 20;  // output held back while the request is still sent
constexpr size_t kMaxCgiHeader = 64u << 10;
constexpr size_t kMaxStderr = 16u << 10;
constexpr uint64_t kMaxPushBytes = 8ull << 30;  // one receive-pack request (the pack; LFS files travel apart)

// The pre-receive hook (POSIX sh). Input: "<old> <new> <ref>" lines. Runs in the bare repo with
// the pushed objects still in quarantine, so refusing leaves the repo untouched.
const char kPreReceiveHook[] = R"SH(#!/bin/sh
# mlhub pre-receive hook. Written by the hub server (src/server/hub/routes_git.cc), which
# rewrites it when it differs: do not edit. Refuses, before any ref moves:
#  - updates of refs outside refs/heads/ and refs/tags/ (existing refs/pr/N may be updated),
#  - deleting the default branch,
#  - files larger than the limit that are not stored with git-lfs,
#  - git-lfs pointers whose object was never uploaded to the hub.
limit=${MLHUB_MAX_REGULAR_FILE:-10000000}
zero=0000000000000000000000000000000000000000
default_ref=$(git symbolic-ref -q HEAD)
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
fail=0
: > "$work/updates"
while read -r old new ref; do
  case "$ref" in
    refs/heads/*|refs/tags/*) ;;
    refs/pr/*)
      # Pull request refs are made by the commit API (create_pr); a push may update one.
      if [ "$old" = "$zero" ] || [ "$new" = "$zero" ]; then
        echo "mlhub: $ref: pull request refs are created and deleted through the hub, not by a push" >&2
        fail=1
        continue
      fi ;;
    *)
      echo "mlhub: $ref: only branches (refs/heads/*), tags (refs/tags/*) and existing refs/pr/* can be pushed" >&2
      fail=1
      continue ;;
  esac
  if [ "$new" = "$zero" ]; then
    if [ "$ref" = "$default_ref" ]; then
      echo "mlhub: ${ref#refs/heads/} is the default branch of this repository and cannot be deleted" >&2
      fail=1
    fi
    continue
  fi
  echo "$new $ref" >> "$work/updates"
done
[ "$fail" = 0 ] || exit 1
: > "$work/big"
: > "$work/missing"
while read -r new ref; do
  # The objects this update brings: reachable from the new tip, not from any existing ref.
  git rev-list --objects "$new" --not --all > "$work/objects" || { echo "mlhub: cannot list the objects of $ref" >&2; exit 1; }
  git cat-file --batch-check='%(objecttype) %(objectsize) %(objectname) %(rest)' < "$work/objects" > "$work/list" ||
    { echo "mlhub: cannot read the objects of $ref" >&2; exit 1; }
  awk -v limit="$limit" -v ref="$ref" '$1 == "blob" && $2 + 0 > limit + 0 {
      path = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ ?/, "", path)
      printf "  - %s (%.1f MB, ref: %s)\n", path, $2 / 1000000, ref }' "$work/list" >> "$work/big"
  [ -n "$MLHUB_LFS_OBJECTS" ] || continue
  # git-lfs pointers are 120-200 bytes: check that their object is in the hub's LFS store.
  awk '$1 == "blob" && $2 + 0 >= 120 && $2 + 0 <= 200 { print $3 " " substr($0, index($0, $3) + 41) }' "$work/list" |
  while read -r oid path; do
    git cat-file blob "$oid" > "$work/blob" || continue
    head -n 1 "$work/blob" | grep -qx 'version https://git-lfs.github.com/spec/v1' || continue
    sha=$(sed -n 's/^oid sha256:\([0-9a-f]\{64\}\)$/\1/p' "$work/blob")
    size=$(sed -n 's/^size \([0-9]\{1,\}\)$/\1/p' "$work/blob")
    [ -n "$sha" ] && [ -n "$size" ] || continue
    a=$(echo "$sha" | cut -c1-2)
    b=$(echo "$sha" | cut -c3-4)
    object="$MLHUB_LFS_OBJECTS/$a/$b/$sha"
    if [ ! -f "$object" ] || [ "$(stat -c %s "$object")" != "$size" ]; then
      echo "  - $path (LFS object $sha, ref: $ref)"
    fi
  done >> "$work/missing"
done < "$work/updates"
if [ -s "$work/big" ]; then
  echo "-------------------------------------------------------------------------" >&2
  echo "Your push was rejected because it contains files larger than 10 MB." >&2
  echo "Please use git-lfs (https://git-lfs.github.com/) to store large files:" >&2
  echo "  git lfs track \"<pattern>\", then rewrite the commits that added them" >&2
  echo "  (for example with: git lfs migrate import --include=\"<pattern>\")." >&2
  echo "" >&2
  echo "Offending files:" >&2
  cat "$work/big" >&2
  echo "-------------------------------------------------------------------------" >&2
  exit 1
fi
if [ -s "$work/missing" ]; then
  echo "-------------------------------------------------------------------------" >&2
  echo "Your push was rejected because some git-lfs pointers refer to objects" >&2
  echo "that were never uploaded to this hub (push them with: git lfs push --all origin)." >&2
  echo "" >&2
  echo "Offending files:" >&2
  cat "$work/missing" >&2
  echo "-------------------------------------------------------------------------" >&2
  exit 1
fi
exit 0
)SH";

struct GitRoute {
  std::string type, owner, name;
  std::string service;  // "git-upload-pack" or "git-receive-pack"
  bool info_refs = false;
};

std::optional<GitRoute> parse_git_route(const Request& req, const std::vector<std::string>& seg) {
  if (seg.empty() || seg[0] == "api") return std::nullopt;
  size_t i = 0;
  GitRoute r;
  r.type = "model";
  if (seg[0] == "datasets" || seg[0] == "spaces") {
    r.type = seg[0].substr(0, seg[0].size() - 1);
    i = 1;
  }
  if (seg.size() == i + 4 && seg[i + 2] == "info" && seg[i + 3] == "refs") {
    if (req.method != "GET" && req.method != "HEAD") return std::nullopt;
    r.info_refs = true;
  } else if (seg.size() == i + 3 && (seg[i + 2] == "git-upload-pack" || seg[i + 2] == "git-receive-pack")) {
    if (req.method != "POST") return std::nullopt;
    r.service = seg[i + 2];
  } else {
    return std::nullopt;
  }
  r.owner = http::percent_decode(seg[i]);
  r.name = http::percent_decode(seg[i + 1]);
  if (r.name.size() > 4 && r.name.compare(r.name.size() - 4, 4, ".git") == 0) r.name.resize(r.name.size() - 4);
  return r;
}

// Writes DATA/git-hooks/pre-receive once per process (and whenever its content differs).
fs::path ensure_hooks(const fs::path& data_dir) {
  static std::mutex mu;
  static std::set<std::string> done;
  const fs::path dir = data_dir / "git-hooks";
  std::lock_guard lock(mu);
  if (done.count(dir.string())) return dir;
  const fs::path hook = dir / "pre-receive";
  std::string current;
  {
    std::ifstream in(hook, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    current = s.str();
  }
  struct stat st{};
  const bool executable = ::stat(hook.c_str(), &st) == 0 && (st.st_mode & S_IXUSR);
  if (current != kPreReceiveHook || !executable) {
    fs::create_directories(dir);
    const fs::path tmp = dir / ("pre-receive.tmp" + std::to_string(::getpid()));
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << kPreReceiveHook;
      if (!out.flush()) throw Error(Status::io_error("cannot write " + tmp.string()));
    }
    ::chmod(tmp.c_str(), 0755);
    fs::rename(tmp, hook);
  }
  done.insert(dir.string());
  return dir;
}

// A header value we pass on to the child: printable ASCII only, bounded.
std::string env_safe(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c >= 0x20 && c < 0x7f) out += c;
  }
  if (out.size() > 1024) out.resize(1024);
  return out;
}

// `git http-backend` with pipes on stdin/stdout/stderr, in its own process group (so a kill
// also reaches the git upload-pack / receive-pack it starts), bounded by a deadline.
class GitChild {
 public:
  GitChild() = default;
  GitChild(const GitChild&) = delete;
  GitChild& operator=(const GitChild&) = delete;
  ~GitChild() {
    kill_and_reap();
    close_fd(in_);
    close_fd(out_);
    close_fd(err_);
  }

  // Starts the child; its stdin is `stdin_fd` when >= 0 (a file), else a pipe fed by write_in.
  void start(const std::vector<std::string>& argv, const std::vector<std::string>& env, int stdin_fd = -1) {
    int pin[2] = {-1, -1}, pout[2], perr[2];
    if (stdin_fd >= 0) {
      pin[0] = ::dup(stdin_fd);
      if (pin[0] < 0) throw Error(Status::io_error("dup failed"));
      ::fcntl(pin[0], F_SETFD, FD_CLOEXEC);
    } else if (::pipe2(pin, O_CLOEXEC) != 0) {
      throw Error(Status::io_error("pipe failed"));
    }
    if (::pipe2(pout, O_CLOEXEC) != 0) {
      close_fd(pin[0]), close_fd(pin[1]);
      throw Error(Status::io_error("pipe failed"));
    }
    if (::pipe2(perr, O_CLOEXEC) != 0) {
      close_fd(pin[0]), close_fd(pin[1]), ::close(pout[0]), ::close(pout[1]);
      throw Error(Status::io_error("pipe failed"));
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pin[0], 0);
    posix_spawn_file_actions_adddup2(&actions, pout[1], 1);
    posix_spawn_file_actions_adddup2(&actions, perr[1], 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);  // the server ignores SIGPIPE; git should not inherit that
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    std::vector<char*> cargv, cenv;
    for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    for (const auto& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
    cenv.push_back(nullptr);
    const int rc = ::posix_spawnp(&pid_, cargv[0], &actions, &attr, cargv.data(), cenv.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(pin[0]);
    ::close(pout[1]);
    ::close(perr[1]);
    in_ = pin[1];
    out_ = pout[0];
    err_ = perr[0];
    if (rc != 0) {
      pid_ = -1;
      throw Error(Status::io_error(std::string("cannot start git http-backend: ") + std::strerror(rc)));
    }
    for (int fd : {in_, out_, err_}) {
      if (fd >= 0) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    }
    deadline_ = Clock::now() + std::chrono::seconds(kGitTimeoutSeconds);
  }

  // Writes all of `data` to the child's stdin while collecting what it already prints into
  // `early`. False when the child stopped reading (it exited or closed stdin).
  bool write_in(const char* data, size_t size, std::string& early) {
    if (in_ < 0) return false;
    while (size > 0) {
      pollfd p[3] = {{in_, POLLOUT, 0}, {out_eof_ ? -1 : out_, POLLIN, 0}, {err_, POLLIN, 0}};  // -1 fds are skipped
      if (!wait(p, 3)) return false;
      if (p[2].revents) drain_err();
      if (p[1].revents) {
        char buf[65536];
        const ssize_t n = ::read(out_, buf, sizeof buf);
        if (n > 0) {
          if (early.size() + static_cast<size_t>(n) > kMaxEarlyOutput) throw HttpError{500, "git produced too much output before the request ended", "", {}};
          early.append(buf, static_cast<size_t>(n));
        } else if (n == 0) {
          out_eof_ = true;
        }
      }
      if (p[0].revents & (POLLOUT | POLLERR | POLLHUP)) {
        const ssize_t n = write_no_sigpipe(in_, data, size);
        if (n > 0) {
          data += n;
          size -= static_cast<size_t>(n);
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
          return false;  // EPIPE: the child no longer reads
        }
      }
    }
    return true;
  }

  void close_in() { close_fd(in_); }

  // Reads stdout: > 0 bytes, 0 at EOF, -1 when the deadline passed (the child is killed).
  ssize_t read_out(char* buf, size_t size) {
    if (out_eof_) return 0;
    for (;;) {
      pollfd p[2] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}};
      if (!wait(p, 2)) {
        kill_and_reap();
        return -1;
      }
      if (p[1].revents) drain_err();
      if (p[0].revents) {
        const ssize_t n = ::read(out_, buf, size);
        if (n > 0) return n;
        if (n == 0) {
          out_eof_ = true;
          return 0;
        }
        if (errno != EAGAIN && errno != EINTR) return 0;
      }
    }
  }

  // Waits for the child after its stdout ended (bounded by the deadline); its exit status.
  int reap() {
    if (pid_ <= 0) return status_;
    while (true) {
      const pid_t r = ::waitpid(pid_, &status_, WNOHANG);
      if (r == pid_ || (r < 0 && errno != EINTR)) break;
      if (Clock::now() > deadline_) {
        kill_and_reap();
        return status_;
      }
      drain_err();
      ::usleep(2000);
    }
    pid_ = -1;
    return status_;
  }

  void kill_and_reap() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGKILL);
    while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    killed_ = true;
  }

  bool killed() const { return killed_; }
  const std::string& stderr_text() const { return err_text_; }

 private:
  static void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }

  // write(2) to a pipe whose reader may be gone, without a SIGPIPE for processes that do not
  // ignore it (mlhub serve does; embedders such as the fuzzers may not): the signal is blocked
  // in this thread for the call and a pending one consumed.
  static ssize_t write_no_sigpipe(int fd, const char* data, size_t size) {
    sigset_t pipe_set, old;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    const bool was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    const ssize_t n = ::write(fd, data, size);
    const int err = errno;
    if (n < 0 && err == EPIPE && !was_pending) {
      const timespec zero{0, 0};
      while (sigtimedwait(&pipe_set, nullptr, &zero) < 0 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    errno = err;
    return n;
  }

  // poll() until an event or the deadline; false on the deadline.
  bool wait(pollfd* p, nfds_t n) {
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now()).count();
      if (left <= 0) return false;
      const int r = ::poll(p, n, static_cast<int>(std::min<int64_t>(left, 60'000)));
      if (r > 0) return true;
      if (r < 0 && errno != EINTR) return false;
    }
  }

  void drain_err() {
    if (err_ < 0) return;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(err_, buf, sizeof buf);
      if (n > 0) {
        err_text_.append(buf, static_cast<size_t>(n));
        if (err_text_.size() > kMaxStderr) err_text_.erase(0, err_text_.size() - kMaxStderr);
        continue;
      }
      if (n == 0) close_fd(err_);
      return;
    }
  }

  pid_t pid_ = -1;
  int status_ = 0;
  bool killed_ = false;
  int in_ = -1, out_ = -1, err_ = -1;
  bool out_eof_ = false;
  std::string err_text_;
  Clock::time_point deadline_;
};

// One git request in flight: the child, what it printed so far, and (receive-pack) the repo lock.
struct GitSession {
  HubServer* hub = nullptr;
  GitRoute route;
  GitChild child;
  std::string early;  // child output not yet sent
  std::shared_ptr<std::mutex> repo_mutex;
  std::unique_lock<std::mutex> repo_guard;  // held for receive-pack
  bool finished = false;

  // Ends the child (killing it if it still runs), re-indexes after a push, releases the lock.
  void finish() {
    if (finished) return;
    finished = true;
    child.kill_and_reap();
    if (child.killed()) log(LogLevel::kWarning, "git " + route.service + " on " + route.owner + "/" + route.name + " was stopped");
    if (route.service == "git-receive-pack" && !route.info_refs) {
      // Refs may have moved even when something failed later: re-derive from what is there.
      if (auto record = hub->meta().find_repo(route.type, route.owner, route.name)) {
        auto git = store::GitRepo::open(hub->data_dir() / record->storage);
        if (git.ok()) hub->reindex(*record, *git);
      }
    }
    if (repo_guard.owns_lock()) repo_guard.unlock();
  }

  ~GitSession() {
    try {
      finish();
    } catch (const std::exception& e) {
      log(LogLevel::kError, std::string("git session cleanup: ") + e.what());
    }
  }
};

// Copies the request body to an unlinked temp file under DATA/repos/tmp; returns its fd,
// positioned at the start. 413 past kMaxPushBytes.
int spool_body(HubServer& hub, Request& req) {
  if (auto len = req.body->content_length(); len && *len > kMaxPushBytes) {
    throw HttpError{413, "push too large (" + std::to_string(*len) + " bytes; the limit is " + std::to_string(kMaxPushBytes) +
                             "): store large files with git-lfs", "", {}};
  }
  const fs::path dir = hub.data_dir() / "repos" / "tmp";
  fs::create_directories(dir);
  std::string tmpl = (dir / "push-XXXXXX").string();
  const int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0) throw Error(Status::io_error("cannot create a temp file in " + dir.string()));
  ::unlink(tmpl.c_str());
  try {
    std::vector<char> buf(1 << 16);
    uint64_t total = 0;
    for (;;) {
      const size_t n = req.body->read(buf.data(), buf.size());
      if (n == 0) break;
      total += n;
      if (total > kMaxPushBytes) throw HttpError{413, "push too large (the limit is " + std::to_string(kMaxPushBytes) + " bytes): store large files with git-lfs", "", {}};
      for (size_t done = 0; done < n;) {
        const ssize_t w = ::write(fd, buf.data() + done, n - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) throw Error(Status::io_error(std::string("cannot spool the push: ") + std::strerror(errno)));
        done += static_cast<size_t>(w);
      }
    }
    if (::lseek(fd, 0, SEEK_SET) != 0) throw Error(Status::io_error("lseek failed"));
  } catch (...) {
    ::close(fd);
    throw;
  }
  return fd;
}

Response serve_git(HubServer& hub, Request& req, const GitRoute& parsed) {
  GitRoute route = parsed;
  if (route.info_refs) {
    route.service = req.param("service").value_or("");
    if (route.service != "git-upload-pack" && route.service != "git-receive-pack") {
      throw HttpError{403, "only git's smart HTTP protocol is supported: use git 1.6.6 or newer", "", {}};
    }
  }
  const bool write = route.service == "git-receive-pack";
  const Caller caller = hub.authenticate(req);
  if (write && !caller.authenticated()) {
    throw HttpError{401, "Authentication required to push: use a hub token with write access as the password", "", {}};
  }
  const RepoHandle repo = hub.require_repo(req, caller, route.type, route.owner, route.name, write ? Access::kWrite : Access::kReadContent);
  route.owner = repo.record.owner;
  route.name = repo.record.name;
  const fs::path hooks = ensure_hooks(hub.data_dir());

  std::vector<std::string> env;
  const char* path_env = std::getenv("PATH");
  env.push_back(std::string("PATH=") + (path_env ? path_env : "/usr/local/bin:/usr/bin:/bin"));
  env.push_back("HOME=" + hub.data_dir().string());
  env.push_back("GIT_CONFIG_NOSYSTEM=1");
  env.push_back("GIT_CONFIG_GLOBAL=/dev/null");
  env.push_back("GIT_TERMINAL_PROMPT=0");
  env.push_back("GIT_PROJECT_ROOT=" + repo.git_dir.parent_path().string());
  env.push_back("PATH_INFO=/" + repo.git_dir.filename().string() + (route.info_refs ? "/info/refs" : "/" + route.service));
  env.push_back("REQUEST_METHOD=" + req.method);
  env.push_back("QUERY_STRING=" + std::string(route.info_refs ? "service=" + route.service : ""));
  env.push_back("GIT_HTTP_EXPORT_ALL=1");
  if (const std::string t = req.header("content-type"); !t.empty()) env.push_back("CONTENT_TYPE=" + env_safe(t));
  if (!route.info_refs) {
    if (auto len = req.body->content_length()) env.push_back("CONTENT_LENGTH=" + std::to_string(*len));
  }
  if (const std::string enc = req.header("content-encoding"); !enc.empty()) env.push_back("HTTP_CONTENT_ENCODING=" + env_safe(enc));
  if (const std::string proto = env_safe(req.header("git-protocol")); !proto.empty()) {
    env.push_back("GIT_PROTOCOL=" + proto);
    env.push_back("HTTP_GIT_PROTOCOL=" + proto);
  }
  if (caller.user) env.push_back("REMOTE_USER=" + caller.user->name);
  env.push_back("MLHUB_LFS_OBJECTS=" + (hub.blobs().root() / "objects").string());
  const std::vector<std::pair<std::string, std::string>> config = {
      {"core.hooksPath", hooks.string()},
      {"http.uploadpack", "true"},
      {"http.receivepack", write ? "true" : "false"},
      {"receive.fsckObjects", "true"},
      {"receive.autogc", "false"},
      {"uploadpack.allowFilter", "true"},
  };
  env.push_back("GIT_CONFIG_COUNT=" + std::to_string(config.size()));
  for (size_t i = 0; i < config.size(); ++i) {
    env.push_back("GIT_CONFIG_KEY_" + std::to_string(i) + "=" + config[i].first);
    env.push_back("GIT_CONFIG_VALUE_" + std::to_string(i) + "=" + config[i].second);
  }

  auto session = std::make_shared<GitSession>();
  session->hub = &hub;
  session->route = route;
  if (write && !route.info_refs) {
    // The push's body goes to an unlinked temp file first; then receive-pack runs on it under
    // the repo lock (held until it ends and the branch is re-indexed).
    const int spool = spool_body(hub, req);
    session->repo_mutex = hub.repo_lock(repo.record.id);
    session->repo_guard = std::unique_lock<std::mutex>(*session->repo_mutex);
    try {
      session->child.start({"git", "http-backend"}, env, spool);
    } catch (...) {
      ::close(spool);
      throw;
    }
    ::close(spool);
  } else {
    session->child.start({"git", "http-backend"}, env);
  }

  // Request body -> stdin (git reads the whole request before it answers; anything it prints
  // meanwhile is kept in `early`).
  if (!route.info_refs && !write) {
    std::vector<char> buf(1 << 16);
    for (;;) {
      const size_t n = req.body->read(buf.data(), buf.size());
      if (n == 0) break;
      if (!session->child.write_in(buf.data(), n, session->early)) break;
    }
  }
  session->child.close_in();

  // The CGI header block.
  size_t header_end = std::string::npos, sep = 0;
  for (;;) {
    if ((header_end = session->early.find("\r\n\r\n")) != std::string::npos) {
      sep = 4;
      break;
    }
    if ((header_end = session->early.find("\n\n")) != std::string::npos) {
      sep = 2;
      break;
    }
    if (session->early.size() > kMaxCgiHeader) throw HttpError{502, "git http-backend sent a malformed answer", "", {}};
    char buf[65536];
    const ssize_t n = session->child.read_out(buf, sizeof buf);
    if (n <= 0) {
      session->child.reap();
      log(LogLevel::kError, "git http-backend for " + repo.record.repo_id() + " ended without an answer: " + session->child.stderr_text());
      throw HttpError{n < 0 ? 504 : 502, "git http-backend ended without an answer", "", {}};
    }
    session->early.append(buf, static_cast<size_t>(n));
  }
  Response res;
  {
    std::istringstream lines(session->early.substr(0, header_end));
    std::string line;
    while (std::getline(lines, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      std::string lname = name;
      for (auto& c : lname) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lname == "status") {
        res.status = std::atoi(value.c_str());
        if (res.status < 100 || res.status > 599) res.status = 502;
      } else if (lname != "content-length" && lname != "transfer-encoding" && lname != "connection") {
        res.set(name, value);
      }
    }
  }
  session->early.erase(0, header_end + sep);

  res.stream = [session](const http::Response::Writer& out) {
    GitSession& s = *session;
    bool client_ok = s.early.empty() || out(s.early.data(), s.early.size());
    s.early.clear();
    std::vector<char> buf(1 << 16);
    while (client_ok) {
      const ssize_t n = s.child.read_out(buf.data(), buf.size());
      if (n <= 0) break;
      client_ok = out(buf.data(), static_cast<size_t>(n));
    }
    if (client_ok) {
      const int status = s.child.reap();
      if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) && !s.child.stderr_text().empty()) {
        log(LogLevel::kWarning, "git " + s.route.service + " on " + s.route.owner + "/" + s.route.name + ": " + s.child.stderr_text());
      }
    }
    s.finish();  // kills the child if the client went away; re-indexes after a push
  };
  return res;
}

}  // namespace

bool is_git_http_request(const Request& req, const std::vector<std::string>& segments) {
  return parse_git_route(req, segments).has_value();
}

Response handle_git_http(HubServer& hub, Request& req, const std::vector<std::string>& segments) {
  auto route = parse_git_route(req, segments);
  if (!route) throw HttpError{404, "Not found: " + req.method + " " + req.path, "", {}};
  try {
    return serve_git(hub, req, *route);
  } catch (const HttpError& e) {
    // git prints a text/plain error body as "remote: ..." lines; a 401 with a Basic challenge
    // makes it ask for credentials (and use the ones in the URL).
    Response r = Response::text(e.status, e.message + "\n");
    if (!e.error_code.empty()) r.set("X-Error-Code", e.error_code);
    for (const auto& h : e.headers) r.set(h.first, h.second);
    if (e.status == 401) r.set("WWW-Authenticate", "Basic realm=\"mlhub\"");
    return r;
  }
}

}  // namespace mlhub::hub
