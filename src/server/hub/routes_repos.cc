// Repo lifecycle and refs (docs/hub-api.md §4.1–§4.4, §4.6, §6): create, delete, move,
// settings, validate-yaml, branches and tags.
#include <chrono>
#include <random>

#include "server/hub/hub_server.h"

namespace mlhub::hub {
namespace fs = std::filesystem;

namespace {

std::string random_hex(size_t n) {
  static std::mutex mu;
  static std::mt19937_64 rng(std::random_device{}());
  std::lock_guard lock(mu);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(n, '0');
  for (auto& c : out) c = kHex[rng() & 15];
  return out;
}


std::string body_type(const json& body) {
  std::string type = body.contains("type") && body["type"].is_string() ? body["type"].get<std::string>() : "model";
  if (type != "model" && type != "dataset" && type != "space") throw HttpError{400, "invalid repo type: " + type, "", {}};
  return type;
}

// (owner, name) from a body with "name" and optional "organization" (null = the caller).
std::pair<std::string, std::string> body_repo_id(const json& body, const Caller& caller) {
  if (!body.contains("name") || !body["name"].is_string()) throw HttpError{400, "\"name\" is required", "", {}};
  std::string name = body["name"].get<std::string>();
  std::string owner;
  if (body.contains("organization") && body["organization"].is_string()) owner = body["organization"].get<std::string>();
  if (owner.empty()) {
    const size_t slash = name.find('/');
    if (slash != std::string::npos) {
      owner = name.substr(0, slash);
      name = name.substr(slash + 1);
    } else if (caller.user) {
      owner = caller.user->name;
    }
  }
  return {owner, name};
}

void require_user(const Caller& caller) {
  if (!caller.user) throw HttpError{401, "You must be authenticated to do this (pass a token)", "", {}};
}

std::string repo_url(HubServer& hub, const Request& req, const std::string& type, const std::string& id) {
  return hub.base_url(req) + "/" + url_prefix(type) + id;
}

}  // namespace

Response handle_create_repo(HubServer& hub, Request& req, const Caller& caller) {
  require_user(caller);
  const json body = parse_json_body(req);
  const std::string type = body_type(body);
  auto [owner, name] = body_repo_id(body, caller);
  if (!valid_name_part(owner) || !valid_name_part(name)) {
    throw HttpError{400, "Invalid repo name '" + owner + "/" + name + "': use letters, digits, '-', '_' and '.' (at most 96)", "", {}};
  }
  bool is_private = false;
  if (body.contains("visibility") && body["visibility"].is_string()) {
    const std::string v = body["visibility"].get<std::string>();
    if (v != "public" && v != "private" && v != "protected") throw HttpError{400, "invalid visibility: " + v, "", {}};
    is_private = v != "public";
  } else if (body.contains("private") && body["private"].is_boolean()) {
    is_private = body["private"].get<bool>();
  }
  const std::string id = owner + "/" + name;
  if (auto existing = hub.meta().find_repo(type, owner, name)) {
    if (hub.can_read(caller, *existing)) {
      return json_response(409, json{{"error", "You already created this " + type + " repo"}, {"url", repo_url(hub, req, type, existing->repo_id())}});
    }
  }
  if (!hub.can_write_namespace(caller, owner)) {
    throw HttpError{403, "You don't have the rights to create a " + type + " under the namespace \"" + owner + "\"", "", {}};
  }
  // Build the repository aside, then move it into place; the record is written last, so a
  // crash leaves at most a folder that recover() removes.
  const std::string storage_rel = "repos/" + plural(type) + "/" + random_hex(16) + ".git";
  const fs::path tmp = hub.data_dir() / "repos" / "tmp" / (random_hex(16) + ".git");
  fs::create_directories(tmp.parent_path());
  fs::create_directories((hub.data_dir() / storage_rel).parent_path());
  {
    auto git = store::GitRepo::create_bare(tmp);
    if (!git.ok()) throw Error(git.status());
    store::CommitRequest commit;
    commit.ref = "refs/heads/main";
    commit.message = "initial commit";
    commit.author_name = "system";
    commit.author_email = "system@mlhub.local";
    auto attrs = git->write_blob(kDefaultGitattributes);
    if (!attrs.ok()) throw Error(attrs.status());
    commit.changes.push_back({store::FileChange::Kind::kPut, ".gitattributes", *attrs});
    if (body.contains("files") && body["files"].is_array()) {  // @huggingface/hub initial files
      for (const auto& f : body["files"]) {
        const std::string path = f.value("path", "");
        if (auto s = store::validate_repo_path(path); !s.ok()) throw HttpError{400, s.message(), "", {}};
        const std::string content = f.value("encoding", "base64") == "base64" ? base64_decode(f.value("content", "")) : f.value("content", "");
        auto oid = git->write_blob(content);
        if (!oid.ok()) throw Error(oid.status());
        commit.changes.push_back({store::FileChange::Kind::kPut, path, *oid});
      }
    }
    if (auto c = git->commit(commit); !c.ok()) {
      fs::remove_all(tmp);
      throw Error(c.status());
    }
  }
  fs::rename(tmp, hub.data_dir() / storage_rel);
  store::RepoRecord record;
  record.type = type;
  record.owner = owner;
  record.name = name;
  record.is_private = is_private;
  record.storage = storage_rel;
  auto created = hub.meta().create_repo(record);
  if (!created.ok()) {
    std::error_code ec;
    fs::remove_all(hub.data_dir() / storage_rel, ec);
    if (created.status().code() == StatusCode::kAlreadyExists) {
      return json_response(409, json{{"error", "You already created this " + type + " repo"}, {"url", repo_url(hub, req, type, id)}});
    }
    throw Error(created.status());
  }
  auto git = store::GitRepo::open(hub.data_dir() / storage_rel);
  if (git.ok()) hub.reindex(*created, *git);
  return json_response(200, json{{"url", repo_url(hub, req, type, id)}, {"name", id}, {"id", opaque_id(created->id)}});
}

Response handle_delete_repo(HubServer& hub, Request& req, const Caller& caller) {
  require_user(caller);
  const json body = parse_json_body(req);
  const std::string type = body_type(body);
  auto [owner, name] = body_repo_id(body, caller);
  RepoHandle repo = hub.require_repo(req, caller, type, owner, name, Access::kWrite);
  auto lock = hub.repo_lock(repo.record.id);
  std::lock_guard guard(*lock);
  if (auto s = hub.meta().delete_repo(repo.record.id); !s.ok()) throw Error(s);
  hub.forget_git(repo.git_dir);
  const fs::path trash = hub.data_dir() / "repos" / "trash" / (random_hex(16) + ".git");
  std::error_code ec;
  fs::create_directories(trash.parent_path(), ec);
  fs::rename(repo.git_dir, trash, ec);
  fs::remove_all(ec ? repo.git_dir : trash, ec);
  return Response::text(200, "OK");
}

Response handle_move_repo(HubServer& hub, Request& req, const Caller& caller) {
  require_user(caller);
  const json body = parse_json_body(req);
  const std::string type = body_type(body);
  const std::string from = body.value("fromRepo", ""), to = body.value("toRepo", "");
  const size_t fs_ = from.find('/'), ts = to.find('/');
  if (fs_ == std::string::npos || ts == std::string::npos) throw HttpError{400, "fromRepo and toRepo must be 'namespace/name'", "", {}};
  const std::string to_owner = to.substr(0, ts), to_name = to.substr(ts + 1);
  if (!valid_name_part(to_owner) || !valid_name_part(to_name)) throw HttpError{400, "Invalid repo name '" + to + "'", "", {}};
  RepoHandle repo = hub.require_repo(req, caller, type, from.substr(0, fs_), from.substr(fs_ + 1), Access::kWrite);
  if (!hub.can_write_namespace(caller, to_owner)) {
    throw HttpError{403, "You don't have the rights to move a repo to the namespace \"" + to_owner + "\"", "", {}};
  }
  auto s = hub.meta().move_repo(repo.record.id, to_owner, to_name);
  if (!s.ok()) {
    if (s.code() == StatusCode::kAlreadyExists) throw HttpError{409, s.message(), "", {}};
    throw Error(s);
  }
  return json_response(200, json::object());
}

Response handle_settings(HubServer& hub, Request& req, const Caller& caller, const RepoRoute& route) {
  RepoHandle repo = hub.require_repo(req, caller, route.type, route.owner, route.name, Access::kWrite);
  const json body = parse_json_body(req);
  store::RepoRecord r = repo.record;
  if (body.contains("visibility") && body["visibility"].is_string()) {
    const std::string v = body["visibility"].get<std::string>();
    if (v != "public" && v != "private" && v != "protected") throw HttpError{400, "invalid visibility: " + v, "", {}};
    r.is_private = v != "public";
  } else if (body.contains("private") && body["private"].is_boolean()) {
    r.is_private = body["private"].get<bool>();
  }
  if (body.contains("gated")) {
    const json& g = body["gated"];
    if (g.is_boolean() && !g.get<bool>()) r.gated.clear();
    else if (g.is_string() && (g == "auto" || g == "manual")) r.gated = g.get<std::string>();
    else throw HttpError{400, "gated must be \"auto\", \"manual\" or false", "", {}};
  }
  if (auto s = hub.meta().update_repo(r); !s.ok()) throw Error(s);
  return json_response(200, json{{"private", r.is_private}, {"gated", r.gated.empty() ? json(false) : json(r.gated)}});
}

Response handle_validate_yaml(HubServer& hub, Request& req) {
  (void)hub;
  const json body = parse_json_body(req);
  const std::string content = body.value("content", "");
  const std::string type = body.value("repoType", "model");
  auto card = store::parse_card(content, type, {}, "");
  if (!card.ok()) {
    return json_response(400, json{{"errors", json::array({json{{"message", card.status().message()}}})}, {"warnings", json::array()}});
  }
  return json_response(200, json{{"errors", json::array()}, {"warnings", json::array()}});
}

Response handle_branch(HubServer& hub, Request& req, const Caller& caller, const RepoRoute& route) {
  RepoHandle repo = hub.require_repo(req, caller, route.type, route.owner, route.name, Access::kWrite);
  const std::string branch = join_decoded(route.rest, 0);
  if (auto s = store::validate_ref_name(branch); !s.ok()) throw HttpError{400, "Invalid branch name: " + s.message(), "", {}};
  GitLease git = hub.git(repo.git_dir);
  auto lock = hub.repo_lock(repo.record.id);
  std::lock_guard guard(*lock);
  if (req.method == "DELETE") {
    if (branch == "main") throw HttpError{403, "Cannot delete the default branch", "", {}};
    auto s = git->delete_branch(branch);
    if (s.code() == StatusCode::kNotFound) throw HttpError{404, "Invalid rev id: " + branch, "RevisionNotFound", {}};
    if (!s.ok()) throw Error(s);
    return json_response(200, json::object());
  }
  json body = json::object();
  if (req.body->content_length().value_or(0) > 0 || !req.header("transfer-encoding").empty()) body = parse_json_body(req);
  if (!body.is_object()) body = json::object();
  const bool overwrite = body.value("overwrite", false);
  std::string target;
  if (body.value("emptyBranch", false)) {
    if (git->has_branch(branch) && !overwrite) throw HttpError{409, "Reference already exists: refs/heads/" + branch, "", {}};
    store::CommitRequest c;
    c.ref = "refs/heads/" + branch;
    if (git->has_branch(branch)) c.expected_parent = hub.resolve_revision(*git, branch);
    c.message = "initial commit";
    c.author_name = caller.user->name;
    auto commit = git->commit(c);
    if (!commit.ok()) throw Error(commit.status());
    return json_response(200, json::object());
  }
  const std::string start = body.contains("startingPoint") && body["startingPoint"].is_string()
                                ? body["startingPoint"].get<std::string>() : "HEAD";
  target = hub.resolve_revision(*git, start);
  auto s = git->create_branch(branch, target, overwrite);
  if (s.code() == StatusCode::kAlreadyExists) throw HttpError{409, "Reference already exists: refs/heads/" + branch, "", {}};
  if (!s.ok()) throw Error(s);
  return json_response(200, json::object());
}

Response handle_tag(HubServer& hub, Request& req, const Caller& caller, const RepoRoute& route) {
  RepoHandle repo = hub.require_repo(req, caller, route.type, route.owner, route.name, Access::kWrite);
  GitLease git = hub.git(repo.git_dir);
  if (req.method == "DELETE") {
    const std::string tag = join_decoded(route.rest, 0);
    auto s = git->delete_tag(tag);
    if (s.code() == StatusCode::kNotFound) throw HttpError{404, "Invalid rev id: " + tag, "RevisionNotFound", {}};
    if (!s.ok()) throw Error(s);
    return json_response(200, json::object());
  }
  size_t used = 0;
  const std::string revision = take_revision(route.rest, &used);
  const json body = parse_json_body(req);
  const std::string tag = body.value("tag", "");
  if (auto s = store::validate_ref_name(tag); !s.ok()) throw HttpError{400, "Invalid tag name: " + s.message(), "", {}};
  const std::string target = hub.resolve_revision(*git, revision);
  const std::string message = body.contains("message") && body["message"].is_string() ? body["message"].get<std::string>() : "";
  auto s = git->create_tag(tag, target, message, caller.user->name, caller.user->email.empty() ? caller.user->name + "@mlhub.local" : caller.user->email);
  if (s.code() == StatusCode::kAlreadyExists) throw HttpError{409, "Tag already exists: " + tag, "", {}};
  if (!s.ok()) throw Error(s);
  return json_response(200, json::object());
}

}  // namespace mlhub::hub
