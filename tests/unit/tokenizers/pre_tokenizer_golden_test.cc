// Every pre-tokenizer of spec 6.2 (and the fixture files' Sequences) over the strings of spec
// 17.3 and random mixed-script text. Expected values: tests/data/pre_tokenizer_golden.jsonl,
// written by tools/reference/gen_pre_tokenizer_golden.py from the Python reference
// (tokenizers 0.22.2, pre_tokenize_str, char offsets).
#include <gtest/gtest.h>

#include "pre_tokenizer_test_util.h"

namespace mlhub::tok {
namespace {

TEST(PreTokenizerGolden, MatchesPython) {
  auto lines = testing::read_jsonl("tests/data/pre_tokenizer_golden.jsonl");
  ASSERT_GE(lines.size(), 19u) << "golden file missing or truncated";
  size_t n_cases = 0;
  for (const Json& line : lines) {
    auto p = pre_tokenizer_from_json(JsonRef(line["pre_tokenizer"], "$"));
    for (const Json& c : line["cases"]) {
      const std::string input = c[0].get<std::string>();
      testing::Pieces want;
      for (const Json& piece : c[1]) {
        want.emplace_back(piece[0].get<std::string>(),
                          Offsets{piece[1].get<size_t>(), piece[2].get<size_t>()});
      }
      ASSERT_EQ(testing::run(*p, input), want)
          << line["pre_tokenizer"].dump() << "\ninput: " << Json(input).dump();
      ++n_cases;
    }
  }
  EXPECT_GT(n_cases, 2000u);
}

}  // namespace
}  // namespace mlhub::tok
