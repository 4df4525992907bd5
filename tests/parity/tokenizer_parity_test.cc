// Parity suite: every tokenizer of ../shared/data/tokenizers against golden data written by
// the pinned Python reference (tokenizers 0.22.2) with tools/reference/tokenizer_goldens.py.
//
// Each tests/golden/tokenizers/<folder>.jsonl.gz holds one JSON case per line (the layout is in
// tools/reference/README.md). Every case runs through the public API and every field is
// compared: ids, tokens, offsets, type ids, special-tokens mask, attention mask, word ids,
// sequence ids and, recursively, overflowing. A mismatch does not stop the run: the test counts
// the cases that differ and prints the first ones with the first differing token of each.
//
// The reference gives char offsets; byte offsets are checked by encoding again with
// OffsetType::kByte and mapping the result to char offsets the way the Rust library does
// (BytesToCharOffsetConverter), then comparing with the goldens (bytes_to_chars lists the few
// places where that mapping and the reference's order of operations do not commute).
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlhub/tokenizers.h"

namespace mlhub::tok {
namespace {

using nlohmann::json;

constexpr size_t kMaxReportedDiffs = 10;
const char* const kFields[] = {"ids",      "tokens",       "offsets",
                               "type_ids", "special_tokens_mask",
                               "attention_mask", "word_ids", "sequence_ids"};

std::string golden_dir() { return std::string(MLHUB_SOURCE_DIR) + "/tests/golden/tokenizers"; }
std::string tokenizers_dir() { return std::string(MLHUB_SHARED_DIR) + "/data/tokenizers"; }

// Reads a gzip file line by line; lines may be of any length.
class GzLines {
 public:
  explicit GzLines(const std::string& path) : file_(gzopen(path.c_str(), "rb")) {}
  ~GzLines() {
    if (file_ != nullptr) gzclose(file_);
  }
  GzLines(const GzLines&) = delete;
  GzLines& operator=(const GzLines&) = delete;

  bool is_open() const { return file_ != nullptr; }
  // Sets *line to the next line without its '\n'; false at the end or on a read error.
  bool next(std::string* line) {
    line->clear();
    while (true) {
      if (pos_ == len_) {
        if (eof_) return !line->empty();
        int n = gzread(file_, buf_.data(), static_cast<unsigned>(buf_.size()));
        if (n <= 0) {
          eof_ = true;
          return !line->empty();
        }
        pos_ = 0;
        len_ = static_cast<size_t>(n);
      }
      const char* begin = buf_.data() + pos_;
      const void* nl = memchr(begin, '\n', len_ - pos_);
      if (nl != nullptr) {
        size_t n = static_cast<const char*>(nl) - begin;
        line->append(begin, n);
        pos_ += n + 1;
        return true;
      }
      line->append(begin, len_ - pos_);
      pos_ = len_;
    }
  }

 private:
  gzFile file_;
  std::vector<char> buf_ = std::vector<char>(1 << 20);
  size_t pos_ = 0;
  size_t len_ = 0;
  bool eof_ = false;
};

// Golden file names without ".jsonl.gz", sorted.
std::vector<std::string> golden_names() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(golden_dir(), ec)) {
    std::string f = entry.path().filename().string();
    const std::string suffix = ".jsonl.gz";
    if (f.size() > suffix.size() && f.ends_with(suffix)) {
      names.push_back(f.substr(0, f.size() - suffix.size()));
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The input escaped for a one-line message, cut after `max` bytes.
std::string escape(std::string_view s, size_t max = 240) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c < 0x20 || c == 0x7f) {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      out += b;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > max) out += "...(" + std::to_string(s.size()) + " bytes)";
  return out;
}

std::string input_text(const json& input) {
  if (input.is_string()) return "\"" + escape(input.get<std::string>()) + "\"";
  std::string out = "(";
  for (size_t i = 0; i < input.size(); ++i) {
    if (i > 0) out += ", ";
    out += input_text(input[i]);
  }
  return out + ")";
}

// ---- case parameters --------------------------------------------------------------------------

std::optional<TruncationParams> parse_truncation(const json& j) {
  if (j.is_null()) return std::nullopt;
  TruncationParams p;
  p.max_length = j.at("max_length").get<size_t>();
  p.stride = j.at("stride").get<size_t>();
  std::string s = j.at("strategy").get<std::string>();
  p.strategy = s == "OnlyFirst"    ? TruncationStrategy::kOnlyFirst
               : s == "OnlySecond" ? TruncationStrategy::kOnlySecond
                                   : TruncationStrategy::kLongestFirst;
  p.direction = j.at("direction").get<std::string>() == "Left" ? TruncationDirection::kLeft
                                                               : TruncationDirection::kRight;
  return p;
}

std::optional<PaddingParams> parse_padding(const json& j) {
  if (j.is_null()) return std::nullopt;
  PaddingParams p;
  if (!j.at("length").is_null()) p.fixed_length = j.at("length").get<size_t>();
  p.direction = j.at("direction").get<std::string>() == "Left" ? PaddingDirection::kLeft
                                                               : PaddingDirection::kRight;
  if (!j.at("pad_to_multiple_of").is_null()) {
    p.pad_to_multiple_of = j.at("pad_to_multiple_of").get<size_t>();
  }
  p.pad_id = j.at("pad_id").get<uint32_t>();
  p.pad_type_id = j.at("pad_type_id").get<uint32_t>();
  p.pad_token = j.at("pad_token").get<std::string>();
  return p;
}

// The configuration as the goldens record it, to compare with what mlhub loaded from the file.
json truncation_json(const std::optional<TruncationParams>& p) {
  if (!p) return nullptr;
  const char* strategy = p->strategy == TruncationStrategy::kOnlyFirst    ? "OnlyFirst"
                         : p->strategy == TruncationStrategy::kOnlySecond ? "OnlySecond"
                                                                          : "LongestFirst";
  return {{"max_length", p->max_length},
          {"stride", p->stride},
          {"strategy", strategy},
          {"direction", p->direction == TruncationDirection::kLeft ? "Left" : "Right"}};
}

json padding_json(const std::optional<PaddingParams>& p) {
  if (!p) return nullptr;
  json j = {{"length", nullptr},
            {"direction", p->direction == PaddingDirection::kLeft ? "Left" : "Right"},
            {"pad_to_multiple_of", nullptr},
            {"pad_id", p->pad_id},
            {"pad_type_id", p->pad_type_id},
            {"pad_token", p->pad_token}};
  if (p->fixed_length) j["length"] = *p->fixed_length;
  if (p->pad_to_multiple_of) j["pad_to_multiple_of"] = *p->pad_to_multiple_of;
  return j;
}

// ---- encodings as JSON ----------------------------------------------------------------------

json optional_array(const std::vector<std::optional<uint32_t>>& v) {
  json a = json::array();
  for (const auto& x : v) a.push_back(x ? json(*x) : json(nullptr));
  return a;
}

// `e` in the golden layout (offsets flattened: start0, end0, start1, ...).
json encoding_json(const Encoding& e) {
  json offsets = json::array();
  for (const auto& [a, b] : e.offsets) {
    offsets.push_back(a);
    offsets.push_back(b);
  }
  json overflowing = json::array();
  for (const auto& o : e.overflowing) overflowing.push_back(encoding_json(o));
  return {{"ids", e.ids},
          {"tokens", e.tokens},
          {"offsets", std::move(offsets)},
          {"type_ids", e.type_ids},
          {"special_tokens_mask", e.special_tokens_mask},
          {"attention_mask", e.attention_mask},
          {"word_ids", optional_array(e.words)},
          {"sequence_ids", optional_array(e.sequence_ids())},
          {"overflowing", std::move(overflowing)}};
}

size_t field_size(const json& enc, const char* field) {
  const json& f = enc.at(field);
  return std::string_view(field) == "offsets" ? f.size() / 2 : f.size();
}

// The value of `field` for token `i`, or nullopt past the end.
std::optional<json> field_at(const json& enc, const char* field, size_t i) {
  if (i >= field_size(enc, field)) return std::nullopt;
  const json& f = enc.at(field);
  if (std::string_view(field) == "offsets") return json::array({f[2 * i], f[2 * i + 1]});
  return f[i];
}

std::string show(const std::optional<json>& v) { return v ? v->dump() : "(none)"; }

// Appends to *out a description of how `got` differs from `want`; returns false if they do.
bool compare_encoding(const json& got, const json& want, const std::string& path,
                      std::string* out) {
  size_t n = 0;
  for (const char* f : kFields) n = std::max({n, field_size(got, f), field_size(want, f)});
  std::optional<size_t> first;
  for (size_t i = 0; i < n && !first; ++i) {
    for (const char* f : kFields) {
      if (field_at(got, f, i) != field_at(want, f, i)) {
        first = i;
        break;
      }
    }
  }
  if (first) {
    size_t i = *first;
    *out += "  " + path + ": first difference at token " + std::to_string(i) + " (got " +
            std::to_string(got.at("ids").size()) + " tokens, want " +
            std::to_string(want.at("ids").size()) + ")\n";
    for (const char* f : kFields) {
      auto g = field_at(got, f, i);
      auto w = field_at(want, f, i);
      *out += std::string(g == w ? "     " : "   * ") + f + ": got " + show(g) + " want " +
              show(w) + "\n";
    }
    size_t lo = i >= 3 ? i - 3 : 0;
    auto context = [&](const json& enc) {
      std::string s;
      for (size_t k = lo; k < i + 4 && k < enc.at("tokens").size(); ++k) {
        s += (k == i ? " >" : " ") + enc.at("tokens")[k].dump();
      }
      return s;
    };
    *out += "     tokens from " + std::to_string(lo) + ": got" + context(got) + "\n";
    *out += "     tokens from " + std::to_string(lo) + ": want" + context(want) + "\n";
    return false;
  }
  const json& go = got.at("overflowing");
  const json& wo = want.at("overflowing");
  if (go.size() != wo.size()) {
    *out += "  " + path + ": got " + std::to_string(go.size()) + " overflowing, want " +
            std::to_string(wo.size()) + "\n";
    return false;
  }
  for (size_t k = 0; k < go.size(); ++k) {
    if (!compare_encoding(go[k], wo[k], path + ".overflowing[" + std::to_string(k) + "]", out)) {
      return false;
    }
  }
  return true;
}

// ---- running cases --------------------------------------------------------------------------

struct Outcome {
  std::optional<std::string> error;  // set when mlhub refused the case
  std::vector<Encoding> encodings;   // one, or one per batch input
};

Outcome run_encode(const Tokenizer& base, const json& c, OffsetType offsets) {
  const Tokenizer* t = &base;
  std::optional<Tokenizer> local;
  if (c.at("config") == "set") {
    local.emplace(base);  // a copy: the file's own configuration stays on `base`
    Status s = local->set_truncation(parse_truncation(c.at("truncation")));
    if (!s.ok()) return {"set_truncation: " + s.to_string(), {}};
    local->set_padding(parse_padding(c.at("padding")));
    t = &*local;
  }
  bool add_special = c.at("add_special_tokens").get<bool>();
  if (c.at("kind") == "batch") {
    std::vector<EncodeInput> inputs;
    for (const json& in : c.at("inputs")) {
      if (in.is_string()) {
        inputs.push_back({in.get<std::string>(), std::nullopt});
      } else {
        inputs.push_back({in[0].get<std::string>(), in[1].get<std::string>()});
      }
    }
    auto r = t->encode_batch(inputs, add_special, offsets);
    if (!r.ok()) return {"encode_batch: " + r.status().to_string(), {}};
    return {std::nullopt, std::move(r.value())};
  }
  const json& in = c.at("input");
  auto r = in.is_string()
               ? t->encode(in.get<std::string>(), add_special, offsets)
               : t->encode_pair(in[0].get<std::string>(), in[1].get<std::string>(), add_special,
                                offsets);
  if (!r.ok()) return {"encode: " + r.status().to_string(), {}};
  Outcome o;
  o.encodings.push_back(std::move(r.value()));
  return o;
}

// Maps byte offsets into `text` to char offsets exactly as the Rust BytesToCharOffsetConverter:
// a position inside a char maps to that char; an end past the last byte maps past the char
// holding the byte before it; a start past the end leaves the offsets unconverted.
class ByteToChar {
 public:
  explicit ByteToChar(std::string_view text) {
    size_t c = 0;
    for (size_t i = 0; i < text.size(); ++i) {
      if (i > 0 && (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++c;
      map_.push_back(c);
      boundary_.push_back((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80);
    }
    num_chars_ = text.empty() ? 0 : c + 1;
  }
  // True when byte `b` starts a char (or is past the end).
  bool at_boundary(size_t b) const { return b >= boundary_.size() || boundary_[b]; }
  size_t char_at(size_t b) const { return map_[b]; }
  std::pair<size_t, size_t> convert(size_t start, size_t end) const {
    if (start >= map_.size()) return {start, end};
    if (end < map_.size()) return {map_[start], map_[end]};
    size_t last = end - 1 < map_.size() ? map_[end - 1] : map_[start] + 1;
    return {map_[start], last + 1};
  }
  size_t num_bytes() const { return map_.size(); }
  size_t num_chars() const { return num_chars_; }

 private:
  std::vector<size_t> map_;
  std::vector<bool> boundary_;
  size_t num_chars_ = 0;
};

// Rewrites the byte offsets of `enc` (golden layout) to char offsets so that they can be
// compared with the goldens. The reference converts before post-processing, this runs after,
// and two things do not commute, so a token accepts any of these readings:
// * the conversion through the text of its sequence (from `want`'s sequence ids);
// * offsets (n, n) at the byte length n of the text: a ByteLevel/Roberta processor trimmed a
//   trailing "Ġ" run to the end of the text, which the reference did in chars;
// * a start inside a char moved to the next char: offset trimming adds the number of leading
//   space chars of the token, which in bytes can end inside a multi-byte space (an lstrip
//   token after U+00A0), and in chars moves past it;
// * inside `overflowing`, or where the sequence id is null, the conversion through the other
//   text of a pair: the reference's sequence ids of overflowing entries can be null or name the
//   wrong sequence (mlhub's are the same, the Encode test checks them). Special and pad tokens
//   have (0, 0), which every reading keeps.
// When one reading gives the golden offsets they are used, else the first reading is kept.
void bytes_to_chars(json* enc, const json& want, const std::vector<ByteToChar>& texts,
                    bool in_overflow) {
  json& off = (*enc)["offsets"];
  const json& seq = want.at("sequence_ids");
  const json& want_off = want.at("offsets");
  for (size_t i = 0; 2 * i + 1 < off.size() && i < seq.size(); ++i) {
    if (texts.empty()) continue;
    bool known = !seq[i].is_null() && seq[i].get<size_t>() < texts.size();
    size_t s = known ? seq[i].get<size_t>() : 0;
    size_t start = off[2 * i].get<size_t>(), end = off[2 * i + 1].get<size_t>();
    std::optional<std::pair<size_t, size_t>> want_i;
    if (2 * i + 1 < want_off.size()) {
      want_i.emplace(want_off[2 * i].get<size_t>(), want_off[2 * i + 1].get<size_t>());
    }
    std::vector<std::pair<size_t, size_t>> readings;
    for (size_t k = 0; k < texts.size(); ++k) {
      const ByteToChar& t = texts[(s + k) % texts.size()];
      if (k > 0 && known && !in_overflow) break;
      auto converted = t.convert(start, end);
      readings.push_back(converted);
      if (!t.at_boundary(start)) readings.emplace_back(t.char_at(start) + 1, converted.second);
      if (start == end && start == t.num_bytes()) {
        readings.emplace_back(t.num_chars(), t.num_chars());
      }
    }
    auto chosen = readings.front();
    if (want_i && std::find(readings.begin(), readings.end(), *want_i) != readings.end()) {
      chosen = *want_i;
    }
    off[2 * i] = chosen.first;
    off[2 * i + 1] = chosen.second;
  }
  json& ov = (*enc)["overflowing"];
  const json& wov = want.at("overflowing");
  for (size_t k = 0; k < ov.size() && k < wov.size(); ++k) {
    bytes_to_chars(&ov[k], wov[k], texts, true);
  }
}

std::vector<std::string> texts_of(const json& input) {
  if (input.is_string()) return {input.get<std::string>()};
  return {input[0].get<std::string>(), input[1].get<std::string>()};
}

// Compares one encode case; returns an empty string when it matches.
std::string check_encode_case(const Tokenizer& t, const json& c, OffsetType offsets) {
  const json& want = c.at("expected");
  bool want_error = want.is_object() && want.value("error", false);
  Outcome got = run_encode(t, c, offsets);
  if (want_error) {
    if (got.error) return "";
    return "  the reference fails (" + want.at("error_stage").get<std::string>() + ": " +
           want.at("error_message").get<std::string>() + ") but mlhub returned an encoding\n";
  }
  if (got.error) return "  mlhub fails: " + *got.error + "\n";
  bool batch = c.at("kind") == "batch";
  size_t n = batch ? want.size() : 1;
  if (got.encodings.size() != n) {
    return "  got " + std::to_string(got.encodings.size()) + " encodings, want " +
           std::to_string(n) + "\n";
  }
  std::string out;
  for (size_t k = 0; k < n; ++k) {
    const json& w = batch ? want[k] : want;
    json g = encoding_json(got.encodings[k]);
    if (offsets == OffsetType::kByte) {
      std::vector<ByteToChar> texts;
      for (const auto& s : texts_of(batch ? c.at("inputs")[k] : c.at("input"))) {
        texts.emplace_back(s);
      }
      bytes_to_chars(&g, w, texts, false);
    }
    compare_encoding(g, w, batch ? "[" + std::to_string(k) + "]" : "encoding", &out);
  }
  return out;
}

std::string check_decode_case(const Tokenizer& t, const json& c) {
  std::vector<uint32_t> ids = c.at("ids").get<std::vector<uint32_t>>();
  std::string out;
  for (bool skip : {false, true}) {
    const std::string key = skip ? "skip_special_true" : "skip_special_false";
    std::string want = c.at("expected").at(key).get<std::string>();
    auto got = t.decode(ids, skip);
    if (!got.ok()) {
      out += "  decode(skip_special_tokens=" + std::string(skip ? "true" : "false") +
             ") fails: " + got.status().to_string() + "\n";
    } else if (*got != want) {
      out += "  decode(skip_special_tokens=" + std::string(skip ? "true" : "false") +
             ")\n     got  \"" + escape(*got, 400) + "\"\n     want \"" + escape(want, 400) +
             "\"\n";
    }
  }
  return out;
}

// ---- the suite ------------------------------------------------------------------------------

enum class Check { kEncode, kByteOffsets, kDecode };

class TokenizerParity : public ::testing::TestWithParam<std::string> {
 protected:
  // Runs every case of the golden file that `check` covers; fails with a summary if any differ.
  void run(Check check) {
    const std::string name = GetParam();
    auto tokenizer = Tokenizer::from_file(tokenizers_dir() + "/" + name + "/tokenizer.json");
    ASSERT_TRUE(tokenizer.ok()) << tokenizer.status().to_string();
    GzLines lines(golden_dir() + "/" + name + ".jsonl.gz");
    ASSERT_TRUE(lines.is_open()) << "cannot open the goldens of " << name;
    std::string line;
    size_t line_no = 0, cases = 0, failed = 0;
    std::string report;
    bool file_config_checked = false;
    while (lines.next(&line)) {
      ++line_no;
      json c = json::parse(line);
      const std::string kind = c.at("kind").get<std::string>();
      if (kind == "meta") {
        EXPECT_EQ(c.at("tokenizers_version"), "0.22.2");
        continue;
      }
      if ((kind == "decode") != (check == Check::kDecode)) continue;
      if (check == Check::kByteOffsets && c.at("expected").is_object() &&
          c.at("expected").value("error", false)) {
        continue;
      }
      std::string diff;
      if (!file_config_checked && kind != "decode" && c.at("config") == "file") {
        file_config_checked = true;
        json trunc = truncation_json(tokenizer->truncation());
        json pad = padding_json(tokenizer->padding());
        if (trunc != c.at("truncation") || pad != c.at("padding")) {
          diff += "  configuration loaded from the file: truncation " + trunc.dump() +
                  " padding " + pad.dump() + ", want truncation " + c.at("truncation").dump() +
                  " padding " + c.at("padding").dump() + "\n";
        }
      }
      diff += kind == "decode"
                  ? check_decode_case(*tokenizer, c)
                  : check_encode_case(*tokenizer, c,
                                      check == Check::kByteOffsets ? OffsetType::kByte
                                                                   : OffsetType::kChar);
      ++cases;
      if (diff.empty()) continue;
      if (++failed <= kMaxReportedDiffs) {
        report += "\n" + name + " golden line " + std::to_string(line_no) + ", " + kind;
        if (c.contains("line") && !c.at("line").is_null()) {
          report += " (corpus line " + std::to_string(c.at("line").get<size_t>() + 1) + ")";
        }
        if (kind != "decode") {
          report += c.contains("input") ? " input " + input_text(c.at("input"))
                                        : " inputs " + input_text(c.at("inputs"));
          report += " add_special_tokens=" + c.at("add_special_tokens").dump();
          if (c.at("config") == "set") {
            report += " truncation=" + c.at("truncation").dump() +
                      " padding=" + c.at("padding").dump();
          }
        } else {
          std::string ids = c.at("ids").dump();
          report += " ids " + (ids.size() > 300 ? ids.substr(0, 300) + "..." : ids);
        }
        report += "\n" + diff;
      }
    }
    EXPECT_GT(cases, 0u) << "no cases for " << name;
    EXPECT_EQ(failed, 0u) << failed << " of " << cases << " cases differ for " << name
                          << "; the first " << std::min(failed, kMaxReportedDiffs) << ":\n"
                          << report;
  }
};

TEST_P(TokenizerParity, Encode) { run(Check::kEncode); }
TEST_P(TokenizerParity, ByteOffsets) { run(Check::kByteOffsets); }
TEST_P(TokenizerParity, Decode) { run(Check::kDecode); }

INSTANTIATE_TEST_SUITE_P(Goldens, TokenizerParity, ::testing::ValuesIn(golden_names()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string s = info.param;
                           for (char& ch : s) {
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return s;
                         });

// Every fixture with a tokenizer.json has goldens (and no golden is left without a fixture).
TEST(TokenizerParityFiles, EveryTokenizerHasGoldens) {
  std::vector<std::string> fixtures;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(tokenizers_dir(), ec)) {
    if (std::filesystem::exists(entry.path() / "tokenizer.json")) {
      fixtures.push_back(entry.path().filename().string());
    }
  }
  ASSERT_FALSE(ec) << tokenizers_dir() << ": " << ec.message();
  std::sort(fixtures.begin(), fixtures.end());
  EXPECT_FALSE(fixtures.empty());
  EXPECT_EQ(fixtures, golden_names())
      << "regenerate with tools/reference/tokenizer_goldens.py (see tools/reference/README.md)";
}

}  // namespace
}  // namespace mlhub::tok
