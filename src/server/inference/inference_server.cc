// The inference dispatcher: which route a request is, who calls (local tokens or a remote hub's),
// which model, admission (quotas), then the route; one error shape per API family; usage and
// metrics recorded once per request (Call).
#include "server/inference/inference_server.h"

#include <algorithm>
#include <ctime>
#include <mutex>
#include <unordered_map>

#include "mlhub/core.h"

namespace mlhub::inference {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

const char* tgi_error_type(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kValidation:
    case ErrorKind::kUnsupported:
    case ErrorKind::kTooLarge: return "validation";
    case ErrorKind::kOverloaded:
    case ErrorKind::kRateLimited: return "overloaded";
    case ErrorKind::kUnauthorized: return "unauthorized";
    case ErrorKind::kForbidden: return "forbidden";
    case ErrorKind::kNotFound: return "not_found";
    case ErrorKind::kModelTooLarge: return "model_too_large";
    case ErrorKind::kGeneration: return "generation";
    case ErrorKind::kUnavailable: return "unavailable";
  }
  return "unknown";
}

// TEI's ErrorType names (router/src/lib.rs): Unhealthy, Backend, Overloaded, Validation,
// Tokenizer, Empty; ours beyond them keep the same casing.
const char* tei_error_type(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kValidation:
    case ErrorKind::kTooLarge: return "Validation";
    case ErrorKind::kOverloaded:
    case ErrorKind::kRateLimited: return "Overloaded";
    case ErrorKind::kUnsupported:
    case ErrorKind::kGeneration: return "Backend";
    case ErrorKind::kUnavailable: return "Unhealthy";
    case ErrorKind::kUnauthorized: return "Unauthorized";
    case ErrorKind::kForbidden: return "Forbidden";
    case ErrorKind::kNotFound: return "NotFound";
    case ErrorKind::kModelTooLarge: return "ModelTooLarge";
  }
  return "Backend";
}

// OpenAI's error.type values.
const char* openai_error_type(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kValidation:
    case ErrorKind::kUnsupported:
    case ErrorKind::kTooLarge: return "invalid_request_error";
    case ErrorKind::kUnauthorized: return "authentication_error";
    case ErrorKind::kForbidden: return "permission_error";
    case ErrorKind::kNotFound: return "not_found_error";
    case ErrorKind::kOverloaded:
    case ErrorKind::kRateLimited: return "rate_limit_error";
    case ErrorKind::kModelTooLarge:
    case ErrorKind::kGeneration:
    case ErrorKind::kUnavailable: return "server_error";
  }
  return "server_error";
}

std::string bearer_token(const Request& req) {
  const std::string auth = req.header("authorization");
  if (auth.size() > 7 && (auth.rfind("Bearer ", 0) == 0 || auth.rfind("bearer ", 0) == 0)) {
    std::string t = auth.substr(7);
    while (!t.empty() && t.back() == ' ') t.pop_back();
    return t;
  }
  return "";
}

// Library errors that escape a route: the caller's fault or ours.
InferenceError from_library_error(const Error& e) {
  switch (e.code()) {
    case StatusCode::kInvalidArgument: return InferenceError(ErrorKind::kValidation, e.what());
    case StatusCode::kNotFound: return InferenceError(ErrorKind::kNotFound, e.what());
    case StatusCode::kUnimplemented: return InferenceError(ErrorKind::kUnsupported, e.what());
    case StatusCode::kPermissionDenied: return InferenceError(ErrorKind::kForbidden, e.what());
    default: return InferenceError(ErrorKind::kGeneration, e.what());
  }
}

// What a path asks for.
struct Route {
  ApiFamily family = ApiFamily::kTaskApi;
  std::string name;        // "task", "generate", "generate_stream", "chat", ...
  std::string model;       // repo id from the path; "" for router-style routes (model in the body)
  std::string forced_task;
  bool needs_body = true;
};

// One entry of OpenAI's GET /v1/models list.
json model_object(const std::string& repo_id) {
  return {{"id", repo_id}, {"object", "model"}, {"created", 0}, {"owned_by", repo_id.substr(0, repo_id.find('/'))}};
}

std::optional<Route> match(const Request& req) {
  const auto seg = http::split_path(req.path);
  const bool post = req.method == "POST", get = req.method == "GET";
  Route r;
  size_t rest = 0;
  if (seg.size() >= 3 && seg[0] == "models") {
    r.model = http::percent_decode(seg[1]) + "/" + http::percent_decode(seg[2]);
    rest = 3;
  } else if (seg.size() >= 4 && seg[0] == "hf-inference" && seg[1] == "models") {
    r.model = http::percent_decode(seg[2]) + "/" + http::percent_decode(seg[3]);
    rest = 4;
  } else if (seg.size() == 4 && seg[0] == "pipeline" && post) {
    // The legacy form /pipeline/{task}/{owner}/{name}.
    r.forced_task = http::percent_decode(seg[1]);
    r.model = http::percent_decode(seg[2]) + "/" + http::percent_decode(seg[3]);
    r.name = "task";
    return r;
  } else if (!seg.empty() && seg[0] == "v1") {
    rest = 0;  // router style: the model is named in the body
  } else {
    return std::nullopt;
  }
  std::vector<std::string> tail(seg.begin() + static_cast<long>(rest), seg.end());
  auto is = [&](std::initializer_list<const char*> want) {
    if (tail.size() != want.size()) return false;
    size_t i = 0;
    for (const char* w : want) {
      if (tail[i++] != w) return false;
    }
    return true;
  };
  if (post && tail.empty()) {
    r.name = "task";
  } else if (post && tail.size() == 2 && tail[0] == "pipeline") {
    r.name = "task";
    r.forced_task = http::percent_decode(tail[1]);
  } else if (post && (is({"generate"}) || is({"generate_stream"}))) {
    r.family = ApiFamily::kTgi;
    r.name = tail[0];
  } else if (post && is({"v1", "chat", "completions"})) {
    r.family = ApiFamily::kOpenAi;
    r.name = "chat";
  } else if (post && is({"v1", "completions"})) {
    r.family = ApiFamily::kOpenAi;
    r.name = "completions";
  } else if (post && (is({"v1", "embeddings"}) || (!r.model.empty() && is({"embeddings"})))) {
    r.family = ApiFamily::kOpenAi;
    r.name = "embeddings";
  } else if (get && is({"v1", "models"})) {
    r.family = ApiFamily::kOpenAi;
    r.name = "models";
    r.needs_body = false;
  } else if (post && !r.model.empty() &&
             (is({"embed"}) || is({"rerank"}) || is({"predict"}) || is({"similarity"}) || is({"tokenize"}))) {
    r.family = ApiFamily::kTei;
    r.name = tail[0];
  } else if (get && !r.model.empty() && (is({"info"}) || is({"health"}))) {
    r.family = ApiFamily::kTgi;
    r.name = tail[0];
    r.needs_body = false;
  } else {
    return std::nullopt;
  }
  if (r.model.empty() && r.name != "chat" && r.name != "completions" && r.name != "embeddings" && r.name != "models") {
    return std::nullopt;
  }
  return r;
}

}  // namespace

// ---- errors -------------------------------------------------------------------------------------

int error_status(ApiFamily family, ErrorKind kind) {
  const bool tgi_like = family == ApiFamily::kTgi || family == ApiFamily::kTei;
  switch (kind) {
    case ErrorKind::kValidation: return tgi_like ? 422 : 400;
    case ErrorKind::kUnauthorized: return 401;
    case ErrorKind::kForbidden: return 403;
    case ErrorKind::kNotFound: return 404;
    case ErrorKind::kUnsupported: return family == ApiFamily::kTei ? 424 : (family == ApiFamily::kTgi ? 422 : 400);
    case ErrorKind::kTooLarge: return 413;
    case ErrorKind::kOverloaded:
    case ErrorKind::kRateLimited: return 429;
    case ErrorKind::kModelTooLarge: return 507;
    case ErrorKind::kGeneration: return family == ApiFamily::kTgi || family == ApiFamily::kTei ? 424 : 500;
    case ErrorKind::kUnavailable: return 503;
  }
  return 500;
}

Response error_response(ApiFamily family, const InferenceError& error) {
  const int status = error_status(family, error.kind);
  json body;
  switch (family) {
    case ApiFamily::kTaskApi: body = {{"error", error.what()}}; break;
    case ApiFamily::kTgi: body = {{"error", error.what()}, {"error_type", tgi_error_type(error.kind)}}; break;
    case ApiFamily::kTei: body = {{"error", error.what()}, {"error_type", tei_error_type(error.kind)}}; break;
    case ApiFamily::kOpenAi:
      body = {{"error",
               {{"message", error.what()}, {"type", openai_error_type(error.kind)}, {"param", nullptr}, {"code", status}}}};
      break;
  }
  Response res = json_reply(status, body);
  if (error.retry_after_seconds > 0) {
    res.set("Retry-After", std::to_string(error.retry_after_seconds));
    // The Hub's rate-limit header: huggingface_hub waits until the reset it names.
    if (error.kind == ErrorKind::kRateLimited) {
      res.set("RateLimit", "\"api\";r=0;t=" + std::to_string(error.retry_after_seconds));
    }
  }
  return res;
}

// ---- shared helpers -----------------------------------------------------------------------------

std::string json_text(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

Response json_reply(int status, const json& body) { return Response::json(status, json_text(body)); }

int64_t count_characters(const std::string& text) {
  int64_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

void add_timing_headers(Response& res, const Call& call) {
  const double total = ms_since(call.start);
  auto secs = [](double ms) { return std::to_string(ms / 1000.0); };
  res.set("x-compute-type", "cpu");
  res.set("x-compute-time", secs(call.inference_ms));
  res.set("x-compute-characters", std::to_string(call.usage.input_characters));
  res.set("x-total-time", std::to_string(static_cast<int64_t>(total)));
  res.set("x-queue-time", std::to_string(static_cast<int64_t>(call.queue_ms)));
  res.set("x-inference-time", std::to_string(static_cast<int64_t>(call.inference_ms)));
  res.set("x-prompt-tokens", std::to_string(call.usage.input_tokens));
  res.set("x-generated-tokens", std::to_string(call.usage.output_tokens));
  if (call.usage.output_tokens > 0) {
    res.set("x-time-per-token", std::to_string(static_cast<int64_t>(call.inference_ms / static_cast<double>(call.usage.output_tokens))));
  }
}

Response sse_response(std::function<void(const std::function<bool(const std::string&)>& send)> produce) {
  Response res;
  res.status = 200;
  res.set("Content-Type", "text/event-stream");
  res.set("Cache-Control", "no-cache");
  res.set("X-Accel-Buffering", "no");
  res.stream = [produce = std::move(produce)](const Response::Writer& write) {
    const std::function<bool(const std::string&)> send = [&write](const std::string& data) {
      const std::string event = "data: " + data + "\n\n";
      return write(event.data(), event.size());
    };
    produce(send);
  };
  return res;
}

// ---- Call ---------------------------------------------------------------------------------------

Call::Call(InferenceServer& s, ApiFamily f, std::string r) : server(s), family(f), route(std::move(r)) {}

Call::~Call() { finish(status); }

ServedModel& Call::acquire(const std::string& task_name) {
  model = server.models().acquire(info, task_name);
  task = task_name;
  return *model;
}

void Call::finish(int final_status) {
  if (finished_) return;
  finished_ = true;
  usage.time = static_cast<int64_t>(std::time(nullptr));
  usage.model = info.repo_id;
  usage.task = task;
  usage.route = route;
  usage.status = final_status;
  usage.requests = 1;
  usage.compute_ms = static_cast<int64_t>(inference_ms);
  try {
    server.metrics().request(info.repo_id.empty() ? std::string("-") : info.repo_id, route, final_status,
                             ms_since(start) / 1000.0, queue_ms / 1000.0, inference_ms / 1000.0,
                             usage.input_tokens, usage.output_tokens);
    if (admitted) server.meter().record(admission, usage);
  } catch (const std::exception& e) {
    log(LogLevel::kError, std::string("inference: recording usage failed: ") + e.what());
  }
}

// ---- InferenceServer ------------------------------------------------------------------------------

struct InferenceServer::Impl {
  std::optional<hub::HubConfig> remote;
  // Remote mode: tokens checked with the remote hub's whoami, remembered for a minute.
  struct CachedCaller {
    hub::Caller caller;
    Clock::time_point at;
  };
  std::mutex callers_mu;
  std::unordered_map<std::string, CachedCaller> callers;
};

InferenceServer::InferenceServer(hub::HubServer& hub, InferenceOptions options)
    : hub_(hub), impl_(std::make_unique<Impl>()) {
  impl_->remote = options.remote_hub;
  metrics_ = std::make_unique<Metrics>();
  Metrics* metrics = metrics_.get();
  if (!options.manager.on_batch) {
    options.manager.on_batch = [metrics](const std::string& model, const char* kind, size_t size, double seconds) {
      metrics->batch(model, kind, size, seconds);
    };
  }
  std::unique_ptr<ModelSource> source =
      options.remote_hub ? remote_hub_source(*options.remote_hub) : local_hub_source(hub);
  models_ = std::make_unique<ModelManager>(std::move(source), options.manager);
  meter_ = std::make_unique<Meter>(hub.meta(), options.meter);
}

InferenceServer::~InferenceServer() = default;

hub::Caller InferenceServer::authenticate(const Request& req) {
  if (!impl_->remote) return hub_.authenticate(req);
  const std::string token = bearer_token(req);
  hub::Caller caller;
  if (token.empty()) return caller;
  {
    std::lock_guard lock(impl_->callers_mu);
    auto it = impl_->callers.find(token);
    if (it != impl_->callers.end() && Clock::now() - it->second.at < std::chrono::seconds(60)) return it->second.caller;
  }
  auto who = hub::whoami(*impl_->remote, token);
  if (!who.ok()) {
    if (who.status().code() == StatusCode::kPermissionDenied || who.status().code() == StatusCode::kNotFound ||
        who.status().code() == StatusCode::kInvalidArgument) {
      throw InferenceError(ErrorKind::kUnauthorized, "Invalid credentials in Authorization header");
    }
    throw InferenceError(ErrorKind::kGeneration, "cannot check the token with the hub: " + who.status().message());
  }
  // Metering and plans live in this server's own store: the remote user gets a local account of
  // the same name on first sight.
  auto& meta = hub_.meta();
  auto account = meta.find_account(who->name);
  if (!account) {
    store::Account a;
    a.name = who->name;
    a.fullname = who->name;
    auto created = meta.create_account(a);
    if (created.ok()) {
      account = *created;
    } else {
      account = meta.find_account(who->name);  // created meanwhile by another request
    }
    if (!account) throw InferenceError(ErrorKind::kGeneration, "cannot record the account " + who->name);
  }
  caller.user = *account;
  caller.token_name = "remote";
  std::lock_guard lock(impl_->callers_mu);
  if (impl_->callers.size() > 10000) impl_->callers.clear();
  impl_->callers[token] = {caller, Clock::now()};
  return caller;
}

std::optional<Response> InferenceServer::handle(Request& req) {
  if (req.method == "GET" && req.path == "/metrics") {
    const auto loaded = models_->loaded();
    metrics_->models_loaded(loaded.size(), models_->used_bytes());
    for (const auto& m : loaded) metrics_->queue_size(m.repo_id, m.queued, m.running);
    return Response::text(200, metrics_->text(), "text/plain; version=0.0.4; charset=utf-8");
  }
  if (req.method == "GET" && req.path == "/api/usage") return usage_route(req);
  auto route = match(req);
  if (!route) return std::nullopt;

  auto call = std::make_shared<Call>(*this, route->family, route->name);
  call->gone = [&req] { return req.gone(); };
  try {
    RouteContext ctx{req, call, nullptr, route->forced_task};
    if (route->needs_body) {
      const std::string text = req.body ? req.body->read_all(kMaxBodyBytes) : std::string();
      ctx.body = json::parse(text, nullptr, false);
      if (ctx.body.is_discarded()) {
        throw InferenceError(ErrorKind::kValidation, text.empty() ? "the request body is empty: send a JSON object"
                                                                  : "the request body is not valid JSON");
      }
      if (!ctx.body.is_object()) throw InferenceError(ErrorKind::kValidation, "the request body must be a JSON object");
    }
    call->token = bearer_token(req);
    call->caller = authenticate(req);
    if (route->name == "models" && route->model.empty()) {
      // GET /v1/models (router style): the models this server has loaded.
      json data = json::array();
      for (const auto& m : models_->loaded()) data.push_back(model_object(m.repo_id));
      call->status = 200;
      return json_reply(200, json{{"object", "list"}, {"data", data}});
    }
    std::string model_id = route->model;
    if (model_id.empty()) {
      if (!ctx.body.contains("model") || !ctx.body["model"].is_string() || ctx.body["model"].get<std::string>().empty()) {
        throw InferenceError(ErrorKind::kValidation, "\"model\" is required: the repo id of the model, e.g. \"org/name\"");
      }
      model_id = ctx.body["model"].get<std::string>();
    }
    call->info = models_->resolve(model_id, "main", call->token);
    call->admission = meter_->admit(call->caller, req.header("x-hf-bill-to"), call->info.weight_bytes, call->info.repo_id);
    call->admitted = true;

    Response res;
    const std::string& n = route->name;
    if (n == "task") {
      res = task_api(ctx);
    } else if (n == "generate" || n == "generate_stream") {
      res = tgi_generate(ctx, n == "generate_stream");
    } else if (n == "chat") {
      res = openai_chat(ctx);
    } else if (n == "completions") {
      res = openai_completions(ctx);
    } else if (n == "embeddings") {
      res = openai_embeddings(ctx);
    } else if (n == "embed") {
      res = tei_embed(ctx);
    } else if (n == "rerank") {
      res = tei_rerank(ctx);
    } else if (n == "predict") {
      res = tei_predict(ctx);
    } else if (n == "similarity") {
      res = tei_similarity(ctx);
    } else if (n == "tokenize") {
      res = tei_tokenize(ctx);
    } else if (n == "info") {
      res = model_info_route(ctx);
    } else if (n == "health") {
      res.status = 200;
    } else if (n == "models") {
      res = json_reply(200, json{{"object", "list"}, {"data", json::array({model_object(call->info.repo_id)})}});
    }
    for (const auto& h : call->admission.headers) res.set(h.first, h.second);
    call->status = res.status;
    return res;
  } catch (const InferenceError& e) {
    call->status = error_status(route->family, e.kind);
    return error_response(route->family, e);
  } catch (const http::HttpError& e) {
    // The body reader's 413 / 400, and the hub's 401 for a bad token.
    const ErrorKind kind = e.status == 413   ? ErrorKind::kTooLarge
                           : e.status == 401 ? ErrorKind::kUnauthorized
                           : e.status == 404 ? ErrorKind::kNotFound
                                             : ErrorKind::kValidation;
    call->status = error_status(route->family, kind);
    return error_response(route->family, InferenceError(kind, e.message));
  } catch (const Error& e) {
    const InferenceError ie = from_library_error(e);
    if (ie.kind == ErrorKind::kGeneration) log(LogLevel::kError, req.method + " " + req.target + ": " + e.what());
    call->status = error_status(route->family, ie.kind);
    return error_response(route->family, ie);
  } catch (const std::exception& e) {
    log(LogLevel::kError, req.method + " " + req.target + ": " + e.what());
    call->status = 500;
    return error_response(route->family, InferenceError(ErrorKind::kGeneration, "internal error"));
  }
}

Response InferenceServer::usage_route(Request& req) {
  try {
    const hub::Caller caller = authenticate(req);
    if (!caller.user) throw InferenceError(ErrorKind::kUnauthorized, "GET /api/usage needs a token");
    int64_t account_id = caller.user->id;
    if (auto name = req.param("account"); name && *name != caller.user->name) {
      // An organization's usage, for its admins.
      auto org = hub_.meta().find_account(*name);
      if (!org || !org->is_org) throw InferenceError(ErrorKind::kNotFound, "no organization named '" + *name + "'");
      auto role = hub_.meta().member_role(org->id, caller.user->id);
      if (!role || *role != store::MemberRole::kAdmin) {
        throw InferenceError(ErrorKind::kForbidden, "only admins of " + *name + " can read its usage");
      }
      account_id = org->id;
    }
    auto time_param = [&](const char* key) -> std::optional<int64_t> {
      auto v = req.param(key);
      if (!v) return std::nullopt;
      std::tm tm{};
      if (v->size() == 10 && strptime(v->c_str(), "%Y-%m-%d", &tm)) return static_cast<int64_t>(timegm(&tm));
      try {
        size_t used = 0;
        const int64_t t = std::stoll(*v, &used);
        if (used == v->size()) return t;
      } catch (const std::exception&) {
      }
      throw InferenceError(ErrorKind::kValidation, std::string("'") + key + "' must be YYYY-MM-DD or unix seconds");
    };
    const auto from = time_param("from");
    const auto to = time_param("to");
    meter_->flush();
    return json_reply(200, meter_->usage_json(account_id, from, to));
  } catch (const InferenceError& e) {
    return error_response(ApiFamily::kTaskApi, e);
  } catch (const http::HttpError& e) {
    return error_response(ApiFamily::kTaskApi, InferenceError(ErrorKind::kUnauthorized, e.message));
  }
}

}  // namespace mlhub::inference
