// Shared pieces of the GitRepo implementation (see git_internal.h).
#include <cstring>

#include "store/git_internal.h"

namespace mlhub::store::git {

void ensure_init() {
  // A function-local static is initialised exactly once, even with concurrent callers.
  static const int kInit = [] {
    git_libgit2_init();
    // Refs, packs and loose objects are fsynced before they are renamed into place, so a crash
    // never leaves a ref pointing at a commit that did not reach the disk.
    git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1);
    return 0;
  }();
  (void)kInit;
}

std::string last_error_message() {
  const git_error* e = git_error_last();
  return (e != nullptr && e->message != nullptr) ? std::string(e->message) : "unknown error";
}

StatusCode code_of(int rc) {
  switch (rc) {
    case GIT_ENOTFOUND:
    case GIT_EAMBIGUOUS:
    case GIT_EUNBORNBRANCH:
      return StatusCode::kNotFound;
    case GIT_EEXISTS:
      return StatusCode::kAlreadyExists;
    case GIT_EINVALIDSPEC:
    case GIT_EINVALID:
      return StatusCode::kInvalidArgument;
    case GIT_EMODIFIED:
      return StatusCode::kFailedPrecondition;
    default:
      return StatusCode::kIoError;
  }
}

void check(int rc, std::string_view what) {
  if (rc < 0) check(rc, code_of(rc), what);
}

void check(int rc, StatusCode code, std::string_view what) {
  if (rc >= 0) return;
  throw Error(code, std::string(what) + ": " + last_error_message());
}

void throw_if_error(const Status& s) {
  if (!s.ok()) throw Error(s);
}

std::string oid_hex(const git_oid& oid) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof(buf), &oid);
  return std::string(buf, GIT_OID_HEXSZ);
}

namespace {
bool is_hex(std::string_view s) {
  for (char c : s) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!ok) return false;
  }
  return !s.empty();
}
}  // namespace

git_oid parse_oid(std::string_view hex) {
  git_oid oid;
  if (hex.size() != GIT_OID_HEXSZ || !is_hex(hex) ||
      git_oid_fromstrn(&oid, hex.data(), hex.size()) < 0) {
    throw Error(StatusCode::kInvalidArgument, "not a 40-hex object id: '" + std::string(hex) + "'");
  }
  return oid;
}

namespace {

// A commit named by a full or abbreviated (5-39 hex) id; nullopt when none (or ambiguous).
std::optional<git_oid> commit_by_id(git_repository* repo, std::string_view rev) {
  if (rev.size() < 5 || rev.size() > GIT_OID_HEXSZ || !is_hex(rev)) return std::nullopt;
  git_oid oid;
  if (git_oid_fromstrn(&oid, rev.data(), rev.size()) < 0) return std::nullopt;
  git_object* obj = nullptr;
  // With a full id this is a plain lookup; with a prefix, libgit2 answers GIT_EAMBIGUOUS when
  // several objects share it. A non-commit object answers GIT_ENOTFOUND.
  if (git_object_lookup_prefix(&obj, repo, &oid, rev.size(), GIT_OBJECT_COMMIT) < 0) {
    return std::nullopt;
  }
  ObjectPtr owned(obj);
  return *git_object_id(obj);
}

// The commit a full ref name peels to; nullopt when the ref is absent or names no commit.
std::optional<git_oid> commit_by_ref(git_repository* repo, const std::string& name) {
  int valid = 0;
  if (git_reference_name_is_valid(&valid, name.c_str()) < 0 || !valid) return std::nullopt;
  git_reference* ref = nullptr;
  if (git_reference_lookup(&ref, repo, name.c_str()) < 0) return std::nullopt;
  RefPtr owned_ref(ref);
  git_object* obj = nullptr;
  if (git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT) < 0) return std::nullopt;
  ObjectPtr owned(obj);
  return *git_object_id(obj);
}

}  // namespace

git_oid resolve_commit(git_repository* repo, std::string_view revision) {
  if (revision.empty() || revision.find('\0') != std::string_view::npos) {
    throw Error(StatusCode::kNotFound, "revision not found: '" + std::string(revision) + "'");
  }
  // The order of docs/hub-api.md §6: commit id, branch, tag, full ref, HEAD.
  if (auto id = commit_by_id(repo, revision)) return *id;
  const std::string rev(revision);
  if (rev == "HEAD") {
    if (auto id = commit_by_ref(repo, "HEAD")) return *id;
  } else {
    if (auto id = commit_by_ref(repo, "refs/heads/" + rev)) return *id;
    if (auto id = commit_by_ref(repo, "refs/tags/" + rev)) return *id;
    if (rev.rfind("refs/", 0) == 0) {
      if (auto id = commit_by_ref(repo, rev)) return *id;
    }
  }
  throw Error(StatusCode::kNotFound, "revision not found: '" + rev + "'");
}

CommitPtr lookup_commit(git_repository* repo, const git_oid& id) {
  git_commit* commit = nullptr;
  check(git_commit_lookup(&commit, repo, &id), "commit " + oid_hex(id));
  return CommitPtr(commit);
}

TreePtr commit_tree(const git_commit* commit) {
  git_tree* tree = nullptr;
  check(git_commit_tree(&tree, commit), "tree of commit " + oid_hex(*git_commit_id(commit)));
  return TreePtr(tree);
}

uint64_t blob_size(git_repository* repo, const git_oid& id) {
  git_odb* odb = nullptr;
  check(git_repository_odb(&odb, repo), "object database");
  OdbPtr owned(odb);
  size_t size = 0;
  git_object_t type = GIT_OBJECT_INVALID;
  check(git_odb_read_header(&size, &type, odb, &id), "object " + oid_hex(id));
  return size;
}

TreeEntry make_entry(git_repository* repo, const git_tree_entry* entry, std::string path) {
  TreeEntry out;
  out.path = std::move(path);
  out.oid = oid_hex(*git_tree_entry_id(entry));
  if (git_tree_entry_type(entry) == GIT_OBJECT_TREE) {
    out.is_dir = true;
    return out;
  }
  out.size = blob_size(repo, *git_tree_entry_id(entry));
  if (out.size < 1024) {
    git_blob* blob = nullptr;
    check(git_blob_lookup(&blob, repo, git_tree_entry_id(entry)), "blob " + out.oid);
    BlobPtr owned(blob);
    out.lfs = parse_lfs_pointer(std::string_view(
        static_cast<const char*>(git_blob_rawcontent(blob)), static_cast<size_t>(git_blob_rawsize(blob))));
  }
  return out;
}

SignaturePtr make_signature(std::string_view name, std::string_view email, int64_t time) {
  if (name.find('\0') != std::string_view::npos || email.find('\0') != std::string_view::npos) {
    throw Error(StatusCode::kInvalidArgument, "signature contains a NUL byte");
  }
  git_signature* sig = nullptr;
  check(git_signature_new(&sig, std::string(name).c_str(), std::string(email).c_str(),
                          static_cast<git_time_t>(time), 0),
        StatusCode::kInvalidArgument, "signature '" + std::string(name) + " <" + std::string(email) + ">'");
  return SignaturePtr(sig);
}

std::string message_for_git(std::string_view message) {
  std::string out(message);
  if (out.empty() || out.back() != '\n') out.push_back('\n');
  return out;
}

std::string message_from_git(const char* message) {
  std::string out = message != nullptr ? message : "";
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace mlhub::store::git
