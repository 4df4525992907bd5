// The chat-template lexer. Whitespace control follows Jinja2 3.1's lexer rules (facts, not code):
// "{%-" strips all whitespace before the tag, "-%}" all after it; with lstrip_blocks, spaces and
// tabs between the start of a line and a block or comment tag are removed unless the tag opens
// with "{%+"; with trim_blocks, one newline right after "%}" or "#}" is removed unless it closes
// with "+%}". Variable tags ("{{") are never lstripped and "}}" never trims.
#include "chat_template_lexer.h"

#include "chat_template_value.h"

namespace mlhub::generation::jinja {
namespace {

// Byte length of the Python-whitespace character (str.isspace) starting at s[pos], or 0.
size_t space_len(std::string_view s, size_t pos) {
  const auto c = static_cast<unsigned char>(s[pos]);
  if (c < 0x80) return is_py_space(c) ? 1 : 0;
  size_t len = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (len == 0 || pos + len > s.size()) return 0;
  const auto cps = utf8_decode(s.substr(pos, len));
  return cps.size() == 1 && is_py_space(cps[0]) ? len : 0;
}

// Python str.rstrip() on UTF-8.
std::string_view rstrip_py(std::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xc0) == 0x80 && end - start < 4) {
      --start;
    }
    if (space_len(s, start) != end - start) break;
    end = start;
  }
  return s.substr(0, end);
}

size_t skip_space_py(std::string_view s, size_t pos) {
  while (pos < s.size()) {
    const size_t n = space_len(s, pos);
    if (n == 0) break;
    pos += n;
  }
  return pos;
}

bool starts(std::string_view s, size_t pos, std::string_view what) {
  return s.substr(pos, what.size()) == what;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Lexer {
 public:
  explicit Lexer(std::string_view raw) : src_(normalize(raw)) {}

  std::vector<Token> run() {
    while (pos_ < src_.size()) lex_root();
    push(Tok::kEof, "");
    return std::move(tokens_);
  }

 private:
  // Newlines \r\n, \r -> \n; one trailing newline dropped (keep_trailing_newline=False).
  static std::string normalize(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '\r') {
        out += '\n';
        if (i + 1 < raw.size() && raw[i + 1] == '\n') ++i;
      } else {
        out += raw[i];
      }
    }
    if (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

  [[noreturn]] void error(const std::string& msg) const {
    fail(ErrorKind::kSyntax, "line " + std::to_string(line_) + ": " + msg);
  }

  void push(Tok type, std::string text) {
    Token t;
    t.type = type;
    t.text = std::move(text);
    t.line = line_;
    tokens_.push_back(std::move(t));
  }

  void advance_to(size_t pos) {
    for (size_t i = pos_; i < pos && i < src_.size(); ++i) line_ += src_[i] == '\n';
    pos_ = pos;
  }

  // "{% raw %}" / "{%- raw -%}" at `pos`: returns the end of the opening tag, or npos.
  size_t match_raw_begin(size_t pos) const {
    size_t p = pos + 2;
    if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) ++p;
    p = skip_space_py(src_, p);
    if (!starts(src_, p, "raw")) return std::string_view::npos;
    p = skip_space_py(src_, p + 3);
    if (starts(src_, p, "-%}")) return skip_space_py(src_, p + 3);
    if (starts(src_, p, "%}")) return p + 2;
    return std::string_view::npos;
  }

  // The text before a tag, with "-" / lstrip_blocks applied.
  void emit_text(std::string_view text, char sign, bool variable_tag) {
    if (sign == '-') {
      text = rstrip_py(text);
    } else if (sign != '+' && !variable_tag) {
      const size_t nl = text.rfind('\n');
      const size_t l_pos = nl == std::string_view::npos ? 0 : nl + 1;
      if ((l_pos > 0 || line_starting_) && l_pos < text.size() &&
          skip_space_py(text, l_pos) == text.size()) {
        text = text.substr(0, l_pos);
      }
    }
    if (!text.empty()) push(Tok::kText, std::string(text));
  }

  void lex_root() {
    size_t tag = pos_;
    while (true) {
      tag = src_.find('{', tag);
      if (tag == std::string::npos || tag + 1 >= src_.size()) {
        push(Tok::kText, src_.substr(pos_));
        advance_to(src_.size());
        return;
      }
      const char k = src_[tag + 1];
      if (k == '{' || k == '%' || k == '#') break;
      ++tag;
    }
    const char kind = src_[tag + 1];
    const char sign = tag + 2 < src_.size() ? src_[tag + 2] : '\0';
    const std::string_view text = std::string_view(src_).substr(pos_, tag - pos_);
    const bool has_sign = sign == '-' || sign == '+';
    if (kind == '%') {
      const size_t raw_end = match_raw_begin(tag);
      if (raw_end != std::string_view::npos) {
        emit_text(text, has_sign ? sign : '\0', false);
        advance_to(raw_end);
        lex_raw_body();
        return;
      }
    }
    emit_text(text, has_sign ? sign : '\0', kind == '{');
    advance_to(tag + 2 + (has_sign ? 1 : 0));
    line_starting_ = false;
    if (kind == '#') {
      lex_comment();
    } else if (kind == '%') {
      push(Tok::kBlockBegin, "");
      lex_tag(false);
    } else {
      push(Tok::kVarBegin, "");
      lex_tag(true);
    }
  }

  void lex_comment() {
    for (size_t p = pos_; p < src_.size(); ++p) {
      if (starts(src_, p, "+#}")) {
        finish_at(p + 3);
        return;
      }
      if (starts(src_, p, "-#}")) {
        finish_at(skip_space_py(src_, p + 3));
        return;
      }
      if (starts(src_, p, "#}")) {
        finish_at(p + 2 + (starts(src_, p + 2, "\n") ? 1 : 0));
        return;
      }
    }
    error("Missing end of comment tag");
  }

  void lex_raw_body() {
    for (size_t p = pos_; p < src_.size(); ++p) {
      if (!starts(src_, p, "{%")) continue;
      size_t q = p + 2;
      const char sign = q < src_.size() && (src_[q] == '-' || src_[q] == '+') ? src_[q] : '\0';
      if (sign) ++q;
      q = skip_space_py(src_, q);
      if (!starts(src_, q, "endraw")) continue;
      q = skip_space_py(src_, q + 6);
      size_t end;
      if (starts(src_, q, "+%}")) end = q + 3;
      else if (starts(src_, q, "-%}")) end = skip_space_py(src_, q + 3);
      else if (starts(src_, q, "%}")) end = q + 2 + (starts(src_, q + 2, "\n") ? 1 : 0);
      else continue;
      line_starting_ = false;  // the raw body is one match with the endraw tag
      emit_text(std::string_view(src_).substr(pos_, p - pos_), sign, false);
      finish_at(end);
      return;
    }
    error("Missing end of raw directive");
  }

  void finish_at(size_t end) {
    line_starting_ = end > 0 && src_[end - 1] == '\n';
    advance_to(end);
  }

  // Tokens inside {% %} or {{ }} up to the closing delimiter.
  void lex_tag(bool variable) {
    std::vector<char> balance;
    while (true) {
      if (pos_ >= src_.size()) error(variable ? "unexpected end of template, expected '}}'"
                                              : "unexpected end of template, expected '%}'");
      if (balance.empty()) {
        if (variable) {
          if (starts(src_, pos_, "-}}")) {
            push(Tok::kVarEnd, "");
            finish_at(skip_space_py(src_, pos_ + 3));
            return;
          }
          if (starts(src_, pos_, "}}")) {
            push(Tok::kVarEnd, "");
            finish_at(pos_ + 2);
            return;
          }
        } else {
          if (starts(src_, pos_, "+%}")) {
            push(Tok::kBlockEnd, "");
            finish_at(pos_ + 3);
            return;
          }
          if (starts(src_, pos_, "-%}")) {
            push(Tok::kBlockEnd, "");
            finish_at(skip_space_py(src_, pos_ + 3));
            return;
          }
          if (starts(src_, pos_, "%}")) {
            push(Tok::kBlockEnd, "");
            finish_at(pos_ + 2 + (starts(src_, pos_ + 2, "\n") ? 1 : 0));
            return;
          }
        }
      }
      const size_t ws = skip_space_py(src_, pos_);
      if (ws != pos_) {
        advance_to(ws);
        line_starting_ = src_[ws - 1] == '\n';
        continue;
      }
      line_starting_ = false;
      lex_one(balance);
    }
  }

  void lex_one(std::vector<char>& balance) {
    const char c = src_[pos_];
    if (is_digit(c)) {
      lex_number();
    } else if (is_name_start(c)) {
      size_t e = pos_;
      while (e < src_.size() && is_name_char(src_[e])) ++e;
      push(Tok::kName, src_.substr(pos_, e - pos_));
      advance_to(e);
    } else if (c == '\'' || c == '"') {
      lex_string(c);
    } else {
      lex_operator(balance);
    }
  }

  // Digits with optional '_' separators at `p`; returns the end (p when none).
  size_t digits_at(size_t p) const {
    if (p >= src_.size() || !is_digit(src_[p])) return p;
    size_t e = p;
    while (e < src_.size()) {
      if (is_digit(src_[e])) {
        ++e;
      } else if (src_[e] == '_' && e + 1 < src_.size() && is_digit(src_[e + 1])) {
        ++e;
      } else {
        break;
      }
    }
    return e;
  }

  // Jinja's float rule does not match right after a '.', so "x.0.1" is x . 0 . 1.
  // 0x.. / 0o.. / 0b.. integer literals (underscores allowed); returns false when not one.
  bool lex_prefixed_int() {
    if (src_[pos_] != '0' || pos_ + 2 >= src_.size()) return false;
    const char k = static_cast<char>(src_[pos_ + 1] | 0x20);
    const int base = k == 'x' ? 16 : k == 'o' ? 8 : k == 'b' ? 2 : 0;
    if (base == 0) return false;
    size_t e = pos_ + 2;
    int64_t v = 0;
    bool any = false;
    while (e < src_.size()) {
      if (src_[e] == '_' && e + 1 < src_.size()) {
        ++e;
        continue;
      }
      const int d = hex_value(src_[e]);
      if (d < 0 || d >= base) break;
      if (v > (INT64_MAX - d) / base) error("integer literal too large");
      v = v * base + d;
      any = true;
      ++e;
    }
    if (!any) return false;
    Token t;
    t.type = Tok::kInt;
    t.line = line_;
    t.text = src_.substr(pos_, e - pos_);
    t.int_value = v;
    tokens_.push_back(std::move(t));
    advance_to(e);
    return true;
  }

  void lex_number() {
    if (lex_prefixed_int()) return;
    const bool after_dot = pos_ > 0 && src_[pos_ - 1] == '.';
    size_t e = digits_at(pos_);
    bool is_float = false;
    if (!after_dot) {
      size_t f = e;
      if (f + 1 < src_.size() && src_[f] == '.' && is_digit(src_[f + 1])) {
        f = digits_at(f + 1);
        is_float = true;
      }
      if (f < src_.size() && (src_[f] == 'e' || src_[f] == 'E')) {
        size_t g = f + 1;
        if (g < src_.size() && (src_[g] == '+' || src_[g] == '-')) ++g;
        const size_t h = digits_at(g);
        if (h != g) {
          f = h;
          is_float = true;
        }
      }
      if (is_float) e = f;
    }
    std::string text;
    for (size_t i = pos_; i < e; ++i) {
      if (src_[i] != '_') text += src_[i];
    }
    Token t;
    t.line = line_;
    t.text = text;
    if (is_float) {
      t.type = Tok::kFloat;
      t.float_value = std::strtod(text.c_str(), nullptr);
    } else {
      t.type = Tok::kInt;
      int64_t v = 0;
      for (char d : text) {
        if (v > (INT64_MAX - 9) / 10) error("integer literal too large");
        v = v * 10 + (d - '0');
      }
      t.int_value = v;
    }
    tokens_.push_back(std::move(t));
    advance_to(e);
  }

  void lex_string(char quote) {
    std::string raw;
    size_t p = pos_ + 1;
    while (true) {
      if (p >= src_.size()) error("unexpected end of string");
      const char c = src_[p];
      if (c == quote) break;
      if (c == '\\') {
        if (p + 1 >= src_.size()) error("unexpected end of string");
        raw += c;
        raw += src_[p + 1];
        p += 2;
        continue;
      }
      raw += c;
      ++p;
    }
    push(Tok::kString, decode_escapes(raw));
    advance_to(p + 1);
  }

  // Python's "unicode-escape" decoding of a string literal body.
  std::string decode_escapes(std::string_view s) const {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] != '\\' || i + 1 >= s.size()) {
        out += s[i];
        continue;
      }
      const char e = s[++i];
      switch (e) {
        case '\n': break;
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'v': out += '\v'; break;
        case 'x': case 'u': case 'U': {
          const size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          char32_t cp = 0;
          for (size_t k = 1; k <= n; ++k) {
            const int h = i + k < s.size() ? hex_value(s[i + k]) : -1;
            if (h < 0) error("truncated \\" + std::string(1, e) + " escape in string literal");
            cp = cp * 16 + static_cast<char32_t>(h);
          }
          if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            error("unsupported code point in string literal escape");
          }
          utf8_append(out, cp);
          i += n;
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            char32_t cp = static_cast<char32_t>(e - '0');
            for (int k = 0; k < 2 && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7'; ++k) {
              cp = cp * 8 + static_cast<char32_t>(s[++i] - '0');
            }
            utf8_append(out, cp);
          } else {
            if (e == 'N') error("\\N{...} escapes are not supported");
            out += '\\';
            out += e;
          }
      }
    }
    return out;
  }

  void lex_operator(std::vector<char>& balance) {
    static constexpr std::string_view kOps[] = {"//", "**", "==", "!=", "<=", ">=", "+", "-",
                                                "/",  "*",  "%",  "~",  "[",  "]",  "(", ")",
                                                "{",  "}",  "<",  ">",  "=",  ".",  ":", "|",
                                                ",",  ";"};
    for (std::string_view op : kOps) {
      if (!starts(src_, pos_, op)) continue;
      const char c = op[0];
      if (op.size() == 1 && (c == '(' || c == '[' || c == '{')) {
        balance.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
      } else if (op.size() == 1 && (c == ')' || c == ']' || c == '}')) {
        if (balance.empty()) error(std::string("unexpected '") + c + "'");
        if (balance.back() != c) {
          error(std::string("unexpected '") + c + "', expected '" + balance.back() + "'");
        }
        balance.pop_back();
      }
      push(Tok::kOp, std::string(op));
      advance_to(pos_ + op.size());
      return;
    }
    error(std::string("unexpected char '") + src_[pos_] + "'");
  }

  std::string src_;
  size_t pos_ = 0;
  int line_ = 1;
  bool line_starting_ = true;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source) { return Lexer(source).run(); }

}  // namespace mlhub::generation::jinja
