// JSON shapes, dates, URL pieces and pagination shared by the hub routes.
#include <ctime>

#include "server/hub/hub_server.h"

namespace mlhub::hub {

const char* const kDefaultGitattributes =
    "*.7z filter=lfs diff=lfs merge=lfs -text\n"
    "*.arrow filter=lfs diff=lfs merge=lfs -text\n"
    "*.bin filter=lfs diff=lfs merge=lfs -text\n"
    "*.bz2 filter=lfs diff=lfs merge=lfs -text\n"
    "*.ckpt filter=lfs diff=lfs merge=lfs -text\n"
    "*.ftz filter=lfs diff=lfs merge=lfs -text\n"
    "*.gguf filter=lfs diff=lfs merge=lfs -text\n"
    "*.gz filter=lfs diff=lfs merge=lfs -text\n"
    "*.h5 filter=lfs diff=lfs merge=lfs -text\n"
    "*.joblib filter=lfs diff=lfs merge=lfs -text\n"
    "*.lfs.* filter=lfs diff=lfs merge=lfs -text\n"
    "*.mlmodel filter=lfs diff=lfs merge=lfs -text\n"
    "*.model filter=lfs diff=lfs merge=lfs -text\n"
    "*.msgpack filter=lfs diff=lfs merge=lfs -text\n"
    "*.npy filter=lfs diff=lfs merge=lfs -text\n"
    "*.npz filter=lfs diff=lfs merge=lfs -text\n"
    "*.onnx filter=lfs diff=lfs merge=lfs -text\n"
    "*.ot filter=lfs diff=lfs merge=lfs -text\n"
    "*.parquet filter=lfs diff=lfs merge=lfs -text\n"
    "*.pb filter=lfs diff=lfs merge=lfs -text\n"
    "*.pickle filter=lfs diff=lfs merge=lfs -text\n"
    "*.pkl filter=lfs diff=lfs merge=lfs -text\n"
    "*.pt filter=lfs diff=lfs merge=lfs -text\n"
    "*.pth filter=lfs diff=lfs merge=lfs -text\n"
    "*.rar filter=lfs diff=lfs merge=lfs -text\n"
    "*.safetensors filter=lfs diff=lfs merge=lfs -text\n"
    "saved_model/**/* filter=lfs diff=lfs merge=lfs -text\n"
    "*.tar.* filter=lfs diff=lfs merge=lfs -text\n"
    "*.tar filter=lfs diff=lfs merge=lfs -text\n"
    "*.tflite filter=lfs diff=lfs merge=lfs -text\n"
    "*.tgz filter=lfs diff=lfs merge=lfs -text\n"
    "*.wasm filter=lfs diff=lfs merge=lfs -text\n"
    "*.xz filter=lfs diff=lfs merge=lfs -text\n"
    "*.zip filter=lfs diff=lfs merge=lfs -text\n"
    "*.zst filter=lfs diff=lfs merge=lfs -text\n"
    "*tfevents* filter=lfs diff=lfs merge=lfs -text\n";

std::string iso_date(int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
  return buf;
}

json parse_json_body(Request& req, size_t limit) {
  const std::string body = req.body->read_all(limit);
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) throw HttpError{400, "the request body is not valid JSON", "", {}};
  if (!j.is_object()) throw HttpError{400, "the request body must be a JSON object", "", {}};
  return j;
}

Response json_response(int status, const json& body) {
  return Response::json(status, body.dump(-1, ' ', false, json::error_handler_t::replace));
}

std::string base64_decode(std::string_view in) {
  static int8_t table[256];
  static const bool init = [] {
    std::fill(std::begin(table), std::end(table), int8_t{-1});
    const char* chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) table[static_cast<unsigned char>(chars[i])] = static_cast<int8_t>(i);
    return true;
  }();
  (void)init;
  std::string out;
  out.reserve(in.size() / 4 * 3);
  uint32_t val = 0;
  int bits = -8;
  for (char c : in) {
    if (c == '=' || c == '\n' || c == '\r') continue;
    const int8_t v = table[static_cast<unsigned char>(c)];
    if (v < 0) throw HttpError{400, "invalid base64", "", {}};
    val = (val << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((val >> bits) & 0xFF));
      bits -= 8;
    }
  }
  return out;
}

std::string plural(const std::string& type) { return type + "s"; }

std::string url_prefix(const std::string& type) { return type == "model" ? "" : type + "s/"; }

std::string opaque_id(int64_t id) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%024llx", static_cast<unsigned long long>(id));
  return buf;
}

std::string take_revision(const std::vector<std::string>& rest, size_t* consumed) {
  if (rest.empty()) {
    *consumed = 0;
    return "main";
  }
  if (rest[0] == "refs" && rest.size() >= 3 && (rest[1] == "pr" || rest[1] == "convert")) {
    *consumed = 3;
    return "refs/" + rest[1] + "/" + http::percent_decode(rest[2]);
  }
  *consumed = 1;
  return http::percent_decode(rest[0]);
}

std::string join_decoded(const std::vector<std::string>& segments, size_t from) {
  std::string out;
  for (size_t i = from; i < segments.size(); ++i) {
    if (!out.empty()) out += '/';
    out += http::percent_decode(segments[i]);
  }
  return out;
}

json tree_entry_json(const store::TreeEntry& e) {
  if (e.is_dir) return json{{"type", "directory"}, {"oid", e.oid}, {"size", 0}, {"path", e.path}};
  json j{{"type", "file"}, {"oid", e.oid}, {"size", e.lfs ? e.lfs->size : e.size}, {"path", e.path}};
  if (e.lfs) j["lfs"] = json{{"oid", e.lfs->oid}, {"size", e.lfs->size}, {"pointerSize", e.size}};
  return j;
}

bool valid_name_part(const std::string& s) {
  if (s.empty() || s.size() > 96) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  }
  if (s.find("--") != std::string::npos || s.find("..") != std::string::npos) return false;
  if (s.size() >= 4 && s.substr(s.size() - 4) == ".git") return false;
  return s.front() != '-' && s.front() != '.' && s.back() != '-' && s.back() != '.';
}

std::string next_link(HubServer& hub, const Request& req, size_t next_offset) {
  std::string query;
  for (const auto& [k, v] : req.query) {
    if (k == "cursor") continue;
    query.append(http::percent_encode(k)).append("=").append(http::percent_encode(v)).append("&");
  }
  query.append("cursor=").append(std::to_string(next_offset));
  std::string link = "<";
  link.append(hub.base_url(req)).append(req.path).append("?").append(query).append(">; rel=\"next\"");
  return link;
}

size_t query_offset(const Request& req) {
  auto c = req.param("cursor");
  if (!c || c->empty() || c->size() > 12) return 0;
  for (char ch : *c) {
    if (!std::isdigit(static_cast<unsigned char>(ch))) throw HttpError{400, "invalid cursor", "", {}};
  }
  return std::stoull(*c);
}

size_t query_limit(const Request& req, size_t default_limit, size_t max_limit) {
  auto l = req.param("limit");
  if (!l || l->empty()) return default_limit;
  if (l->size() > 9 || l->find_first_not_of("0123456789") != std::string::npos) {
    throw HttpError{400, "invalid limit: " + *l, "", {}};
  }
  const size_t v = std::stoull(*l);
  return std::clamp<size_t>(v, 1, max_limit);
}

}  // namespace mlhub::hub
