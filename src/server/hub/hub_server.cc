// HubServer: state, auth, the visibility matrix, and the router.
#include "server/hub/hub_server.h"

#include <openssl/hmac.h>

#include <algorithm>

namespace mlhub::hub {
namespace fs = std::filesystem;

void throw_repo_not_found(const Caller& caller) {
  if (caller.authenticated()) throw HttpError{404, "Repository not found", "RepoNotFound", {}};
  throw HttpError{401, "Invalid username or password.", "RepoNotFound", {}};
}

namespace {

bool is_repo_type_plural(const std::string& s) { return s == "models" || s == "datasets" || s == "spaces"; }

std::string singular(const std::string& plural_type) { return plural_type.substr(0, plural_type.size() - 1); }


}  // namespace

HubServer::HubServer(fs::path data_dir, XetFallback xet)
    : data_dir_(std::move(data_dir)), blobs_(data_dir_ / "blobs"), xet_(xet) {
  fs::create_directories(data_dir_ / "repos");
  auto meta = store::MetadataStore::open_sqlite(data_dir_ / "hub.sqlite");
  if (!meta.ok()) throw Error(meta.status());
  meta_ = std::move(meta).value();
  secret_ = meta_->secret("signing-key");
}

void HubServer::recover() {
  blobs_.recover();
  std::error_code ec;
  fs::remove_all(data_dir_ / "repos" / "tmp", ec);
  fs::remove_all(data_dir_ / "repos" / "trash", ec);
  auto repos = meta_->all_repos();
  std::vector<std::string> known;
  for (auto& repo : repos) {
    known.push_back(repo.storage);
    const fs::path dir = data_dir_ / repo.storage;
    store::GitRepo::recover(dir);
    auto git = store::GitRepo::open(dir);
    if (!git.ok()) {
      log(LogLevel::kError, "repo " + repo.repo_id() + ": " + git.status().to_string());
      continue;
    }
    reindex(repo, *git);
  }
  // Folders of repos whose creation did not finish (the record is written last).
  for (const char* type : {"models", "datasets", "spaces"}) {
    const fs::path dir = data_dir_ / "repos" / type;
    if (!fs::exists(dir)) continue;
    for (const auto& entry : fs::directory_iterator(dir)) {
      const std::string rel = fs::relative(entry.path(), data_dir_).string();
      if (std::find(known.begin(), known.end(), rel) == known.end()) fs::remove_all(entry.path(), ec);
    }
  }
}

GitLease::~GitLease() {
  if (hub_ && repo_) hub_->give_back(key_, std::move(repo_));
}

GitLease HubServer::git(const fs::path& git_dir) {
  const std::string key = git_dir.string();
  {
    std::lock_guard lock(pool_mu_);
    auto it = pool_.find(key);
    if (it != pool_.end() && !it->second.empty()) {
      auto repo = std::move(it->second.back());
      it->second.pop_back();
      --pooled_;
      return GitLease(this, key, std::move(repo));
    }
  }
  auto opened = store::GitRepo::open(git_dir);
  if (!opened.ok()) throw Error(opened.status());
  return GitLease(this, key, std::make_unique<store::GitRepo>(std::move(opened).value()));
}

void HubServer::give_back(const std::string& key, std::unique_ptr<store::GitRepo> repo) {
  constexpr size_t kMaxPerRepo = 8, kMaxTotal = 512;
  std::lock_guard lock(pool_mu_);
  auto& idle = pool_[key];
  if (idle.size() >= kMaxPerRepo) return;
  if (pooled_ >= kMaxTotal) {  // full: drop the idle repositories of some other repo
    for (auto it = pool_.begin(); it != pool_.end(); ++it) {
      if (it->first != key && !it->second.empty()) {
        pooled_ -= it->second.size();
        it->second.clear();
        break;
      }
    }
    if (pooled_ >= kMaxTotal) return;
  }
  idle.push_back(std::move(repo));
  ++pooled_;
}

void HubServer::forget_git(const fs::path& git_dir) {
  std::lock_guard lock(pool_mu_);
  auto it = pool_.find(git_dir.string());
  if (it == pool_.end()) return;
  pooled_ -= it->second.size();
  pool_.erase(it);
}

std::shared_ptr<std::mutex> HubServer::repo_lock(int64_t repo_id) {
  std::lock_guard lock(locks_mu_);
  auto& m = locks_[repo_id];
  if (!m) m = std::make_shared<std::mutex>();
  return m;
}

std::string HubServer::base_url(const Request& req) const {
  std::string host = req.header("host");
  if (host.empty()) host = "localhost";
  const std::string proto = req.header("x-forwarded-proto");
  return (proto == "https" ? "https://" : "http://") + host;
}

std::string HubServer::sign(const std::string& payload) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), mac, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 15];
  }
  return out;
}

Caller HubServer::authenticate(const Request& req) {
  Caller caller;
  const std::string auth = req.header("authorization");
  if (auth.empty()) return caller;
  std::string token;
  if (auth.rfind("Bearer ", 0) == 0 || auth.rfind("bearer ", 0) == 0) {
    token = auth.substr(7);
  } else if (auth.rfind("Basic ", 0) == 0 || auth.rfind("basic ", 0) == 0) {
    std::string decoded;
    try {
      decoded = base64_decode(auth.substr(6));
    } catch (const HttpError&) {
      throw HttpError{401, "Invalid credentials in Authorization header", "", {}};
    }
    const size_t colon = decoded.find(':');
    token = colon == std::string::npos ? decoded : decoded.substr(colon + 1);
  }
  while (!token.empty() && token.back() == ' ') token.pop_back();
  auto found = meta_->authenticate(token);
  if (!found) {
    throw HttpError{401, "Invalid credentials in Authorization header", "", {}};
  }
  caller.user = found->first;
  caller.role = found->second.role;
  caller.token_name = found->second.name;
  return caller;
}

bool HubServer::can_read(const Caller& caller, const store::RepoRecord& repo) {
  if (!repo.is_private) return true;
  if (!caller.user) return false;
  if (caller.user->name == repo.owner) return true;
  auto org = meta_->find_account(repo.owner);
  return org && org->is_org && meta_->member_role(org->id, caller.user->id).has_value();
}

bool HubServer::can_write_namespace(const Caller& caller, const std::string& owner_name) {
  if (!caller.user || caller.role != store::TokenRole::kWrite) return false;
  if (caller.user->name == owner_name) return true;
  auto org = meta_->find_account(owner_name);
  if (!org || !org->is_org) return false;
  auto role = meta_->member_role(org->id, caller.user->id);
  return role && (*role == store::MemberRole::kWrite || *role == store::MemberRole::kAdmin);
}

RepoHandle HubServer::require_repo(const Request& req, const Caller& caller, const std::string& type,
                                   const std::string& owner, const std::string& name, Access access) {
  auto record = meta_->find_repo(type, owner, name);
  if (!record) {
    // A moved repo: a relative 307 to the same path under the new id (hub-api.md §4.3).
    if (auto target = meta_->redirect_of(type, owner, name)) {
      const std::string old_id = owner + "/" + name;
      std::string location = req.target;
      const size_t at = location.find(old_id);
      if (at != std::string::npos) {
        location.replace(at, old_id.size(), *target);
        throw HttpError{307, "Repository moved to " + *target, "", {{"Location", location}}};
      }
    }
  }
  if (!record || !can_read(caller, *record)) throw_repo_not_found(caller);
  if (record->disabled) throw HttpError{403, "Access to this resource is disabled.", "", {}};
  if (access == Access::kReadContent && !record->gated.empty()) {
    const bool member = caller.user && (caller.user->name == record->owner || can_write_namespace(caller, record->owner) ||
                                        [&] {
                                          auto org = meta_->find_account(record->owner);
                                          return org && org->is_org && meta_->member_role(org->id, caller.user->id);
                                        }());
    const std::string what = "Access to " + type + " " + record->repo_id() + " is restricted";
    if (!caller.authenticated()) {
      throw HttpError{401, what + ". You must have access to it and be authenticated to access it. Please log in.", "GatedRepo", {}};
    }
    // "auto" approves every authenticated user; "manual" only the owner's members.
    if (record->gated == "manual" && !member) {
      throw HttpError{403, what + " and you are not in the authorized list. Visit " + base_url(req) + "/" +
                               url_prefix(type) + record->repo_id() + " to ask for access.", "GatedRepo", {}};
    }
  }
  if (access == Access::kWrite && !caller.authenticated()) {
    throw HttpError{401, "You must be authenticated (pass a write token) to write to " + record->repo_id(), "", {}};
  }
  if (access == Access::kWrite && !can_write_namespace(caller, record->owner)) {
    throw HttpError{403, "You don't have the rights to write to " + record->repo_id() +
                             (caller.role == store::TokenRole::kRead ? " (your token is read-only)" : ""), "", {}};
  }
  return RepoHandle{*record, data_dir_ / record->storage};
}

std::string HubServer::resolve_revision(const store::GitRepo& git, const std::string& revision) {
  auto commit = git.resolve(revision);
  if (!commit.ok()) throw HttpError{404, "Invalid rev id: " + revision, "RevisionNotFound", {}};
  return *commit;
}

store::CardMetadata card_at(const store::GitRepo& git, const std::string& commit, const std::string& repo_type) {
  std::vector<std::string> files;
  if (auto entries = git.list_tree(commit, "", true); entries.ok()) {
    for (const auto& e : *entries) {
      if (!e.is_dir) files.push_back(e.path);
    }
  }
  auto readme = git.read_file(commit, "README.md");
  auto config = git.read_file(commit, "config.json");
  const std::string config_text = config.ok() ? *config : "";
  auto card = store::parse_card(readme.ok() ? *readme : "", repo_type, files, config_text);
  // Invalid front matter: the tags the files alone give (parse_card cannot fail without a card).
  return card.ok() ? std::move(card).value() : store::parse_card("", repo_type, files, config_text).value();
}

void HubServer::reindex(store::RepoRecord& repo, const store::GitRepo& git) {
  auto head = git.resolve("HEAD");
  if (!head.ok() || *head == repo.indexed_sha) return;
  const store::CardMetadata card = card_at(git, *head, repo.type);
  repo.card_json = card.card_json;
  repo.tags_json = json(card.tags).dump();
  repo.pipeline_tag = card.pipeline_tag;
  repo.library_name = card.library_name;
  if (auto info = git.commit_info(*head); info.ok()) repo.last_modified = info->time;
  repo.indexed_sha = *head;
  if (auto s = meta_->update_repo(repo); !s.ok()) log(LogLevel::kError, "reindex " + repo.repo_id() + ": " + s.to_string());
}

namespace {

Response route_repo_api(HubServer& hub, Request& req, const Caller& caller, const std::vector<std::string>& seg) {
  // seg: api, {types}, owner, name, action?, rest...
  RepoRoute route;
  route.type = singular(seg[1]);
  route.owner = http::percent_decode(seg[2]);
  route.name = http::percent_decode(seg[3]);
  if (seg.size() > 4) route.action = seg[4];
  route.rest.assign(seg.begin() + std::min<size_t>(5, seg.size()), seg.end());
  const std::string& a = route.action;
  const std::string& m = req.method;
  if (a.empty() && (m == "GET" || m == "HEAD")) return handle_repo_info(hub, req, caller, route);
  if (a == "revision" && m == "GET") return handle_repo_info(hub, req, caller, route);
  if (a == "tree" && m == "GET") return handle_tree(hub, req, caller, route);
  if (a == "paths-info" && m == "POST") return handle_paths_info(hub, req, caller, route);
  if (a == "refs" && m == "GET") return handle_refs(hub, req, caller, route);
  if (a == "commits" && m == "GET") return handle_commits(hub, req, caller, route);
  if (a == "preupload" && m == "POST") return handle_preupload(hub, req, caller, route);
  if (a == "commit" && m == "POST") return handle_commit(hub, req, caller, route);
  if (a == "branch" && (m == "POST" || m == "DELETE")) return handle_branch(hub, req, caller, route);
  if (a == "tag" && (m == "POST" || m == "DELETE")) return handle_tag(hub, req, caller, route);
  if (a == "settings" && m == "PUT") return handle_settings(hub, req, caller, route);
  if (a == "auth-check" && m == "GET") {
    const bool write = !route.rest.empty() && route.rest[0] == "write";
    hub.require_repo(req, caller, route.type, route.owner, route.name, write ? Access::kWrite : Access::kReadContent);
    return json_response(200, json::object());
  }
  if (a == "discussions" && m == "GET") {
    hub.require_repo(req, caller, route.type, route.owner, route.name, Access::kRead);
    return json_response(200, json{{"discussions", json::array()}, {"count", 0}, {"start", 0}, {"numClosedDiscussions", 0}});
  }
  if (a == "xet-write-token" || a == "xet-read-token") {
    throw HttpError{501, "Xet storage is not enabled on this hub; set HF_HUB_DISABLE_XET=1", "", {}};
  }
  throw HttpError{404, "Not found: " + req.method + " " + req.path, "", {}};
}

}  // namespace

Response HubServer::handle(Request& req) {
  try {
    return dispatch(req);
  } catch (const json::exception& e) {
    // A JSON body of the wrong shape (a field of the wrong type): the client's fault.
    throw HttpError{400, std::string("invalid request body: ") + e.what(), "", {}};
  }
}

Response HubServer::dispatch(Request& req) {
  const auto seg = http::split_path(req.path);
  Response res;
  // Self-signed LFS upload and download URLs carry no Authorization header.
  if (seg.size() >= 1 && (seg[0] == "lfs-upload" || seg[0] == "lfs-objects")) return handle_lfs_upload(*this, req, seg);
  if (is_git_http_request(req, seg)) return handle_git_http(*this, req, seg);
  const Caller caller = authenticate(req);
  if (seg.size() >= 2 && seg[0] == "api") {
    const std::string& s1 = seg[1];
    if (s1 == "whoami-v2" && req.method == "GET") return handle_whoami(*this, req, caller);
    if (s1 == "validate-yaml" && req.method == "POST") return handle_validate_yaml(*this, req);
    if (s1 == "repos" && seg.size() == 3) {
      if (seg[2] == "create" && req.method == "POST") return handle_create_repo(*this, req, caller);
      if (seg[2] == "delete" && req.method == "DELETE") return handle_delete_repo(*this, req, caller);
      if (seg[2] == "move" && req.method == "POST") return handle_move_repo(*this, req, caller);
    }
    if (is_repo_type_plural(s1)) {
      if (seg.size() == 2 && req.method == "GET") return handle_list(*this, req, caller, singular(s1));
      if (seg.size() >= 4) return route_repo_api(*this, req, caller, seg);
      // A legacy single-segment id ("gpt2"): this hub has no canonical mapping for those.
      if (seg.size() == 3) throw_repo_not_found(caller);
    }
    throw HttpError{404, "Not found: " + req.method + " " + req.path, "", {}};
  }
  // Non-API routes: /{prefix}{owner}/{name}/{resolve|raw}/..., /{prefix}{owner}/{name}.git/info/lfs/...
  size_t i = 0;
  RepoRoute route;
  route.type = "model";
  if (!seg.empty() && (seg[0] == "datasets" || seg[0] == "spaces")) {
    route.type = singular(seg[0]);
    i = 1;
  }
  if (seg.size() >= i + 3 && (seg[i + 1] == "resolve" || seg[i + 1] == "raw")) throw_repo_not_found(caller);
  if (seg.size() >= i + 3) {
    route.owner = http::percent_decode(seg[i]);
    route.name = http::percent_decode(seg[i + 1]);
    route.action = seg[i + 2];
    route.rest.assign(seg.begin() + static_cast<long>(i) + 3, seg.end());
    if ((route.action == "resolve" || route.action == "raw") && (req.method == "GET" || req.method == "HEAD")) {
      return handle_file(*this, req, caller, route);
    }
    const bool dot_git = route.name.size() > 4 && route.name.substr(route.name.size() - 4) == ".git";
    if (dot_git && route.action == "info" && route.rest.size() >= 3 && route.rest[0] == "lfs" && route.rest[1] == "objects") {
      route.name = route.name.substr(0, route.name.size() - 4);
      if (route.rest[2] == "batch" && req.method == "POST") return handle_lfs_batch(*this, req, caller, route);
      if (route.rest[2] == "verify" && req.method == "POST") return handle_lfs_verify(*this, req, caller, route);
    }
    if (dot_git && route.action == "info" && route.rest.size() >= 2 && route.rest[0] == "lfs" && route.rest[1] == "locks") {
      return json_response(200, json{{"ours", json::array()}, {"theirs", json::array()}});
    }
  }
  if (req.method == "GET" && (req.path == "/" || req.path.empty())) {
    return Response::text(200, "mlhub: a Hugging Face compatible hub. Set HF_ENDPOINT=" + base_url(req) + "\n");
  }
  if (req.method == "GET" && req.path == "/health") return json_response(200, json{{"status", "ok"}});
  throw HttpError{404, "Not found: " + req.method + " " + req.path, "", {}};
}

}  // namespace mlhub::hub
