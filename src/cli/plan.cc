// mlhub plan: inference plans of a hub's data folder (docs/inference.md, "Metering and quotas").
//   mlhub plan create NAME --data DIR [--requests-per-minute N] [--monthly-characters N]
//                          [--monthly-tokens N] [--max-model-size 500MB]
//   mlhub plan assign PLAN --account NAME --data DIR      (PLAN "" removes the assignment)
//   mlhub plan unassign --account NAME --data DIR
//   mlhub plan list --data DIR
#include <algorithm>
#include <iostream>

#include "cli/commands.h"
#include "mlhub/server.h"

namespace mlhub::cli {
namespace {

std::string limit_text(int64_t v) { return v == 0 ? "unlimited" : std::to_string(v); }

std::string size_text(int64_t v) { return v == 0 ? "unlimited" : server::format_byte_size(static_cast<uint64_t>(v)); }

void print_table(const std::vector<store::Plan>& plans) {
  std::vector<std::vector<std::string>> rows = {{"NAME", "REQUESTS/MIN", "CHARACTERS/MONTH", "TOKENS/MONTH", "MAX MODEL SIZE"}};
  for (const auto& p : plans) {
    rows.push_back({p.name, limit_text(p.requests_per_minute), limit_text(p.monthly_characters),
                    limit_text(p.monthly_tokens), size_text(p.max_model_bytes)});
  }
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    std::cout << line << "\n";
  }
}

}  // namespace

Runner add_plan_command(CLI::App& app) {
  auto data = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>();
  auto account = std::make_shared<std::string>();
  auto limits = std::make_shared<server::PlanLimits>();
  auto which = std::make_shared<std::string>();

  auto* plan = app.add_subcommand("plan", "Manage inference plans: rate and monthly limits (on a data folder)");
  plan->require_subcommand(1);

  auto* create = plan->add_subcommand("create", "Create a plan, or change the limits given of an existing one");
  create->add_option("name", *name, "Plan name: 1 to 64 of a-z, 0-9, '_', '-'")->required();
  create->add_option("--data", *data, "The hub's data folder")->required();
  // Plain option callbacks so "not given" (keep the current value) differs from 0 (unlimited).
  create->add_option_function<int64_t>(
      "--requests-per-minute", [limits](const int64_t& v) { limits->requests_per_minute = v; },
      "Requests per minute per account (0 = unlimited)");
  create->add_option_function<int64_t>(
      "--monthly-characters", [limits](const int64_t& v) { limits->monthly_characters = v; },
      "Input characters per calendar month (UTC) per account (0 = unlimited)");
  create->add_option_function<int64_t>(
      "--monthly-tokens", [limits](const int64_t& v) { limits->monthly_tokens = v; },
      "Input + generated tokens per calendar month (UTC) per account (0 = unlimited)");
  create->add_option_function<std::string>(
      "--max-model-size", [limits](const std::string& v) { limits->max_model_size = v; },
      "Largest model (weight bytes) the plan may run, e.g. 500MB or 2GB (0 = unlimited)");
  create->callback([which] { *which = "create"; });

  auto* assign = plan->add_subcommand("assign", "Put a user or an organization on a plan");
  assign->add_option("plan", *name, "Plan name (\"\" removes the assignment)")->required();
  assign->add_option("--account", *account, "User or organization")->required();
  assign->add_option("--data", *data, "The hub's data folder")->required();
  assign->callback([which] { *which = "assign"; });

  auto* unassign = plan->add_subcommand("unassign", "Put a user or an organization back on the server's default plan");
  unassign->add_option("--account", *account, "User or organization")->required();
  unassign->add_option("--data", *data, "The hub's data folder")->required();
  unassign->callback([which, name] {
    *which = "assign";
    name->clear();
  });

  auto* list = plan->add_subcommand("list", "List the plans");
  list->add_option("--data", *data, "The hub's data folder")->required();
  list->callback([which] { *which = "list"; });

  return [=] {
    Status s;
    if (*which == "create") {
      auto p = server::put_plan(*data, *name, *limits);
      if (p.ok()) print_table({*p});
      s = p.status();
    } else if (*which == "assign") {
      auto before = server::assign_plan(*data, *name, *account);
      if (before.ok()) {
        const std::string was = before->empty() ? "none" : "'" + *before + "'";
        if (name->empty()) {
          std::cout << *account << ": no plan, was " << was << " (the server's default plan applies)\n";
        } else {
          std::cout << *account << ": plan '" << *name << "', was " << was << "\n";
        }
      }
      s = before.status();
    } else if (*which == "list") {
      auto plans = server::list_plans(*data);
      if (plans.ok()) print_table(*plans);
      s = plans.status();
    }
    if (!s.ok()) {
      std::cerr << "mlhub: " << s.message() << "\n";
      return 1;
    }
    return 0;
  };
}

}  // namespace mlhub::cli
