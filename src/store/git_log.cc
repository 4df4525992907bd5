// GitRepo history: log, commit_info, last_commits.
#include <map>

#include "store/git_internal.h"

namespace mlhub::store {

using git::check;

namespace {

CommitInfo info_of(const git_commit* commit) {
  CommitInfo info;
  info.id = git::oid_hex(*git_commit_id(commit));
  info.message = git::message_from_git(git_commit_message(commit));
  info.title = info.message.substr(0, info.message.find('\n'));
  const git_signature* author = git_commit_author(commit);
  info.author_name = author->name != nullptr ? author->name : "";
  info.author_email = author->email != nullptr ? author->email : "";
  info.time = static_cast<int64_t>(author->when.time);
  const unsigned n = git_commit_parentcount(commit);
  for (unsigned i = 0; i < n; ++i) info.parents.push_back(git::oid_hex(*git_commit_parent_id(commit, i)));
  return info;
}

// A walk over the commits reachable from `start`, newest first like `git log`.
git::RevwalkPtr walk_from(git_repository* repo, const git_oid& start) {
  git_revwalk* raw = nullptr;
  check(git_revwalk_new(&raw, repo), "revwalk");
  git::RevwalkPtr walk(raw);
  check(git_revwalk_sorting(walk.get(), GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME), "revwalk sorting");
  check(git_revwalk_push(walk.get(), &start), "revwalk push");
  return walk;
}

// The id of the entry at `path` ("" = the tree itself), or nullopt when absent.
std::optional<git_oid> id_at(const git_tree* tree, const std::string& path) {
  if (path.empty()) return *git_tree_id(tree);
  git_tree_entry* raw = nullptr;
  const int rc = git_tree_entry_bypath(&raw, tree, path.c_str());
  if (rc == GIT_ENOTFOUND) return std::nullopt;
  check(rc, "path " + path);
  const git::TreeEntryPtr entry(raw);
  return *git_tree_entry_id(raw);
}

bool same(const std::optional<git_oid>& a, const std::optional<git_oid>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || git_oid_equal(&*a, &*b);
}

}  // namespace

Result<std::vector<CommitInfo>> GitRepo::log(std::string_view commit, size_t skip, size_t limit,
                                             size_t* total) const {
  return catch_errors([&] {
    git_repository* repo = impl_->repo.get();
    const git::RevwalkPtr walk = walk_from(repo, git::resolve_commit(repo, commit));
    std::vector<CommitInfo> out;
    size_t index = 0;
    git_oid id;
    int rc;
    while ((rc = git_revwalk_next(&id, walk.get())) == 0) {
      if (index >= skip && out.size() < limit) out.push_back(info_of(git::lookup_commit(repo, id).get()));
      ++index;
      // Counting the total needs the whole walk; a page alone stops once it is full.
      if (total == nullptr && out.size() == limit) break;
    }
    if (rc != GIT_ITEROVER && rc != 0) check(rc, "revwalk");
    if (total != nullptr) *total = index;
    return out;
  });
}

Result<CommitInfo> GitRepo::commit_info(std::string_view commit) const {
  return catch_errors([&] {
    git_repository* repo = impl_->repo.get();
    return info_of(git::lookup_commit(repo, git::resolve_commit(repo, commit)).get());
  });
}

// One walk from `commit`, newest first: a path's last commit is the first one whose entry at
// that path differs from its first parent's (or that has no parent and holds the path). Linear
// histories (all the hub writes) give exactly `git log -1 -- path`; at a merge the merge commit
// is reported when it brought the change in from its second parent.
Result<std::map<std::string, CommitInfo>> GitRepo::last_commits(std::string_view commit,
                                                                const std::vector<std::string>& paths) const {
  return catch_errors([&] {
    git_repository* repo = impl_->repo.get();
    const git_oid start = git::resolve_commit(repo, commit);
    std::map<std::string, CommitInfo> out;
    std::vector<std::pair<std::string, std::string>> pending;  // (key as given, normalized path)
    {
      const git::TreePtr tree = git::commit_tree(git::lookup_commit(repo, start).get());
      for (const std::string& key : paths) {
        std::string path = key;
        while (!path.empty() && path.back() == '/') path.pop_back();
        if (path.find('\0') != std::string::npos || path.find("//") != std::string::npos ||
            (!path.empty() && path.front() == '/')) {
          continue;
        }
        if (id_at(tree.get(), path)) pending.emplace_back(key, std::move(path));
      }
    }
    const git::RevwalkPtr walk = walk_from(repo, start);
    git_oid id;
    while (!pending.empty() && git_revwalk_next(&id, walk.get()) == 0) {
      const git::CommitPtr c = git::lookup_commit(repo, id);
      const git::TreePtr tree = git::commit_tree(c.get());
      git::TreePtr parent_tree;
      if (git_commit_parentcount(c.get()) > 0) {
        git_commit* raw = nullptr;
        check(git_commit_parent(&raw, c.get(), 0), "parent of " + git::oid_hex(id));
        parent_tree = git::commit_tree(git::CommitPtr(raw).get());
        if (git_oid_equal(git_tree_id(tree.get()), git_tree_id(parent_tree.get()))) continue;
      }
      for (auto it = pending.begin(); it != pending.end();) {
        const std::optional<git_oid> now = id_at(tree.get(), it->second);
        const std::optional<git_oid> before =
            parent_tree ? id_at(parent_tree.get(), it->second) : std::nullopt;
        if (same(now, before)) {
          ++it;
          continue;
        }
        out.emplace(it->first, info_of(c.get()));
        it = pending.erase(it);
      }
    }
    return out;
  });
}

}  // namespace mlhub::store
