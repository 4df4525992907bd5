// `mlhub download REPO [FILES...] [--revision R] [--repo-type T] [--include P...]
//  [--exclude P...] [--local-dir D] [--force] [--quiet]`, as `hf download` behaves: one file
// prints the file's path; otherwise the repository (or the files / patterns given) is fetched
// with snapshot_download and the snapshot folder (or --local-dir) is printed. Uses the
// huggingface_hub cache (HF_HUB_CACHE, HF_HOME) and honours HF_HUB_OFFLINE.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/hub_common.h"

namespace mlhub::cli {
namespace {

struct DownloadCliOptions {
  std::string repo;
  std::vector<std::string> files;
  std::string revision = "main";
  std::string repo_type = "model";
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  std::string local_dir;
  bool force = false;
  bool quiet = false;
  size_t max_workers = 8;
};

int run_download(const DownloadCliOptions& o) {
  hub::HubConfig config = hub::HubConfig::from_env();
  config.progress = !o.quiet;
  hub::RepoType type;
  if (!hub_repo_type("download", o.repo_type, type)) return 2;
  if (o.files.size() == 1 && o.include.empty() && o.exclude.empty()) {
    hub::DownloadOptions options;
    options.revision = o.revision;
    options.repo_type = type;
    options.force = o.force;
    if (!o.local_dir.empty()) options.local_dir = o.local_dir;
    auto path = hub::hf_hub_download(config, o.repo, o.files[0], options);
    if (!path.ok()) return hub_fail("download", path.status());
    std::cout << *path << "\n";
    return 0;
  }
  if (!o.files.empty() && (!o.include.empty() || !o.exclude.empty())) {
    return hub_fail("download", Status::invalid_argument(
                                    "give either file names or --include/--exclude patterns"));
  }
  hub::SnapshotOptions options;
  options.revision = o.revision;
  options.repo_type = type;
  options.allow_patterns = o.files.empty() ? o.include : o.files;
  options.ignore_patterns = o.exclude;
  options.max_workers = o.max_workers;
  if (!o.local_dir.empty()) options.local_dir = o.local_dir;
  auto folder = hub::snapshot_download(config, o.repo, options);
  if (!folder.ok()) return hub_fail("download", folder.status());
  std::cout << *folder << "\n";
  return 0;
}

}  // namespace

Runner add_download_command(CLI::App& app) {
  auto o = std::make_shared<DownloadCliOptions>();
  CLI::App* cmd = app.add_subcommand(
      "download", "Download files from a hub repository into the huggingface_hub cache");
  cmd->add_option("repo", o->repo, "repository id, namespace/name")->required();
  cmd->add_option("files", o->files, "files to download (default: the whole repository)");
  cmd->add_option("--revision", o->revision, "branch, tag or commit (default main)");
  cmd->add_option("--repo-type", o->repo_type, "model (default), dataset or space");
  cmd->add_option("--include", o->include, "only files matching these patterns")
      ->allow_extra_args(true);
  cmd->add_option("--exclude", o->exclude, "skip files matching these patterns")
      ->allow_extra_args(true);
  cmd->add_option("--local-dir", o->local_dir, "also copy the files into this folder");
  cmd->add_option("--max-workers", o->max_workers, "parallel downloads (default 8)");
  cmd->add_flag("--force-download,--force", o->force, "download again even if cached");
  cmd->add_flag("--quiet,-q", o->quiet, "no progress bars");
  return [o] { return run_download(*o); };
}

}  // namespace mlhub::cli
