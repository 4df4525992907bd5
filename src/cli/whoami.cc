// `mlhub whoami`: the user the current token (HF_TOKEN, else the token file) belongs to, as
// GET /api/whoami-v2 answers on HF_ENDPOINT. Prints the name, then "orgs: a,b" when there are any.
#include <iostream>

#include "cli/commands.h"
#include "cli/hub_common.h"

namespace mlhub::cli {

Runner add_whoami_command(CLI::App& app) {
  app.add_subcommand("whoami", "Print the user of the current hub token");
  return [] {
    const hub::HubConfig config = hub::HubConfig::from_env();
    auto who = hub::whoami(config);
    if (!who.ok()) return hub_fail("whoami", who.status());
    std::cout << who->name << "\n";
    if (!who->orgs.empty()) {
      std::cout << "orgs: ";
      for (size_t i = 0; i < who->orgs.size(); ++i) std::cout << (i ? "," : "") << who->orgs[i];
      std::cout << "\n";
    }
    return 0;
  };
}

}  // namespace mlhub::cli
