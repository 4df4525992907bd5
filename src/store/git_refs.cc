// GitRepo refs: listing and editing branches, tags and other full refs (refs/pr/N, ...).
#include <algorithm>
#include <ctime>

#include "store/git_internal.h"
#include "store/store_internal.h"

namespace mlhub::store {

using git::check;

namespace {

// Refs under `prefix` that peel to a commit; `name` drops the prefix unless `full_name`.
std::vector<GitRef> list_refs(git_repository* repo, std::string_view prefix, bool full_name) {
  std::vector<GitRef> out;
  git_reference_iterator* raw_iter = nullptr;
  check(git_reference_iterator_new(&raw_iter, repo), "list refs");
  const git::RefIterPtr iter(raw_iter);
  git_reference* raw = nullptr;
  while (git_reference_next(&raw, iter.get()) == 0) {
    const git::RefPtr ref(raw);
    const std::string name = git_reference_name(raw);
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    git_object* obj = nullptr;
    if (git_reference_peel(&obj, raw, GIT_OBJECT_COMMIT) < 0) continue;  // e.g. a tag of a blob
    const git::ObjectPtr owned(obj);
    out.push_back({full_name ? name : name.substr(prefix.size()), name, git::oid_hex(*git_object_id(obj))});
  }
  std::sort(out.begin(), out.end(), [](const GitRef& a, const GitRef& b) { return a.name < b.name; });
  return out;
}

std::vector<GitRef> list_or_empty(git_repository* repo, std::string_view prefix, bool full_name) {
  auto r = catch_errors([&] { return list_refs(repo, prefix, full_name); });
  return r.ok() ? std::move(r).value() : std::vector<GitRef>{};
}

// The number N of "refs/pr/N" (refs that are not a plain number sort after, by name).
uint64_t pr_number(const std::string& ref) {
  const std::string_view digits = std::string_view(ref).substr(std::string_view("refs/pr/").size());
  if (digits.empty() || digits.size() > 18) return UINT64_MAX;
  uint64_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return UINT64_MAX;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

void check_full_ref(std::string_view ref) {
  int valid = 0;
  const std::string name(ref);
  if (ref.rfind("refs/", 0) != 0 || name.find('\0') != std::string::npos ||
      git_reference_name_is_valid(&valid, name.c_str()) < 0 || !valid) {
    throw Error(StatusCode::kInvalidArgument, "not a valid full ref name: '" + name + "'");
  }
}

}  // namespace

std::vector<GitRef> GitRepo::branches() const { return list_or_empty(impl_->repo.get(), "refs/heads/", false); }

std::vector<GitRef> GitRepo::tags() const { return list_or_empty(impl_->repo.get(), "refs/tags/", false); }

std::vector<GitRef> GitRepo::pull_requests() const {
  std::vector<GitRef> out = list_or_empty(impl_->repo.get(), "refs/pr/", true);
  std::stable_sort(out.begin(), out.end(), [](const GitRef& a, const GitRef& b) {
    return pr_number(a.ref) < pr_number(b.ref);
  });
  return out;
}

Status GitRepo::create_branch(std::string_view name, std::string_view target_commit, bool overwrite) {
  return status_of([&] {
    git::throw_if_error(validate_ref_name(name));
    git_repository* repo = impl_->repo.get();
    const git_oid target = git::resolve_commit(repo, target_commit);
    const std::string ref = "refs/heads/" + std::string(name);
    git_reference* raw = nullptr;
    const int rc = git_reference_create(&raw, repo, ref.c_str(), &target, overwrite ? 1 : 0,
                                        ("branch: created from " + git::oid_hex(target)).c_str());
    const git::RefPtr owned(raw);
    if (rc == GIT_EEXISTS) return Status::already_exists("branch already exists: " + std::string(name));
    check(rc, "create branch " + std::string(name));
    return Status();
  });
}

Status GitRepo::delete_branch(std::string_view name) {
  return status_of([&] {
    if (!validate_ref_name(name).ok()) return Status::not_found("branch not found: " + std::string(name));
    const std::string ref = "refs/heads/" + std::string(name);
    git_reference* raw = nullptr;
    const int rc = git_reference_lookup(&raw, impl_->repo.get(), ref.c_str());
    const git::RefPtr owned(raw);
    if (rc == GIT_ENOTFOUND) return Status::not_found("branch not found: " + std::string(name));
    check(rc, "branch " + std::string(name));
    check(git_reference_delete(raw), "delete branch " + std::string(name));
    return Status();
  });
}

Status GitRepo::create_tag(std::string_view name, std::string_view target_commit, std::string_view message,
                           std::string_view tagger_name, std::string_view tagger_email) {
  return status_of([&] {
    git::throw_if_error(validate_ref_name(name));
    if (message.find('\0') != std::string_view::npos) {
      return Status::invalid_argument("tag message contains a NUL byte");
    }
    git_repository* repo = impl_->repo.get();
    const git_oid target = git::resolve_commit(repo, target_commit);
    git_object* raw_obj = nullptr;
    check(git_object_lookup(&raw_obj, repo, &target, GIT_OBJECT_COMMIT), "commit");
    const git::ObjectPtr obj(raw_obj);
    const std::string tag(name);
    git_oid out;
    int rc;
    if (message.empty()) {
      rc = git_tag_create_lightweight(&out, repo, tag.c_str(), obj.get(), 0);
    } else {
      const git::SignaturePtr tagger =
          git::make_signature(tagger_name, tagger_email, static_cast<int64_t>(std::time(nullptr)));
      rc = git_tag_create(&out, repo, tag.c_str(), obj.get(), tagger.get(),
                          git::message_for_git(message).c_str(), 0);
    }
    if (rc == GIT_EEXISTS) return Status::already_exists("tag already exists: " + tag);
    check(rc, "create tag " + tag);
    return Status();
  });
}

Status GitRepo::delete_tag(std::string_view name) {
  return status_of([&] {
    if (!validate_ref_name(name).ok()) return Status::not_found("tag not found: " + std::string(name));
    const int rc = git_tag_delete(impl_->repo.get(), std::string(name).c_str());
    if (rc == GIT_ENOTFOUND) return Status::not_found("tag not found: " + std::string(name));
    check(rc, "delete tag " + std::string(name));
    return Status();
  });
}

Status GitRepo::set_ref(std::string_view full_ref, std::string_view target_commit) {
  return status_of([&] {
    check_full_ref(full_ref);
    git_repository* repo = impl_->repo.get();
    const git_oid target = git::resolve_commit(repo, target_commit);
    git_reference* raw = nullptr;
    check(git_reference_create(&raw, repo, std::string(full_ref).c_str(), &target, 1, "set ref"),
          "set " + std::string(full_ref));
    git_reference_free(raw);
    return Status();
  });
}

}  // namespace mlhub::store
