// Shared bits of the hub client subcommands (login, whoami, repo, download, upload).
#pragma once

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

}  // namespace mlhub::cli
