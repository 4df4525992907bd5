// The chat-template lexer: splits Jinja2 source into text and tag tokens with Jinja's
// whitespace rules as transformers configures them (trim_blocks=True, lstrip_blocks=True,
// keep_trailing_newline=False, newlines normalised to "\n"). Private to src/generation.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mlhub::generation::jinja {

enum class Tok : uint8_t {
  kText,        // template data between tags (already whitespace-controlled)
  kVarBegin,    // {{
  kVarEnd,      // }}
  kBlockBegin,  // {%
  kBlockEnd,    // %}
  kName,
  kString,      // text holds the decoded value
  kInt,
  kFloat,
  kOp,          // text holds the operator
  kEof,
};

struct Token {
  Tok type = Tok::kEof;
  std::string text;
  int64_t int_value = 0;
  double float_value = 0;
  int line = 1;
};

// Tokenizes `source`. Throws TemplateError(kSyntax) on an unterminated tag, comment, raw block
// or string, an unbalanced bracket, or a character that starts no token.
std::vector<Token> tokenize(std::string_view source);

}  // namespace mlhub::generation::jinja
