// Shared bits of the hub client subcommands (login, whoami, repo, download, upload).
#pragma once

#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>

#include "mlhub/hub.h"

namespace mlhub::cli {

// Prints "mlhub <command>: <message>" on stderr and returns exit status 1.
inline int hub_fail(std::string_view command, const Status& status) {
  std::cerr << "mlhub " << command << ": " << status.message() << "\n";
  return 1;
}

// Parses --repo-type into `type`; prints the error and returns false when it is unknown.
inline bool hub_repo_type(std::string_view command, const std::string& name, hub::RepoType& type) {
  auto parsed = hub::parse_repo_type(name);
  if (!parsed.ok()) {
    hub_fail(command, parsed.status());
    return false;
  }
  type = *parsed;
  return true;
}

// `--model` of run and chat: an existing file (a .gguf) or folder as is, else a hub model id
// "org/name[@revision]" fetched from HF_ENDPOINT into the huggingface_hub cache (or found there
// when offline).
inline Result<std::string> resolve_model_spec(const std::string& spec) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(spec, ec)) return spec;
  return hub::resolve_model(hub::HubConfig::from_env(), spec);
}

}  // namespace mlhub::cli
