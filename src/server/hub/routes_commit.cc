// The write path of files (docs/hub-api.md §4.5–§4.9): preupload decides regular vs LFS, and
// the NDJSON commit turns files, lfsFiles, deletions and copies into one git commit whose ref
// moves by compare-and-swap.
#include <fnmatch.h>

#include <algorithm>
#include <sstream>

#include "server/hub/hub_server.h"

namespace mlhub::hub {
namespace {

constexpr uint64_t kLfsThreshold = 10ull * 1000 * 1000;  // the Hub's 10 MB limit for regular files
constexpr size_t kMaxLineBytes = 768u << 20;             // one NDJSON line (base64 of a regular file)


// huggingface_hub's version from "...; hf_hub/1.22.0; ..." in User-Agent, as (major, minor).
std::optional<std::pair<int, int>> hf_hub_version(const std::string& ua) {
  const size_t at = ua.find("hf_hub/");
  if (at == std::string::npos) return std::nullopt;
  int major = 0, minor = 0;
  if (std::sscanf(ua.c_str() + at + 7, "%d.%d", &major, &minor) < 2) return std::nullopt;
  return std::make_pair(major, minor);
}

// Whether `path` matches an LFS line of a .gitattributes text.
bool tracked_by_lfs(const std::string& attributes, const std::string& path) {
  std::istringstream in(attributes);
  std::string line;
  const std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  bool tracked = false;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string pattern, attr;
    if (!(words >> pattern) || pattern[0] == '#') continue;
    bool lfs = false, unset = false;
    while (words >> attr) {
      if (attr == "filter=lfs") lfs = true;
      if (attr == "-filter" || attr == "!filter") unset = true;
    }
    if (!lfs && !unset) continue;
    const bool has_slash = pattern.find('/') != std::string::npos;
    std::string p = pattern[0] == '/' ? pattern.substr(1) : pattern;
    const bool match = has_slash ? fnmatch(p.c_str(), path.c_str(), 0) == 0 : fnmatch(p.c_str(), base.c_str(), 0) == 0;
    if (match) tracked = lfs;  // later lines win, as in git
  }
  return tracked;
}

bool looks_binary(const std::string& sample) {
  if (sample.find('\0') != std::string::npos) return true;
  // Invalid UTF-8 (allowing a character cut at the end of the 512-byte sample).
  size_t i = 0;
  while (i < sample.size()) {
    const unsigned char c = static_cast<unsigned char>(sample[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0) return true;
    if (i + n > sample.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(sample[i + k]) >> 6) != 2) return true;
    }
    i += n;
  }
  return false;
}


// Reads NDJSON lines from the body one at a time.
class LineReader {
 public:
  explicit LineReader(http::BodyReader& body) : body_(body) {}
  bool next(std::string& line) {
    line.clear();
    for (;;) {
      const size_t nl = buf_.find('\n', pos_);
      if (nl != std::string::npos) {
        line.append(buf_, pos_, nl - pos_);
        pos_ = nl + 1;
        return true;
      }
      line.append(buf_, pos_, std::string::npos);
      buf_.clear();
      pos_ = 0;
      if (line.size() > kMaxLineBytes) throw HttpError{413, "an NDJSON line is larger than " + std::to_string(kMaxLineBytes >> 20) + " MB; upload large files through LFS", "", {}};
      if (done_) return !line.empty();
      buf_.resize(1 << 20);
      const size_t n = body_.read(buf_.data(), buf_.size());
      buf_.resize(n);
      if (n == 0) done_ = true;
    }
  }

 private:
  http::BodyReader& body_;
  std::string buf_;
  size_t pos_ = 0;
  bool done_ = false;
};

std::string decode_content(const std::string& b64) {
  try {
    return base64_decode(b64);
  } catch (const HttpError&) {
    throw HttpError{400, "invalid base64 in file content", "", {}};
  }
}

std::string string_field(const json& j, const char* key, bool required = true) {
  if (j.contains(key) && j[key].is_string()) return j[key].get<std::string>();
  if (required) throw HttpError{400, std::string("missing string field \"") + key + "\"", "", {}};
  return "";
}

std::string checked_path(const json& value) {
  std::string path = string_field(value, "path");
  if (auto s = store::validate_repo_path(path); !s.ok()) throw HttpError{400, "Invalid path: " + s.message(), "", {}};
  return path;
}

}  // namespace

// The repo an upload (preupload or commit) goes to: write access is needed, or read access when
// the upload opens a pull request (§4.7); the caller is always a signed-in user.
static RepoHandle require_upload_target(HubServer& hub, Request& req, const Caller& caller, const RepoRoute& route, bool create_pr) {
  RepoHandle repo = hub.require_repo(req, caller, route.type, route.owner, route.name, create_pr ? Access::kRead : Access::kWrite);
  if (!caller.user) throw HttpError{401, "You must be authenticated to upload", "", {}};
  return repo;
}

Response handle_preupload(HubServer& hub, Request& req, const Caller& caller, const RepoRoute& route) {
  const bool create_pr = req.flag("create_pr");
  RepoHandle repo = require_upload_target(hub, req, caller, route, create_pr);
  size_t used = 0;
  const std::string revision = take_revision(route.rest, &used);
  const json body = parse_json_body(req);
  if (!body.contains("files") || !body["files"].is_array()) throw HttpError{400, "\"files\" must be an array", "", {}};
  GitLease git = hub.git(repo.git_dir);
  std::string commit;
  if (auto c = git->resolve(revision); c.ok()) commit = *c;
  else if (!create_pr) throw HttpError{404, "Invalid rev id: " + revision, "RevisionNotFound", {}};
  std::string attributes = body.contains("gitAttributes") && body["gitAttributes"].is_string() ? body["gitAttributes"].get<std::string>() : "";
  if (attributes.empty() && !commit.empty()) {
    if (auto a = git->read_file(commit, ".gitattributes"); a.ok()) attributes = *a;
  }
  // huggingface_hub >= 1.20 with hf_xet sends every "lfs" file to Xet, which this hub does not
  // implement: answer "regular" so the bytes come inside the commit (hub-api.md §4.8).
  const auto version = hf_hub_version(req.header("user-agent"));
  const bool xet_client = version && (version->first > 1 || (version->first == 1 && version->second >= 20));
  const bool force_regular = xet_client && hub.xet_fallback() == XetFallback::kRegular;
  json files = json::array();
  for (const auto& f : body["files"]) {
    const std::string path = checked_path(f);
    const uint64_t size = f.contains("size") && f["size"].is_number_unsigned() ? f["size"].get<uint64_t>() : 0;
    const std::string sample = base64_decode(f.contains("sample") && f["sample"].is_string() ? f["sample"].get<std::string>() : "");
    const bool lfs = !force_regular && size > 0 && (tracked_by_lfs(attributes, path) || size >= kLfsThreshold || looks_binary(sample));
    json entry{{"path", path}, {"uploadMode", lfs ? "lfs" : "regular"}, {"shouldIgnore", false}};
    if (!commit.empty()) {
      if (auto e = git->stat(commit, path); e.ok() && e->has_value() && !(*e)->is_dir) {
        entry["oid"] = (*e)->lfs ? (*e)->lfs->oid : (*e)->oid;
      }
    }
    files.push_back(std::move(entry));
  }
  Response res = json_response(200, json{{"files", files}, {"commitOid", commit.empty() ? json(nullptr) : json(commit)}});
  if (force_regular) {
    res.set("X-HF-Warning", "xet; this hub does not support Xet: large files are sent inside the commit. "
                            "Set HF_HUB_DISABLE_XET=1 to upload them through LFS.");
  }
  return res;
}

Response handle_commit(HubServer& hub, Request& req, const Caller& caller, const RepoRoute& route) {
  const bool create_pr = req.flag("create_pr");
  RepoHandle repo = require_upload_target(hub, req, caller, route, create_pr);
  size_t used = 0;
  const std::string revision = take_revision(route.rest, &used);
  GitLease git = hub.git(repo.git_dir);
  std::string ref;
  if (revision.rfind("refs/pr/", 0) == 0) {
    ref = revision;
  } else if (revision.rfind("refs/heads/", 0) == 0 || git->has_branch(revision)) {
    ref = revision.rfind("refs/heads/", 0) == 0 ? revision : "refs/heads/" + revision;
  }
  if (ref.empty() || !git->resolve(ref).ok()) {
    throw HttpError{404, "Invalid rev id: " + revision + " (commits go to a branch)", "RevisionNotFound", {}};
  }

  // Stream the NDJSON: write blobs as lines arrive; nothing is referenced until the ref moves.
  LineReader lines(*req.body);
  std::string line;
  std::string summary, description, parent;
  bool have_header = false;
  std::vector<store::FileChange> changes;
  std::vector<std::string> lfs_paths;
  struct Copy { std::string src, rev, dst; };
  std::vector<Copy> copies;
  while (lines.next(line)) {
    if (line.empty() || line == "\r") continue;
    json op = json::parse(line, nullptr, false);
    if (op.is_discarded() || !op.is_object()) throw HttpError{400, "malformed NDJSON: a line is not a JSON object", "", {}};
    const std::string key = string_field(op, "key");
    if (!op.contains("value") || !op["value"].is_object()) throw HttpError{400, "malformed NDJSON: \"value\" must be an object", "", {}};
    const json& value = op["value"];
    if (!have_header && key != "header") throw HttpError{400, "malformed NDJSON: the first line must be the header", "", {}};
    if (key == "header") {
      if (have_header) throw HttpError{400, "malformed NDJSON: two header lines", "", {}};
      have_header = true;
      summary = string_field(value, "summary", false);
      description = string_field(value, "description", false);
      parent = string_field(value, "parentCommit", false);
    } else if (key == "file") {
      const std::string path = checked_path(value);
      const std::string encoding = value.value("encoding", "base64");
      const std::string content = encoding == "base64" ? decode_content(string_field(value, "content")) : string_field(value, "content");
      auto oid = git->write_blob(content);
      if (!oid.ok()) throw Error(oid.status());
      changes.push_back({store::FileChange::Kind::kPut, path, *oid});
    } else if (key == "lfsFile") {
      const std::string path = checked_path(value);
      const std::string oid = string_field(value, "oid");
      if (!is_lower_hex(oid, 64)) throw HttpError{400, "lfsFile " + path + ": oid must be 64 lowercase hex digits", "", {}};
      auto size = hub.blobs().size_of(oid);
      if (!size.ok()) throw HttpError{422, "lfsFile " + path + ": LFS object " + oid + " was not uploaded", "", {}};
      if (value.contains("size") && value["size"].is_number() && value["size"].get<uint64_t>() != *size) {
        throw HttpError{422, "lfsFile " + path + ": size does not match the uploaded object", "", {}};
      }
      auto blob = git->write_blob(store::format_lfs_pointer({oid, *size}));
      if (!blob.ok()) throw Error(blob.status());
      changes.push_back({store::FileChange::Kind::kPut, path, *blob});
      lfs_paths.push_back(path);
    } else if (key == "deletedFile") {
      changes.push_back({store::FileChange::Kind::kDelete, checked_path(value), ""});
    } else if (key == "deletedFolder") {
      std::string path = string_field(value, "path");
      while (!path.empty() && path.back() == '/') path.pop_back();
      if (auto s = store::validate_repo_path(path); !s.ok()) throw HttpError{400, "Invalid path: " + s.message(), "", {}};
      changes.push_back({store::FileChange::Kind::kDeleteFolder, path, ""});
    } else if (key == "copyFile") {
      Copy c{string_field(value, "srcPath"), value.value("srcRevision", revision), checked_path(value)};
      if (auto s = store::validate_repo_path(c.src); !s.ok()) throw HttpError{400, "Invalid path: " + s.message(), "", {}};
      copies.push_back(std::move(c));
      changes.push_back({store::FileChange::Kind::kPut, copies.back().dst, ""});  // oid filled below
    } else {
      throw HttpError{400, "malformed NDJSON: unknown key \"" + key + "\"", "", {}};
    }
  }
  if (!have_header) throw HttpError{400, "malformed NDJSON: no header line", "", {}};
  if (summary.empty()) summary = "Upload files with mlhub";
  // Copies take the source blob as it is (an LFS pointer stays a pointer to the same object).
  size_t copy_index = 0;
  for (auto& ch : changes) {
    if (ch.kind != store::FileChange::Kind::kPut || !ch.blob_oid.empty()) continue;
    const Copy& c = copies[copy_index++];
    const std::string src_commit = hub.resolve_revision(*git, c.rev);
    auto e = git->stat(src_commit, c.src);
    if (!e.ok() || !e->has_value() || (*e)->is_dir) throw HttpError{404, "copyFile: " + c.src + " not found at " + c.rev, "EntryNotFound", {}};
    ch.blob_oid = (*e)->oid;
  }

  auto lock = hub.repo_lock(repo.record.id);
  std::lock_guard guard(*lock);
  const std::string head = hub.resolve_revision(*git, ref);
  if (!parent.empty()) {
    auto p = git->resolve(parent);
    if (!p.ok() || *p != head) {
      throw HttpError{412, "A commit has happened since. Please refresh and try again. (parentCommit " + parent + " is not the head of " + revision + ")", "", {}};
    }
  }
  // LFS files must be tracked by .gitattributes (the Hub appends a line per path).
  std::string attributes;
  if (auto a = git->read_file(head, ".gitattributes"); a.ok()) attributes = *a;
  for (const auto& ch : changes) {
    if (ch.kind == store::FileChange::Kind::kPut && ch.path == ".gitattributes") {
      // The commit brings its own .gitattributes: check the paths against it.
      std::string content;
      auto sink = [&](const char* p, size_t n) { content.append(p, n); return true; };
      if (git->read_blob(ch.blob_oid, 0, UINT64_MAX, sink).ok()) attributes = content;
    }
  }
  std::string new_attributes = attributes;
  for (const auto& path : lfs_paths) {
    if (!tracked_by_lfs(new_attributes, path)) {
      if (!new_attributes.empty() && new_attributes.back() != '\n') new_attributes += '\n';
      std::string escaped;
      for (char c : path) escaped += (c == ' ') ? std::string("[[:space:]]") : std::string(1, c);
      new_attributes += escaped + " filter=lfs diff=lfs merge=lfs -text\n";
    }
  }
  if (new_attributes != attributes) {
    auto oid = git->write_blob(new_attributes);
    if (!oid.ok()) throw Error(oid.status());
    changes.push_back({store::FileChange::Kind::kPut, ".gitattributes", *oid});
  }

  std::string pr_url;
  std::string target_ref = ref;
  if (create_pr) {
    size_t number = 1;
    for (const auto& pr : git->pull_requests()) {
      const std::string n = pr.ref.substr(8);
      if (n.find_first_not_of("0123456789") == std::string::npos && !n.empty()) number = std::max<size_t>(number, std::stoull(n) + 1);
    }
    target_ref = "refs/pr/" + std::to_string(number);
    if (auto s = git->set_ref(target_ref, head); !s.ok()) throw Error(s);
    pr_url = hub.base_url(req) + "/" + url_prefix(repo.record.type) + repo.record.repo_id() + "/discussions/" + std::to_string(number);
  }
  store::CommitRequest request;
  request.ref = target_ref;
  request.expected_parent = head;
  request.changes = std::move(changes);
  request.message = description.empty() ? summary : summary + "\n\n" + description;
  request.author_name = caller.user->name;
  request.author_email = caller.user->email.empty() ? caller.user->name + "@users.mlhub.local" : caller.user->email;
  auto commit = git->commit(request);
  if (!commit.ok()) {
    const Status& s = commit.status();
    if (s.code() == StatusCode::kFailedPrecondition) throw HttpError{412, "A commit has happened since. Please refresh and try again.", "", {}};
    if (s.code() == StatusCode::kNotFound) throw HttpError{404, s.message(), "EntryNotFound", {}};
    if (s.code() == StatusCode::kInvalidArgument) throw HttpError{400, s.message(), "", {}};
    throw Error(s);
  }
  if (target_ref == "refs/heads/main") {
    store::RepoRecord record = repo.record;
    hub.reindex(record, *git);
  }
  const std::string base = hub.base_url(req) + "/" + url_prefix(repo.record.type) + repo.record.repo_id();
  return json_response(200, json{{"success", true},
                                 {"commitOid", *commit},
                                 {"commitUrl", base + "/commit/" + *commit},
                                 {"commitMessage", summary},
                                 {"hookOutput", ""},
                                 {"pullRequestUrl", pr_url.empty() ? json(nullptr) : json(pr_url)}});
}

}  // namespace mlhub::hub
