// NormalizedString: alignments, offset conversion, slicing, the transform primitive, splitting
// and the normalizing operations. Expected offsets come from tokenizers 0.22.2 (Python):
//
//   from tokenizers import PreTokenizedString, Regex
//   def ref(s, f):  # f mutates the NormalizedString; returns text + per-char original offsets
//       p = PreTokenizedString(s); p.normalize(f)
//       p.split(lambda i, ns: ns.split(Regex("(?m)."), "isolated"))
//       sp = p.get_splits(offset_referential="original", offset_type="byte")
//       return "".join(t for t, _, _ in sp), [o for _, o, _ in sp]
#include "tokenizers/normalized_string.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mlhub/core.h"
#include "tokenizers/regex.h"
#include "tokenizers/unicode.h"

namespace mlhub::tok {
namespace {

using Change = NormalizedString::Change;
using OffsetList = std::vector<Offsets>;

// Original offsets (absolute) of every char of the normalized text.
OffsetList char_offsets(const NormalizedString& ns) {
  OffsetList out;
  const std::string& t = ns.get();
  size_t i = 0;
  while (i < t.size()) {
    size_t b = i;
    unicode::decode_utf8(t, i);
    auto o = ns.convert_offsets(b, i);
    EXPECT_TRUE(o.has_value());
    out.emplace_back(o->first + ns.original_shift(), o->second + ns.original_shift());
  }
  return out;
}

std::vector<std::string> texts(const std::vector<NormalizedString>& pieces) {
  std::vector<std::string> out;
  for (const auto& p : pieces) out.push_back(p.get());
  return out;
}

TEST(NormalizedStringTest, ConstructorAlignsEachByteToItsChar) {
  NormalizedString ns("a\xC3\xA9" "b", 10);
  EXPECT_EQ(ns.get(), "a\xC3\xA9" "b");
  EXPECT_EQ(ns.alignments(), (std::vector<Alignment>{{0, 1}, {1, 3}, {1, 3}, {3, 4}}));
  EXPECT_EQ(ns.offsets_original(), Offsets(10, 14));
}

TEST(NormalizedStringTest, ConvertOffsets) {
  NormalizedString ns("xﬁy");  // ﬁ is 3 bytes
  ns.nfkc();                    // "xfiy"
  EXPECT_EQ(ns.convert_offsets(1, 2), Offsets(1, 4));
  EXPECT_EQ(ns.convert_offsets(0, 4), Offsets(0, 5));
  // An empty range comes back unchanged, in normalized coordinates.
  EXPECT_EQ(ns.convert_offsets(3, 3), Offsets(3, 3));
  EXPECT_EQ(ns.convert_offsets(3, 2), std::nullopt);
  EXPECT_EQ(ns.convert_offsets(0, 5), std::nullopt);
}

TEST(NormalizedStringTest, SliceKeepsAlignmentsAndShift) {
  NormalizedString ns("xﬁy", 100);
  ns.nfkc();
  auto s = ns.slice(1, 3);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->get(), "fi");
  EXPECT_EQ(s->original(), "ﬁ");
  EXPECT_EQ(s->original_shift(), 101u);
  EXPECT_EQ(s->alignments(), (std::vector<Alignment>{{0, 3}, {0, 3}}));
  EXPECT_EQ(char_offsets(*s), (OffsetList{{101, 104}, {101, 104}}));

  // Empty slice: the "original range" is the normalized one (reference quirk).
  auto e = ns.slice(3, 3);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->get(), "");
  EXPECT_EQ(e->original(), "");
  EXPECT_EQ(e->original_shift(), 103u);

  NormalizedString u("\xC3\xA9");
  EXPECT_FALSE(u.slice(0, 1).has_value());  // not a char boundary
  EXPECT_FALSE(u.slice(0, 3).has_value());  // out of range
}

TEST(NormalizedStringTest, TransformRangeFollowsChangeStream) {
  // Replace "b" by "XY": X replaces b (change 0), Y is inserted (+1) and takes the alignment of
  // the byte before the cursor; "c" is not consumed and disappears with the range.
  NormalizedString ns("abcd");
  std::vector<Change> changes = {{U'X', 0}, {U'Y', 1}};
  ns.transform_range(1, 3, changes, 0);
  EXPECT_EQ(ns.get(), "aXYd");
  EXPECT_EQ(char_offsets(ns), (OffsetList{{0, 1}, {1, 2}, {1, 2}, {3, 4}}));

  // initial_skip removes leading chars; a negative change deletes the chars after.
  NormalizedString skip("abcd");
  std::vector<Change> c2 = {{U'c', -1}};
  skip.transform_range(0, 4, c2, 2);
  EXPECT_EQ(skip.get(), "c");
  EXPECT_EQ(char_offsets(skip), (OffsetList{{2, 3}}));

  // An insertion at byte 0 gets the empty alignment (0, 0).
  NormalizedString front("ab");
  std::vector<Change> c3 = {{U'Z', 1}};
  front.transform_range(0, 0, c3, 0);
  EXPECT_EQ(front.get(), "Zab");
  EXPECT_EQ(front.alignments()[0], (Alignment{0, 0}));

  // A stream that consumes more than the text has is rejected (the reference panics).
  NormalizedString overrun("a");
  std::vector<Change> c4 = {{U'a', 0}, {U'b', 0}};
  EXPECT_THROW(overrun.transform_range(0, 1, c4, 0), Error);
}

TEST(NormalizedStringTest, SplitBehaviors) {
  // pre_tokenizers.Split('-', behavior, invert=False).pre_tokenize_str('the-final--countdown')
  NormalizedString ns("the-final--countdown");
  CharPredicatePattern dash([](char32_t c) { return c == U'-'; });
  EXPECT_EQ(texts(ns.split(dash, SplitBehavior::kRemoved)),
            (std::vector<std::string>{"the", "final", "countdown"}));
  EXPECT_EQ(texts(ns.split(dash, SplitBehavior::kIsolated)),
            (std::vector<std::string>{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(texts(ns.split(dash, SplitBehavior::kMergedWithPrevious)),
            (std::vector<std::string>{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(texts(ns.split(dash, SplitBehavior::kMergedWithNext)),
            (std::vector<std::string>{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(texts(ns.split(dash, SplitBehavior::kContiguous)),
            (std::vector<std::string>{"the", "-", "final", "--", "countdown"}));

  // invert=True
  InvertedPattern inv(dash);
  EXPECT_EQ(texts(ns.split(inv, SplitBehavior::kRemoved)),
            (std::vector<std::string>{"-", "-", "-"}));
  EXPECT_EQ(texts(ns.split(inv, SplitBehavior::kMergedWithPrevious)),
            (std::vector<std::string>{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(texts(ns.split(inv, SplitBehavior::kMergedWithNext)),
            (std::vector<std::string>{"the-", "final-", "-", "countdown"}));

  auto pieces = ns.split(dash, SplitBehavior::kMergedWithNext);
  ASSERT_EQ(pieces.size(), 4u);
  EXPECT_EQ(pieces[3].offsets_original(), Offsets(10, 20));
  EXPECT_EQ(pieces[3].original(), "-countdown");
}

TEST(NormalizedStringTest, PatternsCoverTheText) {
  CharPredicatePattern dash([](char32_t c) { return c == U'-'; });
  using Seg = std::tuple<size_t, size_t, bool>;
  EXPECT_EQ(dash.find_matches(""), (std::vector<Seg>{{0, 0, false}}));
  EXPECT_EQ(dash.find_matches("a-\xC3\xA9"),
            (std::vector<Seg>{{0, 1, false}, {1, 2, true}, {2, 4, false}}));

  Regex re("-+");
  RegexPattern rp(re);
  EXPECT_EQ(rp.find_matches(""), (std::vector<Seg>{{0, 0, false}}));
  EXPECT_EQ(rp.find_matches("--a---"),
            (std::vector<Seg>{{0, 2, true}, {2, 3, false}, {3, 6, true}}));
  InvertedPattern inv(rp);
  EXPECT_EQ(inv.find_matches("a-"), (std::vector<Seg>{{0, 1, true}, {1, 2, false}}));
}

TEST(NormalizedStringTest, SplitBehaviorFromString) {
  EXPECT_EQ(split_behavior_from_string("MergedWithNext"), SplitBehavior::kMergedWithNext);
  EXPECT_EQ(split_behavior_from_string("Contiguous"), SplitBehavior::kContiguous);
  EXPECT_EQ(split_behavior_from_string("removed"), std::nullopt);
}

TEST(NormalizedStringTest, Operations) {
  // append: "aé" -> "aéxy" [(0, 1), (1, 3), (1, 3), (1, 3)]
  NormalizedString a("a\xC3\xA9");
  a.append("xy");
  EXPECT_EQ(a.get(), "a\xC3\xA9xy");
  EXPECT_EQ(char_offsets(a), (OffsetList{{0, 1}, {1, 3}, {1, 3}, {1, 3}}));
  // append_empty: "" -> "xy" [(0, 0), (0, 0)]
  NormalizedString ae("");
  ae.append("xy");
  EXPECT_EQ(char_offsets(ae), (OffsetList{{0, 0}, {0, 0}}));
  // filter: "a-b--c-" -> "abc" [(0, 1), (2, 3), (5, 6)]
  NormalizedString f("a-b--c-");
  f.filter([](char32_t c) { return c != U'-'; });
  EXPECT_EQ(f.get(), "abc");
  EXPECT_EQ(char_offsets(f), (OffsetList{{0, 1}, {2, 3}, {5, 6}}));
  // filter_leading: "--ab" -> "ab" [(2, 3), (3, 4)]
  NormalizedString fl("--ab");
  fl.filter([](char32_t c) { return c != U'-'; });
  EXPECT_EQ(char_offsets(fl), (OffsetList{{2, 3}, {3, 4}}));
  // map: "aéb" -> "a€b" [(0, 1), (1, 3), (3, 4)]
  NormalizedString m("a\xC3\xA9" "b");
  m.map([](char32_t c) { return c == 0xE9 ? char32_t{0x20AC} : c; });
  EXPECT_EQ(m.get(), "a€b");
  EXPECT_EQ(char_offsets(m), (OffsetList{{0, 1}, {1, 3}, {3, 4}}));
  // lowercase: "AİB" -> "ai\u0307b" [(0, 1), (1, 3), (1, 3), (3, 4)]
  NormalizedString l("A\xC4\xB0" "B");
  l.lowercase();
  EXPECT_EQ(l.get(), "ai\xCC\x87" "b");
  EXPECT_EQ(char_offsets(l), (OffsetList{{0, 1}, {1, 3}, {1, 3}, {3, 4}}));
  // lstrip: " \u3000ab " -> "ab " [(4, 5), (5, 6), (6, 7)]
  NormalizedString ls(" \xE3\x80\x80" "ab ");
  ls.lstrip();
  EXPECT_EQ(ls.get(), "ab ");
  EXPECT_EQ(char_offsets(ls), (OffsetList{{4, 5}, {5, 6}, {6, 7}}));
  // rstrip: " ab\u3000 " -> " ab" [(0, 1), (1, 2), (2, 3)]
  NormalizedString rs(" ab\xE3\x80\x80 ");
  rs.rstrip();
  EXPECT_EQ(rs.get(), " ab");
  EXPECT_EQ(char_offsets(rs), (OffsetList{{0, 1}, {1, 2}, {2, 3}}));
  // replace: "a--b-c" -> "a+=+=b+=c" [(0,1),(1,2),(1,2),(2,3),(2,3),(3,4),(4,5),(4,5),(5,6)]
  NormalizedString r("a--b-c");
  auto dash = Regex::literal("-");
  r.replace(*dash, "+=");
  EXPECT_EQ(r.get(), "a+=+=b+=c");
  EXPECT_EQ(char_offsets(r),
            (OffsetList{{0, 1}, {1, 2}, {1, 2}, {2, 3}, {2, 3}, {3, 4}, {4, 5}, {4, 5}, {5, 6}}));
  // prepend: "éa" -> "xyéa" [(0, 2), (0, 2), (0, 2), (2, 3)]
  NormalizedString p("\xC3\xA9" "a");
  p.prepend("xy");
  EXPECT_EQ(p.get(), "xy\xC3\xA9" "a");
  EXPECT_EQ(char_offsets(p), (OffsetList{{0, 2}, {0, 2}, {0, 2}, {2, 3}}));
}

TEST(NormalizedStringTest, AsciiFastPathsLeaveTextAndAlignmentsAlone) {
  NormalizedString ns("Hello, World!");
  auto before = ns.alignments();
  ns.nfc();
  ns.nfkd();
  EXPECT_EQ(ns.get(), "Hello, World!");
  EXPECT_EQ(ns.alignments(), before);
  ns.lowercase();
  EXPECT_EQ(ns.get(), "hello, world!");
  EXPECT_EQ(ns.alignments(), before);
}

}  // namespace
}  // namespace mlhub::tok
