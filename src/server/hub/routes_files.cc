// HEAD/GET /{prefix}{repo}/resolve/{rev}/{path} and /raw/ (docs/hub-api.md §2): the bytes,
// with the metadata headers clients build their cache from, and single-range requests.
#include "server/hub/hub_server.h"

namespace mlhub::hub {
namespace {

std::string content_type_of(const std::string& path) {
  auto ends = [&](std::string_view s) { return path.size() >= s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0; };
  if (ends(".json")) return "application/json; charset=utf-8";
  if (ends(".md") || ends(".txt") || ends(".py") || ends(".yaml") || ends(".yml") || ends(".csv") || ends(".jsonl") ||
      ends(".jinja") || ends(".gitattributes") || ends(".gitignore")) {
    return "text/plain; charset=utf-8";
  }
  return "application/octet-stream";
}

// Parses a single "bytes=a-b" / "bytes=a-" / "bytes=-n" range against `total`. nullopt when
// there is no usable Range header (serve everything); throws 416 when unsatisfiable.
std::optional<std::pair<uint64_t, uint64_t>> parse_range(const std::string& header, uint64_t total) {
  if (header.rfind("bytes=", 0) != 0) return std::nullopt;
  const std::string spec = header.substr(6);
  if (spec.find(',') != std::string::npos) return std::nullopt;  // multi-range: serve the whole file
  const size_t dash = spec.find('-');
  if (dash == std::string::npos) return std::nullopt;
  const std::string a = spec.substr(0, dash), b = spec.substr(dash + 1);
  auto num = [](const std::string& s) -> std::optional<uint64_t> {
    if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    return std::stoull(s);
  };
  const std::string content_range = "bytes */" + std::to_string(total);
  if (a.empty()) {  // suffix range
    auto n = num(b);
    if (!n) return std::nullopt;
    if (*n == 0 || total == 0) throw HttpError{416, "Requested range not satisfiable", "", {{"Content-Range", content_range}}};
    const uint64_t len = std::min(*n, total);
    return std::make_pair(total - len, total - 1);
  }
  auto start = num(a);
  if (!start) return std::nullopt;
  if (*start >= total) throw HttpError{416, "Requested range not satisfiable", "", {{"Content-Range", content_range}}};
  uint64_t end = total - 1;
  if (!b.empty()) {
    auto e = num(b);
    if (!e || *e < *start) return std::nullopt;
    end = std::min(*e, total - 1);
  }
  return std::make_pair(*start, end);
}

// Downloads are counted the way the Hub counts them: config.json (or a GGUF file) of a model,
// any data file of a dataset; HEAD and ranged reads past the first byte are not downloads.
bool counts_as_download(const std::string& type, const std::string& path, const Request& req) {
  if (req.method != "GET") return false;
  const std::string range = req.header("range");
  if (!range.empty() && range.rfind("bytes=0-", 0) != 0) return false;
  if (type == "model") return path == "config.json" || (path.size() > 5 && path.substr(path.size() - 5) == ".gguf");
  return path != "README.md" && path != ".gitattributes";
}

}  // namespace

Response handle_file(HubServer& hub, Request& req, const Caller& caller, const RepoRoute& route) {
  const bool raw = route.action == "raw";
  RepoHandle repo = hub.require_repo(req, caller, route.type, route.owner, route.name, Access::kReadContent);
  size_t used = 0;
  const std::string revision = take_revision(route.rest, &used);
  const std::string path = join_decoded(route.rest, used);
  GitLease git = hub.git(repo.git_dir);
  const std::string commit = hub.resolve_revision(*git, revision);
  const std::vector<std::pair<std::string, std::string>> commit_header = {{"X-Repo-Commit", commit}};
  if (path.empty() || !store::validate_repo_path(path).ok()) {
    throw HttpError{404, "Entry not found", "EntryNotFound", commit_header};
  }
  auto entry = git->stat(commit, path);
  if (!entry.ok()) throw Error(entry.status());
  if (!entry->has_value() || (*entry)->is_dir) throw HttpError{404, "Entry not found", "EntryNotFound", commit_header};
  const store::TreeEntry& e = **entry;

  Response res;
  std::string etag = e.oid;
  uint64_t total = e.size;
  std::optional<std::filesystem::path> blob_file;
  if (!raw && e.lfs) {
    auto p = hub.blobs().path_of(e.lfs->oid);
    if (!p.ok()) {
      // Never serve the pointer as if it were the file: a client would cache it as the weights.
      log(LogLevel::kError, "LFS object " + e.lfs->oid + " of " + repo.record.repo_id() + "/" + path + " is missing from the blob store");
      throw HttpError{500, "the LFS object of " + path + " is missing from this hub's storage", "", commit_header};
    }
    blob_file = *p;
    etag = e.lfs->oid;
    total = e.lfs->size;
  }
  const auto range = parse_range(req.header("range"), total);
  const uint64_t begin = range ? range->first : 0;
  const uint64_t length = range ? range->second - range->first + 1 : total;
  res.status = range ? 206 : 200;
  if (blob_file) {
    res.file = http::Response::FileRegion{*blob_file, begin, length};
  } else if (req.method == "GET") {
    auto content = git->read_file(commit, path);
    if (!content.ok()) throw Error(content.status());
    res.body = content->substr(static_cast<size_t>(begin), static_cast<size_t>(length));
  }
  res.head_length = length;
  if (range) res.set("Content-Range", "bytes " + std::to_string(range->first) + "-" + std::to_string(range->second) + "/" + std::to_string(total));
  res.set("Content-Type", content_type_of(path));
  res.set("ETag", "\"" + etag + "\"");
  res.set("X-Repo-Commit", commit);
  res.set("X-Linked-Etag", "\"" + etag + "\"");
  res.set("X-Linked-Size", std::to_string(total));
  res.set("Accept-Ranges", "bytes");
  const std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  std::string safe_name;
  for (char c : base) safe_name += (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) ? '_' : c;
  res.set("Content-Disposition", "inline; filename*=UTF-8''" + http::percent_encode(base) + "; filename=\"" + safe_name + "\";");
  if (counts_as_download(repo.record.type, path, req)) hub.meta().count_download(repo.record.id);
  return res;
}

}  // namespace mlhub::hub
