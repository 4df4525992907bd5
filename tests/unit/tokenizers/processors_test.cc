// Post-processors (spec section 11): TemplateProcessing, BertProcessing, RobertaProcessing,
// ByteLevel and Sequence, their JSON loading, and their output on the model-stage encodings of
// real tokenizer files (golden data from tools/reference/gen_post_process_cases.py with
// tokenizers 0.22.2).
#include <memory>
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

std::unique_ptr<PostProcessor> processor(std::string_view json) {
  const Json j = Json::parse(json);
  return post_processor_from_json(JsonRef(j, "$.post_processor"));
}

std::string load_error(std::string_view json) {
  try {
    processor(json);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// The raw (model-stage) encoding recorded by the generator.
Encoding raw_encoding(const Json& r, uint32_t type_id) {
  Encoding e = model_encoding(r["ids"], r["tokens"], {}, type_id);
  e.offsets.clear();
  for (const Json& o : r["offsets"]) e.offsets.push_back({o[0].get<size_t>(), o[1].get<size_t>()});
  e.words.clear();
  for (const Json& w : r["words"]) {
    e.words.push_back(w.is_null() ? std::nullopt : std::optional<uint32_t>(w.get<uint32_t>()));
  }
  return e;
}

TEST(ProcessorsGolden, RealFilesOnModelStageEncodings) {
  // For each case: `first`/`second` are what the file's tokenizer produces without its
  // post-processor; `expected` is the full encode with it (char offsets, so the byte-level
  // trimming counts chars as Python's offsets do).
  const Json doc = testing::load_golden("post_process_cases.json");
  ASSERT_GT(doc["real_cases"].size(), 100u);
  for (const Json& c : doc["real_cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const Json& pj = doc["real_processors"][c["processor"].get<std::string>()];
    auto pp = post_processor_from_json(JsonRef(pj, "$.post_processor"));
    std::optional<Encoding> second;
    if (!c["second"].is_null()) second = raw_encoding(c["second"], 1);
    const Encoding got = post_process(pp.get(), raw_encoding(c["first"], 0), std::move(second),
                                      c["add_special_tokens"]);
    EXPECT_EQ(dump_encoding(got), c["expected"].get<std::vector<std::string>>());
  }
}

// get_bert_template() of the Rust template.rs tests.
constexpr std::string_view kBertTemplate = R"({"type":"TemplateProcessing",
  "single":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},
            {"SpecialToken":{"id":"[SEP]","type_id":0}}],
  "pair":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},
          {"SpecialToken":{"id":"[SEP]","type_id":0}},{"Sequence":{"id":"B","type_id":1}},
          {"SpecialToken":{"id":"[SEP]","type_id":1}}],
  "special_tokens":{"[CLS]":{"id":"[CLS]","ids":[1],"tokens":["[CLS]"]},
                    "[SEP]":{"id":"[SEP]","ids":[0],"tokens":["[SEP]"]}}})";

using Ranges = std::map<size_t, std::pair<size_t, size_t>>;

TEST(TemplateProcessing, OverflowingAsInRustTest) {
  // Rust template.rs test `template_processing_overflowing`. The encodings come from
  // Encoding::from_tokens (word none, type id 0 — also for the pair, whose overflow keeps
  // type 0 under its [SEP]:1).
  auto pp = processor(kBertTemplate);
  EXPECT_EQ(pp->added_tokens(false), 2u);
  EXPECT_EQ(pp->added_tokens(true), 3u);
  auto from_tokens = [](std::vector<uint32_t> ids, std::vector<std::string> toks,
                        std::vector<Offsets> offs) {
    Encoding e = model_encoding(ids, toks, offs, 0);
    e.words.assign(ids.size(), std::nullopt);
    return e;
  };
  Encoding enc = from_tokens({12, 14}, {"Hello", "there"}, {{0, 5}, {6, 11}});
  enc.overflowing.push_back(from_tokens({13}, {"you"}, {{12, 15}}));
  Encoding pair = from_tokens({15, 16}, {"pair", "with"}, {{0, 4}, {5, 9}});
  pair.overflowing.push_back(from_tokens({17}, {"info"}, {{10, 14}}));

  const Encoding single = post_process(pp.get(), enc, std::nullopt, true);
  EXPECT_EQ(single.ids, (std::vector<uint32_t>{1, 12, 14, 0}));
  EXPECT_EQ(single.special_tokens_mask, (std::vector<uint32_t>{1, 0, 0, 1}));
  EXPECT_EQ(single.sequence_ranges, (Ranges{{0, {1, 3}}}));
  ASSERT_EQ(single.overflowing.size(), 1u);
  EXPECT_EQ(single.overflowing[0].ids, (std::vector<uint32_t>{1, 13, 0}));
  EXPECT_EQ(single.overflowing[0].offsets, (std::vector<Offsets>{{0, 0}, {12, 15}, {0, 0}}));
  EXPECT_EQ(single.overflowing[0].sequence_ranges, (Ranges{{0, {1, 2}}}));

  const Encoding p = post_process(pp.get(), enc, pair, true);
  EXPECT_EQ(p.ids, (std::vector<uint32_t>{1, 12, 14, 0, 15, 16, 0}));
  EXPECT_EQ(p.type_ids, (std::vector<uint32_t>{0, 0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(p.sequence_ranges, (Ranges{{0, {1, 3}}, {1, {4, 6}}}));
  ASSERT_EQ(p.overflowing.size(), 3u);
  const Encoding& o0 = p.overflowing[0];
  EXPECT_EQ(o0.ids, (std::vector<uint32_t>{1, 13, 0, 15, 16, 0}));
  EXPECT_EQ(o0.type_ids, (std::vector<uint32_t>{0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(o0.sequence_ranges, (Ranges{{0, {1, 2}}, {1, {3, 5}}}));
  ASSERT_EQ(o0.overflowing.size(), 1u);
  EXPECT_EQ(o0.overflowing[0].ids, (std::vector<uint32_t>{1, 13, 0, 17, 0}));
  EXPECT_EQ(o0.overflowing[0].type_ids, (std::vector<uint32_t>{0, 0, 0, 0, 1}));
  EXPECT_EQ(o0.overflowing[0].sequence_ranges, (Ranges{{0, {1, 2}}, {1, {3, 4}}}));
  const Encoding& o1 = p.overflowing[1];
  EXPECT_EQ(o1.ids, (std::vector<uint32_t>{1, 13, 0, 17, 0}));
  EXPECT_TRUE(o1.overflowing.empty());
  const Encoding& o2 = p.overflowing[2];
  EXPECT_EQ(o2.ids, (std::vector<uint32_t>{1, 12, 14, 0, 17, 0}));
  EXPECT_EQ(o2.type_ids, (std::vector<uint32_t>{0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(o2.offsets,
            (std::vector<Offsets>{{0, 0}, {0, 5}, {6, 11}, {0, 0}, {10, 14}, {0, 0}}));
  EXPECT_EQ(o2.sequence_ranges, (Ranges{{0, {1, 3}}, {1, {4, 5}}}));
  ASSERT_EQ(o2.overflowing.size(), 1u);
  EXPECT_EQ(o2.overflowing[0].ids, (std::vector<uint32_t>{1, 13, 0, 17, 0}));
}

TEST(TemplateProcessing, TypeIdsOverwrittenWithoutSpecialTokens) {
  auto pp = processor(R"({"type":"TemplateProcessing","single":[{"Sequence":{"id":"A","type_id":5}},
    {"SpecialToken":{"id":"X","type_id":2}}],"pair":[],"special_tokens":{"X":{"id":"X","ids":[7,8],
    "tokens":["x1","x2"]}}})");
  EXPECT_EQ(pp->added_tokens(false), 2u);
  EXPECT_EQ(pp->added_tokens(true), 0u);
  Encoding a = model_encoding({1}, {"a"}, {{0, 1}}, 0);
  Encoding with = post_process(pp.get(), a, std::nullopt, true);
  EXPECT_EQ(with.ids, (std::vector<uint32_t>{1, 7, 8}));
  EXPECT_EQ(with.type_ids, (std::vector<uint32_t>{5, 2, 2}));
  Encoding without = post_process(pp.get(), a, std::nullopt, false);
  EXPECT_EQ(without.ids, (std::vector<uint32_t>{1}));
  EXPECT_EQ(without.type_ids, (std::vector<uint32_t>{5}));
  // A pair template without B silently drops the second sequence, as in the reference.
  Encoding dropped = post_process(pp.get(), a, a, true);
  EXPECT_TRUE(dropped.empty());
}

TEST(TemplateProcessing, LoadErrorsNameThePath) {
  EXPECT_NE(load_error(R"({"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"[CLS]",
    "type_id":0}}],"pair":[],"special_tokens":{}})")
                .find("$.post_processor.single[0].SpecialToken.id: special token \"[CLS]\" "
                      "is missing"),
            std::string::npos);
  EXPECT_NE(load_error(R"({"type":"TemplateProcessing","single":[],"pair":[],"special_tokens":
    {"X":{"id":"X","ids":[1,2],"tokens":["a"]}}})")
                .find("$.post_processor.special_tokens.X: \"ids\" and \"tokens\""),
            std::string::npos);
  EXPECT_NE(load_error(R"({"type":"TemplateProcessing","single":[{"Sequence":{"id":"C",
    "type_id":0}}],"pair":[],"special_tokens":{}})")
                .find("$.post_processor.single[0].Sequence.id"),
            std::string::npos);
  EXPECT_NE(load_error(R"({"type":"TemplateProcessing","single":"$A","pair":[],
    "special_tokens":{}})").find("$.post_processor.single"),
            std::string::npos);
  // Loads (as the reference does) but cannot process a single sequence.
  auto pp = processor(R"({"type":"TemplateProcessing","single":[{"Sequence":{"id":"B",
    "type_id":0}}],"pair":[],"special_tokens":{}})");
  EXPECT_THROW(post_process(pp.get(), model_encoding({1}, {"a"}, {{0, 1}}, 0), std::nullopt, true),
               Error);
}

TEST(PostProcessorFactory, UntaggedOrderOfTheReference) {
  // Roberta is tried before Bert and neither checks "type" (checked with Python 0.22.2).
  auto roberta = processor(R"({"type":"BertProcessing","sep":["[SEP]",1],"cls":["[CLS]",2],
    "trim_offsets":true,"add_prefix_space":true})");
  EXPECT_EQ(roberta->added_tokens(true), 4u);
  auto bert = processor(R"({"type":"TemplateProcessing","sep":["[SEP]",1],"cls":["[CLS]",2],
    "single":[],"pair":[],"special_tokens":{}})");
  EXPECT_EQ(bert->added_tokens(true), 3u);
  EXPECT_EQ(processor(R"({"sep":["[SEP]",1],"cls":["[CLS]",2]})")->added_tokens(false), 2u);
  EXPECT_EQ(processor(R"({"type":"Foo","single":[],"pair":[],"special_tokens":{}})")
                ->added_tokens(false),
            0u);
  // ByteLevel and Sequence need their own type and every required field.
  EXPECT_NE(load_error(R"({"type":"ByteLevel","trim_offsets":true})")
                .find("$.post_processor: missing required field \"add_prefix_space\""),
            std::string::npos);
  EXPECT_NE(load_error(R"({"type":"Sequence","processors":[{"type":"Nope"}]})")
                .find("$.post_processor.processors[0]"),
            std::string::npos);
  EXPECT_NE(load_error(R"({"type":"Nope"})").find("\"Nope\""), std::string::npos);
  EXPECT_NE(load_error("[]").find("$.post_processor"), std::string::npos);
  EXPECT_NE(load_error(R"({"type":"BertProcessing","sep":["[SEP]"],"cls":["[CLS]",2]})")
                .find("$.post_processor.sep"),
            std::string::npos);
}

TEST(BertProcessing, PairAndNoSpecialTokens) {
  auto pp = processor(R"({"type":"BertProcessing","sep":["[SEP]",102],"cls":["[CLS]",101]})");
  Encoding a = model_encoding({12, 14}, {"Hello", "there"}, {{0, 5}, {6, 11}}, 0);
  Encoding b = model_encoding({15}, {"pair"}, {{0, 4}}, 1);
  Encoding p = post_process(pp.get(), a, b, true);
  EXPECT_EQ(p.ids, (std::vector<uint32_t>{101, 12, 14, 102, 15, 102}));
  EXPECT_EQ(p.type_ids, (std::vector<uint32_t>{0, 0, 0, 0, 1, 1}));
  const auto none = std::optional<uint32_t>();
  EXPECT_EQ(p.sequence_ids(), (std::vector<std::optional<uint32_t>>{none, 0, 0, none, 1, none}));
  Encoding n = post_process(pp.get(), a, b, false);
  EXPECT_EQ(n.ids, (std::vector<uint32_t>{12, 14, 15}));
  EXPECT_EQ(n.type_ids, (std::vector<uint32_t>{0, 0, 1}));
}

TEST(ByteLevelProcessor, TrimsOffsetsAsInRustTest) {
  // Rust byte_level.rs test `processor_trims_offsets` (spec 16.5).
  auto tokens = std::vector<std::string>{"Ġ", "ĠĠĠĠHelloĠĠ", "ĠĠHello", "HelloĠĠ", "ĠĠĠĠ"};
  auto offsets = std::vector<Offsets>{{0, 1}, {0, 11}, {11, 18}, {18, 25}, {25, 29}};
  Encoding e = model_encoding({0, 0, 0, 0, 0}, tokens, offsets, 0);
  auto trim = processor(R"({"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true})");
  Encoding got = post_process(trim.get(), e, std::nullopt, true);
  EXPECT_EQ(got.offsets, (std::vector<Offsets>{{1, 1}, {4, 9}, {13, 18}, {18, 23}, {29, 29}}));
  // With add_prefix_space a single leading 'Ġ' of the first token (or of a token starting at 0)
  // is kept.
  auto keep = processor(R"({"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true})");
  got = post_process(keep.get(), e, std::nullopt, true);
  EXPECT_EQ(got.offsets, (std::vector<Offsets>{{0, 0}, {4, 9}, {13, 18}, {18, 23}, {29, 29}}));
  auto no_trim = processor(R"({"type":"ByteLevel","add_prefix_space":true,"trim_offsets":false,
    "use_regex":false})");
  EXPECT_EQ(post_process(no_trim.get(), e, std::nullopt, true).offsets, offsets);
  EXPECT_EQ(no_trim->added_tokens(true), 0u);
}

TEST(ByteLevelProcessor, UnicodeWhitespaceAndMalformedTokens) {
  // c.is_whitespace() counts too; 'Ċ' (newline) does not. A token that is not valid UTF-8
  // (only possible when built by hand) must not be read out of bounds.
  Encoding e = model_encoding({0, 0, 0, 0}, {"\u3000a", "Ċb", std::string("\xE3\x80", 2), ""},
                              {{0, 2}, {2, 4}, {4, 5}, {5, 5}}, 0);
  auto pp = processor(R"({"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true})");
  EXPECT_EQ(post_process(pp.get(), e, std::nullopt, true).offsets,
            (std::vector<Offsets>{{1, 2}, {2, 4}, {4, 5}, {5, 5}}));
}

TEST(SequenceProcessor, ChainsAndSumsAddedTokens) {
  auto pp = processor(std::string(R"({"type":"Sequence","processors":[{"type":"ByteLevel",
    "add_prefix_space":false,"trim_offsets":true},)") + std::string(kBertTemplate) + "]}");
  EXPECT_EQ(pp->added_tokens(false), 2u);
  EXPECT_EQ(pp->added_tokens(true), 3u);
  Encoding a = model_encoding({5}, {"ĠHi"}, {{0, 3}}, 0);
  Encoding got = post_process(pp.get(), a, std::nullopt, true);
  EXPECT_EQ(got.ids, (std::vector<uint32_t>{1, 5, 0}));
  EXPECT_EQ(got.offsets, (std::vector<Offsets>{{0, 0}, {1, 3}, {0, 0}}));
}

TEST(PostProcessorFactory, RealFilesLoadWithReferenceCounts) {
  // The post_processor of every shared tokenizer.json, with Python's
  // num_special_tokens_to_add(False / True).
  const Json doc = testing::load_golden("post_process_cases.json");
  ASSERT_GE(doc["file_processors"].size(), 10u);
  for (const auto& [folder, f] : doc["file_processors"].items()) {
    SCOPED_TRACE(folder);
    auto pp = post_processor_from_json(JsonRef(f["post_processor"], "$.post_processor"));
    EXPECT_EQ(pp->added_tokens(false), f["single"].get<size_t>());
    EXPECT_EQ(pp->added_tokens(true), f["pair"].get<size_t>());
  }
}

}  // namespace
}  // namespace mlhub::tok
