// Writes to the hub: create_repo, whoami, and the commit flow of upload_file / upload_folder
// (preupload -> LFS batch + PUT (+ verify) -> NDJSON commit), as huggingface_hub's create_commit
// does it without Xet.
#include <fstream>
#include <map>
#include <sstream>

#include "hub/internal.h"

namespace mlhub::hub {
namespace internal {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr size_t kBatch = 256;  // paths per preupload / LFS batch call, as Python

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw Error(StatusCode::kIoError, "cannot read " + p.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string read_prefix(const fs::path& p, size_t n) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw Error(StatusCode::kIoError, "cannot read " + p.string());
  std::string buf(n, '\0');
  in.read(buf.data(), static_cast<std::streamsize>(n));
  buf.resize(static_cast<size_t>(in.gcount()));
  return buf;
}

std::string sha256_of_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw Error(StatusCode::kIoError, "cannot read " + p.string());
  Hasher h(Hasher::Algorithm::kSha256);
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) h.update(buf.data(), static_cast<size_t>(in.gcount()));
  }
  return h.hex_digest();
}

std::string repo_api(const HubConfig& config, const UploadOptions& o, std::string_view repo_id) {
  return config.endpoint + "/api/" + api_type(o.repo_type) + "/" + std::string(repo_id);
}

struct Op {
  fs::path local;
  std::string path_in_repo;
  uint64_t size = 0;
  bool lfs = false;
  bool ignore = false;
  std::string remote_oid;
  std::string sha256;  // lfs only
};

void preupload(const HubConfig& config, std::string_view repo_id, const UploadOptions& o,
               std::vector<Op>& ops, std::string& head) {
  const std::string what = std::string(repo_type_name(o.repo_type)) + " " + std::string(repo_id);
  for (size_t start = 0; start < ops.size(); start += kBatch) {
    json files = json::array();
    std::map<std::string, Op*> by_path;
    for (size_t i = start; i < std::min(ops.size(), start + kBatch); ++i) {
      files.push_back({{"path", ops[i].path_in_repo},
                       {"size", ops[i].size},
                       {"sample", base64_encode(read_prefix(ops[i].local, 512))}});
      by_path[ops[i].path_in_repo] = &ops[i];
    }
    HttpRequest req;
    req.method = "POST";
    req.url = repo_api(config, o, repo_id) + "/preupload/" + quote(o.revision);
    req.headers = {"Content-Type: application/json"};
    req.body = json{{"files", files}}.dump();
    auto answer = http_json(config, req, what + " at revision \"" + o.revision + "\"");
    if (!answer.ok()) throw Error(answer.status());
    if (!answer->contains("files") || !(*answer)["files"].is_array()) {
      throw Error(StatusCode::kIoError, "the preupload answer of " + what + " has no \"files\"");
    }
    for (const json& f : (*answer)["files"]) {
      auto it = by_path.find(f.value("path", ""));
      if (it == by_path.end()) continue;
      Op& op = *it->second;
      const std::string mode = f.value("uploadMode", "regular");
      if (mode != "lfs" && mode != "regular") {
        throw Error(StatusCode::kIoError, "unknown uploadMode \"" + mode + "\" from preupload");
      }
      op.lfs = mode == "lfs" && op.size > 0;  // empty files are always regular, as in Python
      op.ignore = f.value("shouldIgnore", false);
      if (f.contains("oid") && f["oid"].is_string()) op.remote_oid = f["oid"].get<std::string>();
    }
    if (answer->contains("commitOid") && (*answer)["commitOid"].is_string()) {
      head = (*answer)["commitOid"].get<std::string>();
    }
  }
}

void upload_lfs(const HubConfig& config, std::string_view repo_id, const UploadOptions& o,
                const std::vector<Op*>& lfs_ops) {
  const std::string what = std::string(repo_type_name(o.repo_type)) + " " + std::string(repo_id);
  for (size_t start = 0; start < lfs_ops.size(); start += kBatch) {
    json objects = json::array();
    std::map<std::string, Op*> by_oid;
    for (size_t i = start; i < std::min(lfs_ops.size(), start + kBatch); ++i) {
      objects.push_back({{"oid", lfs_ops[i]->sha256}, {"size", lfs_ops[i]->size}});
      by_oid[lfs_ops[i]->sha256] = lfs_ops[i];
    }
    HttpRequest req;
    req.method = "POST";
    req.url = config.endpoint + "/" + url_prefix(o.repo_type) + std::string(repo_id) +
              ".git/info/lfs/objects/batch";
    req.headers = {"Accept: application/vnd.git-lfs+json",
                   "Content-Type: application/vnd.git-lfs+json"};
    req.body = json{{"operation", "upload"},
                    {"transfers", {"basic"}},
                    {"objects", objects},
                    {"hash_algo", "sha256"},
                    {"ref", {{"name", o.revision}}}}
                   .dump();
    auto answer = http_json(config, req, what + " (LFS batch)");
    if (!answer.ok()) throw Error(answer.status());
    const std::string transfer = answer->value("transfer", "basic");
    if (transfer != "basic") {
      throw Error(StatusCode::kUnimplemented,
                  "the hub chose the LFS transfer \"" + transfer + "\"; mlhub only speaks basic");
    }
    for (const json& obj : answer->value("objects", json::array())) {
      const std::string oid = obj.value("oid", "");
      auto it = by_oid.find(oid);
      if (it == by_oid.end()) continue;
      Op& op = *it->second;
      if (obj.contains("error")) {
        throw Error(StatusCode::kIoError, "LFS batch refused " + op.path_in_repo + ": " +
                                              obj["error"].value("message", obj["error"].dump()));
      }
      if (!obj.contains("actions") || !obj["actions"].contains("upload")) continue;  // stored
      const json& upload = obj["actions"]["upload"];
      const json header = upload.value("header", json::object());
      if (header.contains("chunk_size")) {
        throw Error(StatusCode::kUnimplemented,
                    "the hub asked for a multipart LFS upload of " + op.path_in_repo +
                        "; mlhub only offered basic");
      }
      HttpRequest put;
      put.method = "PUT";
      put.url = upload.value("href", "");
      put.body_file = op.local;
      put.no_auth = true;  // the href signs itself; Python sends no headers either
      ProgressBar bar(config.progress, op.path_in_repo, op.size);
      put.on_progress = [&](uint64_t done, uint64_t) { bar.update(done); };
      HttpResponse r = http_send(config, put);
      if (r.status < 200 || r.status >= 300) {
        throw Error(response_status(r, "PUT", "the LFS upload of " + op.path_in_repo));
      }
      if (obj["actions"].contains("verify")) {
        HttpRequest verify;
        verify.method = "POST";
        verify.url = obj["actions"]["verify"].value("href", "");
        verify.headers = {"Accept: application/vnd.git-lfs+json",
                          "Content-Type: application/vnd.git-lfs+json"};
        verify.body = json{{"oid", op.sha256}, {"size", op.size}}.dump();
        HttpResponse v = http_send(config, verify);
        if (v.status < 200 || v.status >= 300) {
          throw Error(response_status(v, "POST", "the LFS verify of " + op.path_in_repo));
        }
      }
    }
  }
}

CommitInfo commit(const HubConfig& config, std::string_view repo_id, const UploadOptions& o,
                  const std::vector<Op>& ops, const std::string& summary, const std::string& head) {
  CommitInfo info;
  std::vector<const Op*> changed;
  for (const Op& op : ops) {
    if (op.ignore) continue;
    const std::string ours = op.lfs ? op.sha256 : git_blob_sha1_hex(read_file(op.local));
    if (!op.remote_oid.empty() && op.remote_oid == ours) continue;  // unchanged
    changed.push_back(&op);
  }
  if (changed.empty()) {
    info.commit_oid = head;  // nothing to commit, as huggingface_hub skips the POST
    return info;
  }
  std::string body = json{{"key", "header"},
                          {"value", {{"summary", summary}, {"description", o.commit_description}}}}
                         .dump() + "\n";
  for (const Op* op : changed) {
    json line;
    if (op->lfs) {
      line = {{"key", "lfsFile"},
              {"value",
               {{"path", op->path_in_repo}, {"algo", "sha256"}, {"oid", op->sha256}, {"size", op->size}}}};
    } else {
      line = {{"key", "file"},
              {"value",
               {{"path", op->path_in_repo},
                {"content", base64_encode(read_file(op->local))},
                {"encoding", "base64"}}}};
    }
    body += line.dump() + "\n";
  }
  HttpRequest req;
  req.method = "POST";
  req.url = repo_api(config, o, repo_id) + "/commit/" + quote(o.revision);
  req.headers = {"Content-Type: application/x-ndjson"};
  req.body = std::move(body);
  auto answer = http_json(config, req,
                          std::string(repo_type_name(o.repo_type)) + " " + std::string(repo_id) +
                              " at revision \"" + o.revision + "\"");
  if (!answer.ok()) throw Error(answer.status());
  info.commit_oid = answer->value("commitOid", "");
  info.commit_url = answer->value("commitUrl", "");
  info.num_files = changed.size();
  return info;
}

CommitInfo upload_ops(const HubConfig& config, std::string_view repo_id, const UploadOptions& o,
                      std::vector<Op> ops, const std::string& summary) {
  if (Status s = validate_repo_id(repo_id); !s.ok()) throw Error(s);
  for (Op& op : ops) {
    if (Status s = validate_repo_path(op.path_in_repo); !s.ok()) throw Error(s);
    op.size = fs::file_size(op.local);
  }
  std::string head;
  preupload(config, repo_id, o, ops, head);
  std::vector<Op*> lfs_ops;
  for (Op& op : ops) {
    if (op.ignore || !op.lfs) continue;
    op.sha256 = sha256_of_file(op.local);
    if (op.remote_oid != op.sha256) lfs_ops.push_back(&op);
  }
  upload_lfs(config, repo_id, o, lfs_ops);
  return commit(config, repo_id, o, ops, summary, head);
}

std::string join_repo_path(std::string_view prefix, const std::string& rel) {
  std::string p(prefix);
  while (!p.empty() && p.back() == '/') p.pop_back();
  while (!p.empty() && p.front() == '/') p.erase(p.begin());
  return p.empty() ? rel : p + "/" + rel;
}

}  // namespace
}  // namespace internal

Result<std::string> create_repo(const HubConfig& config, std::string_view repo_id,
                                const CreateRepoOptions& options) {
  using namespace internal;
  return internal::guarded([&]() -> Result<std::string> {
    if (Status s = validate_repo_id(repo_id); !s.ok()) return s;
    const size_t slash = repo_id.find('/');
    nlohmann::json body;
    body["name"] = std::string(slash == std::string_view::npos ? repo_id : repo_id.substr(slash + 1));
    body["organization"] = slash == std::string_view::npos
                               ? nlohmann::json()
                               : nlohmann::json(std::string(repo_id.substr(0, slash)));
    body["type"] = std::string(repo_type_name(options.repo_type));
    body["private"] = options.is_private;
    body["visibility"] = options.is_private ? "private" : "public";
    HttpRequest req;
    req.method = "POST";
    req.url = config.endpoint + "/api/repos/create";
    req.headers = {"Content-Type: application/json"};
    req.body = body.dump();
    if (config.offline) return Status::io_error("offline mode is enabled (HF_HUB_OFFLINE)");
    HttpResponse r = http_send(config, req);
    const std::string fallback_url =
        config.endpoint + "/" + url_prefix(options.repo_type) + std::string(repo_id);
    nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    const std::string url = j.is_object() && j.contains("url") && j["url"].is_string()
                                ? j["url"].get<std::string>()
                                : fallback_url;
    if (r.status >= 200 && r.status < 300) return url;
    if (r.status == 409 && options.exist_ok) return url;
    return response_status(r, "POST",
                           std::string(repo_type_name(options.repo_type)) + " " + std::string(repo_id));
  });
}

Result<CommitInfo> upload_file(const HubConfig& config, std::string_view repo_id,
                               const std::string& local_path, std::string_view path_in_repo,
                               const UploadOptions& options) {
  using namespace internal;
  return internal::guarded([&]() -> Result<CommitInfo> {
    std::error_code ec;
    if (!fs::is_regular_file(local_path, ec)) return Status::not_found("no file " + local_path);
    std::vector<Op> ops(1);
    ops[0].local = local_path;
    ops[0].path_in_repo = std::string(path_in_repo);
    const std::string summary = options.commit_message.empty()
                                    ? "Upload " + std::string(path_in_repo) + " with mlhub"
                                    : options.commit_message;
    return upload_ops(config, repo_id, options, std::move(ops), summary);
  });
}

Result<CommitInfo> upload_folder(const HubConfig& config, std::string_view repo_id,
                                 const std::string& folder, std::string_view path_in_repo,
                                 const UploadOptions& options) {
  using namespace internal;
  return internal::guarded([&]() -> Result<CommitInfo> {
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) return Status::not_found("no folder " + folder);
    std::vector<Op> ops;
    for (auto it = fs::recursive_directory_iterator(folder); it != fs::recursive_directory_iterator();
         ++it) {
      const std::string rel = fs::relative(it->path(), folder).generic_string();
      // huggingface_hub's default ignores: .git/ and the local_dir metadata .cache/huggingface/.
      if (it->is_directory() && (it->path().filename() == ".git" || rel == ".cache/huggingface")) {
        it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file()) continue;
      Op op;
      op.local = it->path();
      op.path_in_repo = join_repo_path(path_in_repo, rel);
      ops.push_back(std::move(op));
    }
    std::sort(ops.begin(), ops.end(),
              [](const Op& a, const Op& b) { return a.path_in_repo < b.path_in_repo; });
    const std::string summary =
        options.commit_message.empty() ? "Upload folder using mlhub" : options.commit_message;
    return upload_ops(config, repo_id, options, std::move(ops), summary);
  });
}

Result<WhoAmI> whoami(const HubConfig& config, std::string_view token) {
  using namespace internal;
  return internal::guarded([&]() -> Result<WhoAmI> {
    HubConfig c = config;
    if (!token.empty()) c.token = std::string(token);
    if (!c.token) {
      return Status::invalid_argument("not logged in: set HF_TOKEN or run `mlhub login`");
    }
    HttpRequest req;
    req.url = c.endpoint + "/api/whoami-v2";
    auto answer = http_json(c, req, "whoami");
    if (!answer.ok()) {
      if (answer.status().code() == StatusCode::kPermissionDenied) {
        return Status::permission_denied("invalid user token: " + c.endpoint +
                                         " rejected it (check HF_TOKEN or run `mlhub login`)");
      }
      return answer.status();
    }
    WhoAmI w;
    w.raw = *answer;
    w.name = answer->value("name", "");
    if (answer->contains("orgs") && (*answer)["orgs"].is_array()) {
      for (const auto& org : (*answer)["orgs"]) {
        if (org.is_object() && org.contains("name")) w.orgs.push_back(org.value("name", ""));
      }
    }
    if (answer->contains("auth") && (*answer)["auth"].is_object() &&
        (*answer)["auth"].contains("accessToken") && (*answer)["auth"]["accessToken"].is_object()) {
      const auto& at = (*answer)["auth"]["accessToken"];
      w.token_name = at.value("displayName", "");
      w.token_role = at.value("role", "");
    }
    if (w.name.empty()) return Status::io_error("the whoami-v2 answer has no \"name\"");
    return w;
  });
}

}  // namespace mlhub::hub
