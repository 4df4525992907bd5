// The chat-template parser: a recursive-descent parser with Jinja2 3.1's grammar and operator
// precedence (conditional < or < and < not < comparisons < + - < ~ < * / // % < ** < unary <
// postfix/filters/tests), written from the Jinja documentation and observed behaviour.
#include <algorithm>

#include "chat_template_ast.h"
#include "chat_template_lexer.h"

namespace mlhub::generation::jinja {
namespace {

constexpr int kMaxDepth = 200;  // nested expressions / blocks; deeper input is refused

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : toks_(std::move(tokens)) {}

  std::unique_ptr<Program> run() {
    auto prog = std::make_unique<Program>();
    std::string end;
    prog->body = parse_body({}, &end);
    return prog;
  }

 private:
  // ---- token helpers ----

  const Token& cur() const { return toks_[pos_]; }
  const Token& peek(size_t n = 1) const { return toks_[std::min(pos_ + n, toks_.size() - 1)]; }
  void next() {
    if (pos_ + 1 < toks_.size()) ++pos_;
  }
  bool is_op(std::string_view op) const { return cur().type == Tok::kOp && cur().text == op; }
  bool is_name(std::string_view n) const { return cur().type == Tok::kName && cur().text == n; }
  bool skip_op(std::string_view op) {
    if (!is_op(op)) return false;
    next();
    return true;
  }
  bool skip_name(std::string_view n) {
    if (!is_name(n)) return false;
    next();
    return true;
  }
  [[noreturn]] void error(const std::string& msg) const {
    fail(ErrorKind::kSyntax, "line " + std::to_string(cur().line) + ": " + msg);
  }
  static std::string describe(const Token& t) {
    switch (t.type) {
      case Tok::kEof: return "end of template";
      case Tok::kVarEnd: return "end of print statement";
      case Tok::kBlockEnd: return "end of statement block";
      case Tok::kText: return "template data";
      default: return "'" + t.text + "'";
    }
  }
  void expect_op(std::string_view op) {
    if (!skip_op(op)) error("expected '" + std::string(op) + "', got " + describe(cur()));
  }
  std::string expect_name() {
    if (cur().type != Tok::kName) error("expected a name, got " + describe(cur()));
    std::string n = cur().text;
    next();
    return n;
  }
  void expect_block_end() {
    if (cur().type != Tok::kBlockEnd) error("expected end of statement block, got " + describe(cur()));
    next();
  }

  struct DepthGuard {
    explicit DepthGuard(Parser* p) : p_(p) {
      if (++p_->depth_ > kMaxDepth) p_->error("template nested too deeply");
    }
    ~DepthGuard() { --p_->depth_; }
    Parser* p_;
  };

  ExprPtr make(ExprType type) {
    auto e = std::make_unique<Expr>();
    e->type = type;
    e->line = cur().line;
    return e;
  }

  // ---- statements ----

  // Parses until a block tag named in `ends` (left unconsumed after its name, stored in *end),
  // or end of template when `ends` is empty.
  Body parse_body(const std::vector<std::string_view>& ends, std::string* end) {
    DepthGuard guard(this);
    Body body;
    while (true) {
      const Token& t = cur();
      if (t.type == Tok::kEof) {
        if (!ends.empty()) {
          error("unexpected end of template, expected '" + std::string(ends.front()) + "'");
        }
        return body;
      }
      if (t.type == Tok::kText) {
        auto n = std::make_unique<Node>();
        n->type = NodeType::kText;
        n->text = t.text;
        body.push_back(std::move(n));
        next();
      } else if (t.type == Tok::kVarBegin) {
        next();
        auto n = std::make_unique<Node>();
        n->type = NodeType::kOutput;
        n->line = cur().line;
        n->expr = parse_tuple(true);
        if (cur().type != Tok::kVarEnd) error("expected end of print statement, got " + describe(cur()));
        next();
        body.push_back(std::move(n));
      } else if (t.type == Tok::kBlockBegin) {
        next();
        if (cur().type == Tok::kName &&
            std::find(ends.begin(), ends.end(), cur().text) != ends.end()) {
          *end = cur().text;
          next();
          return body;
        }
        body.push_back(parse_statement());
      } else {
        error("unexpected " + describe(t));
      }
    }
  }

  NodePtr parse_statement() {
    if (cur().type != Tok::kName) error("tag name expected");
    const std::string tag = cur().text;
    const int line = cur().line;
    next();
    NodePtr n;
    if (tag == "if") n = parse_if();
    else if (tag == "for") n = parse_for();
    else if (tag == "set") n = parse_set();
    else if (tag == "macro") n = parse_macro();
    else if (tag == "call") n = parse_call_block();
    else if (tag == "filter") n = parse_filter_block();
    else if (tag == "with") n = parse_with();
    else if (tag == "generation") n = parse_generation();
    else if (tag == "break" || tag == "continue") {
      if (loop_depth_ == 0) error("'" + tag + "' outside of a loop");
      n = std::make_unique<Node>();
      n->type = tag == "break" ? NodeType::kBreak : NodeType::kContinue;
      expect_block_end();
    } else {
      error("Encountered unknown tag '" + tag + "'.");
    }
    n->line = line;
    return n;
  }

  NodePtr parse_if() {
    auto n = std::make_unique<Node>();
    n->type = NodeType::kIf;
    while (true) {
      ExprPtr cond = parse_tuple(false);
      expect_block_end();
      std::string end;
      Body body = parse_body({"elif", "else", "endif"}, &end);
      n->branches.emplace_back(std::move(cond), std::move(body));
      if (end == "elif") continue;
      if (end == "else") {
        expect_block_end();
        n->else_body = parse_body({"endif"}, &end);
      }
      expect_block_end();
      return n;
    }
  }

  // Assignment targets: `a`, `a, b`, `(a, b)`; with_ns allows `ns.attr` (set only).
  void parse_targets(Node* n, bool with_ns) {
    if (with_ns && cur().type == Tok::kName && peek().type == Tok::kOp && peek().text == ".") {
      n->targets.push_back(expect_name());
      next();
      n->text = expect_name();
      return;
    }
    const bool paren = skip_op("(");
    n->targets.push_back(expect_name());
    while (skip_op(",")) {
      n->unpack = true;
      if (cur().type != Tok::kName) break;
      n->targets.push_back(expect_name());
    }
    if (paren) {
      n->unpack = true;
      expect_op(")");
    }
  }

  NodePtr parse_for() {
    auto n = std::make_unique<Node>();
    n->type = NodeType::kFor;
    parse_targets(n.get(), false);
    if (!skip_name("in")) error("expected 'in', got " + describe(cur()));
    n->expr = parse_tuple(false);
    if (skip_name("if")) n->cond = parse_expression(true);
    if (skip_name("recursive")) error("recursive loops are not supported");
    expect_block_end();
    std::string end;
    ++loop_depth_;
    n->body = parse_body({"endfor", "else"}, &end);
    --loop_depth_;
    if (end == "else") {
      expect_block_end();
      n->else_body = parse_body({"endfor"}, &end);
    }
    expect_block_end();
    return n;
  }

  NodePtr parse_set() {
    auto n = std::make_unique<Node>();
    parse_targets(n.get(), true);
    if (skip_op("=")) {
      n->type = NodeType::kSet;
      n->expr = parse_tuple(true);
      expect_block_end();
      return n;
    }
    if (n->unpack || !n->text.empty()) error("expected '='");
    n->type = NodeType::kSetBlock;
    n->cond = parse_filter_chain();
    expect_block_end();
    std::string end;
    n->body = parse_body({"endset"}, &end);
    expect_block_end();
    return n;
  }

  // `| f(args) | g` after a block-set name or in {% filter %}: a kFilter chain on a null operand.
  ExprPtr parse_filter_chain(bool leading_bar = true) {
    ExprPtr chain;
    while (leading_bar ? is_op("|") : (chain == nullptr || is_op("|"))) {
      if (chain != nullptr || leading_bar) expect_op("|");
      chain = parse_filter(std::move(chain));
    }
    return chain;
  }

  void parse_params(Node* n) {
    expect_op("(");
    while (!is_op(")")) {
      if (!n->params.empty()) expect_op(",");
      if (is_op(")")) break;
      std::string name = expect_name();
      ExprPtr def;
      if (skip_op("=")) def = parse_expression(true);
      n->params.emplace_back(std::move(name), std::move(def));
    }
    next();
  }

  NodePtr parse_macro() {
    auto n = std::make_unique<Node>();
    n->type = NodeType::kMacro;
    n->text = expect_name();
    parse_params(n.get());
    expect_block_end();
    std::string end;
    const int saved = loop_depth_;
    loop_depth_ = 0;
    n->body = parse_body({"endmacro"}, &end);
    loop_depth_ = saved;
    if (cur().type == Tok::kName && cur().text == n->text) next();
    expect_block_end();
    return n;
  }

  NodePtr parse_call_block() {
    auto n = std::make_unique<Node>();
    n->type = NodeType::kCallBlock;
    if (is_op("(")) parse_params(n.get());
    n->expr = parse_expression(true);
    if (n->expr->type != ExprType::kCall) error("expected call");
    expect_block_end();
    std::string end;
    n->body = parse_body({"endcall"}, &end);
    expect_block_end();
    return n;
  }

  NodePtr parse_filter_block() {
    auto n = std::make_unique<Node>();
    n->type = NodeType::kFilterBlock;
    n->cond = parse_filter_chain(false);
    expect_block_end();
    std::string end;
    n->body = parse_body({"endfilter"}, &end);
    expect_block_end();
    return n;
  }

  NodePtr parse_with() {
    auto n = std::make_unique<Node>();
    n->type = NodeType::kWith;
    while (cur().type != Tok::kBlockEnd) {
      if (!n->targets.empty()) expect_op(",");
      n->targets.push_back(expect_name());
      expect_op("=");
      n->values.push_back(parse_expression(true));
    }
    expect_block_end();
    std::string end;
    n->body = parse_body({"endwith"}, &end);
    expect_block_end();
    return n;
  }

  // transformers' {% generation %} tag only marks assistant text for masks; it renders its body.
  NodePtr parse_generation() {
    auto n = std::make_unique<Node>();
    n->type = NodeType::kWith;
    expect_block_end();
    std::string end;
    n->body = parse_body({"endgeneration"}, &end);
    expect_block_end();
    return n;
  }

  // ---- expressions ----

  bool is_tuple_end() const {
    const Token& t = cur();
    return t.type == Tok::kVarEnd || t.type == Tok::kBlockEnd || t.type == Tok::kEof ||
           (t.type == Tok::kOp && t.text == ")");
  }

  // `a`, or `a, b, ...` as a tuple (Jinja's parse_tuple).
  ExprPtr parse_tuple(bool with_condexpr, bool explicit_parens = false) {
    auto tuple = make(ExprType::kTuple);
    bool is_tuple = false;
    while (true) {
      if (!tuple->children.empty()) expect_op(",");
      if (is_tuple_end()) break;
      tuple->children.push_back(parse_expression(with_condexpr));
      if (is_op(",")) {
        is_tuple = true;
      } else {
        break;
      }
    }
    if (!is_tuple) {
      if (!tuple->children.empty()) return std::move(tuple->children[0]);
      if (!explicit_parens) error("Expected an expression, got " + describe(cur()));
    }
    return tuple;
  }

  ExprPtr parse_expression(bool with_condexpr) {
    DepthGuard guard(this);
    return with_condexpr ? parse_condexpr() : parse_or();
  }

  ExprPtr parse_condexpr() {
    ExprPtr expr = parse_or();
    while (is_name("if")) {
      auto c = make(ExprType::kCondExpr);
      next();
      c->children.push_back(parse_or());  // condition
      c->children.push_back(std::move(expr));
      c->children.push_back(skip_name("else") ? parse_condexpr() : nullptr);
      expr = std::move(c);
    }
    return expr;
  }

  ExprPtr binary(ExprType type, ExprPtr l, ExprPtr r, std::string op = "") {
    auto e = make(type);
    e->name = std::move(op);
    e->children.push_back(std::move(l));
    e->children.push_back(std::move(r));
    return e;
  }

  ExprPtr parse_or() {
    ExprPtr l = parse_and();
    while (skip_name("or")) l = binary(ExprType::kOr, std::move(l), parse_and());
    return l;
  }
  ExprPtr parse_and() {
    ExprPtr l = parse_not();
    while (skip_name("and")) l = binary(ExprType::kAnd, std::move(l), parse_not());
    return l;
  }
  ExprPtr parse_not() {
    if (is_name("not")) {
      DepthGuard guard(this);
      auto e = make(ExprType::kNot);
      next();
      e->children.push_back(parse_not());
      return e;
    }
    return parse_compare();
  }
  ExprPtr parse_compare() {
    ExprPtr first = parse_math1();
    ExprPtr cmp;
    while (true) {
      std::string op;
      if (cur().type == Tok::kOp &&
          (cur().text == "==" || cur().text == "!=" || cur().text == "<" || cur().text == "<=" ||
           cur().text == ">" || cur().text == ">=")) {
        op = cur().text;
        next();
      } else if (is_name("in")) {
        op = "in";
        next();
      } else if (is_name("not") && peek().type == Tok::kName && peek().text == "in") {
        op = "notin";
        next();
        next();
      } else {
        break;
      }
      if (!cmp) {
        cmp = make(ExprType::kCompare);
        cmp->children.push_back(std::move(first));
      }
      cmp->ops.push_back(op);
      cmp->children.push_back(parse_math1());
    }
    return cmp ? std::move(cmp) : std::move(first);
  }
  ExprPtr parse_math1() {
    ExprPtr l = parse_concat();
    while (is_op("+") || is_op("-")) {
      std::string op = cur().text;
      next();
      l = binary(ExprType::kBinary, std::move(l), parse_concat(), op);
    }
    return l;
  }
  ExprPtr parse_concat() {
    ExprPtr l = parse_math2();
    while (skip_op("~")) l = binary(ExprType::kBinary, std::move(l), parse_math2(), "~");
    return l;
  }
  ExprPtr parse_math2() {
    ExprPtr l = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      std::string op = cur().text;
      next();
      l = binary(ExprType::kBinary, std::move(l), parse_pow(), op);
    }
    return l;
  }
  ExprPtr parse_pow() {
    ExprPtr l = parse_unary(true);
    while (skip_op("**")) l = binary(ExprType::kBinary, std::move(l), parse_unary(true), "**");
    return l;
  }
  ExprPtr parse_unary(bool with_filter) {
    DepthGuard guard(this);
    ExprPtr node;
    if (is_op("-") || is_op("+")) {
      node = make(is_op("-") ? ExprType::kNeg : ExprType::kPos);
      next();
      node->children.push_back(parse_unary(false));
    } else {
      node = parse_primary();
    }
    node = parse_postfix(std::move(node));
    if (with_filter) node = parse_filter_expr(std::move(node));
    return node;
  }

  ExprPtr literal(Value v) {
    auto e = make(ExprType::kLiteral);
    e->value = std::move(v);
    next();
    return e;
  }

  ExprPtr parse_primary() {
    const Token& t = cur();
    switch (t.type) {
      case Tok::kName: {
        if (t.text == "true" || t.text == "True") return literal(Value::boolean(true));
        if (t.text == "false" || t.text == "False") return literal(Value::boolean(false));
        if (t.text == "none" || t.text == "None") return literal(Value::none());
        auto e = make(ExprType::kName);
        e->name = t.text;
        next();
        return e;
      }
      case Tok::kString: {
        std::string s = t.text;
        auto e = make(ExprType::kLiteral);
        next();
        while (cur().type == Tok::kString) {  // adjacent literals concatenate
          s += cur().text;
          next();
        }
        e->value = Value::string(std::move(s));
        return e;
      }
      case Tok::kInt: return literal(Value::integer(t.int_value));
      case Tok::kFloat: return literal(Value::floating(t.float_value));
      case Tok::kOp:
        if (t.text == "(") {
          next();
          ExprPtr e = parse_tuple(true, true);
          expect_op(")");
          return e;
        }
        if (t.text == "[") return parse_list();
        if (t.text == "{") return parse_dict();
        break;
      default:
        break;
    }
    error("unexpected " + describe(t));
  }

  ExprPtr parse_list() {
    auto e = make(ExprType::kList);
    expect_op("[");
    while (!is_op("]")) {
      if (!e->children.empty()) expect_op(",");
      if (is_op("]")) break;
      e->children.push_back(parse_expression(true));
    }
    next();
    return e;
  }

  ExprPtr parse_dict() {
    auto e = make(ExprType::kDict);
    expect_op("{");
    while (!is_op("}")) {
      if (!e->children.empty()) expect_op(",");
      if (is_op("}")) break;
      e->children.push_back(parse_expression(true));
      expect_op(":");
      e->children.push_back(parse_expression(true));
    }
    next();
    return e;
  }

  ExprPtr parse_postfix(ExprPtr node) {
    while (true) {
      if (is_op(".")) {
        next();
        if (cur().type == Tok::kName) {
          auto e = make(ExprType::kGetAttr);
          e->name = cur().text;
          next();
          e->children.push_back(std::move(node));
          node = std::move(e);
        } else if (cur().type == Tok::kInt) {
          auto e = make(ExprType::kGetItem);
          e->children.push_back(std::move(node));
          e->children.push_back(literal(Value::integer(cur().int_value)));
          node = std::move(e);
        } else {
          error("expected name or number after '.'");
        }
      } else if (is_op("[")) {
        node = parse_subscript(std::move(node));
      } else if (is_op("(")) {
        node = parse_call(std::move(node), ExprType::kCall);
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr obj) {
    expect_op("[");
    std::vector<ExprPtr> parts;  // up to 3 slice parts
    bool is_slice = false;
    auto piece = [&]() -> ExprPtr {
      if (is_op(":") || is_op("]")) return nullptr;
      return parse_expression(true);
    };
    parts.push_back(piece());
    while (skip_op(":")) {
      is_slice = true;
      if (parts.size() == 3) error("invalid slice");
      parts.push_back(piece());
    }
    if (!is_slice) {
      if (!parts[0]) error("expected subscript expression");
      if (is_op(",")) {  // a[1, 2]: tuple key
        auto tuple = make(ExprType::kTuple);
        tuple->children.push_back(std::move(parts[0]));
        while (skip_op(",")) {
          if (is_op("]")) break;
          tuple->children.push_back(parse_expression(true));
        }
        parts[0] = std::move(tuple);
      }
      expect_op("]");
      auto e = make(ExprType::kGetItem);
      e->children.push_back(std::move(obj));
      e->children.push_back(std::move(parts[0]));
      return e;
    }
    expect_op("]");
    auto e = make(ExprType::kSlice);
    e->children.push_back(std::move(obj));
    parts.resize(3);
    for (auto& p : parts) e->children.push_back(std::move(p));
    return e;
  }

  // Call arguments `(a, b, k=v)` into e->children[1..] and e->kwargs.
  ExprPtr parse_call(ExprPtr callee, ExprType type) {
    auto e = make(type);
    e->children.push_back(std::move(callee));
    parse_args(e.get());
    return e;
  }

  void parse_args(Expr* e) {
    expect_op("(");
    bool first = true;
    while (!is_op(")")) {
      if (!first) expect_op(",");
      first = false;
      if (is_op(")")) break;
      if (is_op("*") || is_op("**")) error("*args / **kwargs in calls are not supported");
      if (cur().type == Tok::kName && peek().type == Tok::kOp && peek().text == "=") {
        std::string key = cur().text;
        next();
        next();
        e->kwargs.emplace_back(std::move(key), parse_expression(true));
      } else {
        if (!e->kwargs.empty()) error("invalid syntax for function call expression");
        e->children.push_back(parse_expression(true));
      }
    }
    next();
  }

  std::string dotted_name() {
    std::string name = expect_name();
    while (is_op(".") && peek().type == Tok::kName) {
      next();
      name += '.';
      name += expect_name();
    }
    return name;
  }

  ExprPtr parse_filter(ExprPtr operand) {
    auto e = make(ExprType::kFilter);
    e->name = dotted_name();
    e->children.push_back(std::move(operand));
    if (is_op("(")) parse_args(e.get());
    return e;
  }

  ExprPtr parse_filter_expr(ExprPtr node) {
    while (true) {
      if (skip_op("|")) {
        node = parse_filter(std::move(node));
      } else if (is_name("is")) {
        next();
        auto e = make(ExprType::kTest);
        e->negated = skip_name("not");
        e->name = dotted_name();
        e->children.push_back(std::move(node));
        const Token& t = cur();
        if (is_op("(")) {
          parse_args(e.get());
        } else if ((t.type == Tok::kName && t.text != "else" && t.text != "or" &&
                    t.text != "and") ||
                   t.type == Tok::kString || t.type == Tok::kInt || t.type == Tok::kFloat ||
                   is_op("[") || is_op("{")) {
          // `x is divisibleby 3`: one argument without parentheses.
          e->children.push_back(parse_postfix(parse_primary()));
        }
        node = std::move(e);
      } else if (is_op("(")) {
        node = parse_call(std::move(node), ExprType::kCall);
      } else {
        return node;
      }
    }
  }

  std::vector<Token> toks_;
  size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
};

}  // namespace

std::unique_ptr<Program> parse_program(std::string_view source) {
  return Parser(tokenize(source)).run();
}

}  // namespace mlhub::generation::jinja
