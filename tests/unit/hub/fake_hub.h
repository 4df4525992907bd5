// A scripted HTTP/1.0 server on loopback for the hub client tests: each request (one per
// connection) is answered by a handler. Not a hub: the tests script exactly what they need.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace mlhub::hub::testing {

struct FakeRequest {
  std::string method, path;
  std::map<std::string, std::string> headers;  // lowercase names
};

struct FakeReply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool send_body = true;  // false for HEAD (Content-Length still describes `body`)
};

class FakeHub {
 public:
  explicit FakeHub(std::function<FakeReply(const FakeRequest&)> handler)
      : handler_(std::move(handler)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    ::listen(fd_, 16);
    thread_ = std::thread([this] { loop(); });
  }
  ~FakeHub() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<FakeRequest> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

 private:
  void loop() {
    while (true) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string req;
      char buf[4096];
      while (req.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      FakeRequest r;
      const size_t sp1 = req.find(' '), sp2 = req.find(' ', sp1 + 1);
      r.method = req.substr(0, sp1);
      r.path = req.substr(sp1 + 1, sp2 - sp1 - 1);
      size_t pos = req.find("\r\n") + 2;
      while (pos < req.size()) {
        const size_t end = req.find("\r\n", pos);
        if (end == std::string::npos || end == pos) break;
        const std::string line = req.substr(pos, end - pos);
        const size_t colon = line.find(':');
        if (colon != std::string::npos) {
          std::string name = line.substr(0, colon);
          for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
          r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
        }
        pos = end + 2;
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        seen_.push_back(r);
      }
      FakeReply reply = handler_(r);
      std::string out = "HTTP/1.0 " + std::to_string(reply.status) + " X\r\n";
      bool has_length = false;
      for (const auto& [k, v] : reply.headers) {
        out += k + ": " + v + "\r\n";
        if (k == "Content-Length") has_length = true;
      }
      if (!has_length) out += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
      out += "\r\n";
      if (r.method != "HEAD" && reply.send_body) out += reply.body;
      ::send(c, out.data(), out.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }
  std::function<FakeReply(const FakeRequest&)> handler_;
  int fd_ = -1;
  int port_ = 0;
  std::mutex mu_;
  std::vector<FakeRequest> seen_;
  std::thread thread_;
};

}  // namespace mlhub::hub::testing
