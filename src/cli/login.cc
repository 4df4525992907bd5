// `mlhub login [--token T]` and `mlhub logout`-free token storage: validates the token with
// GET /api/whoami-v2 and stores it where huggingface_hub looks ($HF_TOKEN_PATH, else
// $HF_HOME/token, plus the stored_tokens INI file), so Python and mlhub share one login.
// Without --token the token is read from the first line of stdin.
#include <termios.h>
#include <unistd.h>

#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/hub_common.h"

namespace mlhub::cli {
namespace {

int run_login(const std::string& token_option) {
  hub::HubConfig config = hub::HubConfig::from_env();
  std::string raw = token_option;
  if (raw.empty()) {
    const bool tty = ::isatty(STDIN_FILENO) == 1;
    termios saved{};
    if (tty && ::tcgetattr(STDIN_FILENO, &saved) == 0) {
      std::cerr << "Enter your token (input will not be visible): " << std::flush;
      termios quiet = saved;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
      std::getline(std::cin, raw);
      ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
      std::cerr << "\n";
    } else {
      std::getline(std::cin, raw);
    }
  }
  const std::string token = raw.substr(0, raw.find_last_not_of(" \t\r\n") + 1);
  if (token.empty() || token.find_first_not_of(" \t") == std::string::npos) {
    return hub_fail("login", Status::invalid_argument("no token given (--token, or one line on stdin)"));
  }
  if (token.rfind("api_org", 0) == 0) {
    return hub_fail("login", Status::invalid_argument(
                                 "organization tokens (api_org...) cannot log in; use a user token"));
  }
  auto who = hub::whoami(config, token);
  if (!who.ok()) return hub_fail("login", who.status());
  const std::string token_name = who->token_name.empty() ? "mlhub-" + who->name : who->token_name;
  Status saved = hub::save_token(config, token, token_name);
  if (!saved.ok()) return hub_fail("login", saved);
  std::cout << "Login successful: " << who->name << " on " << config.endpoint << " (token \""
            << token_name << "\"" << (who->token_role.empty() ? "" : ", role " + who->token_role)
            << ") saved to " << config.token_path << "\n";
  if (std::getenv("HF_TOKEN")) {
    std::cerr << "mlhub login: note: HF_TOKEN is set and takes precedence over the saved token\n";
  }
  return 0;
}

}  // namespace

Runner add_login_command(CLI::App& app) {
  auto token = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "login", "Store a hub access token (checked with whoami) where huggingface_hub reads it");
  cmd->add_option("--token", *token, "the token; read from stdin when absent");
  return [token] { return run_login(*token); };
}

}  // namespace mlhub::cli
