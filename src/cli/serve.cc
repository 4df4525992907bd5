// mlhub serve, and the administration commands of a hub's data folder: user, token, org.
#include <iostream>

#include "cli/commands.h"
#include "mlhub/server.h"

namespace mlhub::cli {

Runner add_serve_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("serve", "Run the hub (the Hugging Face Hub API over git repositories) and its inference API");
  auto opts = std::make_shared<server::ServeOptions>();
  auto data = std::make_shared<std::string>();
  cmd->add_option("--data", *data, "Data folder (SQLite metadata, git repositories, LFS blobs)")->required();
  cmd->add_option("--host", opts->host, "Address to bind (default 127.0.0.1)");
  cmd->add_option("--port", opts->port, "Port (default 8080; 0 = any free port)");
  cmd->add_option("--max-connections", opts->max_connections, "Open connections at most (default 512)");
  cmd->add_flag("--quiet", opts->quiet, "Do not log requests");
  cmd->add_option("--xet-fallback", opts->xet_fallback,
                  "What huggingface_hub >= 1.20 is told to do with large files: 'regular' (inside the commit; "
                  "works with hf_xet installed) or 'lfs' (the LFS batch API; needs HF_HUB_DISABLE_XET=1)")
      ->check(CLI::IsMember({"regular", "lfs"}));
  // The inference API (docs/inference.md).
  cmd->add_flag("!--no-inference", opts->inference, "Serve the hub alone, without the inference API");
  cmd->add_flag("--inference-only", opts->inference_only,
                "Serve only the inference API (a separate inference server; with --hub, for another hub's models)");
  cmd->add_option("--hub", opts->remote_hub,
                  "With --inference-only: the hub whose models and tokens to use (e.g. http://hub:8080)");
  cmd->add_option("--inference-memory", opts->inference_memory_bytes,
                  "Loaded models' weights at most, e.g. 4GB (default: half the machine's memory); the least "
                  "recently used idle model is unloaded to make room")
      ->transform(CLI::AsSizeValue(true));
  cmd->add_flag("--allow-anonymous-inference", opts->allow_anonymous_inference,
                "Let requests without a token run public models (default: a token is required)");
  cmd->add_option("--default-plan", opts->default_plan,
                  "The inference plan of accounts without one (see `mlhub plan`; default 'free')");
  cmd->add_option("--max-queue", opts->max_queued_requests, "Queued requests per model at most; beyond: 429 (default 256)");
  cmd->add_option("--max-batch-tokens", opts->max_batch_tokens, "Tokens per encoder batch at most (default 16384)");
  cmd->add_option("--max-running", opts->max_running_sequences,
                  "Sequences generated together per model at most (default 16)");
  cmd->add_option("--max-wait", opts->max_wait_seconds,
                  "Generation: answer 429 at once to a request estimated to wait longer than this many "
                  "seconds for a slot (default 30; 0 = queue up to --max-queue)");
  return [opts, data] {
    if (!opts->remote_hub.empty() && !opts->inference_only) {
      std::cerr << "mlhub serve: --hub needs --inference-only (this server's own hub serves its own models)\n";
      return 2;
    }
    opts->data_dir = *data;
    if (!opts->quiet && log_level() > LogLevel::kInfo && !std::getenv("MLHUB_LOG")) set_log_level(LogLevel::kWarning);
    return server::serve(*opts);
  };
}

Runner add_admin_commands(CLI::App& app) {
  auto data = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>();
  auto email = std::make_shared<std::string>();
  auto fullname = std::make_shared<std::string>();
  auto role = std::make_shared<std::string>("read");
  auto token_name = std::make_shared<std::string>();
  auto members = std::make_shared<std::vector<std::string>>();
  auto which = std::make_shared<std::string>();

  auto* user = app.add_subcommand("user", "Manage hub users (on a data folder)");
  user->require_subcommand(1);
  auto* user_create = user->add_subcommand("create", "Create a user");
  user_create->add_option("name", *name, "User name")->required();
  user_create->add_option("--data", *data, "The hub's data folder")->required();
  user_create->add_option("--email", *email, "E-mail address");
  user_create->add_option("--fullname", *fullname, "Full name");
  user_create->callback([which] { *which = "user"; });

  auto* token = app.add_subcommand("token", "Manage access tokens (on a data folder)");
  token->require_subcommand(1);
  auto* token_create = token->add_subcommand("create", "Create a token and print it");
  token_create->add_option("--data", *data, "The hub's data folder")->required();
  token_create->add_option("--user", *name, "Owner of the token")->required();
  token_create->add_option("--role", *role, "read or write")->check(CLI::IsMember({"read", "write"}));
  token_create->add_option("--name", *token_name, "A name to recognise the token by");
  token_create->callback([which] { *which = "token"; });

  auto* org = app.add_subcommand("org", "Manage organizations (on a data folder)");
  org->require_subcommand(1);
  auto* org_create = org->add_subcommand("create", "Create an organization");
  org_create->add_option("name", *name, "Organization name")->required();
  org_create->add_option("--data", *data, "The hub's data folder")->required();
  org_create->add_option("--member", *members, "USER or USER:ROLE (read, write, admin); repeatable");
  org_create->callback([which] { *which = "org"; });

  return [=] {
    Status s;
    if (*which == "user") {
      s = server::create_user(*data, *name, *email, *fullname);
    } else if (*which == "token") {
      auto t = server::create_token(*data, *name, *role, *token_name);
      if (t.ok()) std::cout << *t << "\n";
      s = t.status();
    } else if (*which == "org") {
      s = server::create_org(*data, *name, *members);
    }
    if (!s.ok()) {
      std::cerr << "mlhub: " << s.message() << "\n";
      return 1;
    }
    return 0;
  };
}

}  // namespace mlhub::cli
