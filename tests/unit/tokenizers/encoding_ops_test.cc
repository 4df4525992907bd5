// Truncation, merging, padding and the post-processing frame (spec sections 10-12), against
// tokenizers 0.22.2: tests/golden/tokenizers/post_process_cases.json is written by
// tools/reference/gen_post_process_cases.py, plus the Rust unit-test vectors of encoding.rs,
// truncation.rs and padding.rs.
#include <memory>
#include <random>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "encoding_test_util.h"
#include "tokenizers/components.h"

namespace mlhub::tok {
namespace {

using testing::dump_encoding;
using testing::model_encoding;

// What WordLevel + Whitespace produce for space-separated ASCII words.
Encoding words_encoding(const std::string& text, const Json& vocab, uint32_t type_id) {
  std::vector<uint32_t> ids;
  std::vector<std::string> tokens;
  std::vector<Offsets> offsets;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ') {
      ++i;
      continue;
    }
    const size_t end = std::min(text.find(' ', i), text.size());
    const std::string word = text.substr(i, end - i);
    const bool known = vocab.contains(word);
    ids.push_back(known ? vocab[word].get<uint32_t>() : vocab["[UNK]"].get<uint32_t>());
    tokens.push_back(known ? word : "[UNK]");
    offsets.push_back({i, end});
    i = end;
  }
  return model_encoding(ids, tokens, offsets, type_id);
}

TruncationParams truncation_from(const Json& j) {
  TruncationParams p;
  p.max_length = j["max_length"].get<size_t>();
  p.stride = j["stride"].get<size_t>();
  p.direction = j["direction"] == "Left" ? TruncationDirection::kLeft : TruncationDirection::kRight;
  const std::string s = j["strategy"];
  p.strategy = s == "OnlyFirst"    ? TruncationStrategy::kOnlyFirst
               : s == "OnlySecond" ? TruncationStrategy::kOnlySecond
                                   : TruncationStrategy::kLongestFirst;
  return p;
}

PaddingParams padding_from(const Json& j) {
  PaddingParams p;
  if (j["strategy"].is_object()) p.fixed_length = j["strategy"]["Fixed"].get<size_t>();
  p.direction = j["direction"] == "Left" ? PaddingDirection::kLeft : PaddingDirection::kRight;
  if (!j["pad_to_multiple_of"].is_null()) {
    p.pad_to_multiple_of = j["pad_to_multiple_of"].get<size_t>();
  }
  p.pad_id = j["pad_id"];
  p.pad_type_id = j["pad_type_id"];
  p.pad_token = j["pad_token"];
  return p;
}

// Rust TokenizerImpl::post_process: truncate (minus the special tokens) -> process -> pad.
Encoding run_post_process(const PostProcessor* pp, Encoding first, std::optional<Encoding> second,
                          bool add_special, const Json& trunc, const Json& pad) {
  if (!trunc.is_null()) {
    TruncationParams p = truncation_from(trunc);
    const size_t n = pp ? pp->added_tokens(second.has_value()) : 0;
    if (add_special && n > 0) p.max_length -= n;
    truncate_encodings(first, second, p);
  }
  Encoding out = post_process(pp, std::move(first), std::move(second), add_special);
  if (!pad.is_null()) {
    std::vector<Encoding> batch;
    batch.push_back(std::move(out));
    pad_encodings(batch, padding_from(pad));
    out = std::move(batch[0]);
  }
  return out;
}

TEST(EncodingOpsGolden, TruncationProcessorsPadding) {
  const Json doc = testing::load_golden("post_process_cases.json");
  const Json& vocab = doc["vocab"];
  ASSERT_GT(doc["cases"].size(), 50u);
  for (const Json& c : doc["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const Json& pj = doc["processors"][c["processor"].get<std::string>()];
    std::unique_ptr<PostProcessor> pp;
    if (!pj.is_null()) pp = post_processor_from_json(JsonRef(pj, "$.post_processor"));
    Encoding first = words_encoding(c["first"], vocab, 0);
    std::optional<Encoding> second;
    if (!c["second"].is_null()) second = words_encoding(c["second"], vocab, 1);
    const bool add_special = c["add_special_tokens"];
    if (c["expected"] == "ERROR") {
      EXPECT_THROW(run_post_process(pp.get(), first, second, add_special, c["truncation"],
                                    c["padding"]),
                   Error);
      continue;
    }
    const Encoding got = run_post_process(pp.get(), std::move(first), std::move(second),
                                          add_special, c["truncation"], c["padding"]);
    EXPECT_EQ(dump_encoding(got), c["expected"].get<std::vector<std::string>>());
  }
}

Encoding hello_world() {
  // Rust encoding.rs test `merge_encodings`.
  return model_encoding({1}, {"Hello "}, {{0, 6}}, 0);
}

TEST(EncodingOps, MergeWithGrowingOffsets) {
  Encoding a = hello_world();
  Encoding b = model_encoding({2}, {"World!"}, {{0, 6}}, 1);
  merge_encoding(a, b, /*growing_offsets=*/true);
  EXPECT_EQ(a.ids, (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(a.type_ids, (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(a.offsets, (std::vector<Offsets>{{0, 6}, {6, 12}}));
  Encoding c = hello_world();
  merge_encoding(c, b);
  EXPECT_EQ(c.offsets, (std::vector<Offsets>{{0, 6}, {0, 6}}));
}

TEST(EncodingOps, MergeCombinesOverflowsRecursively) {
  // merge(X, Y) with X.ov = [x1], Y.ov = [y1]: [merge(x1, Y) (nesting merge(x1, y1)),
  // merge(x1, y1), merge(X, y1) (nesting merge(x1, y1))].
  Encoding x = model_encoding({1}, {"x"}, {{0, 1}}, 0);
  x.overflowing.push_back(model_encoding({2}, {"x1"}, {{1, 2}}, 0));
  Encoding y = model_encoding({3}, {"y"}, {{0, 1}}, 1);
  y.overflowing.push_back(model_encoding({4}, {"y1"}, {{1, 2}}, 1));
  merge_encoding(x, y);
  ASSERT_EQ(x.overflowing.size(), 3u);
  EXPECT_EQ(x.ids, (std::vector<uint32_t>{1, 3}));
  EXPECT_EQ(x.overflowing[0].ids, (std::vector<uint32_t>{2, 3}));
  ASSERT_EQ(x.overflowing[0].overflowing.size(), 1u);
  EXPECT_EQ(x.overflowing[0].overflowing[0].ids, (std::vector<uint32_t>{2, 4}));
  EXPECT_EQ(x.overflowing[1].ids, (std::vector<uint32_t>{2, 4}));
  EXPECT_TRUE(x.overflowing[1].overflowing.empty());
  EXPECT_EQ(x.overflowing[2].ids, (std::vector<uint32_t>{1, 4}));
  ASSERT_EQ(x.overflowing[2].overflowing.size(), 1u);
  EXPECT_EQ(x.overflowing[2].overflowing[0].ids, (std::vector<uint32_t>{2, 4}));
}

TEST(EncodingOps, MergeShiftsSequenceRanges) {
  Encoding a = model_encoding({1, 2}, {"a", "b"}, {{0, 1}, {2, 3}}, 0);
  Encoding b = model_encoding({3, 4, 5}, {"c", "d", "e"}, {{0, 1}, {2, 3}, {4, 5}}, 1);
  set_sequence_id(a, 0);
  set_sequence_id(b, 1);
  Encoding m = merge_encodings({a, b});
  EXPECT_EQ(m.sequence_ranges.at(0), (std::pair<size_t, size_t>{0, 2}));
  EXPECT_EQ(m.sequence_ranges.at(1), (std::pair<size_t, size_t>{2, 5}));
  EXPECT_EQ(m.sequence_ids(), (std::vector<std::optional<uint32_t>>{0, 0, 1, 1, 1}));
}

TEST(EncodingOps, SequenceIdsQuirks) {
  // Rust iterates ids 0..n_sequences: a lone range keyed 1 is ignored and sequence 0 covers
  // everything.
  Encoding e = model_encoding({1, 2, 3}, {"a", "b", "c"}, {{0, 1}, {1, 2}, {2, 3}}, 0);
  EXPECT_EQ(e.sequence_ids(), (std::vector<std::optional<uint32_t>>{0, 0, 0}));
  e.sequence_ranges[1] = {1, 2};
  EXPECT_EQ(e.sequence_ids(), (std::vector<std::optional<uint32_t>>{0, 0, 0}));
  e.sequence_ranges[0] = {0, 1};
  EXPECT_EQ(e.sequence_ids(), (std::vector<std::optional<uint32_t>>{0, 1, std::nullopt}));
  e.sequence_ranges[0] = {2, 99};  // out of range: clamped, never out of bounds
  EXPECT_EQ(e.sequence_ids(), (std::vector<std::optional<uint32_t>>{std::nullopt, 1, 0}));
}

Encoding five_tokens() {
  return model_encoding({1, 2, 3, 4, 5}, {"42", "is", "the", "answer", "!"},
                        {{0, 2}, {3, 5}, {6, 9}, {10, 16}, {16, 17}}, 0);
}

TEST(EncodingOps, TruncateRightAndLeftWithStride) {
  // Rust encoding.rs test `truncate_overflow_with_stride`: 5 tokens, max 4, stride 2.
  Encoding e = five_tokens();
  truncate_encoding(e, 4, 2, TruncationDirection::kRight);
  EXPECT_EQ(e.ids, (std::vector<uint32_t>{1, 2, 3, 4}));
  ASSERT_EQ(e.overflowing.size(), 1u);
  EXPECT_EQ(e.overflowing[0].ids, (std::vector<uint32_t>{3, 4, 5}));
  EXPECT_EQ(e.overflowing[0].offsets, (std::vector<Offsets>{{6, 9}, {10, 16}, {16, 17}}));

  Encoding l = five_tokens();
  truncate_encoding(l, 4, 2, TruncationDirection::kLeft);
  EXPECT_EQ(l.ids, (std::vector<uint32_t>{2, 3, 4, 5}));
  ASSERT_EQ(l.overflowing.size(), 1u);
  EXPECT_EQ(l.overflowing[0].ids, (std::vector<uint32_t>{1, 2, 3}));
}

TEST(EncodingOps, TruncateEdgeCases) {
  Encoding e = five_tokens();
  set_sequence_id(e, 0);
  truncate_encoding(e, 5, 4, TruncationDirection::kRight);  // fits: untouched, no stride check
  EXPECT_EQ(e.size(), 5u);
  EXPECT_EQ(e.sequence_ranges.size(), 1u);
  truncate_encoding(e, 3, 0, TruncationDirection::kRight);
  EXPECT_TRUE(e.sequence_ranges.empty());  // truncation drops the ranges
  EXPECT_THROW(truncate_encoding(e, 2, 2, TruncationDirection::kRight), Error);

  // Rust `truncate_to_empty`: max 0 moves everything into one overflowing entry.
  Encoding z = five_tokens();
  truncate_encoding(z, 0, 7, TruncationDirection::kLeft);
  EXPECT_TRUE(z.empty());
  ASSERT_EQ(z.overflowing.size(), 1u);
  EXPECT_EQ(z.overflowing[0].ids, five_tokens().ids);
}

TEST(EncodingOps, TruncateEncodingsErrors) {
  Encoding first = five_tokens();
  std::optional<Encoding> none;
  TruncationParams p;
  p.max_length = 3;
  p.strategy = TruncationStrategy::kOnlySecond;
  EXPECT_THROW(truncate_encodings(first, none, p), Error);
  p.strategy = TruncationStrategy::kOnlyFirst;
  std::optional<Encoding> pair = five_tokens();
  p.max_length = 5;  // 10 tokens, the first has only 5 to give
  EXPECT_THROW(truncate_encodings(first, pair, p), Error);
  p.max_length = 6;
  truncate_encodings(first, pair, p);
  EXPECT_EQ(first.size(), 1u);
  EXPECT_EQ(pair->size(), 5u);
}

TEST(EncodingOps, PadToMultipleOf) {
  // Rust padding.rs test `pad_to_multiple`: lengths 5 and 3.
  auto batch = [] {
    std::vector<Encoding> v;
    v.push_back(model_encoding({0, 1, 2, 3, 4}, {"a", "b", "c", "d", "e"},
                               {{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}}, 0));
    v.push_back(model_encoding({0, 1, 2}, {"a", "b", "c"}, {{0, 1}, {1, 2}, {2, 3}}, 0));
    return v;
  };
  PaddingParams p;
  p.fixed_length = 7;
  p.pad_to_multiple_of = 8;
  auto v = batch();
  pad_encodings(v, p);
  EXPECT_EQ(v[0].size(), 8u);
  EXPECT_EQ(v[1].size(), 8u);
  p.fixed_length.reset();
  v = batch();
  pad_encodings(v, p);
  EXPECT_EQ(v[0].size(), 8u);
  EXPECT_EQ(v[1].size(), 8u);
  p.pad_to_multiple_of.reset();
  v = batch();
  pad_encodings(v, p);
  EXPECT_EQ(v[0].size(), 5u);
  EXPECT_EQ(v[1].size(), 5u);
  EXPECT_EQ(v[1].attention_mask, (std::vector<uint32_t>{1, 1, 1, 0, 0}));
  EXPECT_EQ(v[1].tokens.back(), "[PAD]");
  std::vector<Encoding> empty;
  pad_encodings(empty, p);  // no encodings: nothing to do
  EXPECT_TRUE(empty.empty());
}

TEST(EncodingOps, PadLeftShiftsRangesAndOverflows) {
  Encoding e = model_encoding({1, 2}, {"a", "b"}, {{0, 1}, {2, 3}}, 0);
  e.overflowing.push_back(model_encoding({3}, {"c"}, {{4, 5}}, 0));
  set_sequence_id(e, 0);
  PaddingParams p;
  p.direction = PaddingDirection::kLeft;
  p.pad_id = 9;
  p.pad_type_id = 4;
  pad_encoding(e, 4, p);
  EXPECT_EQ(e.ids, (std::vector<uint32_t>{9, 9, 1, 2}));
  EXPECT_EQ(e.type_ids, (std::vector<uint32_t>{4, 4, 0, 0}));
  EXPECT_EQ(e.special_tokens_mask, (std::vector<uint32_t>{1, 1, 0, 0}));
  EXPECT_EQ(e.sequence_ids(),
            (std::vector<std::optional<uint32_t>>{std::nullopt, std::nullopt, 0, 0}));
  ASSERT_EQ(e.overflowing.size(), 1u);
  EXPECT_EQ(e.overflowing[0].ids, (std::vector<uint32_t>{9, 9, 9, 3}));
  EXPECT_EQ(e.overflowing[0].offsets[0], (Offsets{0, 0}));
}

TEST(EncodingOps, PostProcessWithoutProcessor) {
  // A single encoding is returned untouched (no sequence ranges); a pair is concatenated.
  Encoding a = model_encoding({1, 2}, {"a", "b"}, {{0, 1}, {2, 3}}, 0);
  Encoding single = post_process(nullptr, a, std::nullopt, true);
  EXPECT_TRUE(single.sequence_ranges.empty());
  Encoding b = model_encoding({3}, {"c"}, {{0, 1}}, 1);
  Encoding pair = post_process(nullptr, a, b, true);
  EXPECT_EQ(pair.ids, (std::vector<uint32_t>{1, 2, 3}));
  EXPECT_EQ(pair.type_ids, (std::vector<uint32_t>{0, 0, 1}));
  EXPECT_EQ(pair.sequence_ids(), (std::vector<std::optional<uint32_t>>{0, 0, 1}));
}

// Every field of `e` and of its overflowing entries has the same length.
void expect_consistent(const Encoding& e, size_t depth = 0) {
  const size_t n = e.ids.size();
  EXPECT_EQ(e.type_ids.size(), n);
  EXPECT_EQ(e.tokens.size(), n);
  EXPECT_EQ(e.words.size(), n);
  EXPECT_EQ(e.offsets.size(), n);
  EXPECT_EQ(e.special_tokens_mask.size(), n);
  EXPECT_EQ(e.attention_mask.size(), n);
  for (const auto& [id, r] : e.sequence_ranges) EXPECT_LE(r.second, n);
  ASSERT_LT(depth, 4u);
  for (const Encoding& o : e.overflowing) expect_consistent(o, depth + 1);
}

TEST(EncodingOps, RandomParametersKeepEncodingsConsistent) {
  const Json doc = testing::load_golden("post_process_cases.json");
  auto pp = post_processor_from_json(JsonRef(doc["processors"]["bert_template"], "$"));
  std::mt19937 rng(99);
  for (int iter = 0; iter < 400; ++iter) {
    std::string a, b;
    for (int k = rng() % 9; k > 0; --k) a += "a ";
    for (int k = rng() % 9; k > 0; --k) b += "b ";
    Encoding first = words_encoding(a, doc["vocab"], 0);
    std::optional<Encoding> second;
    if (rng() % 2) second = words_encoding(b, doc["vocab"], 1);
    TruncationParams t;
    t.max_length = rng() % 8;
    t.stride = rng() % 4;
    t.strategy = static_cast<TruncationStrategy>(rng() % 3);
    t.direction = static_cast<TruncationDirection>(rng() % 2);
    PaddingParams p;
    if (rng() % 2) p.fixed_length = rng() % 12;
    p.direction = static_cast<PaddingDirection>(rng() % 2);
    if (rng() % 2) p.pad_to_multiple_of = rng() % 5;
    try {
      truncate_encodings(first, second, t);
    } catch (const Error&) {
      continue;  // stride too large, sequence too short, ...
    }
    Encoding out = post_process(rng() % 2 ? pp.get() : nullptr, first, second, rng() % 2);
    std::vector<Encoding> batch{out};
    pad_encodings(batch, p);
    expect_consistent(batch[0]);
    (void)batch[0].sequence_ids();
  }
}

}  // namespace
}  // namespace mlhub::tok
