// The libcurl wrapper of the hub client, response header helpers, and the one place where hub
// error responses become Status values (as huggingface_hub's hf_raise_for_status classifies them).
#include <curl/curl.h>

#include <cctype>
#include <cstdio>
#include <mutex>
#include <regex>
#include <sstream>

#include "hub/internal.h"

namespace mlhub::hub::internal {
namespace {

constexpr const char* kUserAgent = "mlhub/0.1; hf_hub/compatible";

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

std::string trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  const HttpRequest* request;
  HttpResponse* response;
  CURL* curl;
  FILE* upload = nullptr;
  bool aborted = false;
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::string_view line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    t->response->headers.clear();  // a new response (after a redirect or a 100 Continue)
  } else {
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      t->response->headers.emplace_back(lower(trim(line.substr(0, colon))),
                                        trim(line.substr(colon + 1)));
    }
  }
  return size * n;
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  if (t->request->on_data && status >= 200 && status < 300) {
    if (!t->request->on_data(status, data, size * n)) {
      t->aborted = true;
      return 0;
    }
  } else if (t->response->body.size() < (64u << 20)) {
    t->response->body.append(data, size * n);
  }
  return size * n;
}

int on_progress(void* user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                curl_off_t ulnow) {
  auto* t = static_cast<Transfer*>(user);
  if (t->request->on_progress) {
    if (t->upload) {
      t->request->on_progress(static_cast<uint64_t>(ulnow), static_cast<uint64_t>(ultotal));
    } else {
      t->request->on_progress(static_cast<uint64_t>(dlnow), static_cast<uint64_t>(dltotal));
    }
  }
  return 0;
}

// The human part of an error answer: X-Error-Message, then the JSON body's error fields, then
// a short non-HTML text body.
std::string error_message(const HttpResponse& r) {
  if (auto m = r.header("x-error-message")) return *m;
  nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_object()) {
    for (const char* key : {"error", "message", "error_description"}) {
      if (j.contains(key) && j[key].is_string()) return j[key].get<std::string>();
      if (j.contains(key) && j[key].is_array() && !j[key].empty() && j[key][0].is_string()) {
        return j[key][0].get<std::string>();
      }
    }
    if (j.contains("errors") && j["errors"].is_array() && !j["errors"].empty() &&
        j["errors"][0].is_object() && j["errors"][0].contains("message")) {
      return j["errors"][0]["message"].dump();
    }
  }
  std::string body = trim(r.body);
  if (!body.empty() && body.front() != '<' && body.find('\n') == std::string::npos &&
      body.size() < 300) {
    return body;
  }
  return "";
}

}  // namespace

std::optional<std::string> HttpResponse::header(std::string_view lowercase_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lowercase_name) return v;
  }
  return std::nullopt;
}

std::string normalize_etag(std::string_view etag) {
  std::string_view e = etag;
  while (!e.empty() && std::isspace(static_cast<unsigned char>(e.front()))) e.remove_prefix(1);
  while (!e.empty() && std::isspace(static_cast<unsigned char>(e.back()))) e.remove_suffix(1);
  if (e.rfind("W/", 0) == 0) e.remove_prefix(2);
  while (!e.empty() && (e.front() == '"' || e.front() == '\'')) e.remove_prefix(1);
  while (!e.empty() && (e.back() == '"' || e.back() == '\'')) e.remove_suffix(1);
  return std::string(e);
}

std::string parse_link_next(std::string_view link) {
  // Entries are "<url>; param; param", separated by commas outside the angle brackets.
  size_t pos = 0;
  while (pos < link.size()) {
    const size_t lt = link.find('<', pos);
    if (lt == std::string_view::npos) break;
    const size_t gt = link.find('>', lt);
    if (gt == std::string_view::npos) break;
    size_t next = link.find('<', gt);
    if (next == std::string_view::npos) next = link.size();
    const std::string params = lower(link.substr(gt + 1, next - gt - 1));
    static const std::regex kRel(R"re(rel\s*=\s*"?([^";,]+)"?)re");
    std::smatch m;
    if (std::regex_search(params, m, kRel)) {
      // rel may hold several space-separated relation types.
      std::istringstream types(m[1].str());
      std::string type;
      while (types >> type) {
        if (type == "next") return std::string(link.substr(lt + 1, gt - lt - 1));
      }
    }
    pos = next;
  }
  return "";
}

std::optional<std::string> relative_redirect_target(std::string_view url,
                                                    std::string_view location) {
  if (location.find("://") != std::string_view::npos || location.rfind("//", 0) == 0) {
    return std::nullopt;
  }
  std::string_view path = location.substr(0, location.find_first_of("?#"));
  const std::string origin = url_origin(url);
  const size_t scheme_end = url.find("://");
  size_t path_start = url.find_first_of("/?#", scheme_end == std::string_view::npos ? 0 : scheme_end + 3);
  std::string query;
  if (path_start != std::string_view::npos) {
    const size_t q = url.find('?', path_start);
    if (q != std::string_view::npos) query = std::string(url.substr(q, url.find('#', q) - q));
  }
  std::string target = std::string(url.substr(0, origin.size()));
  if (path.empty() || path.front() != '/') target += '/';
  target += path;
  return target + query;
}

HttpResponse http_send(const HubConfig& config, const HttpRequest& request) {
  global_init();
  HttpResponse response;
  CURL* curl = curl_easy_init();
  if (!curl) {
    response.error = "curl_easy_init failed";
    return response;
  }
  Transfer t{&request, &response, curl};
  struct curl_slist* headers = nullptr;
  for (const std::string& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  const bool same_origin = url_origin(request.url) == url_origin(config.endpoint);
  if (config.token && same_origin && !request.no_auth) {
    headers = curl_slist_append(headers, ("Authorization: Bearer " + *config.token).c_str());
  }
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, kUserAgent);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
  // Abort a transfer that moves less than 1 byte/s for 60 s (a stalled connection).
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
  // The bearer token is a custom header: libcurl drops it when a redirect changes host.
  curl_easy_setopt(curl, CURLOPT_UNRESTRICTED_AUTH, 0L);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, request.on_progress ? 0L : 1L);
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT" && !request.body_file.empty()) {
    t.upload = std::fopen(request.body_file.c_str(), "rb");
    if (!t.upload) {
      response.error = "cannot open " + request.body_file.string();
      curl_slist_free_all(headers);
      curl_easy_cleanup(curl);
      return response;
    }
    std::error_code ec;
    const auto size = std::filesystem::file_size(request.body_file, ec);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READDATA, t.upload);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(ec ? 0 : size));
    headers = curl_slist_append(headers, "Expect:");
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    headers = curl_slist_append(headers, "Expect:");
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  const CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && t.aborted)) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    if (t.aborted) response.error = "aborted";
  } else {
    response.status = 0;
    response.error = curl_easy_strerror(rc);
  }
  char* effective = nullptr;
  curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &effective);
  response.url = effective ? effective : request.url;
  if (t.upload) std::fclose(t.upload);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return response;
}

std::string error_code(const HttpResponse& response) {
  return response.header("x-error-code").value_or("");
}

Status response_status(const HttpResponse& r, std::string_view method, std::string_view what) {
  const std::string w(what);
  if (r.status == 0) {
    return Status::io_error("cannot reach the hub (" + std::string(method) + " " + r.url +
                            "): " + r.error);
  }
  const std::string code = error_code(r);
  const std::string msg = error_message(r);
  const std::string detail = msg.empty() ? "" : " (" + msg + ")";
  if (code == "RepoNotFound") {
    return Status::not_found("repository not found: " + w +
                             " (if it is private or gated, make sure you are authenticated)");
  }
  if (code == "RevisionNotFound") return Status::not_found("revision not found: " + w + detail);
  if (code == "EntryNotFound") return Status::not_found("file not found: " + w + detail);
  if (code == "GatedRepo") {
    return Status::permission_denied("access to " + w + " is restricted (gated repository)" + detail);
  }
  if (r.status == 401 && msg == "Invalid credentials in Authorization header") {
    return Status::permission_denied(
        "invalid credentials: the hub rejected the token (check HF_TOKEN or run `mlhub login`)");
  }
  if (r.status == 401) {
    return Status::permission_denied("unauthorized: " + w +
                                     " needs a valid token (set HF_TOKEN or run `mlhub login`)" +
                                     detail);
  }
  if (r.status == 403) return Status::permission_denied("forbidden: " + w + detail);
  if (r.status == 404) return Status::not_found("not found: " + w + detail);
  if (r.status == 409) return Status::already_exists(w + " already exists" + detail);
  if (r.status == 400 || r.status == 422) {
    return Status::invalid_argument("bad request for " + w + detail);
  }
  return Status::io_error("HTTP " + std::to_string(r.status) + " from " + std::string(method) +
                          " " + r.url + detail);
}

Result<nlohmann::json> http_json(const HubConfig& config, const HttpRequest& request,
                                 std::string_view what) {
  if (config.offline) {
    return Status::io_error("offline mode is enabled (HF_HUB_OFFLINE): cannot " + request.method +
                            " " + request.url);
  }
  HttpResponse r = http_send(config, request);
  if (r.status < 200 || r.status >= 300) return response_status(r, request.method, what);
  nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_discarded()) {
    return Status::corruption("the hub answered " + request.method + " " + request.url +
                              " with a body that is not JSON");
  }
  return j;
}

}  // namespace mlhub::hub::internal
