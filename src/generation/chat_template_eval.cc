// The chat-template evaluator. Scoping follows Jinja2: a for loop opens a fresh scope per
// iteration (assignments inside do not survive the iteration, hence namespace()), if blocks do
// not open one, macros see their arguments over the template's top-level scope.
#include "chat_template_eval.h"

#include <cmath>
#include <unordered_map>

#include "chat_template_builtins.h"

namespace mlhub::generation::jinja {
namespace {

struct Scope {
  std::unordered_map<std::string, Value> vars;
  Scope* parent = nullptr;
};

enum class Flow : uint8_t { kNormal, kBreak, kContinue };

Value arith_error(const Value& a, const Value& b, const std::string& op) {
  a.require_defined();
  b.require_defined();
  fail(ErrorKind::kType, "unsupported operand type(s) for " + op + ": '" + a.type_name() +
                             "' and '" + b.type_name() + "'");
}

Value int_or_fail(bool overflow, int64_t v) {
  if (overflow) fail(ErrorKind::kLimit, "integer overflow (values past 64 bits are not supported)");
  return Value::integer(v);
}

Value repeat(const Value& seq, int64_t n) {
  if (n < 0) n = 0;
  if (seq.is_string()) {
    const size_t total = seq.str().size() * static_cast<size_t>(std::min<int64_t>(n, INT32_MAX));
    check_string_size(total);
    std::string out;
    out.reserve(total);
    for (int64_t i = 0; i < n; ++i) out += seq.str();
    return Value::string(std::move(out));
  }
  check_list_size(seq.items().size() * static_cast<size_t>(std::min<int64_t>(n, INT32_MAX)));
  List out;
  for (int64_t i = 0; i < n; ++i) out.insert(out.end(), seq.items().begin(), seq.items().end());
  consume_fuel(static_cast<int64_t>(out.size()));
  return seq.kind() == Kind::kTuple ? Value::tuple(std::move(out)) : Value::list(std::move(out));
}

Value binary_op(const std::string& op, const Value& a, const Value& b) {
  if (op == "~") {
    std::string s = a.to_str() + b.to_str();
    check_string_size(s.size());
    return Value::string(std::move(s));
  }
  const bool nums = a.is_number() && b.is_number();
  const bool floats = nums && (a.is_float() || b.is_float());
  int64_t r = 0;
  if (op == "+") {
    if (nums && !floats) {
      const bool overflow = __builtin_add_overflow(a.as_int(), b.as_int(), &r);
      return int_or_fail(overflow, r);
    }
    if (nums) return Value::floating(a.as_double() + b.as_double());
    if (a.is_string() && b.is_string()) {
      check_string_size(a.str().size() + b.str().size());
      return Value::string(a.str() + b.str());
    }
    if (a.is_sequence() && a.kind() == b.kind()) {
      check_list_size(a.items().size() + b.items().size());
      List out = a.items();
      out.insert(out.end(), b.items().begin(), b.items().end());
      consume_fuel(static_cast<int64_t>(out.size()));
      return a.kind() == Kind::kTuple ? Value::tuple(std::move(out)) : Value::list(std::move(out));
    }
    if (a.is_string() && !b.is_undefined()) {
      fail(ErrorKind::kType, "can only concatenate str (not \"" + b.type_name() + "\") to str");
    }
    return arith_error(a, b, "+");
  }
  if (op == "-") {
    if (nums && !floats) {
      const bool overflow = __builtin_sub_overflow(a.as_int(), b.as_int(), &r);
      return int_or_fail(overflow, r);
    }
    if (nums) return Value::floating(a.as_double() - b.as_double());
    return arith_error(a, b, "-");
  }
  if (op == "*") {
    if (nums && !floats) {
      const bool overflow = __builtin_mul_overflow(a.as_int(), b.as_int(), &r);
      return int_or_fail(overflow, r);
    }
    if (nums) return Value::floating(a.as_double() * b.as_double());
    if ((a.is_string() || a.is_sequence()) && (b.is_int() || b.is_bool())) return repeat(a, b.as_int());
    if ((b.is_string() || b.is_sequence()) && (a.is_int() || a.is_bool())) return repeat(b, a.as_int());
    return arith_error(a, b, "*");
  }
  if (op == "/") {
    if (!nums) return arith_error(a, b, "/");
    if (b.as_double() == 0) fail(ErrorKind::kType, "division by zero");
    return Value::floating(a.as_double() / b.as_double());
  }
  if (op == "//" || op == "%") {
    if (op == "%" && a.is_string()) {
      CallArgs args;
      args.args = b.kind() == Kind::kTuple ? b.items() : List{b};
      return apply_filter("format", a, args);
    }
    if (!nums) return arith_error(a, b, op);
    if (floats) {
      const double x = a.as_double(), y = b.as_double();
      if (y == 0) fail(ErrorKind::kType, "float floor division by zero");
      // Python's float divmod: mod takes the divisor's sign, div is rounded to the integer.
      double mod = std::fmod(x, y);
      double div = (x - mod) / y;
      if (mod != 0 && ((y < 0) != (mod < 0))) {
        mod += y;
        div -= 1.0;
      }
      if (op == "%") return Value::floating(mod == 0 ? std::copysign(0.0, y) : mod);
      double floordiv = 0.0;
      if (div != 0) {
        floordiv = std::floor(div);
        if (div - floordiv > 0.5) floordiv += 1.0;
      } else {
        floordiv = std::copysign(0.0, x / y);
      }
      return Value::floating(floordiv);
    }
    const int64_t x = a.as_int(), y = b.as_int();
    if (y == 0) fail(ErrorKind::kType, "integer division or modulo by zero");
    if (x == INT64_MIN && y == -1) fail(ErrorKind::kLimit, "integer overflow");
    int64_t q = x / y, m = x % y;
    if (m != 0 && ((m < 0) != (y < 0))) {
      m += y;
      --q;
    }
    return Value::integer(op == "%" ? m : q);
  }
  if (op == "**") {
    if (!nums) return arith_error(a, b, "**");
    if (!floats && b.as_int() >= 0) {
      int64_t base = a.as_int(), e = b.as_int(), acc = 1;
      while (e > 0) {
        if ((e & 1) && __builtin_mul_overflow(acc, base, &acc)) int_or_fail(true, 0);
        e >>= 1;
        if (e > 0 && __builtin_mul_overflow(base, base, &base)) int_or_fail(true, 0);
      }
      return Value::integer(acc);
    }
    if (a.as_double() == 0 && b.as_double() < 0) {
      fail(ErrorKind::kType, "0.0 cannot be raised to a negative power");
    }
    return Value::floating(std::pow(a.as_double(), b.as_double()));
  }
  fail(ErrorKind::kSyntax, "unknown operator " + op);
}

class Interpreter {
 public:
  Interpreter(const Dict& context, const RenderLimits& limits) : context_(context), limits_(limits) {}

  std::string run(const Program& program) {
    std::string out;
    exec_body(program.body, root_, out);
    return out;
  }

 private:
  // ---- names ----

  Value lookup(const std::string& name, const Scope& scope) const {
    for (const Scope* s = &scope; s; s = s->parent) {
      auto it = s->vars.find(name);
      if (it != s->vars.end()) return it->second;
    }
    if (const Value* v = context_.find(std::string_view(name))) return *v;
    return Value::undefined("'" + name + "' is undefined");
  }

  // ---- statements ----

  static void append(std::string& out, std::string_view s) {
    check_string_size(out.size() + s.size());
    out.append(s);
  }

  Flow exec_body(const Body& body, Scope& scope, std::string& out) {
    for (const auto& node : body) {
      const Flow f = exec(*node, scope, out);
      if (f != Flow::kNormal) return f;
    }
    return Flow::kNormal;
  }

  Flow exec(const Node& n, Scope& scope, std::string& out) {
    consume_fuel(1);
    switch (n.type) {
      case NodeType::kText: append(out, n.text); return Flow::kNormal;
      case NodeType::kOutput: append(out, eval(*n.expr, scope).to_str()); return Flow::kNormal;
      case NodeType::kIf:
        for (const auto& [cond, body] : n.branches) {
          if (eval(*cond, scope).truthy()) return exec_body(body, scope, out);
        }
        return exec_body(n.else_body, scope, out);
      case NodeType::kFor: return exec_for(n, scope, out);
      case NodeType::kSet: exec_set(n, eval(*n.expr, scope), scope); return Flow::kNormal;
      case NodeType::kSetBlock: {
        std::string captured;
        exec_body(n.body, scope, captured);
        Value v = Value::string(std::move(captured));
        if (n.cond) v = eval_filter_chain(*n.cond, v, scope);
        scope.vars[n.targets[0]] = std::move(v);
        return Flow::kNormal;
      }
      case NodeType::kMacro: scope.vars[n.text] = make_macro(n); return Flow::kNormal;
      case NodeType::kCallBlock: {
        const Expr& call = *n.expr;
        CallArgs args = eval_args(call, scope);
        args.kwargs.emplace_back("caller", make_caller(n, scope));
        append(out, call_value(eval(*call.children[0], scope), args).to_str());
        return Flow::kNormal;
      }
      case NodeType::kFilterBlock: {
        std::string captured;
        exec_body(n.body, scope, captured);
        append(out, eval_filter_chain(*n.cond, Value::string(std::move(captured)), scope).to_str());
        return Flow::kNormal;
      }
      case NodeType::kWith: {
        Scope inner{{}, &scope};
        for (size_t i = 0; i < n.targets.size(); ++i) inner.vars[n.targets[i]] = eval(*n.values[i], scope);
        return exec_body(n.body, inner, out);
      }
      case NodeType::kBreak: return Flow::kBreak;
      case NodeType::kContinue: return Flow::kContinue;
    }
    return Flow::kNormal;
  }

  void bind_targets(const Node& n, const Value& v, Scope& scope) {
    if (!n.unpack) {
      scope.vars[n.targets[0]] = v;
      return;
    }
    if (v.is_undefined()) v.require_defined();
    const auto items = iterate(v);
    if (items.size() != n.targets.size()) {
      fail(ErrorKind::kType, items.size() < n.targets.size()
                                 ? "not enough values to unpack (expected " + std::to_string(n.targets.size()) + ", got " + std::to_string(items.size()) + ")"
                                 : "too many values to unpack (expected " + std::to_string(n.targets.size()) + ")");
    }
    for (size_t i = 0; i < items.size(); ++i) scope.vars[n.targets[i]] = items[i];
  }

  void exec_set(const Node& n, Value v, Scope& scope) {
    if (!n.text.empty()) {  // {% set ns.attr = v %}
      const Value ns = lookup(n.targets[0], scope);
      if (ns.kind() != Kind::kNamespace) {
        fail(ErrorKind::kType, "cannot assign attribute on non-namespace object");
      }
      ns.dict().set(Value::string(n.text), std::move(v));
      return;
    }
    bind_targets(n, v, scope);
  }

  Flow exec_for(const Node& n, Scope& scope, std::string& out) {
    const Value iterable = eval(*n.expr, scope);
    std::vector<Value> items = iterate(iterable);
    if (n.cond) {
      std::vector<Value> kept;
      for (auto& item : items) {
        Scope probe{{}, &scope};
        bind_targets(n, item, probe);
        if (eval(*n.cond, probe).truthy()) kept.push_back(std::move(item));
      }
      items = std::move(kept);
    }
    const auto len = static_cast<int64_t>(items.size());
    LoopState loop;
    for (int64_t i = 0; i < len; ++i) {
      consume_fuel(2);
      Scope inner{{}, &scope};
      bind_targets(n, items[static_cast<size_t>(i)], inner);
      inner.vars["loop"] = loop.at(items, i);
      const Flow f = exec_body(n.body, inner, out);
      if (f == Flow::kBreak) break;
    }
    if (items.empty()) return exec_body(n.else_body, scope, out);
    return Flow::kNormal;
  }

  // The `loop` variable: one dict per loop, updated in place each iteration (cheaper than a
  // fresh object per iteration; only a template that stores `loop` itself could tell).
  class LoopState {
   public:
    LoopState() : dict_(std::make_shared<Dict>()), index_(std::make_shared<int64_t>(0)) {
      static const char* kKeys[] = {"index", "index0", "revindex", "revindex0", "first", "last",
                                    "length", "depth", "depth0", "previtem", "nextitem", "cycle"};
      for (const char* k : kKeys) dict_->entries.emplace_back(Value::string(k), Value());
      auto cycle = std::make_shared<Callable>();
      cycle->name = "cycle";
      cycle->fn = [index = index_](const CallArgs& a) {
        if (a.args.empty()) fail(ErrorKind::kType, "no items for cycling given");
        return a.args[static_cast<size_t>(*index) % a.args.size()];
      };
      dict_->entries[11].second = Value::callable(std::move(cycle));
    }

    Value at(const std::vector<Value>& items, int64_t i) {
      const auto len = static_cast<int64_t>(items.size());
      *index_ = i;
      auto& e = dict_->entries;
      e[0].second = Value::integer(i + 1);
      e[1].second = Value::integer(i);
      e[2].second = Value::integer(len - i);
      e[3].second = Value::integer(len - i - 1);
      e[4].second = Value::boolean(i == 0);
      e[5].second = Value::boolean(i == len - 1);
      e[6].second = Value::integer(len);
      e[7].second = Value::integer(1);
      e[8].second = Value::integer(0);
      e[9].second = i > 0 ? items[static_cast<size_t>(i - 1)] : Value::undefined("there is no previous item");
      e[10].second = i + 1 < len ? items[static_cast<size_t>(i + 1)] : Value::undefined("there is no next item");
      return Value::dict(dict_);
    }

   private:
    std::shared_ptr<Dict> dict_;
    std::shared_ptr<int64_t> index_;
  };

  // ---- macros ----

  struct DepthGuard {
    DepthGuard(Interpreter* in) : in_(in) {
      if (++in_->depth_ > in_->limits_.max_call_depth) {
        fail(ErrorKind::kLimit, "macro calls nested deeper than " + std::to_string(in_->limits_.max_call_depth));
      }
    }
    ~DepthGuard() { --in_->depth_; }
    Interpreter* in_;
  };

  // Binds macro / caller parameters and renders the body.
  Value invoke(const Node& def, const Body& body, Scope* parent, const CallArgs& a, bool is_caller) {
    DepthGuard guard(this);
    consume_fuel(4);
    Scope scope{{}, parent};
    List extra;
    for (size_t i = 0; i < a.args.size(); ++i) {
      if (i < def.params.size()) scope.vars[def.params[i].first] = a.args[i];
      else extra.push_back(a.args[i]);
    }
    auto kwargs = std::make_shared<Dict>();
    for (const auto& kv : a.kwargs) {
      const std::string& k = kv.first;
      const Value& v = kv.second;
      const bool is_param = std::any_of(def.params.begin(), def.params.end(), [&](const auto& p) { return p.first == k; });
      if (is_param || (k == "caller" && !is_caller)) scope.vars[k] = v;
      else kwargs->set(Value::string(k), v);
    }
    for (const auto& [name, dflt] : def.params) {
      if (scope.vars.count(name)) continue;
      scope.vars[name] = dflt ? eval(*dflt, scope) : Value::undefined("parameter '" + name + "' was not provided");
    }
    scope.vars["varargs"] = Value::tuple(std::move(extra));
    scope.vars["kwargs"] = Value::dict(std::move(kwargs));
    std::string out;
    exec_body(body, scope, out);
    return Value::string(std::move(out));
  }

  Value make_macro(const Node& n) {
    auto c = std::make_shared<Callable>();
    c->name = n.text;
    c->fn = [this, &n](const CallArgs& a) { return invoke(n, n.body, &root_, a, false); };
    return Value::callable(std::move(c));
  }

  // caller() may be stored (e.g. in a namespace) and called after the call block's scopes are
  // gone, so it closes over a snapshot of the visible variables rather than the live scopes.
  Value make_caller(const Node& n, Scope& scope) {
    auto snapshot = std::make_shared<Scope>();
    snapshot->parent = &root_;
    for (const Scope* s = &scope; s && s != &root_; s = s->parent) {
      for (const auto& [k, v] : s->vars) snapshot->vars.emplace(k, v);  // innermost wins
    }
    auto c = std::make_shared<Callable>();
    c->name = "caller";
    c->fn = [this, &n, snapshot](const CallArgs& a) { return invoke(n, n.body, snapshot.get(), a, true); };
    return Value::callable(std::move(c));
  }

  // ---- expressions ----

  CallArgs eval_args(const Expr& e, Scope& scope) {
    CallArgs a;
    for (size_t i = 1; i < e.children.size(); ++i) a.args.push_back(eval(*e.children[i], scope));
    for (const auto& [k, v] : e.kwargs) a.kwargs.emplace_back(k, eval(*v, scope));
    return a;
  }

  static Value call_value(const Value& fn, const CallArgs& a) {
    fn.require_defined();
    if (!fn.is_callable()) fail(ErrorKind::kType, "'" + fn.type_name() + "' object is not callable");
    return fn.fn().fn(a);
  }

  Value eval_filter_chain(const Expr& e, const Value& input, Scope& scope) {
    const Value operand = e.children[0] ? eval_filter_chain(*e.children[0], input, scope) : input;
    return apply_filter(e.name, operand, eval_args(e, scope));
  }

  Value eval(const Expr& e, Scope& scope) {
    switch (e.type) {
      case ExprType::kLiteral: return e.value;
      case ExprType::kName: return lookup(e.name, scope);
      case ExprType::kList:
      case ExprType::kTuple: {
        List items;
        for (const auto& c : e.children) items.push_back(eval(*c, scope));
        return e.type == ExprType::kList ? Value::list(std::move(items)) : Value::tuple(std::move(items));
      }
      case ExprType::kDict: {
        auto d = std::make_shared<Dict>();
        for (size_t i = 0; i + 1 < e.children.size(); i += 2) {
          Value k = eval(*e.children[i], scope);
          if (k.is_sequence() && k.kind() == Kind::kList) fail(ErrorKind::kType, "unhashable type: 'list'");
          if (k.is_mapping()) fail(ErrorKind::kType, "unhashable type: 'dict'");
          d->set(k, eval(*e.children[i + 1], scope));
        }
        return Value::dict(std::move(d));
      }
      case ExprType::kGetAttr: return get_attr(eval(*e.children[0], scope), e.name);
      case ExprType::kGetItem: return get_item(eval(*e.children[0], scope), eval(*e.children[1], scope));
      case ExprType::kSlice: {
        Value parts[3];
        for (int i = 0; i < 3; ++i) {
          if (e.children[static_cast<size_t>(i) + 1]) parts[i] = eval(*e.children[static_cast<size_t>(i) + 1], scope);
        }
        return slice(eval(*e.children[0], scope), parts[0], parts[1], parts[2]);
      }
      case ExprType::kCall: {
        const Value fn = eval(*e.children[0], scope);
        return call_value(fn, eval_args(e, scope));
      }
      case ExprType::kFilter: return apply_filter(e.name, eval(*e.children[0], scope), eval_args(e, scope));
      case ExprType::kTest: {
        const Value v = eval(*e.children[0], scope);
        return Value::boolean(apply_test(e.name, v, eval_args(e, scope)) != e.negated);
      }
      case ExprType::kNeg:
      case ExprType::kPos: {
        const Value v = eval(*e.children[0], scope);
        v.require_defined();
        if (!v.is_number()) {
          fail(ErrorKind::kType, std::string("bad operand type for unary ") + (e.type == ExprType::kNeg ? "-" : "+") + ": '" + v.type_name() + "'");
        }
        if (e.type == ExprType::kPos) return v.is_float() ? v : Value::integer(v.as_int());
        if (v.is_float()) return Value::floating(-v.as_double());
        if (v.as_int() == INT64_MIN) fail(ErrorKind::kLimit, "integer overflow");
        return Value::integer(-v.as_int());
      }
      case ExprType::kNot: return Value::boolean(!eval(*e.children[0], scope).truthy());
      case ExprType::kAnd: {
        Value l = eval(*e.children[0], scope);
        return l.truthy() ? eval(*e.children[1], scope) : l;
      }
      case ExprType::kOr: {
        Value l = eval(*e.children[0], scope);
        return l.truthy() ? l : eval(*e.children[1], scope);
      }
      case ExprType::kBinary:
        return binary_op(e.name, eval(*e.children[0], scope), eval(*e.children[1], scope));
      case ExprType::kCompare: return Value::boolean(eval_compare(e, scope));
      case ExprType::kCondExpr:
        if (eval(*e.children[0], scope).truthy()) return eval(*e.children[1], scope);
        return e.children[2] ? eval(*e.children[2], scope) : Value::undefined("the inline if-expression evaluated to false and no else section was defined.");
    }
    return Value();
  }

  bool eval_compare(const Expr& e, Scope& scope) {
    Value left = eval(*e.children[0], scope);
    for (size_t i = 0; i < e.ops.size(); ++i) {
      Value right = eval(*e.children[i + 1], scope);
      const std::string& op = e.ops[i];
      bool ok;
      if (op == "==") ok = equals(left, right);
      else if (op == "!=") ok = !equals(left, right);
      else if (op == "<") ok = less(left, right);
      else if (op == ">") ok = less(right, left);
      else if (op == "<=") ok = less(left, right) || equals(left, right);
      else if (op == ">=") ok = less(right, left) || equals(left, right);
      else if (op == "in") ok = contains(right, left);
      else ok = !contains(right, left);
      if (!ok) return false;
      left = std::move(right);
    }
    return true;
  }

  const Dict& context_;
  RenderLimits limits_;
  Scope root_;
  int depth_ = 0;
};

// ---- name check ----
// Jinja2 3.x rejects unknown filters and tests when compiling, except inside an if statement
// (its condition and branches) or a conditional expression, where the check moves to run time;
// a for loop or macro nested in those is compiled in a new frame and checked again.

void check_expr(const Expr* e, bool soft) {
  if (!e) return;
  soft = soft || e->type == ExprType::kCondExpr;
  if (!soft && e->type == ExprType::kFilter && !has_filter(e->name)) {
    fail(ErrorKind::kSyntax, "line " + std::to_string(e->line) + ": No filter named '" + e->name + "'.");
  }
  if (!soft && e->type == ExprType::kTest && !has_test(e->name)) {
    fail(ErrorKind::kSyntax, "line " + std::to_string(e->line) + ": No test named '" + e->name + "'.");
  }
  for (const auto& c : e->children) check_expr(c.get(), soft);
  for (const auto& [k, v] : e->kwargs) check_expr(v.get(), soft);
}

void check_body(const Body& body, bool soft) {
  for (const auto& n : body) {
    const bool new_frame = n->type == NodeType::kFor || n->type == NodeType::kMacro ||
                           n->type == NodeType::kCallBlock || n->type == NodeType::kWith;
    const bool inner = n->type == NodeType::kIf ? true : (new_frame ? false : soft);
    check_expr(n->expr.get(), soft);
    check_expr(n->cond.get(), soft);
    for (const auto& v : n->values) check_expr(v.get(), soft);
    for (const auto& [c, b] : n->branches) {
      check_expr(c.get(), true);
      check_body(b, true);
    }
    for (const auto& [p, d] : n->params) check_expr(d.get(), inner);
    check_body(n->body, inner);
    check_body(n->else_body, inner);
  }
}

}  // namespace

std::string render_program(const Program& program, const Dict& context, const RenderLimits& limits) {
  set_fuel(limits.fuel);
  NamespaceTracker namespaces;  // breaks reference cycles through namespaces when done
  Interpreter interp(context, limits);
  return interp.run(program);
}

void check_names(const Program& program) { check_body(program.body, false); }

}  // namespace mlhub::generation::jinja
