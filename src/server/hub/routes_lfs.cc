// The git-lfs batch API with self-signed object URLs (docs/hub-api.md §4.8): clients PUT the
// bytes to an href that authorises itself, the server checks sha256 and size before the object
// exists, and an interrupted PUT leaves nothing behind.
#include <chrono>

#include "server/hub/hub_server.h"

namespace mlhub::hub {
namespace {

constexpr int64_t kHrefLifetime = 3600;

int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Response lfs_json(int status, const json& body) {
  Response r = json_response(status, body);
  r.set("Content-Type", "application/vnd.git-lfs+json");
  return r;
}

std::string signed_href(HubServer& hub, const Request& req, const char* kind, int64_t repo_id, const std::string& oid, uint64_t size) {
  const int64_t exp = now_seconds() + kHrefLifetime;
  const std::string payload = std::string(kind) + ":" + std::to_string(repo_id) + ":" + oid + ":" + std::to_string(size) + ":" + std::to_string(exp);
  return hub.base_url(req) + "/" + kind + "/" + std::to_string(repo_id) + "/" + oid + "?size=" + std::to_string(size) +
         "&exp=" + std::to_string(exp) + "&sig=" + hub.sign(payload);
}

// The query that lets git-lfs call verify without credentials: git-lfs 3.x sends only the
// action's `header` there (no Authorization when its credentials come from a helper), so the
// href authorises itself for this one object, like the upload href.
std::string verify_query(HubServer& hub, int64_t repo_id, const std::string& oid, uint64_t size) {
  const int64_t exp = now_seconds() + kHrefLifetime;
  const std::string payload = "lfs-verify:" + std::to_string(repo_id) + ":" + oid + ":" + std::to_string(size) + ":" + std::to_string(exp);
  return "?exp=" + std::to_string(exp) + "&sig=" + hub.sign(payload);
}

}  // namespace

Response handle_lfs_batch(HubServer& hub, Request& req, const Caller& caller, const RepoRoute& route) {
  const json body = parse_json_body(req);
  const std::string operation = body.value("operation", "");
  if (operation != "upload" && operation != "download") {
    return lfs_json(422, json{{"message", "operation must be \"upload\" or \"download\""}});
  }
  // An upload without a ref is for a pull request: read access is enough (§5.4).
  const bool for_pr = !body.contains("ref");
  const Access access = operation == "download" ? Access::kReadContent : (for_pr ? Access::kRead : Access::kWrite);
  RepoHandle repo = hub.require_repo(req, caller, route.type, route.owner, route.name, access);
  if (operation == "upload" && !caller.user) throw HttpError{401, "You must be authenticated to upload", "", {}};
  if (!body.contains("objects") || !body["objects"].is_array()) return lfs_json(422, json{{"message", "objects must be an array"}});
  if (body["objects"].size() > 10000) return lfs_json(413, json{{"message", "too many objects in one batch (at most 10000)"}});
  const std::string verify_href = hub.base_url(req) + "/" + url_prefix(repo.record.type) + repo.record.repo_id() + ".git/info/lfs/objects/verify";
  json objects = json::array();
  for (const auto& o : body["objects"]) {
    const std::string oid = o.contains("oid") && o["oid"].is_string() ? o["oid"].get<std::string>() : "";
    const bool size_ok = o.contains("size") && o["size"].is_number_unsigned();
    const uint64_t size = size_ok ? o["size"].get<uint64_t>() : 0;
    json entry{{"oid", oid}, {"size", size}};
    if (!is_lower_hex(oid, 64) || !size_ok) {
      entry["error"] = json{{"code", 422}, {"message", "invalid oid or size"}};
      objects.push_back(std::move(entry));
      continue;
    }
    auto stored = hub.blobs().size_of(oid);
    if (operation == "upload") {
      if (stored.ok() && *stored == size) {
        objects.push_back(std::move(entry));  // already here: no actions
        continue;
      }
      entry["authenticated"] = true;
      entry["actions"] = json{{"upload", json{{"href", signed_href(hub, req, "lfs-upload", repo.record.id, oid, size)},
                                              {"header", json::object()},
                                              {"expires_in", kHrefLifetime}}},
                              {"verify", json{{"href", verify_href + verify_query(hub, repo.record.id, oid, size)},
                                              {"header", json::object()},
                                              {"expires_in", kHrefLifetime}}}};
    } else {
      if (!stored.ok()) {
        entry["error"] = json{{"code", 404}, {"message", "Object does not exist"}};
      } else {
        entry["authenticated"] = true;
        entry["actions"] = json{{"download", json{{"href", signed_href(hub, req, "lfs-objects", repo.record.id, oid, *stored)},
                                                  {"header", json::object()},
                                                  {"expires_in", kHrefLifetime}}}};
      }
    }
    objects.push_back(std::move(entry));
  }
  return lfs_json(200, json{{"transfer", "basic"}, {"objects", objects}, {"hash_algo", "sha256"}});
}

Response handle_lfs_verify(HubServer& hub, Request& req, const Caller& caller, const RepoRoute& route) {
  const json body = parse_json_body(req);
  const std::string oid = body.value("oid", "");
  // A signed href (from the batch answer) stands for read access to this repo and object.
  bool signed_ok = false;
  const std::string exp_s = req.param("exp").value_or(""), sig = req.param("sig").value_or("");
  if (!sig.empty() && !exp_s.empty() && exp_s.size() < 19 && exp_s.find_first_not_of("0123456789") == std::string::npos &&
      std::stoll(exp_s) >= now_seconds() && body.contains("size") && body["size"].is_number_unsigned()) {
    if (auto record = hub.meta().find_repo(route.type, route.owner, route.name)) {
      const std::string payload = "lfs-verify:" + std::to_string(record->id) + ":" + oid + ":" +
                                  std::to_string(body["size"].get<uint64_t>()) + ":" + exp_s;
      signed_ok = hub.sign(payload) == sig && !record->disabled;
    }
  }
  if (!signed_ok) hub.require_repo(req, caller, route.type, route.owner, route.name, Access::kRead);
  auto size = hub.blobs().size_of(oid);
  if (!is_lower_hex(oid, 64) || !size.ok()) return lfs_json(404, json{{"message", "Object does not exist"}});
  if (body.contains("size") && body["size"].is_number() && body["size"].get<uint64_t>() != *size) {
    return lfs_json(422, json{{"message", "Object size does not match"}});
  }
  return lfs_json(200, json{{"oid", oid}, {"size", *size}});
}

// PUT /lfs-upload/{repo}/{oid}?size=&exp=&sig=  and  GET /lfs-objects/{repo}/{oid}?...
Response handle_lfs_upload(HubServer& hub, Request& req, const std::vector<std::string>& segments) {
  const std::string kind = segments[0];
  if (segments.size() != 3 || (kind != "lfs-upload" && kind != "lfs-objects")) throw HttpError{404, "Not found", "", {}};
  const std::string repo_id = segments[1], oid = segments[2];
  const std::string size_s = req.param("size").value_or(""), exp_s = req.param("exp").value_or(""), sig = req.param("sig").value_or("");
  const std::string payload = kind + ":" + repo_id + ":" + oid + ":" + size_s + ":" + exp_s;
  if (sig.empty() || hub.sign(payload) != sig) throw HttpError{403, "invalid or missing signature on the object URL", "", {}};
  if (exp_s.empty() || exp_s.find_first_not_of("0123456789") != std::string::npos || std::stoll(exp_s) < now_seconds()) {
    throw HttpError{403, "the object URL has expired; ask the batch API for a new one", "", {}};
  }
  const uint64_t size = std::stoull(size_s);
  if (kind == "lfs-objects") {
    if (req.method != "GET" && req.method != "HEAD") throw HttpError{405, "use GET", "", {}};
    auto path = hub.blobs().path_of(oid);
    if (!path.ok()) throw HttpError{404, "Object does not exist", "", {}};
    Response res;
    res.file = http::Response::FileRegion{*path, 0, size};
    res.head_length = size;
    res.set("ETag", "\"" + oid + "\"");
    return res;
  }
  if (req.method != "PUT") throw HttpError{405, "use PUT", "", {}};
  if (auto len = req.body->content_length(); len && *len != size) {
    throw HttpError{400, "Content-Length " + std::to_string(*len) + " does not match the object size " + size_s, "", {}};
  }
  if (auto stored = hub.blobs().size_of(oid); stored.ok() && *stored == size) {
    char sink[65536];
    while (req.body->read(sink, sizeof sink) > 0) {
    }
    return Response::json(200, "{}");
  }
  auto writer = hub.blobs().begin_write();
  if (!writer.ok()) throw Error(writer.status());
  std::vector<char> buf(1 << 20);
  for (;;) {
    const size_t n = req.body->read(buf.data(), buf.size());
    if (n == 0) break;
    if ((*writer)->bytes_written() + n > size) throw HttpError{400, "more bytes than the announced size " + size_s, "", {}};
    if (auto s = (*writer)->write(buf.data(), n); !s.ok()) throw Error(s);
  }
  if (auto s = (*writer)->finish(oid, size); !s.ok()) throw HttpError{400, s.message(), "", {}};
  Response res = Response::json(200, "{}");
  res.set("ETag", "\"" + oid + "\"");
  return res;
}

}  // namespace mlhub::hub
