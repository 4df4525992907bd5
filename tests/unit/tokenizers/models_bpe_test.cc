// BPE model tests (spec 8.1, 16 item 21). Expected values come from the Python reference,
// tokenizers 0.22.2, with the snippet given above each table (gen() prints
// "id:value(start,end)" for Tokenizer.from_str({"version":"1.0","model":M}).model.tokenize(p)).
#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "models_test_util.h"
#include "tokenizers/unicode.h"
#include "tokenizers/models/models.h"

namespace mlhub::tok {
namespace {

using testing::Case;
using testing::expect_cases;
using testing::fixture_json;
using testing::fixture_model;
using testing::load_error;
using testing::load_error_mentions;
using testing::model_from_string;
using testing::run;

// vocab = {"<unk>":0,"a":1,"b":2,"c":3,"ab":4,"bc":5,"abc":6,"d":7,"cd":8,"<0x0A>":9,
//          "<0xC3>":10,"<0xA9>":11}
constexpr std::string_view kVocab =
    R"({"<unk>":0,"a":1,"b":2,"c":3,"ab":4,"bc":5,"abc":6,"d":7,"cd":8,"<0x0A>":9,)"
    R"("<0xC3>":10,"<0xA9>":11})";

std::string bpe_json(std::string_view options, std::string_view merges) {
  return std::string(R"({"type":"BPE",)") + std::string(options) + R"("vocab":)" +
         std::string(kVocab) + R"(,"merges":)" + std::string(merges) + "}";
}

TEST(ModelsBpe, UnkNotFused) {
  // M = {"type":"BPE","unk_token":"<unk>","vocab":vocab,"merges":["a b","b c","ab c","c d"]}
  auto m = model_from_string(bpe_json(R"("unk_token":"<unk>",)", R"(["a b","b c","ab c","c d"])"));
  expect_cases(*m, {
      {"abc", "6:abc(0,3)"},
      {"abcd", "6:abc(0,3) 7:d(3,4)"},
      {"xxab", "0:<unk>(0,1) 0:<unk>(1,2) 4:ab(2,4)"},
      {"aébx", "1:a(0,1) 0:<unk>(1,3) 2:b(3,4) 0:<unk>(4,5)"},
      {"\n", "0:<unk>(0,1)"},
      {"é", "0:<unk>(0,2)"},
      {"", ""},
      {"dcba", "7:d(0,1) 3:c(1,2) 2:b(2,3) 1:a(3,4)"},
      {"bcd", "5:bc(0,2) 7:d(2,3)"},
  });
}

TEST(ModelsBpe, UnkFused) {
  // M["fuse_unk"] = True
  auto m = model_from_string(
      bpe_json(R"("unk_token":"<unk>","fuse_unk":true,)", R"(["a b","b c","ab c","c d"])"));
  expect_cases(*m, {
      {"xxab", "0:<unk>(0,2) 4:ab(2,4)"},
      {"xéyab", "0:<unk>(0,4) 4:ab(4,6)"},
      {"abxx", "4:ab(0,2) 0:<unk>(2,4)"},
      {"xaxx", "0:<unk>(0,1) 1:a(1,2) 0:<unk>(2,4)"},
  });
}

TEST(ModelsBpe, ByteFallback) {
  // M["byte_fallback"] = True (with fuse_unk). Quirk kept from Rust: a pending unk is not
  // flushed before byte tokens, so "xéy" puts the fused unk of x and y after the bytes of é.
  auto m = model_from_string(
      bpe_json(R"("unk_token":"<unk>","fuse_unk":true,"byte_fallback":true,)",
               R"(["a b","b c","ab c","c d"])"));
  expect_cases(*m, {
      {"a\nb", "1:a(0,1) 9:<0x0A>(1,2) 2:b(2,3)"},
      {"é", "10:<0xC3>(0,1) 11:<0xA9>(1,2)"},
      {"xéy", "10:<0xC3>(0,1) 11:<0xA9>(1,2) 0:<unk>(2,4)"},
      {"x\n", "9:<0x0A>(0,1) 0:<unk>(1,2)"},
      {"\nx", "9:<0x0A>(0,1) 0:<unk>(1,2)"},
  });
}

TEST(ModelsBpe, NoUnkTokenDropsUnknownChars) {
  // {"type":"BPE","vocab":vocab,"merges":[["a","b"],["b","c"]]}: dropped chars take no room,
  // so offsets count only the kept symbols.
  auto m = model_from_string(bpe_json("", R"([["a","b"],["b","c"]])"));
  expect_cases(*m, {
      {"xabcx", "4:ab(0,2) 3:c(2,3)"},
      {"xx", ""},
  });
}

TEST(ModelsBpe, UnkTokenMissingFromVocabIsAnEncodeError) {
  auto m = model_from_string(R"({"type":"BPE","unk_token":"<oops>","vocab":{"a":0},"merges":[]})");
  EXPECT_EQ(run(*m, "a"), "0:a(0,1)");
  EXPECT_EQ(run(*m, "ab"), "ERROR");
}

TEST(ModelsBpe, ContinuingSubwordPrefix) {
  // v = {"[UNK]":0,"a":1,"##b":2,"##c":3,"ab":4,"abc":5,"<0x23>":6,"<0xC3>":7,"<0xA9>":8,"b":9}
  // M = {"type":"BPE","unk_token":"[UNK]","continuing_subword_prefix":"##","vocab":v,
  //      "merges":[["a","##b"],["ab","##c"]]}, then M["byte_fallback"] = True.
  // Quirk kept from Rust: byte tokens of "##é" count one byte each, prefix included, so the
  // offsets run past the piece.
  const std::string head =
      R"({"type":"BPE","unk_token":"[UNK]","continuing_subword_prefix":"##",)";
  const std::string tail =
      R"("vocab":{"[UNK]":0,"a":1,"##b":2,"##c":3,"ab":4,"abc":5,"<0x23>":6,"<0xC3>":7,)"
      R"("<0xA9>":8,"b":9},"merges":[["a","##b"],["ab","##c"]]})";
  auto m = model_from_string(head + tail);
  auto mb = model_from_string(head + R"("byte_fallback":true,)" + tail);
  expect_cases(*m, {
      {"ab", "4:ab(0,2)"},
      {"abc", "5:abc(0,3)"},
      {"abcb", "5:abc(0,3) 2:##b(3,4)"},
      {"ba", "9:b(0,1) 0:[UNK](1,2)"},
      {"aé", "1:a(0,1) 0:[UNK](1,3)"},
  });
  expect_cases(*mb, {
      {"aé", "1:a(0,1) 6:<0x23>(1,2) 6:<0x23>(2,3) 7:<0xC3>(3,4) 8:<0xA9>(4,5)"},
      {"éa", "7:<0xC3>(0,1) 8:<0xA9>(1,2) 0:[UNK](2,3)"},
  });
}

TEST(ModelsBpe, EndOfWordSuffix) {
  // v = {"<unk>":0,"a":1,"b":2,"b</w>":3,"ab</w>":4,"ab":5,"c</w>":6,"abc</w>":7}
  // M = {"type":"BPE","unk_token":"<unk>","end_of_word_suffix":"</w>","vocab":v,
  //      "merges":["a b</w>","a b","ab c</w>"]}
  auto m = model_from_string(
      R"({"type":"BPE","unk_token":"<unk>","end_of_word_suffix":"</w>",)"
      R"("vocab":{"<unk>":0,"a":1,"b":2,"b</w>":3,"ab</w>":4,"ab":5,"c</w>":6,"abc</w>":7},)"
      R"("merges":["a b</w>","a b","ab c</w>"]})");
  expect_cases(*m, {
      {"ab", "4:ab</w>(0,2)"},
      {"abb", "5:ab(0,2) 3:b</w>(2,3)"},
      {"b", "3:b</w>(0,1)"},
      {"abc", "7:abc</w>(0,3)"},
      {"ac", "1:a(0,1) 6:c</w>(1,2)"},
  });
}

TEST(ModelsBpe, IgnoreMerges) {
  // Rust's test_ignore_merges vocabulary and merges, with ignore_merges true then false.
  std::string body =
      R"("vocab":{".:.:":0,"Ġbelirtilen":1,".":2,":":3,"bel":4,"irtilen":5,"Ġ":6,".:":7,)"
      R"("belirtilen":8,".:.":9,"be":10,"l":11,"ir":12,"ti":13,"en":14,"irtil":15,"irti":16,)"
      R"("i":17,"r":18,"t":19,"b":20,"e":21,"n":22},"merges":[[".",":"],["b","e"],["be","l"],)"
      R"(["i","r"],["t","i"],["ir","ti"],["e","n"],["irti","l"]]})";
  auto on = model_from_string(R"({"type":"BPE","ignore_merges":true,)" + body);
  auto off = model_from_string(R"({"type":"BPE","ignore_merges":false,)" + body);
  expect_cases(*on, {
      {".:.:", "0:.:.:(0,4)"},
      {"Ġbelirtilen", "1:Ġbelirtilen(0,12)"},
  });
  expect_cases(*off, {
      {".:.:", "7:.:(0,2) 7:.:(2,4)"},
      {"Ġbelirtilen", "6:Ġ(0,2) 4:bel(2,5) 15:irtil(5,10) 14:en(10,12)"},
  });
}

TEST(ModelsBpe, MergeOrderByRankThenPosition) {
  // v = {"a":0,"b":1,"ab":2,"ba":3,"aba":4,"bab":5,"abab":6}
  // M = {"type":"BPE","vocab":v,"merges":["b a","a b","ab a","ab ab","a b"]}: the duplicated
  // "a b" keeps its later rank (4), so "b a" (rank 0) wins everywhere.
  auto m = model_from_string(
      R"({"type":"BPE","vocab":{"a":0,"b":1,"ab":2,"ba":3,"aba":4,"bab":5,"abab":6},)"
      R"("merges":["b a","a b","ab a","ab ab","a b"]})");
  expect_cases(*m, {
      {"abab", "0:a(0,1) 3:ba(1,3) 1:b(3,4)"},
      {"aba", "0:a(0,1) 3:ba(1,3)"},
      {"bab", "3:ba(0,2) 1:b(2,3)"},
      {"ababa", "0:a(0,1) 3:ba(1,3) 3:ba(3,5)"},
      {"babab", "3:ba(0,2) 3:ba(2,4) 1:b(4,5)"},
  });
}

TEST(ModelsBpe, MergeFormsAreEquivalentAndVersionLinesSkipped) {
  auto legacy = model_from_string(bpe_json("", R"(["#version: 0.2","a b","b c","ab c","c d"])"));
  auto pairs = model_from_string(bpe_json("", R"([["a","b"],["b","c"],["ab","c"],["c","d"]])"));
  for (std::string_view p : {"abc", "abcd", "bcd", "dcba", "cdab"}) {
    EXPECT_EQ(run(*legacy, p), run(*pairs, p)) << p;
  }
  EXPECT_EQ(run(*legacy, "abcd"), "6:abc(0,3) 7:d(3,4)");
  // Tokens containing spaces need the pair form.
  // {"type":"BPE","vocab":{"a":0," ":1,"b":2,"a ":3,"a b":4,"c":5,"a bc":6},
  //  "merges":[["a"," "],["a ","b"],["a b","c"]]} on "a bc" -> 6:a bc(0,4)
  auto spaced = model_from_string(
      R"({"type":"BPE","vocab":{"a":0," ":1,"b":2,"a ":3,"a b":4,"c":5,"a bc":6},)"
      R"("merges":[["a"," "],["a ","b"],["a b","c"]]})");
  EXPECT_EQ(run(*spaced, "a bc"), "6:a bc(0,4)");
}

TEST(ModelsBpe, LoadErrorsNameTheJsonPath) {
  // Python: Token `c` out of vocabulary / Token `ba` out of vocabulary / Merges text file
  // invalid at line 1 / data did not match any variant of untagged enum MergeType / Dropout
  // should be between 0 and 1 / invalid value: integer `-1`, expected u32 / Missing
  // vocab/merges. Our messages name the JSON path instead.
  EXPECT_EQ(load_error(R"({"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b","a c"]})"),
            "$.model.merges[1]: token \"c\" not in vocab");
  EXPECT_EQ(load_error(
                R"({"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":[["a","b"],["b","a"]]})"),
            "$.model.merges[1]: token \"ba\" not in vocab");
  EXPECT_EQ(load_error(R"({"type":"BPE","vocab":{"a":0},"merges":["#version","a  b"]})"),
            "$.model.merges[1]: merge \"a  b\" must be two tokens separated by a single space");
  EXPECT_EQ(load_error(R"({"type":"BPE","vocab":{"a":0},"merges":["a"]})"),
            "$.model.merges[0]: merge \"a\" must be two tokens separated by a single space");
  EXPECT_EQ(load_error(R"({"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b",["a","b"]]})"),
            "$.model.merges[1]: expected a string \"a b\" like the first merge");
  EXPECT_EQ(load_error(R"({"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":[["a","b","c"]]})"),
            "$.model.merges[0]: expected an array of two strings [\"a\", \"b\"]");
  EXPECT_EQ(load_error(R"({"type":"BPE","vocab":{},"merges":[],"dropout":1.5})"),
            "$.model.dropout: dropout must be between 0 and 1, inclusive");
  EXPECT_TRUE(
      load_error_mentions(R"({"type":"BPE","vocab":{"a":-1},"merges":[]})", "$.model.vocab.a"));
  EXPECT_TRUE(load_error_mentions(
      R"({"type":"BPE","vocab":{"a":4294967296},"merges":[]})",
      "$.model.vocab.a"));
  EXPECT_TRUE(load_error_mentions(
      R"({"type":"BPE","vocab":{"a":1.0},"merges":[]})",
      "$.model.vocab.a"));
  EXPECT_TRUE(load_error_mentions(R"({"type":"BPE","vocab":[],"merges":[]})", "$.model.vocab"));
  EXPECT_EQ(load_error(R"({"type":"BPE","vocab":{"a":0}})"),
            "$.model: BPE needs both \"vocab\" and \"merges\"");
  // Rust panics slicing b[prefix_len..] when b is shorter than the prefix; we report it.
  EXPECT_TRUE(load_error_mentions(
      R"({"type":"BPE","continuing_subword_prefix":"##","vocab":{"a":0,"#":1,"a#":2},)"
      R"("merges":["a #"]})",
      "$.model.merges[0]"));
}

TEST(ModelsBpe, HostileIds) {
  // Ids may be sparse, huge (up to 2^32-1) or shared; nothing may crash.
  auto m = model_from_string(
      R"({"type":"BPE","vocab":{"a":4294967295,"aa":7,"b":1000000000},"merges":["a a"]})");
  EXPECT_EQ(run(*m, "a"), "4294967295:a(0,1)");
  EXPECT_EQ(run(*m, "aab"), "7:aa(0,2) 1000000000:b(2,3)");
  EXPECT_EQ(m->id_to_token(4294967295u), std::optional<std::string_view>("a"));
  EXPECT_EQ(m->id_to_token(8), std::nullopt);
  EXPECT_EQ(m->token_to_id("b"), 1000000000u);
  EXPECT_EQ(m->vocab_size(), 3u);

  auto shared = model_from_string(R"({"type":"BPE","vocab":{"x":0,"y":0},"merges":[]})");
  EXPECT_EQ(shared->vocab_size(), 2u);
  ASSERT_TRUE(shared->id_to_token(0).has_value());
  EXPECT_TRUE(*shared->id_to_token(0) == "x" || *shared->id_to_token(0) == "y");

  auto empty = model_from_string(R"({"type":"BPE","vocab":{},"merges":[]})");
  EXPECT_EQ(run(*empty, "abc"), "");
  EXPECT_EQ(empty->vocab_size(), 0u);
  EXPECT_EQ(empty->id_to_token(0), std::nullopt);
}

TEST(ModelsBpe, DropoutOneSkipsEveryMerge) {
  auto m = model_from_string(bpe_json(R"("dropout":1.0,)", R"(["a b","b c","ab c","c d"])"));
  EXPECT_EQ(run(*m, "abcd"), "1:a(0,1) 2:b(1,2) 3:c(2,3) 7:d(3,4)");
  auto zero = model_from_string(bpe_json(R"("dropout":0.0,)", R"(["a b","b c","ab c","c d"])"));
  EXPECT_EQ(run(*zero, "abcd"), "6:abc(0,3) 7:d(3,4)");
}

TEST(ModelsBpe, DropoutIsRandomButSeedable) {
  const Json& gpt2 = fixture_json("gpt2");
  Json model = gpt2.at("model");
  model["dropout"] = 0.5;
  auto m = model_from_json(JsonRef(model, "$.model"));
  const std::string piece = "Ġantidisestablishmentarianism";
  ASSERT_TRUE(set_bpe_dropout_seed(*m, 42));
  std::string first = run(*m, piece);
  ASSERT_TRUE(set_bpe_dropout_seed(*m, 42));
  EXPECT_EQ(run(*m, piece), first);
  std::set<std::string> seen;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    set_bpe_dropout_seed(*m, seed);
    std::vector<Token> tokens = m->tokenize(piece);
    std::string joined;
    for (const Token& t : tokens) {
      joined += t.value;
      EXPECT_EQ(m->token_to_id(t.value), t.id);
    }
    EXPECT_EQ(joined, piece);
    EXPECT_EQ(tokens.back().offsets.second, piece.size());
    seen.insert(testing::format_tokens(tokens));
  }
  EXPECT_GT(seen.size(), 5u);
  auto word_level = model_from_string(R"({"type":"WordLevel","vocab":{},"unk_token":"x"})");
  EXPECT_FALSE(set_bpe_dropout_seed(*word_level, 1));
}

// Real vocabularies. gen: tok = Tokenizer.from_file(F); pieces of
// tok.pre_tokenizer.pre_tokenize_str(tok.normalizer.normalize_str(text)) for a few sentences;
// expected tok.model.tokenize(p).
TEST(ModelsBpe, RealGpt2) {
  expect_cases(fixture_model("gpt2"), {
      {"Hello", "15496:Hello(0,5)"},
      {"Ġworld", "995:Ġworld(0,7)"},
      {"âŃ¢", "158:â(0,2) 255:Ń(2,4) 95:¢(4,6)"},
      {"ĠðŁ¤Ĺ", "12520:ĠðŁ(0,6) 97:¤(6,8) 245:Ĺ(8,10)"},
      {"ĠnaÃ¯ve", "41492:ĠnaÃ¯ve(0,10)"},
      {"ĠĠ", "220:Ġ(0,2) 220:Ġ(2,4)"},
      {"ĊĊ", "628:ĊĊ(0,4)"},
      {"tabs", "8658:tab(0,3) 82:s(3,4)"},
      {"Ġ1234567", "17031:Ġ123(0,5) 2231:45(5,7) 3134:67(7,9)"},
      {"éĩİåı£éĩĮä½³",
       "34932:éĩ(0,4) 236:İ(4,6) 20998:åı(6,10) 96:£(10,12) 34932:éĩ(12,16) 234:Į(16,18) "
       "19526:ä½(18,22) 111:³(22,24)"},
      {"supercalifragilisticexpialidocious",
       "16668:super(0,5) 9948:cal(5,8) 361:if(8,10) 22562:rag(10,13) 346:il(13,15) 396:ist(15,18) "
       "501:ice(18,21) 42372:xp(21,23) 498:ial(23,26) 312:id(26,28) 32346:ocious(28,34)"},
      {"Ġantidisestablishmentarianism",
       "1885:Ġant(0,5) 29207:idis(5,9) 44390:establishment(9,22) 3699:arian(22,27) "
       "1042:ism(27,30)"},
  });
}

TEST(ModelsBpe, RealLlama2) {
  // byte_fallback + fuse_unk, no pre-tokenizer (the whole normalized text is one piece).
  expect_cases(fixture_model("llama-2"), {
      {"▁Hello▁world!▁How▁are▁you▁doing?",
       "15043:▁Hello(0,8) 3186:▁world(8,16) 29991:!(16,17) 1128:▁How(17,23) 526:▁are(23,29) "
       "366:▁you(29,35) 2599:▁doing(35,43) 29973:?(43,44)"},
      {"▁i⭢j▁🤗▁naïve▁café",
       "474:▁i(0,4) 229:<0xE2>(4,5) 176:<0xAD>(5,6) 165:<0xA2>(6,7) 29926:j(7,8) 29871:▁(8,11) "
       "243:<0xF0>(11,12) 162:<0x9F>(12,13) 167:<0xA4>(13,14) 154:<0x97>(14,15) 1055:▁na(15,20) "
       "30085:ï(20,22) 345:ve(22,24) 274:▁c(24,28) 28059:afé(28,32)"},
      {"▁▁▁▁leading▁▁spaces\n\n\ttabs",
       "1678:▁▁▁(0,9) 8236:▁leading(9,19) 29871:▁(19,22) 8162:▁spaces(22,31) 13:<0x0A>(31,32) "
       "13:<0x0A>(32,33) 12:<0x09>(33,34) 21175:tabs(34,38)"},
      {"▁12▁and▁123▁and▁1234567",
       "29871:▁(0,3) 29896:1(3,4) 29906:2(4,5) 322:▁and(5,11) 29871:▁(11,14) 29896:1(14,15) "
       "29906:2(15,16) 29941:3(16,17) 322:▁and(17,23) 29871:▁(23,26) 29896:1(26,27) "
       "29906:2(27,28) 29941:3(28,29) 29946:4(29,30) 29945:5(30,31) 29953:6(31,32) 29955:7(32,33)"},
      {"▁野口里佳▁Noguchi▁Rika",
       "29871:▁(0,3) 30661:野(3,6) 30856:口(6,9) 30755:里(9,12) 231:<0xE4>(12,13) 192:<0xBD>(13,14) "
       "182:<0xB3>(14,15) 405:▁N(15,19) 468:og(19,21) 987:uch(21,24) 29875:i(24,25) 390:▁R(25,29) "
       "4106:ika(29,32)"},
      {"▁You▁should've▁done▁this,▁can't▁you?",
       "887:▁You(0,6) 881:▁should(6,15) 29915:'(15,16) 345:ve(16,18) 2309:▁done(18,25) "
       "445:▁this(25,32) 29892:,(32,33) 508:▁can(33,39) 29915:'(39,40) 29873:t(40,41) "
       "366:▁you(41,47) 29973:?(47,48)"},
      {"▁supercalifragilisticexpialidocious▁antidisestablishmentarianism",
       "2428:▁super(0,8) 1052:cal(8,11) 361:if(11,13) 1431:rag(13,16) 309:il(16,18) "
       "391:ist(18,21) 625:ice(21,24) 26330:xp(24,26) 616:ial(26,29) 1941:ido(29,32) "
       "8802:cious(32,37) 3677:▁ant(37,43) 333:id(43,45) 275:is(45,47) 342:est(47,50) "
       "370:ab(50,52) 1674:lish(52,56) 358:ment(56,60) 13956:arian(60,65) 1608:ism(65,68)"},
  });
}

TEST(ModelsBpe, RealClip) {
  // end_of_word_suffix "</w>".
  expect_cases(fixture_model("clip"), {
      {"hello", "3306:hello</w>(0,5)"},
      {"!", "256:!</w>(0,1)"},
      {"âŃ¢", "5527:âŃ(0,4) 351:¢</w>(4,6)"},
      {"ðŁ¤Ĺ", "10465:ðŁ¤Ĺ</w>(0,8)"},
  });
}

TEST(ModelsBpe, RealLlama3) {
  // ignore_merges: 'Ġviá»ĩc' is a vocab entry that merging would split into Ġvi á»ĩ c.
  expect_cases(fixture_model("llama-3"), {
      {"Ġworld", "1917:Ġworld(0,7)"},
      {"âŃ¢j", "158:â(0,2) 255:Ń(2,4) 95:¢(4,6) 73:j(6,7)"},
      {"ĠðŁ¤Ĺ", "11410:ĠðŁ(0,6) 97:¤(6,8) 245:Ĺ(8,10)"},
      {"ĠnaÃ¯ve", "95980:ĠnaÃ¯(0,8) 588:ve(8,10)"},
      {"Ġviá»ĩc", "100769:Ġviá»ĩc(0,11)"},
      {"ektedir", "101673:ektedir(0,7)"},
  });
}

// The slow reference: classic BPE that repeatedly applies the lowest-rank merge, leftmost
// first, on strings. Must agree with both merge paths (the rank scan used for words of up to
// 48 symbols and Rust's heap algorithm for longer ones) on a real vocabulary.
using Ranks = std::map<std::pair<std::string, std::string>, size_t>;

std::vector<std::string> classic_bpe(std::string_view piece, const Ranks& ranks) {
  std::vector<std::string> syms;
  for (size_t i = 0; i < piece.size();) {
    size_t len = unicode::utf8_seq_len(static_cast<unsigned char>(piece[i]));
    syms.emplace_back(piece.substr(i, len));
    i += len;
  }
  while (true) {
    size_t best = SIZE_MAX, best_i = 0;
    for (size_t i = 0; i + 1 < syms.size(); ++i) {
      auto it = ranks.find({syms[i], syms[i + 1]});
      if (it != ranks.end() && it->second < best) {
        best = it->second;
        best_i = i;
      }
    }
    if (best == SIZE_MAX) break;
    syms[best_i] += syms[best_i + 1];
    syms.erase(syms.begin() + static_cast<std::ptrdiff_t>(best_i) + 1);
  }
  return syms;
}

TEST(ModelsBpe, MatchesClassicReferenceOnGpt2) {
  const Json& j = fixture_json("gpt2").at("model");
  Ranks ranks;
  const Json& merges = j.at("merges");
  for (size_t r = 0; r < merges.size(); ++r) {
    std::string s = merges[r].get<std::string>();
    size_t sp = s.find(' ');
    ranks.emplace(std::make_pair(s.substr(0, sp), s.substr(sp + 1)), r);
  }
  std::vector<std::string> tokens;
  for (const auto& [tok, id] : j.at("vocab").items()) tokens.push_back(tok);
  const Model& m = fixture_model("gpt2");
  std::mt19937 rng(7);
  for (int n = 0; n < 300; ++n) {
    std::string piece;
    int parts = n % 6 == 0 ? 10 + static_cast<int>(rng() % 20) : 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < parts; ++k) piece += tokens[rng() % tokens.size()];
    std::vector<std::string> want = classic_bpe(piece, ranks);
    std::vector<Token> got = m.tokenize(piece);
    ASSERT_EQ(got.size(), want.size()) << piece;
    size_t pos = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].value, want[i]) << piece;
      EXPECT_EQ(got[i].offsets, Offsets(pos, pos + want[i].size())) << piece;
      pos += want[i].size();
    }
  }
}

TEST(ModelsBpe, PieceCacheIsPerModel) {
  // Short pieces are cached per thread; entries of one model must never serve another, even
  // one allocated where a destroyed model was.
  for (int i = 0; i < 3; ++i) {
    auto ab = model_from_string(bpe_json("", R"(["a b"])"));
    auto bc = model_from_string(bpe_json("", R"(["b c"])"));
    auto unk = model_from_string(bpe_json(R"("unk_token":"<unk>","fuse_unk":true,)", R"(["a b"])"));
    for (int repeat = 0; repeat < 2; ++repeat) {
      EXPECT_EQ(run(*ab, "abc"), "4:ab(0,2) 3:c(2,3)");
      EXPECT_EQ(run(*bc, "abc"), "1:a(0,1) 5:bc(1,3)");
      EXPECT_EQ(run(*unk, "xxab"), "0:<unk>(0,2) 4:ab(2,4)");
    }
  }
}

TEST(ModelsBpe, ConcurrentCallsAgree) {
  const Model& m = fixture_model("gpt2");
  const std::vector<std::string> pieces = {"Ġantidisestablishmentarianism", "Hello", "Ġ1234567",
                                           "supercalifragilisticexpialidocious", "ĠðŁ¤Ĺ"};
  std::vector<std::string> want;
  for (const auto& p : pieces) want.push_back(run(m, p));
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < 200; ++r) {
        for (size_t i = 0; i < pieces.size(); ++i) failures[t] += run(m, pieces[i]) != want[i];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

}  // namespace
}  // namespace mlhub::tok
