// Split with real Hub regexes (GPT-2, Llama-3/cl100k, Qwen2 with escaped and literal CR/LF,
// o200k, CLIP, BLOOM's nested class, \G digit grouping, CJK ranges) and the five behaviours
// with and without invert, over the strings of spec 17.3 and random mixed-script text.
// Expected values: tests/data/regex_split_golden.jsonl, written by
// tools/reference/gen_regex_split_golden.py from the Python reference (tokenizers 0.22.2).
#include <gtest/gtest.h>

#include "pre_tokenizer_test_util.h"
#include "tokenizers/unicode.h"

namespace mlhub::tok {
namespace {

// Byte offset of char index `c` in `s`.
size_t char_to_byte(std::string_view s, size_t c) {
  size_t i = 0;
  for (; c > 0 && i < s.size(); --c) i += unicode::utf8_seq_len(static_cast<unsigned char>(s[i]));
  return i;
}

TEST(RegexSplitGolden, MatchesPythonSplit) {
  auto lines = testing::read_jsonl("tests/data/regex_split_golden.jsonl");
  ASSERT_GE(lines.size(), 40u) << "golden file missing or truncated";
  size_t n_cases = 0;
  for (const Json& line : lines) {
    Json pre = {{"type", "Split"},
                {"pattern", line["pattern"]},
                {"behavior", line["behavior"]},
                {"invert", line["invert"]}};
    auto p = pre_tokenizer_from_json(JsonRef(pre, "$"));
    for (const Json& c : line["cases"]) {
      const std::string input = c[0].get<std::string>();
      testing::Pieces want;
      for (const Json& o : c[1]) {
        size_t a = o[0].get<size_t>(), b = o[1].get<size_t>();
        size_t ba = char_to_byte(input, a), bb = char_to_byte(input, b);
        want.emplace_back(input.substr(ba, bb - ba), Offsets{a, b});
      }
      ASSERT_EQ(testing::run(*p, input), want) << pre.dump() << "\ninput: " << Json(input).dump();
      ++n_cases;
    }
  }
  EXPECT_GT(n_cases, 1500u);
}

}  // namespace
}  // namespace mlhub::tok
