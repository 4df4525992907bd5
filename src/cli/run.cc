// `mlhub run TASK --model PATH|ORG/NAME[@REV] [--param key=value ...] [--init key=value ...] [--jsonl]`
//
// Runs a task pipeline (include/mlhub/pipelines.h) over stdin, one input a line, and writes one
// compact JSON result a line, shaped as transformers' pipeline returns it for that one input
// (object keys in transformers' order). Lines are split on LF only; a CR before the LF stays part
// of the input. Without --jsonl each line is the raw input string; with --jsonl each line is a
// JSON value (a string, or an object such as {"question": ..., "context": ...}).
// --param values are call parameters, --init values constructor parameters; a value is parsed as
// JSON when it parses (top_k=3, top_k=null, targets=["a","b"], multi_label=true) and kept as a
// string otherwise (aggregation_strategy=simple).
// A line that fails gives {"error": "line N: ..."} on stdout and the message on stderr; later
// lines still run and the exit status becomes 1. A model that does not load, or a bad option,
// exits with status 2 before reading stdin.
#include <algorithm>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/hub_common.h"
#include "mlhub/pipelines.h"

namespace mlhub::cli {
namespace {

using nlohmann::json;
using ojson = nlohmann::ordered_json;

struct RunOptions {
  std::string task;
  std::string model;
  std::vector<std::string> params;
  std::vector<std::string> init;
  bool jsonl = false;
};

// Builds a parameter object from "key=value" items.
bool parse_params(const std::vector<std::string>& items, const char* option, json& out) {
  out = json::object();
  for (const std::string& item : items) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "mlhub run: " << option << " expects key=value, got \"" << item << "\"\n";
      return false;
    }
    const std::string value = item.substr(eq + 1);
    json parsed = json::parse(value, nullptr, /*allow_exceptions=*/false);
    out[item.substr(0, eq)] = parsed.is_discarded() ? json(value) : std::move(parsed);
  }
  return true;
}

// Field order of transformers' result dicts; one ranking fits every task's keys
// (label/score; entity, score, index, word, start, end; score, start, end, answer;
// score, token, token_str, sequence; sequence, labels, scores; generated_text; chat messages
// role, content).
int key_rank(const std::string& key) {
  static const char* kOrder[] = {"entity",    "entity_group", "label",  "score",  "token",
                                 "token_str", "sequence",     "labels", "scores", "index",
                                 "word",      "start",        "end",    "answer", "role",
                                 "content"};
  for (int i = 0; i < static_cast<int>(std::size(kOrder)); ++i) {
    if (key == kOrder[i]) return i;
  }
  return static_cast<int>(std::size(kOrder));
}

ojson ordered(const json& v) {
  if (v.is_array()) {
    ojson out = ojson::array();
    for (const json& e : v) out.push_back(ordered(e));
    return out;
  }
  if (!v.is_object()) return ojson(v);
  std::vector<std::string> keys;
  for (const auto& [k, e] : v.items()) keys.push_back(k);
  // Known keys in transformers' order, the rest alphabetical (stable over the sorted input).
  std::stable_sort(keys.begin(), keys.end(), [](const std::string& a, const std::string& b) {
    return key_rank(a) < key_rank(b);
  });
  ojson out = ojson::object();
  for (const std::string& k : keys) out[k] = ordered(v[k]);
  return out;
}

int run_pipeline(const RunOptions& o) {
  json params, init;
  if (!parse_params(o.params, "--param", params) || !parse_params(o.init, "--init", init)) return 2;
  // A folder is used as is; "org/name[@revision]" is fetched from HF_ENDPOINT into the
  // huggingface_hub cache first (or found there when offline).
  auto folder = resolve_model_spec(o.model);
  if (!folder.ok()) {
    std::cerr << "mlhub run: " << folder.status().message() << "\n";
    return 2;
  }
  auto loaded = pipeline(o.task, *folder, init);
  if (!loaded.ok()) {
    std::cerr << "mlhub run: " << loaded.status().message() << "\n";
    return 2;
  }
  const Pipeline& pipe = **loaded;
  std::ios::sync_with_stdio(false);
  int status = 0;
  std::string line;
  size_t line_no = 0;
  while (std::getline(std::cin, line, '\n')) {
    ++line_no;
    ojson out;
    try {
      json input = line;
      if (o.jsonl) {
        input = json::parse(line, nullptr, /*allow_exceptions=*/false);
        if (input.is_discarded()) throw std::runtime_error("not a JSON value");
      }
      out = ordered(pipe.run(input, params));
    } catch (const std::exception& e) {
      const std::string msg = "line " + std::to_string(line_no) + ": " + e.what();
      out = ojson{{"error", msg}};
      std::cerr << "mlhub run: " << msg << "\n";
      status = 1;
    }
    std::cout << out.dump(-1, ' ', false, ojson::error_handler_t::replace) << '\n';
  }
  std::cout.flush();
  return status;
}

}  // namespace

Runner add_run_command(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  std::string tasks;
  for (const std::string& t : supported_tasks()) tasks += (tasks.empty() ? "" : ", ") + t;
  CLI::App* cmd =
      app.add_subcommand("run", "Run a task pipeline on stdin, one input a line, to JSON lines");
  cmd->add_option("task", o->task, "the task: " + tasks)->required();
  cmd->add_option("--model", o->model,
                  "model folder (config.json, weights, tokenizer files), or a hub model id "
                  "org/name[@revision] downloaded from HF_ENDPOINT into the huggingface_hub cache")
      ->required();
  cmd->add_option("--param", o->params,
                  "call parameter key=value, repeatable; the value is JSON when it parses "
                  "(top_k=3, targets=[\"a\",\"b\"]), else a string")
      ->allow_extra_args(false);
  cmd->add_option("--init", o->init, "constructor parameter key=value, repeatable (as --param)")
      ->allow_extra_args(false);
  cmd->add_flag("--jsonl", o->jsonl,
                "each input line is a JSON value (a string, or an object such as "
                "{\"question\":...,\"context\":...}); without it each line is the raw text "
                "(split on LF only, a CR stays in the input)");
  return [o] { return run_pipeline(*o); };
}

}  // namespace mlhub::cli
