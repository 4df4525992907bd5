// GitRepo::commit: applies FileChanges to the parent's tree in memory, writes the changed trees
// and the commit, then moves the ref by compare-and-swap.
#include <chrono>
#include <ctime>
#include <map>
#include <thread>

#include "store/git_internal.h"

namespace mlhub::store {

using git::check;

namespace {

// An editable copy of a git tree. Only folders on the path of a change are loaded; everything
// else stays a (mode, oid) pair and is written back as is.
struct Node;
struct Child {
  git_filemode_t mode = GIT_FILEMODE_BLOB;
  git_oid oid{};
  std::unique_ptr<Node> node;  // a loaded folder (trees only, null until a change goes through it)
  bool is_tree() const { return mode == GIT_FILEMODE_TREE; }
};
struct Node {
  std::map<std::string, Child> children;
  bool dirty = false;     // children differ from the tree `oid`
  git_oid oid{};          // the tree this node was loaded from (when !dirty)
};

std::vector<std::string> split(std::string_view path) {
  std::vector<std::string> out;
  size_t begin = 0;
  while (true) {
    const size_t end = std::min(path.find('/', begin), path.size());
    out.emplace_back(path.substr(begin, end - begin));
    if (end == path.size()) return out;
    begin = end + 1;
  }
}

class TreeEditor {
 public:
  TreeEditor(git_repository* repo, const git_tree* base) : repo_(repo) {
    if (base != nullptr) load(root_, base);
  }

  void put(const std::string& path, const git_oid& blob) {
    const std::vector<std::string> segs = split(path);
    Node* node = &root_;
    for (size_t i = 0; i + 1 < segs.size(); ++i) {
      node->dirty = true;
      auto it = node->children.find(segs[i]);
      if (it == node->children.end()) {
        Child dir;
        dir.mode = GIT_FILEMODE_TREE;
        dir.node = std::make_unique<Node>();
        dir.node->dirty = true;
        it = node->children.emplace(segs[i], std::move(dir)).first;
      } else if (!it->second.is_tree()) {
        throw Error(StatusCode::kInvalidArgument,
                    "cannot add '" + path + "': '" + prefix(segs, i) + "' is a file");
      }
      node = &expand(it->second);
    }
    node->dirty = true;
    Child& file = node->children[segs.back()];
    // A folder emptied earlier in this commit is gone, so a file may take its name.
    if (file.is_tree() && !(file.node && file.node->children.empty())) {
      throw Error(StatusCode::kInvalidArgument, "cannot add '" + path + "': a folder with this name exists");
    }
    // An executable file stays executable when its content is replaced; anything else (new
    // files, symlinks) becomes a regular file.
    file.mode = file.mode == GIT_FILEMODE_BLOB_EXECUTABLE ? GIT_FILEMODE_BLOB_EXECUTABLE : GIT_FILEMODE_BLOB;
    file.oid = blob;
    file.node.reset();
  }

  // Removes the file (folder = false) or folder (folder = true) at `path`; kNotFound otherwise.
  void remove(const std::string& path, bool folder) {
    const std::vector<std::string> segs = split(path);
    const std::string what = folder ? "folder" : "file";
    Node* node = &root_;
    std::vector<Node*> trail;
    for (size_t i = 0; i + 1 < segs.size(); ++i) {
      auto it = node->children.find(segs[i]);
      if (it == node->children.end() || !it->second.is_tree()) {
        throw Error(StatusCode::kNotFound, what + " not found: " + path);
      }
      trail.push_back(node);
      node = &expand(it->second);
    }
    auto it = node->children.find(segs.back());
    if (it == node->children.end() || it->second.is_tree() != folder) {
      throw Error(StatusCode::kNotFound, what + " not found: " + path);
    }
    node->children.erase(it);
    node->dirty = true;
    for (Node* n : trail) n->dirty = true;
  }

  // Writes every changed folder; folders left empty disappear (git cannot store them), but the
  // root is always written (an empty commit tree is valid).
  git_oid write() {
    if (auto oid = write_node(root_)) return *oid;
    git_treebuilder* raw = nullptr;
    check(git_treebuilder_new(&raw, repo_, nullptr), "tree builder");
    git::TreeBuilderPtr builder(raw);
    git_oid oid;
    check(git_treebuilder_write(&oid, builder.get()), "write tree");
    return oid;
  }

 private:
  static std::string prefix(const std::vector<std::string>& segs, size_t last) {
    std::string out;
    for (size_t i = 0; i <= last; ++i) out += (i ? "/" : "") + segs[i];
    return out;
  }

  void load(Node& node, const git_tree* tree) {
    node.oid = *git_tree_id(tree);
    const size_t n = git_tree_entrycount(tree);
    for (size_t i = 0; i < n; ++i) {
      const git_tree_entry* e = git_tree_entry_byindex(tree, i);
      Child c;
      c.mode = git_tree_entry_filemode(e);
      c.oid = *git_tree_entry_id(e);
      node.children.emplace(git_tree_entry_name(e), std::move(c));
    }
  }

  Node& expand(Child& child) {
    if (!child.node) {
      git_tree* raw = nullptr;
      check(git_tree_lookup(&raw, repo_, &child.oid), "tree " + git::oid_hex(child.oid));
      git::TreePtr tree(raw);
      child.node = std::make_unique<Node>();
      load(*child.node, tree.get());
    }
    return *child.node;
  }

  // The id of the written folder, or nullopt when it has no entries.
  std::optional<git_oid> write_node(Node& node) {
    if (!node.dirty) return node.children.empty() ? std::nullopt : std::optional<git_oid>(node.oid);
    git_treebuilder* raw = nullptr;
    check(git_treebuilder_new(&raw, repo_, nullptr), "tree builder");
    git::TreeBuilderPtr builder(raw);
    for (auto& [name, child] : node.children) {
      git_oid oid = child.oid;
      if (child.is_tree() && child.node) {
        const std::optional<git_oid> sub = write_node(*child.node);
        if (!sub) continue;
        oid = *sub;
      }
      // libgit2 validates the name (".git", NTFS/HFS aliases of it, ...) and that the object
      // exists with the right type.
      check(git_treebuilder_insert(nullptr, builder.get(), name.c_str(), &oid, child.mode),
            StatusCode::kInvalidArgument, "tree entry '" + name + "'");
    }
    if (git_treebuilder_entrycount(builder.get()) == 0) return std::nullopt;
    git_oid oid;
    check(git_treebuilder_write(&oid, builder.get()), "write tree");
    return oid;
  }

  git_repository* repo_;
  Node root_;
};

void check_blob(git_repository* repo, const FileChange& change) {
  const git_oid oid = git::parse_oid(change.blob_oid);
  git_odb* raw = nullptr;
  check(git_repository_odb(&raw, repo), "object database");
  git::OdbPtr odb(raw);
  size_t size = 0;
  git_object_t type = GIT_OBJECT_INVALID;
  if (git_odb_read_header(&size, &type, odb.get(), &oid) < 0 || type != GIT_OBJECT_BLOB) {
    throw Error(StatusCode::kInvalidArgument,
                "blob " + change.blob_oid + " for '" + change.path + "' is not in the repository");
  }
}

void apply(git_repository* repo, TreeEditor& editor, const FileChange& change) {
  std::string path = change.path;
  if (change.kind == FileChange::Kind::kDeleteFolder) {
    while (!path.empty() && path.back() == '/') path.pop_back();  // "folder/" is allowed
  }
  git::throw_if_error(validate_repo_path(path));
  switch (change.kind) {
    case FileChange::Kind::kPut:
      check_blob(repo, change);
      editor.put(path, git::parse_oid(change.blob_oid));
      break;
    case FileChange::Kind::kDelete:
      editor.remove(path, /*folder=*/false);
      break;
    case FileChange::Kind::kDeleteFolder:
      editor.remove(path, /*folder=*/true);
      break;
  }
}

// The ref's current commit, or nullopt when it does not exist.
std::optional<git_oid> current_target(git_repository* repo, const std::string& ref) {
  git_oid oid;
  const int rc = git_reference_name_to_id(&oid, repo, ref.c_str());
  if (rc == GIT_ENOTFOUND) return std::nullopt;
  check(rc, "ref " + ref);
  return oid;
}

Status stale(const std::string& ref, const std::optional<git_oid>& expected) {
  return Status::failed_precondition(
      expected ? "ref " + ref + " no longer points at " + git::oid_hex(*expected)
               : "ref " + ref + " already exists");
}

// Moves `ref` to `id` if it still points at `expected` (or does not exist when nullopt). A
// concurrent writer holding the ref's lock is waited for (briefly); a lock that stays is a stale
// one from a killed process (GitRepo::recover removes those at start).
void swap_ref(git_repository* repo, const std::string& ref, const git_oid& id,
              const std::optional<git_oid>& expected, const std::string& log_message) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::seconds(2);
  for (int attempt = 0;; ++attempt) {
    git_reference* raw = nullptr;
    const int rc = expected ? git_reference_create_matching(&raw, repo, ref.c_str(), &id, 1, &*expected,
                                                            log_message.c_str())
                            : git_reference_create(&raw, repo, ref.c_str(), &id, 0, log_message.c_str());
    git::RefPtr owned(raw);
    if (rc == 0) return;
    if (rc == GIT_EMODIFIED || rc == GIT_EEXISTS || (expected && rc == GIT_ENOTFOUND)) {
      throw Error(stale(ref, expected));
    }
    if (rc == GIT_ELOCKED && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(1 + attempt, 20)));
      continue;
    }
    check(rc, rc == GIT_ELOCKED ? StatusCode::kIoError : git::code_of(rc), "update " + ref);
  }
}

}  // namespace

Result<std::string> GitRepo::commit(const CommitRequest& request) {
  return catch_errors([&] {
    git_repository* repo = impl_->repo.get();
    const std::string& ref = request.ref;
    int valid = 0;
    if (ref.rfind("refs/", 0) != 0 || ref.find('\0') != std::string::npos ||
        git_reference_name_is_valid(&valid, ref.c_str()) < 0 || !valid) {
      throw Error(StatusCode::kInvalidArgument, "not a valid full ref name: '" + ref + "'");
    }
    if (request.message.find('\0') != std::string::npos) {
      throw Error(StatusCode::kInvalidArgument, "commit message contains a NUL byte");
    }
    std::optional<git_oid> parent;
    if (!request.expected_parent.empty()) parent = git::parse_oid(request.expected_parent);

    // Fail early when the ref already moved (the swap below is what guarantees it).
    const std::optional<git_oid> current = current_target(repo, ref);
    if (current.has_value() != parent.has_value() || (current && !git_oid_equal(&*current, &*parent))) {
      throw Error(stale(ref, parent));
    }

    git::CommitPtr parent_commit;
    git::TreePtr base;
    if (parent) {
      parent_commit = git::lookup_commit(repo, *parent);
      base = git::commit_tree(parent_commit.get());
    }
    TreeEditor editor(repo, base.get());
    for (const FileChange& change : request.changes) apply(repo, editor, change);
    const git_oid tree_id = editor.write();

    git_tree* raw_tree = nullptr;
    check(git_tree_lookup(&raw_tree, repo, &tree_id), "new tree");
    const git::TreePtr tree(raw_tree);
    const int64_t time = request.time != 0 ? request.time : static_cast<int64_t>(std::time(nullptr));
    const git::SignaturePtr author = git::make_signature(request.author_name, request.author_email, time);
    const git::SignaturePtr committer =
        git::make_signature(request.committer_name, request.committer_email, time);
    const std::string message = git::message_for_git(request.message);
    const git_commit* parents[1] = {parent_commit.get()};
    git_oid commit_id;
    check(git_commit_create(&commit_id, repo, nullptr, author.get(), committer.get(), nullptr,
                            message.c_str(), tree.get(), parent ? 1 : 0, parents),
          "write commit");

    const std::string title = message.substr(0, message.find('\n'));
    swap_ref(repo, ref, commit_id, parent, "commit: " + title);
    return git::oid_hex(commit_id);
  });
}

}  // namespace mlhub::store
