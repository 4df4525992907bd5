// `mlhub repo create NAME [--type model|dataset|space] [--private] [--exist-ok]`: creates a
// repository on HF_ENDPOINT (POST /api/repos/create) and prints its URL.
#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/hub_common.h"

namespace mlhub::cli {
namespace {

struct RepoOptions {
  std::string name;
  std::string type = "model";
  bool is_private = false;
  bool exist_ok = false;
};

}  // namespace

Runner add_repo_command(CLI::App& app) {
  auto o = std::make_shared<RepoOptions>();
  CLI::App* cmd = app.add_subcommand("repo", "Manage hub repositories");
  cmd->require_subcommand(1);
  CLI::App* create = cmd->add_subcommand("create", "Create a repository and print its URL");
  create->add_option("name", o->name, "namespace/name, or name (in your own namespace)")->required();
  create->add_option("--type,--repo-type", o->type, "model (default), dataset or space");
  create->add_flag("--private", o->is_private, "create a private repository");
  create->add_flag("--exist-ok", o->exist_ok, "do not fail when the repository already exists");
  return [o] {
    hub::CreateRepoOptions options;
    if (!hub_repo_type("repo create", o->type, options.repo_type)) return 2;
    options.is_private = o->is_private;
    options.exist_ok = o->exist_ok;
    auto url = hub::create_repo(hub::HubConfig::from_env(), o->name, options);
    if (!url.ok()) return hub_fail("repo create", url.status());
    std::cout << *url << "\n";
    return 0;
  };
}

}  // namespace mlhub::cli
