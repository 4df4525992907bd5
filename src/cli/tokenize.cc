// `mlhub tokenize TOKENIZER [--jsonl] [--pair] [--byte-offsets] [--add-special-tokens=B] [--decode]`
//
// Reads one input a line from stdin (split on LF only) and writes one JSON object a line:
// {"ids":[...],"tokens":[...],"offsets":[[s,e],...]} (character offsets unless --byte-offsets;
// --all adds type_ids, attention_mask, special_tokens_mask and word_ids). With --jsonl each
// line is a JSON string (a JSON array of two strings with --pair). With --decode each line is a
// JSON array of ids and the output is the decoded string as JSON. A line that fails gives
// {"error": "..."} and the exit status becomes 1; later lines still run.
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "mlhub/tokenizers.h"

namespace mlhub::cli {
namespace {

struct TokenizeOptions {
  std::string tokenizer;
  bool jsonl = false;
  bool pair = false;
  bool byte_offsets = false;
  bool add_special_tokens = true;
  bool decode = false;
  bool skip_special_tokens = false;
  bool all_fields = false;
};

using nlohmann::json;
// Output objects keep their fields in the documented order (ids, tokens, offsets, ...).
using ojson = nlohmann::ordered_json;

ojson encoding_to_json(const tok::Encoding& e, bool all_fields) {
  ojson out;
  out["ids"] = e.ids;
  out["tokens"] = e.tokens;
  ojson offsets = ojson::array();
  for (const auto& [s, t] : e.offsets) offsets.push_back({s, t});
  out["offsets"] = std::move(offsets);
  if (all_fields) {
    out["type_ids"] = e.type_ids;
    out["attention_mask"] = e.attention_mask;
    out["special_tokens_mask"] = e.special_tokens_mask;
    ojson words = ojson::array();
    for (const auto& w : e.words) words.push_back(w ? ojson(*w) : ojson(nullptr));
    out["word_ids"] = std::move(words);
  }
  return out;
}

// Handles one input line; throws std::runtime_error with a message on bad input.
ojson process_line(const tok::Tokenizer& tk, const TokenizeOptions& o, const std::string& line) {
  auto fail = [](const std::string& m) -> ojson { throw std::runtime_error(m); };
  if (o.decode) {
    json ids = json::parse(line, nullptr, false);
    if (!ids.is_array()) return fail("expected a JSON array of token ids");
    std::vector<uint32_t> v;
    for (const auto& x : ids) {
      if (!x.is_number_unsigned() || x.get<uint64_t>() > UINT32_MAX) return fail("token ids must be integers in [0, 2^32)");
      v.push_back(x.get<uint32_t>());
    }
    auto r = tk.decode(v, o.skip_special_tokens);
    if (!r.ok()) return fail(r.status().message());
    return ojson(*r);
  }
  const auto offsets = o.byte_offsets ? tok::OffsetType::kByte : tok::OffsetType::kChar;
  std::string first = line, second;
  if (o.jsonl) {
    json v = json::parse(line, nullptr, false);
    if (o.pair) {
      if (!v.is_array() || v.size() != 2 || !v[0].is_string() || !v[1].is_string()) {
        return fail("expected a JSON array of two strings");
      }
      first = v[0].get<std::string>();
      second = v[1].get<std::string>();
    } else {
      if (!v.is_string()) return fail("expected a JSON string");
      first = v.get<std::string>();
    }
  } else if (o.pair) {
    size_t tab = line.find('\t');
    if (tab == std::string::npos) return fail("--pair without --jsonl expects the two texts separated by a tab");
    first = line.substr(0, tab);
    second = line.substr(tab + 1);
  }
  auto r = o.pair ? tk.encode_pair(first, second, o.add_special_tokens, offsets)
                  : tk.encode(first, o.add_special_tokens, offsets);
  if (!r.ok()) return fail(r.status().message());
  return encoding_to_json(*r, o.all_fields);
}

int run_tokenize(const TokenizeOptions& o) {
  auto loaded = tok::Tokenizer::from_pretrained(o.tokenizer);
  if (!loaded.ok()) {
    std::cerr << "mlhub tokenize: " << loaded.status().message() << "\n";
    return 2;
  }
  const tok::Tokenizer& tk = *loaded;
  std::ios::sync_with_stdio(false);
  int status = 0;
  std::string line;
  while (std::getline(std::cin, line, '\n')) {
    ojson out;
    try {
      out = process_line(tk, o, line);
    } catch (const std::exception& e) {
      out = ojson{{"error", e.what()}};
      std::cerr << "mlhub tokenize: " << e.what() << "\n";
      status = 1;
    }
    // Invalid UTF-8 can only reach here inside an error message; replace rather than throw.
    std::cout << out.dump(-1, ' ', false, ojson::error_handler_t::replace) << '\n';
  }
  std::cout.flush();
  return status;
}

}  // namespace

Runner add_tokenize_command(CLI::App& app) {
  auto o = std::make_shared<TokenizeOptions>();
  CLI::App* cmd = app.add_subcommand("tokenize", "Tokenize stdin, one input a line, to JSON lines");
  cmd->add_option("tokenizer", o->tokenizer, "tokenizer.json file or model folder")->required();
  cmd->add_flag("--jsonl", o->jsonl, "each input line is a JSON string (an array of two with --pair)");
  cmd->add_flag("--pair", o->pair, "encode pairs (with --jsonl: [\"a\",\"b\"]; else tab-separated)");
  cmd->add_flag("--byte-offsets", o->byte_offsets, "offsets in UTF-8 bytes instead of characters");
  cmd->add_option("--add-special-tokens", o->add_special_tokens, "add the post-processor's special tokens (default true)");
  cmd->add_flag("--decode", o->decode, "each line is a JSON array of ids; print the decoded text");
  cmd->add_flag("--skip-special-tokens", o->skip_special_tokens, "with --decode: drop special tokens");
  cmd->add_flag("--all", o->all_fields, "also print type_ids, attention_mask, special_tokens_mask, word_ids");
  return [o] { return run_tokenize(*o); };
}

}  // namespace mlhub::cli
