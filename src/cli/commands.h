// The subcommands of the mlhub program: each file registers one with CLI11 and returns the
// function that runs it after parsing.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace mlhub::cli {

// Runs the parsed subcommand; returns the process exit status.
using Runner = std::function<int()>;

Runner add_tokenize_command(CLI::App& app);
Runner add_run_command(CLI::App& app);
Runner add_chat_command(CLI::App& app);
// The hub client (src/hub): login, whoami, repo create, download, upload.
Runner add_login_command(CLI::App& app);
Runner add_whoami_command(CLI::App& app);
Runner add_repo_command(CLI::App& app);
Runner add_download_command(CLI::App& app);
Runner add_upload_command(CLI::App& app);
Runner add_serve_command(CLI::App& app);
// user create / token create / org create: one runner for the three admin commands.
Runner add_admin_commands(CLI::App& app);
// plan create / assign / unassign / list: inference plans of a data folder.
Runner add_plan_command(CLI::App& app);

}  // namespace mlhub::cli
