// GitRepo reads of trees: list_tree, stat, read_file.
#include <algorithm>

#include "store/git_internal.h"

namespace mlhub::store {

using git::check;

namespace {

std::string join(std::string_view dir, const char* name) {
  return dir.empty() ? std::string(name) : std::string(dir) + "/" + name;
}

// Appends the entries of `tree` (whose path is `dir`) to `out`; descends when `recursive`.
// Gitlinks (submodule commits) are skipped: the hub never writes them.
void list_into(git_repository* repo, const git_tree* tree, std::string_view dir, bool recursive,
               std::vector<TreeEntry>& out) {
  const size_t n = git_tree_entrycount(tree);
  for (size_t i = 0; i < n; ++i) {
    const git_tree_entry* entry = git_tree_entry_byindex(tree, i);
    const git_object_t type = git_tree_entry_type(entry);
    if (type != GIT_OBJECT_TREE && type != GIT_OBJECT_BLOB) continue;
    std::string path = join(dir, git_tree_entry_name(entry));
    out.push_back(git::make_entry(repo, entry, path));
    if (recursive && type == GIT_OBJECT_TREE) {
      git_tree* sub = nullptr;
      check(git_tree_lookup(&sub, repo, git_tree_entry_id(entry)), "tree " + path);
      git::TreePtr owned(sub);
      list_into(repo, sub, path, recursive, out);
    }
  }
}

// The tree entry at `path` below `root`, or null when absent. Paths with empty segments or a
// leading/trailing '/' are absent (libgit2 would otherwise read "a/" as "a").
git::TreeEntryPtr entry_at(const git_tree* root, std::string_view path) {
  if (path.empty() || path.front() == '/' || path.back() == '/' ||
      path.find("//") != std::string_view::npos || path.find('\0') != std::string_view::npos) {
    return nullptr;
  }
  git_tree_entry* entry = nullptr;
  const int rc = git_tree_entry_bypath(&entry, root, std::string(path).c_str());
  if (rc == GIT_ENOTFOUND) return nullptr;
  check(rc, "path " + std::string(path));
  return git::TreeEntryPtr(entry);
}

git::TreePtr root_tree(git_repository* repo, std::string_view commit) {
  const git::CommitPtr c = git::lookup_commit(repo, git::resolve_commit(repo, commit));
  return git::commit_tree(c.get());
}

}  // namespace

Result<std::vector<TreeEntry>> GitRepo::list_tree(std::string_view commit, std::string_view dir,
                                                  bool recursive) const {
  return catch_errors([&] {
    git_repository* repo = impl_->repo.get();
    git::TreePtr tree = root_tree(repo, commit);
    std::string prefix(dir);
    while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();  // "folder/" == "folder"
    if (!prefix.empty()) {
      git::TreeEntryPtr entry = entry_at(tree.get(), prefix);
      if (!entry || git_tree_entry_type(entry.get()) != GIT_OBJECT_TREE) {
        throw Error(StatusCode::kNotFound, "folder not found: " + prefix);
      }
      git_tree* sub = nullptr;
      check(git_tree_lookup(&sub, repo, git_tree_entry_id(entry.get())), "tree " + prefix);
      tree.reset(sub);
    }
    std::vector<TreeEntry> out;
    list_into(repo, tree.get(), prefix, recursive, out);
    // Git orders "a.txt" before folder "a" ("a/" > "a."); plain path order puts each folder
    // right before its contents.
    std::sort(out.begin(), out.end(), [](const TreeEntry& a, const TreeEntry& b) { return a.path < b.path; });
    return out;
  });
}

Result<std::optional<TreeEntry>> GitRepo::stat(std::string_view commit, std::string_view path) const {
  return catch_errors([&]() -> std::optional<TreeEntry> {
    git_repository* repo = impl_->repo.get();
    const git::TreePtr tree = root_tree(repo, commit);
    if (path.empty()) {
      TreeEntry root;
      root.is_dir = true;
      root.oid = git::oid_hex(*git_tree_id(tree.get()));
      return root;
    }
    const git::TreeEntryPtr entry = entry_at(tree.get(), path);
    if (!entry) return std::nullopt;
    const git_object_t type = git_tree_entry_type(entry.get());
    if (type != GIT_OBJECT_TREE && type != GIT_OBJECT_BLOB) return std::nullopt;
    return git::make_entry(repo, entry.get(), std::string(path));
  });
}

Result<std::string> GitRepo::read_file(std::string_view commit, std::string_view path) const {
  return catch_errors([&] {
    git_repository* repo = impl_->repo.get();
    const git::TreePtr tree = root_tree(repo, commit);
    const git::TreeEntryPtr entry = entry_at(tree.get(), path);
    if (!entry || git_tree_entry_type(entry.get()) != GIT_OBJECT_BLOB) {
      throw Error(StatusCode::kNotFound, "file not found: " + std::string(path));
    }
    git_blob* blob = nullptr;
    check(git_blob_lookup(&blob, repo, git_tree_entry_id(entry.get())), "blob of " + std::string(path));
    const git::BlobPtr owned(blob);
    return std::string(static_cast<const char*>(git_blob_rawcontent(blob)),
                       static_cast<size_t>(git_blob_rawsize(blob)));
  });
}

}  // namespace mlhub::store
