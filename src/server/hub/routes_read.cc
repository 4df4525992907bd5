// Read-only metadata routes (docs/hub-api.md §3, §5.2): repo info, listing, tree, paths-info,
// refs, commits, whoami.
#include <algorithm>

#include "mlhub/pipelines.h"
#include "server/hub/hub_server.h"

namespace mlhub::hub {
namespace {


json last_commit_json(const store::CommitInfo& c) {
  return json{{"id", c.id}, {"title", c.title}, {"date", iso_date(c.time)}};
}

// The repo object of §3.1. `git`/`commit` are given when the caller wants fields that need the
// repository (sha, siblings, lastModified of that revision).
// What a "try it" widget and the inference clients read from model info: "inference": "warm"
// when this server's inference API runs the model's pipeline tag (every model is loaded on
// demand), the card's widget examples as widgetData, and the tokenizer's mask token for
// fill-mask models (the widget builds its example around it).
void add_inference_fields(json& j, const std::string& pipeline_tag, const json& card, const store::GitRepo* git,
                          const std::string& commit) {
  static const std::vector<std::string> tasks = supported_tasks();
  if (!pipeline_tag.empty() && std::find(tasks.begin(), tasks.end(), pipeline_tag) != tasks.end()) j["inference"] = "warm";
  if (card.is_object() && card.contains("widget") && card["widget"].is_array()) j["widgetData"] = card["widget"];
  if (pipeline_tag == "fill-mask" && git && !commit.empty()) {
    auto text = git->read_file(commit, "tokenizer_config.json");
    if (!text.ok()) return;
    const json config = json::parse(*text, nullptr, false);
    if (!config.is_object() || !config.contains("mask_token")) return;
    const json& mask = config["mask_token"];
    if (mask.is_string()) j["mask_token"] = mask;
    else if (mask.is_object() && mask.contains("content") && mask["content"].is_string()) j["mask_token"] = mask["content"];
  }
}

json repo_json(HubServer& hub, const store::RepoRecord& r, const store::GitRepo* git, const std::string& commit,
               bool with_files, bool blobs) {
  json j;
  j["_id"] = opaque_id(r.id);
  j["id"] = r.repo_id();
  if (r.type == "model") j["modelId"] = r.repo_id();
  j["author"] = r.owner;
  j["private"] = r.is_private;
  j["gated"] = r.gated.empty() ? json(false) : json(r.gated);
  j["disabled"] = r.disabled;
  j["downloads"] = r.downloads;
  j["likes"] = r.likes;
  j["createdAt"] = iso_date(r.created_at);
  j["lastModified"] = iso_date(r.last_modified);
  json tags = json::parse(r.tags_json, nullptr, false);
  json card = json::parse(r.card_json, nullptr, false);
  std::string pipeline_tag = r.pipeline_tag, library = r.library_name;
  if (git && !commit.empty()) {
    j["sha"] = commit;
    if (auto info = git->commit_info(commit); info.ok()) j["lastModified"] = iso_date(info->time);
    if (commit != r.indexed_sha) {  // another revision: derive its card on the fly
      const store::CardMetadata parsed = card_at(*git, commit, r.type);
      tags = parsed.tags;
      card = json::parse(parsed.card_json, nullptr, false);
      pipeline_tag = parsed.pipeline_tag;
      library = parsed.library_name;
    }
  }
  j["tags"] = tags.is_array() ? tags : json::array();
  if (!pipeline_tag.empty()) j["pipeline_tag"] = pipeline_tag;
  if (!library.empty()) j["library_name"] = library;
  if (card.is_object() && !card.empty()) j["cardData"] = card;
  if (r.type == "model") add_inference_fields(j, pipeline_tag, card, git, commit);
  if (r.type == "dataset") {
    j["description"] = card.is_object() && card.contains("pretty_name") && card["pretty_name"].is_string() ? card["pretty_name"] : json("");
    j["citation"] = "";
    j["paperswithcode_id"] = nullptr;
  }
  if (with_files && git && !commit.empty()) {
    json siblings = json::array();
    uint64_t used = 0;
    auto entries = git->list_tree(commit, "", true);
    if (entries.ok()) {
      for (const auto& e : *entries) {
        if (e.is_dir) continue;
        json s{{"rfilename", e.path}};
        const uint64_t size = e.lfs ? e.lfs->size : e.size;
        used += size;
        if (blobs) {
          s["size"] = size;
          s["blobId"] = e.oid;
          if (e.lfs) s["lfs"] = json{{"sha256", e.lfs->oid}, {"size", e.lfs->size}, {"pointerSize", e.size}};
        }
        siblings.push_back(std::move(s));
      }
    }
    j["siblings"] = std::move(siblings);
    j["spaces"] = json::array();
    j["usedStorage"] = used;
  }
  (void)hub;
  return j;
}

// Keeps only the `expand` fields (plus _id and id) when the request names some.
void apply_expand(const Request& req, json& j) {
  const auto fields = req.params("expand");
  if (fields.empty()) return;
  json out{{"_id", j["_id"]}, {"id", j["id"]}};
  for (const auto& f : fields) {
    if (j.contains(f)) out[f] = j[f];
    else if (f == "xetEnabled") out[f] = false;
    else if (f == "trendingScore") out[f] = 0;
  }
  j = std::move(out);
}

bool expand_wants(const Request& req, const char* field) {
  const auto fields = req.params("expand");
  return fields.empty() || std::find(fields.begin(), fields.end(), field) != fields.end();
}

}  // namespace

Response handle_repo_info(HubServer& hub, Request& req, const Caller& caller, const RepoRoute& route) {
  RepoHandle repo = hub.require_repo(req, caller, route.type, route.owner, route.name, Access::kRead);
  size_t used = 0;
  std::string revision = route.action == "revision" ? take_revision(route.rest, &used) : "HEAD";
  GitLease git = hub.git(repo.git_dir);
  const std::string commit = hub.resolve_revision(*git, revision);
  const bool need_files = expand_wants(req, "siblings") || expand_wants(req, "usedStorage");
  json j = repo_json(hub, repo.record, &*git, commit, need_files, req.flag("blobs"));
  apply_expand(req, j);
  return json_response(200, j);
}

Response handle_list(HubServer& hub, Request& req, const Caller& caller, const std::string& type) {
  store::RepoQuery q;
  q.type = type;
  q.search = req.params("search");
  q.search.erase(std::remove(q.search.begin(), q.search.end(), std::string()), q.search.end());
  q.author = req.param("author").value_or("");
  q.filters = req.params("filter");
  for (const char* key : {"pipeline_tag", "library", "language", "license"}) {
    if (auto v = req.param(key)) q.filters.push_back(std::string(key) == "license" ? "license:" + *v : *v);
  }
  q.filters.erase(std::remove(q.filters.begin(), q.filters.end(), std::string()), q.filters.end());
  q.sort = req.param("sort").value_or("");
  static const char* kSorts[] = {"", "downloads", "likes", "lastModified", "createdAt", "id", "trendingScore", "last_modified", "created_at"};
  if (std::find(std::begin(kSorts), std::end(kSorts), q.sort) == std::end(kSorts)) {
    throw HttpError{400, "invalid sort: " + q.sort, "", {}};
  }
  if (q.sort == "last_modified") q.sort = "lastModified";
  if (q.sort == "created_at") q.sort = "createdAt";
  if (q.sort == "trendingScore") q.sort = "downloads";
  q.ascending = req.param("direction").value_or("-1") == "1";
  q.offset = query_offset(req);
  q.limit = query_limit(req, 1000, 1000);
  q.viewer_id = caller.user ? caller.user->id : -1;
  auto page_plus_one = q;
  page_plus_one.limit = q.limit + 1;
  auto repos = hub.meta().list_repos(page_plus_one);
  const bool more = repos.size() > q.limit;
  if (more) repos.resize(q.limit);
  const bool full = req.flag("full");
  const bool card = req.flag("cardData");
  json arr = json::array();
  const auto expand = req.params("expand");
  auto wants = [&](const char* f) { return std::find(expand.begin(), expand.end(), f) != expand.end(); };
  for (const auto& r : repos) {
    json j;
    if (full || wants("sha") || wants("siblings") || wants("lastModified") || wants("usedStorage")) {
      GitLease git = hub.git(hub.data_dir() / r.storage);
      std::string sha;
      if (auto head = git->resolve("HEAD"); head.ok()) sha = *head;
      j = repo_json(hub, r, &*git, sha, full || wants("siblings") || wants("usedStorage"), false);
    } else {
      j = repo_json(hub, r, nullptr, "", false, false);
      if (expand.empty()) {  // the Hub's default listing fields
        j.erase("author");
        j.erase("disabled");
        j.erase("lastModified");
        j.erase("gated");
      }
    }
    if (!card && !full && !wants("cardData")) j.erase("cardData");
    apply_expand(req, j);
    arr.push_back(std::move(j));
  }
  Response res = json_response(200, arr);
  if (more) res.set("Link", next_link(hub, req, q.offset + q.limit));
  return res;
}

Response handle_tree(HubServer& hub, Request& req, const Caller& caller, const RepoRoute& route) {
  RepoHandle repo = hub.require_repo(req, caller, route.type, route.owner, route.name, Access::kRead);
  size_t used = 0;
  const std::string revision = take_revision(route.rest, &used);
  std::string dir = join_decoded(route.rest, used);
  while (!dir.empty() && dir.back() == '/') dir.pop_back();
  GitLease git = hub.git(repo.git_dir);
  const std::string commit = hub.resolve_revision(*git, revision);
  if (!dir.empty() && !store::validate_repo_path(dir).ok()) throw HttpError{404, "Entry not found", "EntryNotFound", {}};
  auto entries = git->list_tree(commit, dir, req.flag("recursive"));
  if (!entries.ok()) {
    if (entries.status().code() == StatusCode::kNotFound) throw HttpError{404, "Entry not found: " + dir, "EntryNotFound", {}};
    throw Error(entries.status());
  }
  const bool expand = req.flag("expand");
  const size_t offset = query_offset(req);
  const size_t limit = query_limit(req, expand ? 50 : 1000, expand ? 1000 : 10000);
  const size_t end = std::min(entries->size(), offset + limit);
  std::vector<std::string> paths;
  for (size_t i = offset; i < end; ++i) paths.push_back((*entries)[i].path);
  std::map<std::string, store::CommitInfo> last;
  if (expand && !paths.empty()) {
    auto lc = git->last_commits(commit, paths);
    if (lc.ok()) last = std::move(lc).value();
  }
  json arr = json::array();
  for (size_t i = offset; i < end; ++i) {
    json j = tree_entry_json((*entries)[i]);
    if (expand) {
      if (auto it = last.find((*entries)[i].path); it != last.end()) j["lastCommit"] = last_commit_json(it->second);
    }
    arr.push_back(std::move(j));
  }
  Response res = json_response(200, arr);
  if (end < entries->size()) res.set("Link", next_link(hub, req, end));
  return res;
}

Response handle_paths_info(HubServer& hub, Request& req, const Caller& caller, const RepoRoute& route) {
  RepoHandle repo = hub.require_repo(req, caller, route.type, route.owner, route.name, Access::kRead);
  size_t used = 0;
  const std::string revision = take_revision(route.rest, &used);
  std::vector<std::string> paths;
  bool expand = false;
  const std::string type = req.header("content-type");
  if (type.rfind("application/json", 0) == 0) {
    json body = parse_json_body(req);
    if (body.contains("paths") && body["paths"].is_array()) {
      for (const auto& p : body["paths"]) {
        if (p.is_string()) paths.push_back(p.get<std::string>());
      }
    }
    expand = body.value("expand", false);
  } else {
    for (const auto& [k, v] : http::parse_query(req.body->read_all(16u << 20))) {
      if (k == "paths" || k == "paths[]") paths.push_back(v);
      if (k == "expand") expand = v == "true" || v == "True" || v == "1";
    }
  }
  if (paths.size() > 10000) throw HttpError{400, "too many paths (at most 10000)", "", {}};
  GitLease git = hub.git(repo.git_dir);
  const std::string commit = hub.resolve_revision(*git, revision);
  std::vector<store::TreeEntry> found;
  for (auto p : paths) {
    while (!p.empty() && p.back() == '/') p.pop_back();
    if (!store::validate_repo_path(p).ok()) continue;
    auto e = git->stat(commit, p);
    if (e.ok() && e->has_value()) found.push_back(**e);
  }
  std::map<std::string, store::CommitInfo> last;
  if (expand && !found.empty()) {
    std::vector<std::string> ps;
    for (const auto& e : found) ps.push_back(e.path);
    if (auto lc = git->last_commits(commit, ps); lc.ok()) last = std::move(lc).value();
  }
  json arr = json::array();
  for (const auto& e : found) {
    json j = tree_entry_json(e);
    if (expand) {
      if (auto it = last.find(e.path); it != last.end()) j["lastCommit"] = last_commit_json(it->second);
    }
    arr.push_back(std::move(j));
  }
  return json_response(200, arr);
}

Response handle_refs(HubServer& hub, Request& req, const Caller& caller, const RepoRoute& route) {
  RepoHandle repo = hub.require_repo(req, caller, route.type, route.owner, route.name, Access::kRead);
  GitLease git = hub.git(repo.git_dir);
  auto refs_json = [](const std::vector<store::GitRef>& refs) {
    json arr = json::array();
    for (const auto& r : refs) arr.push_back(json{{"name", r.name}, {"ref", r.ref}, {"targetCommit", r.target}});
    return arr;
  };
  json j{{"branches", refs_json(git->branches())}, {"converts", json::array()}, {"tags", refs_json(git->tags())}};
  if (req.flag("include_prs")) j["pullRequests"] = refs_json(git->pull_requests());
  return json_response(200, j);
}

Response handle_commits(HubServer& hub, Request& req, const Caller& caller, const RepoRoute& route) {
  RepoHandle repo = hub.require_repo(req, caller, route.type, route.owner, route.name, Access::kRead);
  size_t used = 0;
  const std::string revision = take_revision(route.rest, &used);
  GitLease git = hub.git(repo.git_dir);
  const std::string commit = hub.resolve_revision(*git, revision);
  const size_t offset = query_offset(req);
  const size_t limit = query_limit(req, 50, 1000);
  size_t total = 0;
  auto log = git->log(commit, offset, limit, &total);
  if (!log.ok()) throw Error(log.status());
  const auto expand = req.params("expand");
  const bool formatted = std::find(expand.begin(), expand.end(), "formatted") != expand.end();
  json arr = json::array();
  for (const auto& c : *log) {
    std::string message = c.message;
    json j{{"id", c.id},
           {"title", c.title},
           {"message", message},
           {"authors", json::array({json{{"user", c.author_name}, {"avatar", ""}}})},
           {"date", iso_date(c.time)}};
    if (formatted) j["formatted"] = json{{"title", c.title}, {"message", message}};
    arr.push_back(std::move(j));
  }
  Response res = json_response(200, arr);
  res.set("X-Total-Count", std::to_string(total));
  if (offset + log->size() < total) res.set("Link", next_link(hub, req, offset + log->size()));
  return res;
}

Response handle_whoami(HubServer& hub, Request& req, const Caller& caller) {
  if (!caller.user) throw HttpError{401, "Invalid user token.", "", {}};
  const auto& u = *caller.user;
  json orgs = json::array();
  for (const auto& [org, role] : hub.meta().orgs_of(u.id)) {
    orgs.push_back(json{{"type", "org"}, {"id", opaque_id(org.id)}, {"name", org.name}, {"fullname", org.fullname},
                        {"email", nullptr}, {"canPay", false}, {"avatarUrl", ""}, {"periodEnd", nullptr},
                        {"roleInOrg", std::string(store::member_role_name(role))}});
  }
  json j{{"type", "user"},
         {"id", opaque_id(u.id)},
         {"name", u.name},
         {"fullname", u.fullname.empty() ? u.name : u.fullname},
         {"email", u.email.empty() ? json(nullptr) : json(u.email)},
         {"emailVerified", !u.email.empty()},
         {"isPro", false},
         {"canPay", false},
         {"avatarUrl", ""},
         {"periodEnd", nullptr},
         {"billingMode", "postpaid"},
         {"orgs", orgs},
         {"auth", json{{"type", "access_token"},
                       {"accessToken", json{{"displayName", caller.token_name},
                                            {"role", std::string(store::token_role_name(caller.role))},
                                            {"createdAt", iso_date(u.created_at)}}}}}};
  (void)req;
  return json_response(200, j);
}

}  // namespace mlhub::hub
