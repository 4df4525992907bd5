// Hub client configuration from the environment (as huggingface_hub/constants.py reads it), repo
// names, URL building and the token file.
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "hub/internal.h"

namespace mlhub::hub {
namespace {

std::string env_or(const char* name, const std::string& fallback = "") {
  const char* v = std::getenv(name);
  return v ? std::string(v) : fallback;
}

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (!v) return std::nullopt;
  return std::string(v);
}

std::optional<std::string> read_token_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return internal::clean_token(ss.str());
}

}  // namespace

std::string_view repo_type_name(RepoType type) {
  switch (type) {
    case RepoType::kDataset: return "dataset";
    case RepoType::kSpace: return "space";
    case RepoType::kModel: break;
  }
  return "model";
}

Result<RepoType> parse_repo_type(std::string_view name) {
  if (name == "model" || name == "models") return RepoType::kModel;
  if (name == "dataset" || name == "datasets") return RepoType::kDataset;
  if (name == "space" || name == "spaces") return RepoType::kSpace;
  return Status::invalid_argument("unknown repo type \"" + std::string(name) +
                                  "\" (expected model, dataset or space)");
}

HubConfig HubConfig::from_env() {
  HubConfig c;
  std::string endpoint = env_or("HF_ENDPOINT", "https://huggingface.co");
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  c.endpoint = endpoint;
  const std::string home = env_or("HOME", "/");
  const std::string xdg = env_or("XDG_CACHE_HOME", home + "/.cache");
  c.hf_home = internal::expand_user(env_or("HF_HOME", xdg + "/huggingface"));
  const std::string legacy_cache = env_or("HUGGINGFACE_HUB_CACHE", c.hf_home + "/hub");
  c.cache_dir = internal::expand_user(env_or("HF_HUB_CACHE", legacy_cache));
  c.token_path = internal::expand_user(env_or("HF_TOKEN_PATH", c.hf_home + "/token"));
  // HF_TOKEN wins, then the legacy HUGGING_FACE_HUB_TOKEN, then the token file.
  std::optional<std::string> t = env("HF_TOKEN");
  if (!t || t->empty()) t = env("HUGGING_FACE_HUB_TOKEN");
  c.token = t ? internal::clean_token(*t) : std::nullopt;
  if (!c.token) c.token = read_token_file(c.token_path);
  std::optional<std::string> offline = env("HF_HUB_OFFLINE");
  if (!offline || offline->empty()) offline = env("TRANSFORMERS_OFFLINE");
  c.offline = offline && internal::is_truthy(*offline);
  return c;
}

Status save_token(const HubConfig& config, std::string_view token, std::string_view token_name) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path path(config.token_path);
  fs::create_directories(path.parent_path(), ec);
  // stored_tokens: an INI file as Python's configparser writes it, sections sorted by name.
  const fs::path stored = path.parent_path() / "stored_tokens";
  std::map<std::string, std::string> tokens;
  {
    std::ifstream in(stored);
    std::string line, section;
    while (std::getline(in, line)) {
      if (line.size() > 2 && line.front() == '[' && line.back() == ']') {
        section = line.substr(1, line.size() - 2);
      } else if (!section.empty() && line.rfind("hf_token", 0) == 0) {
        const size_t eq = line.find_first_of("=:");
        if (eq == std::string::npos) continue;
        std::string v = line.substr(eq + 1);
        const size_t b = v.find_first_not_of(" \t");
        tokens[section] = b == std::string::npos ? "" : v.substr(b);
      }
    }
  }
  tokens[std::string(token_name)] = std::string(token);
  auto write_private = [](const fs::path& p, const std::string& content) -> Status {
    const fs::path tmp = p.string() + ".tmp" + std::to_string(::getpid());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) return Status::io_error("cannot write " + p.string());
    const bool ok = ::write(fd, content.data(), content.size()) ==
                    static_cast<ssize_t>(content.size());
    ::close(fd);
    std::error_code e;
    if (ok) fs::rename(tmp, p, e);
    if (!ok || e) {
      fs::remove(tmp, e);
      return Status::io_error("cannot write " + p.string());
    }
    return Status();
  };
  std::string ini;
  for (const auto& [name, value] : tokens) ini += "[" + name + "]\nhf_token = " + value + "\n\n";
  Status s = write_private(stored, ini);
  if (!s.ok()) return s;
  return write_private(path, std::string(token));
}

namespace internal {

bool is_truthy(std::string_view value) {
  std::string up;
  for (char ch : value) up += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return up == "1" || up == "ON" || up == "YES" || up == "TRUE";
}

std::optional<std::string> clean_token(std::string_view token) {
  std::string t;
  for (char ch : token) {
    if (ch != '\r' && ch != '\n') t += ch;
  }
  const size_t b = t.find_first_not_of(" \t\f\v");
  if (b == std::string::npos) return std::nullopt;
  const size_t e = t.find_last_not_of(" \t\f\v");
  return t.substr(b, e - b + 1);
}

std::string expand_user(const std::string& path) {
  if (path == "~" || path.rfind("~/", 0) == 0) return env_or("HOME", "/") + path.substr(1);
  return path;
}

std::string quote(std::string_view s, std::string_view safe) { return percent_encode(s, safe); }

bool is_commit_hash(std::string_view s) { return is_lower_hex(s, 40); }

Status validate_repo_id(std::string_view repo_id) {
  auto bad = [&](const std::string& why) {
    return Status::invalid_argument("invalid repo id \"" + std::string(repo_id) + "\": " + why);
  };
  if (repo_id.empty()) return bad("empty");
  const size_t slash = repo_id.find('/');
  if (slash != std::string_view::npos && repo_id.find('/', slash + 1) != std::string_view::npos) {
    return bad("expected \"namespace/name\" or \"name\"");
  }
  const std::string_view parts[2] = {
      slash == std::string_view::npos ? std::string_view() : repo_id.substr(0, slash),
      slash == std::string_view::npos ? repo_id : repo_id.substr(slash + 1)};
  for (int i = 0; i < 2; ++i) {
    const std::string_view p = parts[i];
    if (i == 0 && slash == std::string_view::npos) continue;
    if (p.empty() || p.size() > 96) return bad("each part must have 1 to 96 characters");
    for (unsigned char ch : p) {
      if (!std::isalnum(ch) && ch != '_' && ch != '-' && ch != '.') {
        return bad("only letters, digits, '_', '-' and '.' are allowed");
      }
    }
    if (p.front() == '-' || p.front() == '.' || p.back() == '-' || p.back() == '.') {
      return bad("a part may not start or end with '-' or '.'");
    }
  }
  if (repo_id.find("--") != std::string_view::npos || repo_id.find("..") != std::string_view::npos) {
    return bad("\"--\" and \"..\" are not allowed");
  }
  if (repo_id.size() >= 4 && repo_id.substr(repo_id.size() - 4) == ".git") {
    return bad("may not end with \".git\"");
  }
  return Status();
}

Status validate_repo_path(std::string_view path) {
  if (path.empty() || path.front() == '/') {
    return Status::invalid_argument("invalid file path \"" + std::string(path) + "\"");
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") {
      return Status::invalid_argument("invalid file path \"" + std::string(path) + "\"");
    }
    start = end + 1;
  }
  return Status();
}

std::string repo_folder_name(RepoType type, std::string_view repo_id) {
  std::string out = std::string(repo_type_name(type)) + "s";
  size_t start = 0;
  while (true) {
    const size_t slash = repo_id.find('/', start);
    out += "--";
    out += repo_id.substr(start, slash == std::string_view::npos ? std::string_view::npos
                                                                 : slash - start);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

std::string api_type(RepoType type) { return std::string(repo_type_name(type)) + "s"; }

std::string url_prefix(RepoType type) {
  return type == RepoType::kModel ? "" : std::string(repo_type_name(type)) + "s/";
}

std::string resolve_url(std::string_view endpoint, RepoType type, std::string_view repo_id,
                        std::string_view revision, std::string_view filename) {
  return std::string(endpoint) + "/" + url_prefix(type) + std::string(repo_id) + "/resolve/" +
         quote(revision) + "/" + quote(filename, "/");
}

std::string url_origin(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return "";
  size_t host_end = url.find_first_of("/?#", scheme_end + 3);
  if (host_end == std::string_view::npos) host_end = url.size();
  std::string origin(url.substr(0, host_end));
  for (char& ch : origin) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return origin;
}

std::string base64_encode(std::string_view data) {
  static const char* kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    const uint32_t v = (uint32_t(uint8_t(data[i])) << 16) | (uint32_t(uint8_t(data[i + 1])) << 8) |
                       uint8_t(data[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < data.size()) {
    uint32_t v = uint32_t(uint8_t(data[i])) << 16;
    if (i + 1 < data.size()) v |= uint32_t(uint8_t(data[i + 1])) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < data.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace internal
}  // namespace mlhub::hub
