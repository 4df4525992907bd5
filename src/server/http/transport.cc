// Sockets, the accept loop, and one HTTP/1.1 keep-alive loop per connection.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <thread>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http.hpp>

#include "mlhub/core.h"
#include "server/http/http.h"

namespace mlhub::http {
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using boost::system::error_code;

namespace {

// A connected non-blocking socket that Beast reads and writes synchronously; every wait is a
// poll() bounded by the idle timeout, so a stalled client cannot hold a thread forever.
class TimedSocket {
 public:
  TimedSocket(int fd, int timeout_ms) : fd_(fd), timeout_ms_(timeout_ms) {}
  int fd() const { return fd_; }

  // The non-empty buffers of a Beast/Asio buffer sequence as iovecs (at most 16).
  template <class Buffer, class Buffers>
  static int gather(const Buffers& buffers, iovec (&iov)[16]) {
    int n = 0;
    for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers) && n < 16; ++it) {
      Buffer b(*it);
      if (b.size() != 0) iov[n++] = iovec{const_cast<void*>(static_cast<const void*>(b.data())), b.size()};
    }
    return n;
  }

  bool wait(short events, error_code& ec) const {
    pollfd p{fd_, events, 0};
    for (;;) {
      const int r = ::poll(&p, 1, timeout_ms_);
      if (r > 0) return true;
      if (r == 0) {
        ec = beast::error::timeout;
        return false;
      }
      if (errno != EINTR) {
        ec = error_code(errno, boost::system::system_category());
        return false;
      }
    }
  }

  template <class Buffers>
  size_t read_some(const Buffers& buffers, error_code& ec) {
    ec = {};
    iovec iov[16];
    const int n = gather<boost::asio::mutable_buffer>(buffers, iov);
    if (n == 0) return 0;
    for (;;) {
      const ssize_t r = ::readv(fd_, iov, n);
      if (r > 0) return static_cast<size_t>(r);
      if (r == 0) {
        ec = boost::asio::error::eof;
        return 0;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        ec = error_code(errno, boost::system::system_category());
        return 0;
      }
      if (!wait(POLLIN, ec)) return 0;
    }
  }
  template <class Buffers>
  size_t read_some(const Buffers& buffers) {
    error_code ec;
    const size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

  template <class Buffers>
  size_t write_some(const Buffers& buffers, error_code& ec) {
    ec = {};
    iovec iov[16];
    const int n = gather<boost::asio::const_buffer>(buffers, iov);
    if (n == 0) return 0;
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(n);
    for (;;) {
      const ssize_t r = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
      if (r >= 0) return static_cast<size_t>(r);
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        ec = error_code(errno, boost::system::system_category());
        return 0;
      }
      if (!wait(POLLOUT, ec)) return 0;
    }
  }
  template <class Buffers>
  size_t write_some(const Buffers& buffers) {
    error_code ec;
    const size_t n = write_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

  // Sends [offset, offset + length) of `file_fd` with sendfile(2). False on a socket error.
  bool send_file(int file_fd, uint64_t offset, uint64_t length) {
    off_t off = static_cast<off_t>(offset);
    uint64_t left = length;
    while (left > 0) {
      const size_t chunk = static_cast<size_t>(std::min<uint64_t>(left, 1u << 30));
      const ssize_t r = ::sendfile(fd_, file_fd, &off, chunk);
      if (r > 0) {
        left -= static_cast<uint64_t>(r);
        continue;
      }
      if (r == 0) return false;  // the file shrank
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
      error_code ec;
      if (!wait(POLLOUT, ec)) return false;
    }
    return true;
  }

 private:
  int fd_;
  int timeout_ms_;
};

using Parser = bhttp::request_parser<bhttp::buffer_body>;

class ParserBodyReader final : public BodyReader {
 public:
  ParserBodyReader(TimedSocket& socket, beast::flat_buffer& buffer, Parser& parser)
      : socket_(socket), buffer_(buffer), parser_(parser) {}

  size_t read(char* buf, size_t size) override {
    if (parser_.is_done() || size == 0) return 0;
    parser_.get().body().data = buf;
    parser_.get().body().size = size;
    error_code ec;
    bhttp::read(socket_, buffer_, parser_, ec);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) {
      failed_ = true;
      throw HttpError{400, "could not read the request body: " + ec.message(), "", {}};
    }
    return size - parser_.get().body().size;
  }

  std::optional<uint64_t> content_length() const override {
    auto len = parser_.content_length();
    if (len) return *len;
    return std::nullopt;
  }

  bool failed() const { return failed_; }

 private:
  TimedSocket& socket_;
  beast::flat_buffer& buffer_;
  Parser& parser_;
  bool failed_ = false;
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string json_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

// Header values must not carry CR/LF (they come from error messages that may quote input).
std::string header_safe(std::string_view s) {
  std::string out;
  for (char c : s) out += (c == '\r' || c == '\n' || static_cast<unsigned char>(c) < 0x20) ? ' ' : c;
  if (out.size() > 1000) out.resize(1000);
  return out;
}

Response error_response(const HttpError& e) {
  Response r = Response::json(e.status, "{\"error\":\"" + json_escape(e.message) + "\"}");
  if (!e.error_code.empty()) r.set("X-Error-Code", e.error_code);
  if (!e.message.empty()) r.set("X-Error-Message", header_safe(e.message));
  for (const auto& h : e.headers) r.set(h.first, h.second);
  return r;
}

bool write_all(TimedSocket& socket, const char* data, size_t size) {
  error_code ec;
  size_t sent = 0;
  while (sent < size) {
    const size_t n = socket.write_some(boost::asio::const_buffer(data + sent, size - sent), ec);
    if (ec) return false;
    sent += n;
  }
  return true;
}

// Sends a streamed body as HTTP/1.1 chunks; false when the client went away or the producer
// failed (the message is then incomplete, so the connection must close).
bool write_chunked(TimedSocket& socket, Response& res) {
  bool ok = true;
  const Response::Writer write = [&](const char* data, size_t size) {
    if (!ok) return false;
    if (size == 0) return true;
    char head[24];
    const int n = std::snprintf(head, sizeof head, "%zx\r\n", size);
    ok = write_all(socket, head, static_cast<size_t>(n)) && write_all(socket, data, size) && write_all(socket, "\r\n", 2);
    return ok;
  };
  try {
    res.stream(write);
  } catch (const std::exception& e) {
    log(LogLevel::kError, std::string("streamed response failed: ") + e.what());
    return false;
  }
  return ok && write_all(socket, "0\r\n\r\n", 5);
}

// Writes the response; returns false when the connection must be closed.
bool write_response(TimedSocket& socket, const Request& req, Response& res, bool keep_alive, bool http10 = false) {
  const bool head = req.method == "HEAD";
  bhttp::response<bhttp::empty_body> msg;
  msg.version(11);
  msg.result(static_cast<unsigned>(res.status));
  msg.set(bhttp::field::server, "mlhub");
  bool has_type = false;
  for (const auto& [name, value] : res.headers) {
    msg.insert(name, value);
    if (lower(name) == "content-type") has_type = true;
  }
  if (!has_type && (res.file || res.stream || !res.body.empty())) msg.set(bhttp::field::content_type, "application/octet-stream");
  uint64_t length = res.file ? res.file->length : res.body.size();
  if (head && res.head_length) length = *res.head_length;
  const bool no_body_status = res.status == 204 || res.status == 304 || (res.status >= 100 && res.status < 200);
  const bool chunked = res.stream && !no_body_status;
  if (chunked) {
    msg.set(bhttp::field::transfer_encoding, "chunked");
  } else if (!no_body_status) {
    msg.set(bhttp::field::content_length, std::to_string(length));
  }
  msg.keep_alive(keep_alive);
  // HTTP/1.1 implies keep-alive, but an HTTP/1.0 client (ab -k) needs to be told.
  if (http10 && keep_alive) msg.set(bhttp::field::connection, "keep-alive");
  bhttp::response_serializer<bhttp::empty_body> sr(msg);
  error_code ec;
  bhttp::write_header(socket, sr, ec);
  if (ec) return false;
  if (head || no_body_status) return keep_alive;
  if (chunked) return write_chunked(socket, res) && keep_alive;
  if (res.file) {
    const int fd = ::open(res.file->path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    const bool ok = socket.send_file(fd, res.file->offset, res.file->length);
    ::close(fd);
    return ok && keep_alive;
  }
  size_t sent = 0;
  while (sent < res.body.size()) {
    const size_t n = socket.write_some(boost::asio::const_buffer(res.body.data() + sent, res.body.size() - sent), ec);
    if (ec) return false;
    sent += n;
  }
  return keep_alive;
}

void serve_connection(int fd, const ListenOptions& options, const Handler& handler) {
  TimedSocket socket(fd, options.idle_timeout_ms);
  beast::flat_buffer buffer;
  for (;;) {
    Parser parser;
    parser.header_limit(static_cast<uint32_t>(options.max_header_bytes));
    parser.body_limit(std::numeric_limits<uint64_t>::max());
    error_code ec;
    bhttp::read_header(socket, buffer, parser, ec);
    if (ec) {
      if (ec != bhttp::error::end_of_stream && ec != boost::asio::error::eof && ec != beast::error::timeout &&
          ec != boost::asio::error::connection_reset) {
        Request bad;
        bad.method = "GET";
        Response r = error_response(HttpError{400, "malformed HTTP request: " + ec.message(), "", {}});
        write_response(socket, bad, r, false);
      }
      return;
    }
    auto& msg = parser.get();
    Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    const size_t q = req.target.find('?');
    req.path = req.target.substr(0, q);
    if (q != std::string::npos) {
      req.query_string = req.target.substr(q + 1);
      req.query = parse_query(req.query_string);
    }
    for (const auto& field : msg) req.headers[lower(std::string(field.name_string()))] = std::string(field.value());
    if (lower(req.header("expect")) == "100-continue") {
      static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      socket.write_some(boost::asio::const_buffer(kContinue, sizeof kContinue - 1), ec);
      if (ec) return;
    }
    ParserBodyReader body(socket, buffer, parser);
    req.body = &body;
    req.client_gone = [fd, &parser] {
      // Only once the whole request is read: before that, readable bytes are its body.
      if (!parser.is_done()) return false;
      pollfd p{fd, static_cast<short>(POLLIN | POLLRDHUP), 0};
      if (::poll(&p, 1, 0) <= 0) return false;
      if (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) return true;
      char c;
      // Readable: either a pipelined next request (still here) or EOF (gone).
      return ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
    };
    bool keep_alive = msg.keep_alive();
    Response res;
    try {
      res = handler(req);
    } catch (const HttpError& e) {
      res = error_response(e);
    } catch (const std::exception& e) {
      log(LogLevel::kError, std::string("handler failed: ") + e.what());
      res = error_response(HttpError{500, "internal error", "", {}});
    }
    if (body.failed()) return;
    // Drain what the handler did not read, so the next request starts at a message boundary;
    // a large unread body is not worth reading: close instead.
    if (!parser.is_done()) {
      const auto len = parser.content_length();
      if (!len || *len > (1u << 20)) {
        keep_alive = false;
      } else {
        char sink[16384];
        try {
          while (body.read(sink, sizeof sink) > 0) {
          }
        } catch (const HttpError&) {
          return;
        }
      }
    }
    if (!write_response(socket, req, res, keep_alive, msg.version() == 10)) return;
  }
}

}  // namespace

std::string BodyReader::read_all(size_t limit) {
  std::string out;
  if (auto len = content_length(); len && *len > limit) {
    throw HttpError{413, "request body too large (" + std::to_string(*len) + " bytes; the limit is " + std::to_string(limit) + ")", "", {}};
  }
  char buf[65536];
  for (;;) {
    const size_t n = read(buf, sizeof buf);
    if (n == 0) break;
    if (out.size() + n > limit) {
      throw HttpError{413, "request body too large (the limit is " + std::to_string(limit) + " bytes)", "", {}};
    }
    out.append(buf, n);
  }
  return out;
}

std::string Request::header(std::string_view name) const {
  auto it = headers.find(std::string(name));
  return it == headers.end() ? std::string() : it->second;
}

std::optional<std::string> Request::param(std::string_view name) const {
  const std::string bracket = std::string(name) + "[]";
  for (const auto& [k, v] : query) {
    if (k == name || k == bracket) return v;
  }
  return std::nullopt;
}

std::vector<std::string> Request::params(std::string_view name) const {
  const std::string bracket = std::string(name) + "[]";
  std::vector<std::string> out;
  for (const auto& [k, v] : query) {
    if (k == name || k == bracket) out.push_back(v);
  }
  return out;
}

bool Request::flag(std::string_view name) const {
  auto v = param(name);
  if (!v) return false;
  const std::string l = lower(*v);
  return l == "true" || l == "1" || l == "yes";
}

void Response::set(std::string name, std::string value) {
  const std::string key = lower(name);
  for (auto& h : headers) {
    if (lower(h.first) == key) {
      h.second = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

Response Response::json(int status, const std::string& json_text) {
  Response r;
  r.status = status;
  r.body = json_text;
  r.set("Content-Type", "application/json; charset=utf-8");
  return r;
}

Response Response::text(int status, std::string text, std::string content_type) {
  Response r;
  r.status = status;
  r.body = std::move(text);
  r.set("Content-Type", std::move(content_type));
  return r;
}

struct Server::Impl {
  ListenOptions options;
  Handler handler;
  int listen_fd = -1;
  int stop_pipe[2] = {-1, -1};
  std::atomic<size_t> active{0};
};

Server::Server(ListenOptions options, Handler handler) : impl_(std::make_shared<Impl>()) {
  impl_->options = std::move(options);
  impl_->handler = std::move(handler);
  if (::pipe2(impl_->stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("pipe failed");
}

Server::~Server() {
  if (impl_->listen_fd >= 0) ::close(impl_->listen_fd);
  ::close(impl_->stop_pipe[0]);
  ::close(impl_->stop_pipe[1]);
}

int Server::bind() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(impl_->options.port);
  if (int rc = ::getaddrinfo(impl_->options.host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    throw std::runtime_error("cannot resolve " + impl_->options.host + ": " + gai_strerror(rc));
  }
  int fd = -1;
  std::string last_error = "no address";
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, 1024) == 0) break;
    last_error = std::strerror(errno);
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  if (fd < 0) throw std::runtime_error("cannot listen on " + impl_->options.host + ":" + port + ": " + last_error);
  impl_->listen_fd = fd;
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
}

void Server::run() {
  std::shared_ptr<Impl> impl = impl_;
  pollfd fds[2] = {{impl->listen_fd, POLLIN, 0}, {impl->stop_pipe[0], POLLIN, 0}};
  for (;;) {
    const int r = ::poll(fds, 2, -1);
    if (r < 0 && errno == EINTR) continue;
    if (fds[1].revents) {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::min(impl->options.idle_timeout_ms + 1000, 2000));
      while (impl->active.load() > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      return;
    }
    if (!(fds[0].revents & POLLIN)) continue;
    const int fd = ::accept4(impl->listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (impl->active.load() >= impl->options.max_connections) {
      static constexpr char kBusy[] =
          "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
          "Connection: close\r\nContent-Length: 38\r\n\r\n{\"error\":\"too many open connections\"}\n";
      [[maybe_unused]] ssize_t n = ::send(fd, kBusy, sizeof kBusy - 1, MSG_NOSIGNAL);
      ::close(fd);
      continue;
    }
    impl->active.fetch_add(1);
    std::thread([impl, fd] {
      serve_connection(fd, impl->options, impl->handler);
      ::close(fd);
      impl->active.fetch_sub(1);
    }).detach();
  }
}

void Server::stop() {
  const char c = 'x';
  [[maybe_unused]] ssize_t n = ::write(impl_->stop_pipe[1], &c, 1);
}

}  // namespace mlhub::http
