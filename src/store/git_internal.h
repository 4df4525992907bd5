// Private helpers of the GitRepo implementation: libgit2 initialisation, RAII handles, error
// conversion and the few lookups every git_*.cc file shares. Not a public header.
#pragma once

#include <git2.h>

#include <memory>
#include <string>
#include <string_view>

#include "mlhub/core.h"
#include "mlhub/store.h"

namespace mlhub::store::git {

// Initialises libgit2 once per process (thread-safe) with fsync of the git dir turned on.
void ensure_init();

// unique_ptr with the matching git_*_free for every handle type the store uses.
template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const {
    if (p != nullptr) Free(p);
  }
};
using RepoPtr = std::unique_ptr<git_repository, Deleter<git_repository, git_repository_free>>;
using ObjectPtr = std::unique_ptr<git_object, Deleter<git_object, git_object_free>>;
using CommitPtr = std::unique_ptr<git_commit, Deleter<git_commit, git_commit_free>>;
using TreePtr = std::unique_ptr<git_tree, Deleter<git_tree, git_tree_free>>;
using TreeEntryPtr = std::unique_ptr<git_tree_entry, Deleter<git_tree_entry, git_tree_entry_free>>;
using BlobPtr = std::unique_ptr<git_blob, Deleter<git_blob, git_blob_free>>;
using RefPtr = std::unique_ptr<git_reference, Deleter<git_reference, git_reference_free>>;
using RefIterPtr =
    std::unique_ptr<git_reference_iterator, Deleter<git_reference_iterator, git_reference_iterator_free>>;
using SignaturePtr = std::unique_ptr<git_signature, Deleter<git_signature, git_signature_free>>;
using TreeBuilderPtr = std::unique_ptr<git_treebuilder, Deleter<git_treebuilder, git_treebuilder_free>>;
using RevwalkPtr = std::unique_ptr<git_revwalk, Deleter<git_revwalk, git_revwalk_free>>;
using OdbPtr = std::unique_ptr<git_odb, Deleter<git_odb, git_odb_free>>;
using OdbObjectPtr = std::unique_ptr<git_odb_object, Deleter<git_odb_object, git_odb_object_free>>;
using OdbStreamPtr = std::unique_ptr<git_odb_stream, Deleter<git_odb_stream, git_odb_stream_free>>;

// The message of the last libgit2 error on this thread ("unknown error" when none).
std::string last_error_message();
// The StatusCode a libgit2 return code maps to (GIT_ENOTFOUND -> kNotFound, ...).
StatusCode code_of(int rc);
// Throws mlhub::Error "<what>: <libgit2 message>" when rc < 0 (code from code_of).
void check(int rc, std::string_view what);
// The same with an explicit code.
void check(int rc, StatusCode code, std::string_view what);

std::string oid_hex(const git_oid& oid);
// Parses 40 hex digits; throws kInvalidArgument otherwise.
git_oid parse_oid(std::string_view hex);

// Throws mlhub::Error when the Status is not OK.
void throw_if_error(const Status& s);

// The commit a revision names (see GitRepo::resolve); throws kNotFound.
git_oid resolve_commit(git_repository* repo, std::string_view revision);
CommitPtr lookup_commit(git_repository* repo, const git_oid& id);
TreePtr commit_tree(const git_commit* commit);
// Blob size from the object header (does not load the content).
uint64_t blob_size(git_repository* repo, const git_oid& id);
// A TreeEntry for one libgit2 tree entry at `path` (reads small blobs to detect LFS pointers).
TreeEntry make_entry(git_repository* repo, const git_tree_entry* entry, std::string path);
// The signature (name, email, unix time, UTC); kInvalidArgument for names git refuses.
SignaturePtr make_signature(std::string_view name, std::string_view email, int64_t time);
// Commit message bodies end with exactly what the caller gave plus one '\n' (like `git commit`);
// reading strips the trailing newlines again.
std::string message_for_git(std::string_view message);
std::string message_from_git(const char* message);

}  // namespace mlhub::store::git

namespace mlhub::store {
struct GitRepo::Impl {
  git::RepoPtr repo;
};
}  // namespace mlhub::store
