// Regex (Oniguruma with the Rust onig crate's find_iter semantics, spec 7.1) and regex_escape.
#include "tokenizers/regex.h"

#include <gtest/gtest.h>

#include <thread>

#include "mlhub/core.h"

namespace mlhub::tok {
namespace {

using Matches = std::vector<std::pair<size_t, size_t>>;

Matches find(std::string_view pattern, std::string_view text) {
  return Regex(pattern).find_all(text);
}

TEST(Regex, EmptyMatchRuleOfOnigFindIter) {
  // An empty match that ends where the previous match ended is skipped: `a*` over "ab" gives
  // (0,1), (2,2) and no empty match at 1 (Python re would also report (1,1)).
  EXPECT_EQ(find("a*", "ab"), (Matches{{0, 1}, {2, 2}}));
  EXPECT_EQ(find("a*", "baab"), (Matches{{0, 0}, {1, 3}, {4, 4}}));
  EXPECT_EQ(find("a*", ""), (Matches{{0, 0}}));
  // The empty pattern matches at every char boundary; skipping advances by whole chars.
  EXPECT_EQ(find("", "aé😀"), (Matches{{0, 0}, {1, 1}, {3, 3}, {7, 7}}));
  EXPECT_EQ(find("x*", "é"), (Matches{{0, 0}, {2, 2}}));
}

TEST(Regex, SearchSeesTheTextBeforeTheStart) {
  // find_iter searches the whole string from last_end, so look-behind and \G see context.
  EXPECT_EQ(find("(?<=a)b", "abab"), (Matches{{1, 2}, {3, 4}}));
  EXPECT_EQ(find(R"(\Gc)", "ccabc"), (Matches{{0, 1}, {1, 2}}));
  EXPECT_EQ(find("^a", "a\na"), (Matches{{0, 1}, {2, 3}}));  // ^ is a line anchor in Oniguruma
  EXPECT_EQ(find(R"(\Aa)", "a\na"), (Matches{{0, 1}}));
}

TEST(Regex, OnigurumaSyntax) {
  // \h is a hex digit in Oniguruma (horizontal space in PCRE).
  EXPECT_EQ(find(R"(\h+)", "xa0F g"), (Matches{{1, 4}}));
  // Nested character classes (BLOOM's pattern relies on them).
  EXPECT_EQ(find("[a[0-9]]+", "xa1b"), (Matches{{1, 3}}));
  EXPECT_EQ(find(R"(\p{L}+)", "héllo wörld"), (Matches{{0, 6}, {7, 13}}));
  EXPECT_EQ(find(R"((?i:'s|'ve))", "'S 'Ve 's"), (Matches{{0, 2}, {3, 6}, {7, 9}}));
  EXPECT_EQ(find(R"(\x{4E2D})", "a中b"), (Matches{{1, 4}}));
  EXPECT_EQ(find(R"(\s+(?!\S)|\s+)", "a   b"), (Matches{{1, 3}, {3, 4}}));
}

TEST(Regex, CompileErrorCarriesOnigMessage) {
  try {
    Regex bad("(a");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(std::string(e.what()), "invalid regex /(a/: end pattern with unmatched parenthesis");
  }
  EXPECT_THROW(Regex("[z-a]"), Error);
  EXPECT_THROW(Regex(R"(\p{NotAProperty})"), Error);
  EXPECT_THROW(Regex("\\"), Error);
  // Variable-length look-behind compiles (as in the reference's Oniguruma).
  EXPECT_EQ(find("(?<=a+)b", "aaab"), (Matches{{3, 4}}));
}

TEST(Regex, PatternMayContainNulAndNewlines) {
  std::string pat("a\0b", 3);
  std::string text("xa\0b\na\0b", 8);
  EXPECT_EQ(Regex(pat).find_all(text), (Matches{{1, 4}, {5, 8}}));
  EXPECT_EQ(find("[\r\n]+", "a\r\n\nb"), (Matches{{1, 4}}));
}

TEST(Regex, EscapeMirrorsRustRegexEscape) {
  EXPECT_EQ(regex_escape(R"(\.+*?()|[]{}^$#&-~)"), R"(\\\.\+\*\?\(\)\|\[\]\{\}\^\$\#\&\-\~)");
  EXPECT_EQ(regex_escape("a b_é/<>'\"!"), "a b_é/<>'\"!");
  // Every escaped form matches itself literally under Oniguruma.
  const std::string meta = R"(a\.+*?()|[]{}^$#&-~z)";
  Regex re(regex_escape(meta));
  EXPECT_EQ(re.find_all("xx" + meta + meta),
            (Matches{{2, 2 + meta.size()}, {2 + meta.size(), 2 + 2 * meta.size()}}));
}

TEST(Regex, LiteralMatchesLeftmostNonOverlapping) {
  auto re = Regex::literal("aa");
  EXPECT_EQ(re->find_all("aaaaa"), (Matches{{0, 2}, {2, 4}}));
  EXPECT_EQ(Regex::literal("$1.0")->find_all("$1.0 $100 $1.00"), (Matches{{0, 4}, {10, 14}}));
  EXPECT_EQ(Regex::literal("▁")->find_all("a▁b▁"), (Matches{{1, 4}, {5, 8}}));
  // The empty literal behaves like the empty regex.
  EXPECT_EQ(Regex::literal("")->find_all("ab"), (Matches{{0, 0}, {1, 1}, {2, 2}}));
  EXPECT_EQ(Regex::literal("x")->find_all(""), Matches{});
  EXPECT_EQ(Regex::literal(" ")->pattern(), " ");
}

TEST(Regex, ConcurrentSearchesAgree) {
  Regex re(R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)");
  std::string text;
  for (int i = 0; i < 200; ++i) text += "Hello wörld, it's 123 ÷ 中文  \n";
  const Matches want = re.find_all(text);
  ASSERT_GT(want.size(), 1000u);
  std::vector<std::thread> threads;
  std::vector<int> ok(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      bool same = true;
      for (int k = 0; k < 20; ++k) same = same && re.find_all(text) == want;
      ok[t] = same;
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 8; ++t) EXPECT_TRUE(ok[t]) << "thread " << t;
}

}  // namespace
}  // namespace mlhub::tok
