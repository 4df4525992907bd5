// `mlhub chat --model PATH|ORG/NAME[@REV] [--system TEXT] [--max-new-tokens N] [--temperature T]
//             [--top-p P] [--top-k K] [--seed S]`
//
// An interactive chat in the terminal (mlhub::ChatSession): each stdin line is a user message;
// the assistant's reply is streamed to stdout as it is generated, then a newline. The
// conversation is kept (the chat template is applied to all of it every turn, and the KV cache
// is reused for the part of the prompt it already holds). "/reset" forgets the conversation
// (the --system message stays), "/exit" or end of input quits; empty lines are ignored.
// Generation starts from the chat pipeline's settings (the model's generation_config.json under
// transformers' text-generation defaults: sampling at temperature 0.7, 256 new tokens);
// --temperature 0 decodes greedily. On a terminal a "> " prompt is shown and a banner goes to
// stderr; on a pipe only the replies are written, so scripts can read one reply a line (a reply
// that itself holds newlines spans several lines).
// Exit status: 0; 1 when a turn failed (its message on stderr; later turns still run); 2 when the
// model does not load or an option is bad.
#include <unistd.h>

#include <iostream>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/hub_common.h"
#include "mlhub/pipelines.h"

namespace mlhub::cli {
namespace {

struct ChatOptions {
  std::string model;
  std::string system;
  std::optional<int64_t> max_new_tokens;
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<int64_t> top_k;
  std::optional<int64_t> seed;
};

nlohmann::json generate_overrides(const ChatOptions& o) {
  nlohmann::json g = nlohmann::json::object();
  if (o.max_new_tokens) g["max_new_tokens"] = *o.max_new_tokens;
  if (o.temperature) {
    // transformers: temperature 0 means greedy decoding.
    g["do_sample"] = *o.temperature != 0.0;
    if (*o.temperature != 0.0) g["temperature"] = *o.temperature;
  }
  if (o.top_p) g["top_p"] = *o.top_p;
  if (o.top_k) g["top_k"] = *o.top_k;
  if (o.seed) g["seed"] = *o.seed;
  return g;
}

int run_chat(const ChatOptions& o) {
  auto folder = resolve_model_spec(o.model);
  if (!folder.ok()) {
    std::cerr << "mlhub chat: " << folder.status().message() << "\n";
    return 2;
  }
  ChatSession::Options opts;
  opts.system = o.system;
  opts.generate = generate_overrides(o);
  auto session = ChatSession::open(*folder, opts);
  if (!session.ok()) {
    std::cerr << "mlhub chat: " << session.status().message() << "\n";
    return 2;
  }
  const bool tty = ::isatty(STDIN_FILENO) != 0;
  if (tty) std::cerr << "mlhub chat: " << o.model << " (/reset starts over, /exit quits)\n";
  int status = 0;
  std::string line;
  while (true) {
    if (tty) std::cout << "> " << std::flush;
    if (!std::getline(std::cin, line, '\n')) break;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (line == "/exit" || line == "/quit") break;
    if (line == "/reset") {
      (*session)->reset();
      if (tty) std::cerr << "(conversation reset)\n";
      continue;
    }
    auto reply = (*session)->send(line, [](std::string_view piece) {
      std::cout.write(piece.data(), static_cast<std::streamsize>(piece.size()));
      std::cout.flush();
    });
    std::cout << '\n' << std::flush;
    if (!reply.ok()) {
      std::cerr << "mlhub chat: " << reply.status().message() << "\n";
      status = 1;
    }
  }
  if (tty) std::cout << '\n';
  return status;
}

}  // namespace

Runner add_chat_command(CLI::App& app) {
  auto o = std::make_shared<ChatOptions>();
  CLI::App* cmd = app.add_subcommand(
      "chat", "Chat with a model in the terminal, streaming its replies (one message a line)");
  cmd->add_option("--model", o->model,
                  "model folder (config.json, weights, tokenizer.json, tokenizer_config.json with "
                  "a chat template), or a hub model id org/name[@revision]")
      ->required();
  cmd->add_option("--system", o->system, "a system message that starts the conversation");
  cmd->add_option("--max-new-tokens", o->max_new_tokens, "the most tokens a reply has")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--temperature", o->temperature,
                  "sampling temperature; 0 decodes greedily (default: the model's, else 0.7)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--top-p", o->top_p, "nucleus sampling mass (0, 1]");
  cmd->add_option("--top-k", o->top_k, "sample among the k most likely tokens (0: all)");
  cmd->add_option("--seed", o->seed, "sampling seed, for replies that repeat");
  return [o] { return run_chat(*o); };
}

}  // namespace mlhub::cli
