// The syntax tree of a parsed chat template, and the parser that builds it. Nodes are immutable
// after parsing, so one tree serves concurrent renders. Private to src/generation.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat_template_value.h"

namespace mlhub::generation::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

enum class ExprType : uint8_t {
  kLiteral,   // value
  kName,      // name
  kList,      // children
  kTuple,     // children
  kDict,      // children: key, value, key, value ...
  kGetAttr,   // children[0] . name
  kGetItem,   // children[0] [ children[1] ]
  kSlice,     // children[0] [ children[1] : children[2] : children[3] ] (null = omitted)
  kCall,      // children[0] ( children[1..] , kwargs )
  kFilter,    // children[0] | name ( children[1..] , kwargs ); children[0] null in filter blocks
  kTest,      // children[0] is [not] name ( children[1..] , kwargs ); negated
  kNeg,       // - children[0]
  kPos,       // + children[0]
  kNot,       // not children[0]
  kBinary,    // children[0] op children[1]: + - * / // % ** ~
  kAnd,       // children[0] and children[1]
  kOr,        // children[0] or children[1]
  kCompare,   // children[0] ops[0] children[1] ops[1] children[2] ... (chained)
  kCondExpr,  // children[1] if children[0] else children[2] (null: Undefined)
};

struct Expr {
  ExprType type = ExprType::kLiteral;
  int line = 0;
  Value value;                                       // kLiteral
  std::string name;                                  // kName, kGetAttr, kFilter, kTest, kBinary op
  std::vector<ExprPtr> children;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;  // kCall, kFilter, kTest
  std::vector<std::string> ops;                       // kCompare: ==, !=, <, <=, >, >=, in, notin
  bool negated = false;                               // kTest
};

struct Node;
using NodePtr = std::unique_ptr<Node>;
using Body = std::vector<NodePtr>;

enum class NodeType : uint8_t {
  kText,        // text
  kOutput,      // {{ expr }}
  kIf,          // branches (cond, body)...; else_body
  kFor,         // targets in expr [if cond]: body; else_body
  kSet,         // targets (or ns_attr) = expr
  kSetBlock,    // {% set targets[0] | filter %} body {% endset %}
  kMacro,       // name(params) body
  kCallBlock,   // {% call(params) expr %} body
  kFilterBlock, // {% filter expr %} body
  kWith,        // {% with targets = values %} body
  kBreak,
  kContinue,
};

struct Node {
  NodeType type = NodeType::kText;
  int line = 0;
  std::string text;                    // kText; kMacro name; kSet namespace attribute
  ExprPtr expr;                        // kOutput, kFor iterable, kSet value, kCallBlock call
  ExprPtr cond;                        // kFor filter; kSetBlock/kFilterBlock filter chain
  std::vector<std::string> targets;    // kFor / kSet / kSetBlock names; kWith names
  bool unpack = false;                 // targets written as a tuple (a, b)
  std::vector<ExprPtr> values;         // kWith values
  std::vector<std::pair<ExprPtr, Body>> branches;  // kIf
  Body body;
  Body else_body;
  std::vector<std::pair<std::string, ExprPtr>> params;  // kMacro / kCallBlock (default or null)
};

// A parsed template. Shared (immutable) between copies of ChatTemplate.
struct Program {
  Body body;
};

// Parses Jinja2 source. Throws TemplateError(kSyntax) with a line number on malformed input or
// tags Jinja would reject in transformers' environment (extends, include, import, do, ...).
std::unique_ptr<Program> parse_program(std::string_view source);

}  // namespace mlhub::generation::jinja
