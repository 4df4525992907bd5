// The HTTP transport of mlhub's servers: a blocking HTTP/1.1 server (one thread per
// connection, keep-alive, poll()-based timeouts) built on Boost.Beast's parser and serializer.
//
// Why blocking threads and not an async event loop: every hub handler blocks on disk, git and
// SQLite anyway, request bodies are streamed straight into the blob store or the git object
// database, and large downloads go out with sendfile(2). A thread per connection keeps each
// handler a straight line; the connection cap bounds memory (docs/hub.md).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mlhub::http {

// An error a handler throws to answer with `status` and a JSON body {"error": message}; the
// Hub's X-Error-Code / X-Error-Message headers are set from `error_code` and `message`.
struct HttpError {
  int status = 500;
  std::string message;
  std::string error_code;  // e.g. "RepoNotFound"; empty = none
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (X-Repo-Commit, ...)
};

// Reads the request body in chunks (already de-chunked). Throws HttpError (413) past `limit`,
// and HttpError (400) when the client sends a broken body or disconnects.
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  // Reads up to `size` bytes into `buf`; 0 at the end of the body.
  virtual size_t read(char* buf, size_t size) = 0;
  // The whole body as a string; HttpError 413 when it is longer than `limit` bytes.
  std::string read_all(size_t limit);
  // The Content-Length the client announced, if any.
  virtual std::optional<uint64_t> content_length() const = 0;
};

struct Request {
  std::string method;     // "GET", "HEAD", ...
  std::string target;     // as received: path + "?" + query, still percent-encoded
  std::string path;       // the target's path part, still percent-encoded
  std::string query_string;
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::map<std::string, std::string> headers;              // lowercase names
  BodyReader* body = nullptr;
  // Whether the client has closed its side of the connection (it hung up while the handler
  // works): long handlers poll it to stop work nobody waits for. Meaningful once the body has
  // been read; always false when not set (tests building Requests by hand).
  std::function<bool()> client_gone;

  // The header's value or "".
  std::string header(std::string_view lowercase_name) const;
  // The first value of a query parameter (also `name[]`), or nullopt.
  std::optional<std::string> param(std::string_view name) const;
  // Every value of a repeated query parameter (`name` and `name[]`).
  std::vector<std::string> params(std::string_view name) const;
  // A boolean query parameter: true/True/1/yes (case-insensitive) are true.
  bool flag(std::string_view name) const;
  bool gone() const { return client_gone && client_gone(); }
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // the body, unless `file` is set
  // A file region to send (with sendfile) instead of `body`.
  struct FileRegion {
    std::filesystem::path path;
    uint64_t offset = 0;
    uint64_t length = 0;
  };
  std::optional<FileRegion> file;
  // Length announced for HEAD responses (the length GET would send); nullopt = body size.
  std::optional<uint64_t> head_length;
  // A body of unknown length produced while it is sent (Transfer-Encoding: chunked), instead
  // of `body`/`file`: called once, after the headers went out, with `write`, which returns false
  // once the client is gone (the producer should then stop). Used to relay a child process's
  // output (git smart HTTP). Not called for HEAD. Throwing from it closes the connection.
  using Writer = std::function<bool(const char* data, size_t size)>;
  std::function<void(const Writer& write)> stream;

  void set(std::string name, std::string value);
  static Response json(int status, const std::string& json_text);
  static Response text(int status, std::string text, std::string content_type = "text/plain; charset=utf-8");
};

using Handler = std::function<Response(Request&)>;

struct ListenOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                 // 0 = any free port
  size_t max_connections = 512;    // beyond this, new connections get 503 and are closed
  int idle_timeout_ms = 60'000;    // keep-alive idle and per-read/write stall limit
  size_t max_header_bytes = 64 * 1024;
};

// A listening socket and its accept loop.
class Server {
 public:
  explicit Server(ListenOptions options, Handler handler);
  ~Server();
  // Binds and listens; returns the bound port (useful with port 0). Throws std::runtime_error.
  int bind();
  // Accepts connections until stop() is called; each connection runs on its own thread. After
  // stop(), waits up to 2 s for open connections to finish their request.
  void run();
  // Makes run() return (from a signal handler-safe context: it only writes to a pipe).
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;  // shared with the connection threads
};

// ---- URL helpers -------------------------------------------------------------------------

// Percent-decodes; '+' stays '+' (paths). Invalid escapes are kept as-is.
std::string percent_decode(std::string_view s);
// Percent-encodes everything except unreserved characters, and '/' when keep_slash.
std::string percent_encode(std::string_view s, bool keep_slash = false);
// Parses "a=1&b=2" (form or query: '+' means space).
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query);
// Splits a raw path into its segments (still encoded), dropping the leading '/'.
std::vector<std::string> split_path(std::string_view path);

}  // namespace mlhub::http
