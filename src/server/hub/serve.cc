// `mlhub serve` and the administration of a data folder (include/mlhub/server.h).
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "mlhub/server.h"
#include "server/hub/hub_server.h"
#include "server/inference/inference_server.h"

namespace mlhub::server {
namespace fs = std::filesystem;

namespace {

http::Server* g_server = nullptr;

void on_signal(int) {
  if (g_server) g_server->stop();
}

uint64_t half_of_memory() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return 4ull << 30;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) / 2;
}

inference::InferenceOptions inference_options(const ServeOptions& o) {
  inference::InferenceOptions io;
  io.manager.memory_budget_bytes = o.inference_memory_bytes ? o.inference_memory_bytes : half_of_memory();
  io.manager.queue.max_queued_requests = o.max_queued_requests;
  io.manager.queue.max_batch_tokens = o.max_batch_tokens;
  io.manager.generation.max_queued_requests = o.max_queued_requests;
  io.manager.generation.max_running = o.max_running_sequences;
  io.manager.generation.max_wait_seconds = o.max_wait_seconds;
  io.meter.allow_anonymous = o.allow_anonymous_inference;
  io.meter.default_plan = o.default_plan;
  if (!o.remote_hub.empty()) {
    hub::HubConfig config = hub::HubConfig::from_env();
    config.endpoint = o.remote_hub;
    while (!config.endpoint.empty() && config.endpoint.back() == '/') config.endpoint.pop_back();
    config.token.reset();  // each request carries its caller's token
    config.progress = false;
    io.remote_hub = config;
  }
  return io;
}

Result<std::unique_ptr<store::MetadataStore>> open_meta(const fs::path& data_dir) {
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec) return Status::io_error("cannot create " + data_dir.string() + ": " + ec.message());
  return store::MetadataStore::open_sqlite(data_dir / "hub.sqlite");
}

}  // namespace

Result<std::string> init_data_dir(const fs::path& data_dir) {
  auto meta = open_meta(data_dir);
  if (!meta.ok()) return meta.status();
  if ((*meta)->find_account("admin")) return std::string();
  store::Account admin;
  admin.name = "admin";
  admin.fullname = "Administrator";
  auto created = (*meta)->create_account(admin);
  if (!created.ok()) return created.status();
  auto token = (*meta)->create_token(created->id, "admin", store::TokenRole::kWrite);
  if (!token.ok()) return token.status();
  const fs::path path = data_dir / "admin.token";
  {
    std::ofstream out(path, std::ios::trunc);
    out << *token << "\n";
    if (!out) return Status::io_error("cannot write " + path.string());
  }
  ::chmod(path.c_str(), 0600);
  return *token;
}

int serve(const ServeOptions& options) {
  auto token = init_data_dir(options.data_dir);
  if (!token.ok()) {
    std::cerr << "mlhub serve: " << token.status().message() << "\n";
    return 1;
  }
  if (!token->empty()) {
    std::cout << "mlhub serve: created user admin; its write token (also in " << (options.data_dir / "admin.token").string()
              << "): " << *token << std::endl;
  }
  try {
    hub::HubServer hub(options.data_dir, options.xet_fallback == "lfs" ? hub::XetFallback::kLfs : hub::XetFallback::kRegular);
    hub.recover();
    std::unique_ptr<inference::InferenceServer> inference;
    if (options.inference || options.inference_only) {
      inference = std::make_unique<inference::InferenceServer>(hub, inference_options(options));
    }
    const bool hub_routes = !options.inference_only;
    http::ListenOptions listen;
    listen.host = options.host;
    listen.port = options.port;
    listen.max_connections = options.max_connections;
    const bool quiet = options.quiet;
    http::Server server(listen, [&hub, &inference, hub_routes, quiet](http::Request& req) {
      http::Response res;
      // Browsers (the JS client) need CORS; every client shows X-Request-Id in its errors.
      std::vector<std::pair<std::string, std::string>> common = {
          {"Access-Control-Allow-Origin", "*"},
          {"Access-Control-Expose-Headers",
           "X-Repo-Commit, X-Request-Id, X-Error-Code, X-Error-Message, X-Total-Count, ETag, Link, Accept-Ranges, "
           "Content-Range, X-Linked-Size, X-Linked-Etag, Retry-After, RateLimit, RateLimit-Policy, x-compute-type, "
           "x-compute-time, x-compute-characters, x-total-time, x-queue-time, x-inference-time, x-prompt-tokens, "
           "x-generated-tokens"}};
      const std::string trace = req.header("x-amzn-trace-id");
      if (!trace.empty() && trace.size() < 200) common.emplace_back("X-Request-Id", trace);
      try {
        if (req.method == "OPTIONS") {
          res.status = 204;
          res.set("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, DELETE, OPTIONS");
          res.set("Access-Control-Allow-Headers", "Authorization, Content-Type, Range, X-Request-Id, Accept, X-HF-Bill-To, X-Use-Cache, X-Wait-For-Model");
          res.set("Access-Control-Max-Age", "86400");
        } else if (auto answer = inference ? inference->handle(req) : std::nullopt) {
          res = std::move(*answer);
        } else if (hub_routes) {
          res = hub.handle(req);
        } else {
          throw http::HttpError{404, "Not found: " + req.method + " " + req.path + " (this server only serves inference)", "", {}};
        }
      } catch (http::HttpError& e) {
        for (auto& h : common) e.headers.push_back(h);
        throw;
      } catch (const Error& e) {
        // One mapping of library codes to HTTP statuses.
        int status = 500;
        switch (e.code()) {
          case StatusCode::kInvalidArgument: status = 400; break;
          case StatusCode::kNotFound: status = 404; break;
          case StatusCode::kAlreadyExists: status = 409; break;
          case StatusCode::kFailedPrecondition: status = 412; break;
          case StatusCode::kPermissionDenied: status = 403; break;
          case StatusCode::kOutOfRange: status = 413; break;
          default: break;
        }
        if (status == 500) log(LogLevel::kError, req.method + " " + req.target + ": " + e.what());
        throw http::HttpError{status, status == 500 ? std::string("internal error") : std::string(e.what()), "", common};
      }
      for (auto& h : common) res.set(h.first, h.second);
      if (!quiet) log(LogLevel::kInfo, req.method + " " + req.target + " -> " + std::to_string(res.status));
      return res;
    });
    const int port = server.bind();
    g_server = &server;
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::signal(SIGPIPE, SIG_IGN);
    std::cout << "mlhub serve: listening on http://" << (options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host)
              << ":" << port << std::endl;
    server.run();
    g_server = nullptr;
  } catch (const std::exception& e) {
    std::cerr << "mlhub serve: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

Status create_user(const fs::path& data_dir, const std::string& name, const std::string& email, const std::string& fullname) {
  if (!hub::valid_name_part(name)) return Status::invalid_argument("invalid user name '" + name + "'");
  auto meta = open_meta(data_dir);
  if (!meta.ok()) return meta.status();
  store::Account a;
  a.name = name;
  a.email = email;
  a.fullname = fullname;
  return (*meta)->create_account(a).status();
}

Result<std::string> create_token(const fs::path& data_dir, const std::string& user, const std::string& role,
                                 const std::string& token_name) {
  if (role != "read" && role != "write") return Status::invalid_argument("role must be read or write");
  auto meta = open_meta(data_dir);
  if (!meta.ok()) return meta.status();
  auto account = (*meta)->find_account(user);
  if (!account || account->is_org) return Status::not_found("no user named '" + user + "'");
  return (*meta)->create_token(account->id, token_name.empty() ? role + "-token" : token_name,
                               role == "write" ? store::TokenRole::kWrite : store::TokenRole::kRead);
}

Status create_org(const fs::path& data_dir, const std::string& name, const std::vector<std::string>& members) {
  if (!hub::valid_name_part(name)) return Status::invalid_argument("invalid organization name '" + name + "'");
  auto meta = open_meta(data_dir);
  if (!meta.ok()) return meta.status();
  store::Account org;
  org.name = name;
  org.fullname = name;
  org.is_org = true;
  auto created = (*meta)->create_account(org);
  if (!created.ok()) return created.status();
  for (const auto& m : members) {
    const size_t colon = m.find(':');
    const std::string user = m.substr(0, colon);
    auto role = store::parse_member_role(colon == std::string::npos ? "write" : m.substr(colon + 1));
    if (!role.ok()) return role.status();
    auto account = (*meta)->find_account(user);
    if (!account || account->is_org) return Status::not_found("no user named '" + user + "'");
    if (auto s = (*meta)->set_member(created->id, account->id, *role); !s.ok()) return s;
  }
  return Status();
}

Result<store::Plan> put_plan(const fs::path& data_dir, const std::string& name, const PlanLimits& limits) {
  std::optional<uint64_t> max_bytes;
  if (limits.max_model_size) {
    auto parsed = parse_byte_size(*limits.max_model_size);
    if (!parsed.ok()) return parsed.status();
    max_bytes = *parsed;
  }
  auto meta = open_meta(data_dir);
  if (!meta.ok()) return meta.status();
  store::Plan plan = (*meta)->find_plan(name).value_or(store::Plan{});
  plan.name = name;
  if (limits.requests_per_minute) plan.requests_per_minute = *limits.requests_per_minute;
  if (limits.monthly_characters) plan.monthly_characters = *limits.monthly_characters;
  if (limits.monthly_tokens) plan.monthly_tokens = *limits.monthly_tokens;
  if (max_bytes) plan.max_model_bytes = static_cast<int64_t>(*max_bytes);
  if (auto s = (*meta)->put_plan(plan); !s.ok()) return s;
  return plan;
}

Result<std::string> assign_plan(const fs::path& data_dir, const std::string& plan, const std::string& account) {
  auto meta = open_meta(data_dir);
  if (!meta.ok()) return meta.status();
  auto found = (*meta)->find_account(account);
  if (!found) return Status::not_found("no user or organization named '" + account + "'");
  if (!plan.empty() && !(*meta)->find_plan(plan)) {
    return Status::not_found("no plan named '" + plan + "' (create it with `mlhub plan create " + plan + "`)");
  }
  std::string before = (*meta)->plan_of(found->id).value_or("");
  if (auto s = (*meta)->assign_plan(found->id, plan); !s.ok()) return s;
  return before;
}

Result<std::vector<store::Plan>> list_plans(const fs::path& data_dir) {
  auto meta = open_meta(data_dir);
  if (!meta.ok()) return meta.status();
  return (*meta)->list_plans();
}

}  // namespace mlhub::server
