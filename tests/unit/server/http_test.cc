// The HTTP transport over real loopback sockets: keep-alive, chunked bodies, 100-continue,
// HEAD lengths, file regions (sendfile), limits, malformed requests and stalled clients.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "server/http/http.h"

namespace mlhub::http {
namespace {

class HttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = std::filesystem::temp_directory_path() / ("mlhub-http-" + std::to_string(::getpid()) + ".bin");
    std::ofstream(file_) << "0123456789abcdef";
    ListenOptions opts;
    opts.port = 0;
    opts.idle_timeout_ms = 300;
    opts.max_header_bytes = 4096;
    server_ = std::make_unique<Server>(opts, [this](Request& req) { return handle(req); });
    port_ = server_->bind();
    thread_ = std::thread([this] { server_->run(); });
  }
  void TearDown() override {
    server_->stop();
    thread_.join();
    std::filesystem::remove(file_);
  }

  Response handle(Request& req) {
    if (req.path == "/echo") {
      const std::string body = req.body->read_all(64);
      return Response::text(200, req.method + " " + body + " " + req.param("q").value_or("-"));
    }
    if (req.path == "/file") {
      Response r;
      r.file = Response::FileRegion{file_, 2, 5};
      r.head_length = 5;
      return r;
    }
    if (req.path == "/error") throw HttpError{404, "no \"such\"\nthing", "EntryNotFound", {{"X-Repo-Commit", "abc"}}};
    if (req.path == "/boom") throw std::runtime_error("bug");
    return Response::text(200, "hello");
  }

  int connect_socket() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    return fd;
  }
  static void send_all(int fd, const std::string& data) {
    ASSERT_EQ(::send(fd, data.data(), data.size(), MSG_NOSIGNAL), static_cast<ssize_t>(data.size()));
  }
  // Reads until `count` responses are complete (by Content-Length) or the peer closes.
  static std::string read_responses(int fd, int count, int timeout_ms = 2000) {
    std::string out;
    char buf[4096];
    for (;;) {
      int complete = 0;
      size_t pos = 0;
      while (true) {
        const size_t end = out.find("\r\n\r\n", pos);
        if (end == std::string::npos) break;
        size_t len = 0;
        const size_t cl = out.find("Content-Length: ", pos);
        if (cl != std::string::npos && cl < end) len = std::stoul(out.substr(cl + 16));
        if (out.find("HEAD-REQ") != std::string::npos) len = 0;
        if (out.size() < end + 4 + len) break;
        pos = end + 4 + len;
        ++complete;
      }
      if (complete >= count) return out;
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) return out;
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return out;
      out.append(buf, static_cast<size_t>(n));
    }
  }

  std::filesystem::path file_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  int port_ = 0;
};

TEST_F(HttpTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  const int fd = connect_socket();
  send_all(fd, "GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /echo?q=%41+b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
  const std::string out = read_responses(fd, 2);
  ::close(fd);
  EXPECT_NE(out.find("hello"), std::string::npos) << out;
  EXPECT_NE(out.find("POST abc A b"), std::string::npos) << out;
}

TEST_F(HttpTest, Http10KeepAliveIsAnnounced) {
  const int fd = connect_socket();
  send_all(fd, "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  const std::string out = read_responses(fd, 2);
  ::close(fd);
  EXPECT_NE(out.find("Connection: keep-alive\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("hello"), out.rfind("hello")) << out;  // both requests answered on one connection
}

TEST_F(HttpTest, ChunkedBodiesAndExpectContinue) {
  const int fd = connect_socket();
  send_all(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n");
  const std::string interim = read_responses(fd, 0, 500);
  send_all(fd, "2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n");
  const std::string out = interim + read_responses(fd, 2);
  ::close(fd);
  EXPECT_NE(out.find("100 Continue"), std::string::npos) << out;
  EXPECT_NE(out.find("POST hello -"), std::string::npos) << out;
}

TEST_F(HttpTest, FileRegionsAndHeadLengths) {
  const int fd = connect_socket();
  send_all(fd, "GET /file HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string out = read_responses(fd, 1);
  EXPECT_NE(out.find("Content-Length: 5\r\n"), std::string::npos) << out;
  EXPECT_EQ(out.substr(out.size() - 5), "23456");
  send_all(fd, "HEAD /file HTTP/1.1\r\nHost: x\r\nX-Tag: HEAD-REQ\r\n\r\n");
  pollfd p{fd, POLLIN, 0};
  ASSERT_GT(::poll(&p, 1, 2000), 0);
  char buf[1024];
  const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  ASSERT_GT(n, 0);
  const std::string head(buf, static_cast<size_t>(n));
  ::close(fd);
  EXPECT_NE(head.find("Content-Length: 5\r\n"), std::string::npos) << head;
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");  // no body after a HEAD
}

TEST_F(HttpTest, ErrorsBecomeJsonWithHubHeaders) {
  const int fd = connect_socket();
  send_all(fd, "GET /error HTTP/1.1\r\nHost: x\r\n\r\nGET /boom HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string out = read_responses(fd, 2);
  ::close(fd);
  EXPECT_NE(out.find("HTTP/1.1 404"), std::string::npos);
  EXPECT_NE(out.find("X-Error-Code: EntryNotFound"), std::string::npos);
  EXPECT_NE(out.find("X-Error-Message: no \"such\" thing"), std::string::npos) << out;  // no header injection
  EXPECT_NE(out.find("X-Repo-Commit: abc"), std::string::npos);
  EXPECT_NE(out.find("{\"error\":\"no \\\"such\\\"\\nthing\"}"), std::string::npos) << out;
  EXPECT_NE(out.find("HTTP/1.1 500"), std::string::npos);
  EXPECT_EQ(out.find("bug"), std::string::npos);  // internal details stay in the log
}

TEST_F(HttpTest, OversizeBodyIs413AndMalformedRequestIs400) {
  int fd = connect_socket();
  send_all(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'x'));
  std::string out = read_responses(fd, 1);
  ::close(fd);
  EXPECT_NE(out.find("HTTP/1.1 413"), std::string::npos) << out;
  fd = connect_socket();
  send_all(fd, "NOT HTTP AT ALL\r\n\r\n");
  out = read_responses(fd, 1);
  ::close(fd);
  EXPECT_NE(out.find("HTTP/1.1 400"), std::string::npos) << out;
  fd = connect_socket();
  send_all(fd, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(8000, 'a') + "\r\n\r\n");
  out = read_responses(fd, 1);
  ::close(fd);
  EXPECT_NE(out.find("HTTP/1.1 400"), std::string::npos) << out.substr(0, 100);
}

TEST_F(HttpTest, StalledClientIsDisconnectedAfterTheIdleTimeout) {
  const int fd = connect_socket();
  send_all(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");  // 7 bytes never come
  const auto start = std::chrono::steady_clock::now();
  const std::string out = read_responses(fd, 1, 3000);
  const auto waited = std::chrono::steady_clock::now() - start;
  ::close(fd);
  EXPECT_LT(waited, std::chrono::seconds(2));
  EXPECT_EQ(out.find("POST abc"), std::string::npos);  // the handler never saw a complete body
}

TEST(Url, PercentCodingAndQueries) {
  EXPECT_EQ(percent_decode("refs%2Fpr%2F1"), "refs/pr/1");
  EXPECT_EQ(percent_decode("a+b%zz%4"), "a+b%zz%4");
  EXPECT_EQ(percent_encode("a b/c~"), "a%20b%2Fc~");
  EXPECT_EQ(percent_encode("a b/c", true), "a%20b/c");
  const auto q = parse_query("filter=a&filter=b%3Ac&x&expand%5B%5D=likes&s=a+b");
  ASSERT_EQ(q.size(), 5u);
  EXPECT_EQ(q[1].second, "b:c");
  EXPECT_EQ(q[2].first, "x");
  EXPECT_EQ(q[3].first, "expand[]");
  EXPECT_EQ(q[4].second, "a b");
  const auto seg = split_path("/api/models/a/b/tree/main/x%2Fy");
  ASSERT_EQ(seg.size(), 7u);
  EXPECT_EQ(seg[6], "x%2Fy");
}

}  // namespace
}  // namespace mlhub::http
