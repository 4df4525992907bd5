// `mlhub upload REPO PATH [PATH_IN_REPO] [--repo-type T] [--revision R] [--commit-message M]
//  [--private] [--quiet]`, as `hf upload` behaves: PATH is a file (default PATH_IN_REPO: its
// name) or a folder (default: the repository root); the repository is created when missing. Prints
// the commit URL (or says nothing changed).
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/hub_common.h"

namespace mlhub::cli {
namespace {

struct UploadCliOptions {
  std::string repo;
  std::string path;
  std::string path_in_repo;
  std::string repo_type = "model";
  std::string revision = "main";
  std::string commit_message;
  std::string commit_description;
  bool is_private = false;
  bool quiet = false;
};

int run_upload(const UploadCliOptions& o) {
  namespace fs = std::filesystem;
  hub::HubConfig config = hub::HubConfig::from_env();
  config.progress = !o.quiet;
  hub::RepoType type;
  if (!hub_repo_type("upload", o.repo_type, type)) return 2;
  std::error_code ec;
  const bool is_dir = fs::is_directory(o.path, ec);
  if (!is_dir && !fs::is_regular_file(o.path, ec)) {
    return hub_fail("upload", Status::not_found("no file or folder " + o.path));
  }
  hub::CreateRepoOptions create;
  create.repo_type = type;
  create.is_private = o.is_private;
  create.exist_ok = true;
  auto url = hub::create_repo(config, o.repo, create);
  // A token that may write to the repository but not create repositories gets a 403 here, as in
  // huggingface_hub; the upload itself then says whether it may write.
  if (!url.ok() && url.status().code() != StatusCode::kPermissionDenied) {
    return hub_fail("upload", url.status());
  }
  hub::UploadOptions options;
  options.repo_type = type;
  options.revision = o.revision;
  options.commit_message = o.commit_message;
  options.commit_description = o.commit_description;
  Result<hub::CommitInfo> info =
      is_dir ? hub::upload_folder(config, o.repo, o.path,
                                  o.path_in_repo == "." ? "" : o.path_in_repo, options)
             : hub::upload_file(config, o.repo, o.path,
                                o.path_in_repo.empty() ? fs::path(o.path).filename().string()
                                                       : o.path_in_repo,
                                options);
  if (!info.ok()) return hub_fail("upload", info.status());
  if (info->commit_url.empty()) {
    std::cerr << "mlhub upload: nothing changed, no commit made (head " << info->commit_oid
              << ")\n";
    std::cout << (url.ok() ? *url : o.repo) << "\n";
  } else {
    std::cout << info->commit_url << "\n";
  }
  return 0;
}

}  // namespace

Runner add_upload_command(CLI::App& app) {
  auto o = std::make_shared<UploadCliOptions>();
  CLI::App* cmd = app.add_subcommand("upload", "Upload a file or a folder to a hub repository");
  cmd->add_option("repo", o->repo, "repository id, namespace/name")->required();
  cmd->add_option("path", o->path, "local file or folder")->required();
  cmd->add_option("path_in_repo", o->path_in_repo,
                  "where it goes in the repository (default: the file name, or the root)");
  cmd->add_option("--repo-type", o->repo_type, "model (default), dataset or space");
  cmd->add_option("--revision", o->revision, "the branch to commit to (default main)");
  cmd->add_option("--commit-message", o->commit_message, "the commit summary");
  cmd->add_option("--commit-description", o->commit_description, "the commit description");
  cmd->add_flag("--private", o->is_private, "create the repository private if it does not exist");
  cmd->add_flag("--quiet,-q", o->quiet, "no progress bars");
  return [o] { return run_upload(*o); };
}

}  // namespace mlhub::cli
