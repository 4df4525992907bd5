// mlhub: the command-line program. One file per subcommand; this file is the one list.
#include <string>
#include <utility>
#include <vector>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"mlhub: a self-hostable hub for machine learning models, and the library that runs them"};
  app.require_subcommand(1);
  const std::vector<std::pair<std::string, mlhub::cli::Runner>> commands = {
      {"tokenize", mlhub::cli::add_tokenize_command(app)},
      {"run", mlhub::cli::add_run_command(app)},
      {"chat", mlhub::cli::add_chat_command(app)},
      {"serve", mlhub::cli::add_serve_command(app)},
      {"login", mlhub::cli::add_login_command(app)},
      {"whoami", mlhub::cli::add_whoami_command(app)},
      {"repo", mlhub::cli::add_repo_command(app)},
      {"download", mlhub::cli::add_download_command(app)},
      {"upload", mlhub::cli::add_upload_command(app)},
      {"plan", mlhub::cli::add_plan_command(app)},
  };
  const auto admin = mlhub::cli::add_admin_commands(app);
  CLI11_PARSE(app, argc, argv);
  for (const auto& [name, run] : commands) {
    if (app.got_subcommand(name)) return run();
  }
  for (const char* name : {"user", "token", "org"}) {
    if (app.got_subcommand(name)) return admin();
  }
  return 1;
}
