// Fuzzes the hub's router and every handler behind it with arbitrary requests: the first line
// of the input is "METHOD TARGET", the next lines up to an empty line are headers, the rest is
// the body. A server in a temp folder holds one public repo with a few files and a write token,
// so the fuzzer reaches the read, write, commit and LFS paths. Handlers may reject anything
// (HttpError) but must never crash, leak, or corrupt the repo.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "mlhub/server.h"
#include "server/hub/hub_server.h"

namespace {

class StringBody final : public mlhub::http::BodyReader {
 public:
  explicit StringBody(std::string data) : data_(std::move(data)) {}
  size_t read(char* buf, size_t size) override {
    const size_t n = std::min(size, data_.size() - pos_);
    std::copy(data_.data() + pos_, data_.data() + pos_ + n, buf);
    pos_ += n;
    return n;
  }
  std::optional<uint64_t> content_length() const override { return data_.size(); }

 private:
  std::string data_;
  size_t pos_ = 0;
};

struct Fixture {
  std::filesystem::path dir;
  std::unique_ptr<mlhub::hub::HubServer> hub;
  std::string token;
  Fixture() {
    dir = std::filesystem::temp_directory_path() / ("mlhub-fuzz-hub-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    token = *mlhub::server::init_data_dir(dir);
    hub = std::make_unique<mlhub::hub::HubServer>(dir);
    call("POST", "/api/repos/create", "{\"name\":\"m\",\"organization\":null}");
    call("POST", "/api/models/admin/m/commit/main",
         "{\"key\":\"header\",\"value\":{\"summary\":\"s\"}}\n"
         "{\"key\":\"file\",\"value\":{\"path\":\"README.md\",\"content\":\"LS0tCmxpY2Vuc2U6IG1pdAotLS0K\"}}\n"
         "{\"key\":\"file\",\"value\":{\"path\":\"a/b.txt\",\"content\":\"aGk=\"}}\n");
  }
  ~Fixture() { std::filesystem::remove_all(dir); }
  void call(const std::string& method, const std::string& target, const std::string& body,
            const std::map<std::string, std::string>& headers = {}) {
    mlhub::http::Request req;
    req.method = method;
    req.target = target;
    const size_t q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) req.query = mlhub::http::parse_query(target.substr(q + 1));
    req.headers = headers;
    req.headers["authorization"] = "Bearer " + token;
    req.headers["host"] = "127.0.0.1:1";
    StringBody reader(body);
    req.body = &reader;
    try {
      hub->handle(req);
    } catch (const mlhub::http::HttpError&) {
    } catch (const mlhub::Error&) {
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* fixture = [] {
    setenv("MLHUB_LOG", "off", 0);
    auto* f = new Fixture();
    std::atexit([] {});
    return f;
  }();
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t line_end = input.find('\n');
  const std::string first = input.substr(0, line_end);
  const size_t space = first.find(' ');
  if (space == std::string::npos) return 0;
  std::map<std::string, std::string> headers;
  size_t pos = line_end == std::string::npos ? input.size() : line_end + 1;
  while (pos < input.size()) {
    const size_t end = input.find('\n', pos);
    const std::string line = input.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    pos = end == std::string::npos ? input.size() : end + 1;
    if (line.empty()) break;
    const size_t colon = line.find(':');
    if (colon != std::string::npos) headers[line.substr(0, colon)] = line.substr(colon + 1);
  }
  std::string target = first.substr(space + 1);
  if (target.empty() || target[0] != '/') target = "/" + target;
  // Never let the fuzzer move or delete the fixture repo away for good: those calls still run.
  fixture->call(first.substr(0, space), target, input.substr(pos), headers);
  return 0;
}
