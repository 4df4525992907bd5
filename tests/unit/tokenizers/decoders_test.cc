// Decoders (spec section 13), their JSON loading, the UTF-8 replacement of byte decoding and
// the clean-up helpers. Golden data: tests/golden/tokenizers/decoder_cases.json, written by
// tools/reference/gen_decoder_cases.py with tokenizers 0.22.2 (`decoder.decode(tokens)`), which
// covers spec 16.25 and the decoder of every shared tokenizer.json.
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "encoding_test_util.h"
#include "tokenizers/components.h"
#include "tokenizers/decoders/decoders.h"
#include "tokenizers/utf8_lossy.h"

namespace mlhub::tok {
namespace {

std::unique_ptr<Decoder> decoder(const Json& j) {
  return decoder_from_json(JsonRef(j, "$.decoder"));
}
std::unique_ptr<Decoder> parse_decoder(std::string_view json) { return decoder(Json::parse(json)); }

// What Tokenizer::decode does after the id -> token step: run the chain, join with "".
std::string decode(const Decoder& d, std::vector<std::string> tokens) {
  std::string out;
  for (const std::string& s : d.decode_chain(std::move(tokens))) out += s;
  return out;
}

TEST(DecodersGolden, Synthetic) {
  const Json doc = testing::load_golden("decoder_cases.json");
  ASSERT_GT(doc["synthetic"].size(), 30u);
  for (const Json& c : doc["synthetic"]) {
    SCOPED_TRACE(c["decoder"].dump() + " on " + c["tokens"].dump());
    ASSERT_FALSE(c["expected"].is_null());
    EXPECT_EQ(decode(*decoder(c["decoder"]), c["tokens"]), c["expected"].get<std::string>());
  }
}

TEST(DecodersGolden, LoadingAcceptsAndRejectsLikeTheReference) {
  const Json doc = testing::load_golden("decoder_cases.json");
  ASSERT_GT(doc["load"].size(), 20u);
  for (const Json& c : doc["load"]) {
    SCOPED_TRACE(c["decoder"].dump());
    if (c["error"].get<bool>()) {
      EXPECT_THROW(decoder(c["decoder"]), Error);
    } else {
      EXPECT_NO_THROW(decoder(c["decoder"]));
    }
  }
}

TEST(DecodersGolden, SharedTokenizerFiles) {
  // Tokens of encoded corpus lines and of random ids (partial UTF-8, byte-fallback runs).
  const Json doc = testing::load_golden("decoder_cases.json");
  ASSERT_GE(doc["file_decoders"].size(), 10u);
  for (const auto& [folder, f] : doc["file_decoders"].items()) {
    SCOPED_TRACE(folder);
    auto d = decoder(f["decoder"]);
    for (const Json& c : f["cases"]) {
      EXPECT_EQ(decode(*d, c["tokens"]), c["expected"].get<std::string>()) << c["tokens"].dump();
    }
  }
}

TEST(Decoders, ErrorsNameTheJsonPath) {
  auto error_of = [](std::string_view json) {
    try {
      parse_decoder(json);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error_of(R"({"type":"WordPiece","prefix":"##"})")
                .find("$.decoder: missing required field \"cleanup\""),
            std::string::npos);
  EXPECT_NE(error_of(R"({"type":"Strip","content":"ab","start":1,"stop":0})")
                .find("$.decoder.content: expected a string of exactly one character"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"type":"Sequence","decoders":[{"type":"Fuse"},{"type":"Metaspace",
    "replacement":"_","prepend_scheme":"sometimes"}]})")
                .find("$.decoder.decoders[1].prepend_scheme"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"type":"Replace","pattern":{"Regex":"("},"content":""})")
                .find("$.decoder.pattern.Regex"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"type":"Nope"})").find("\"Nope\""), std::string::npos);
  EXPECT_NE(error_of("7").find("$.decoder"), std::string::npos);
}

TEST(Decoders, StripNeverPanics) {
  // The reference panics on these (slice start > end, index underflow); here the token
  // simply becomes empty.
  auto strip_1_1 = parse_decoder(R"({"type":"Strip","content":"_","start":1,"stop":1})");
  EXPECT_EQ(decode(*strip_1_1, {"_", "a_"}), "a");
  auto strip_0_5 = parse_decoder(R"({"type":"Strip","content":"_","start":0,"stop":5})");
  EXPECT_EQ(decode(*strip_0_5, {"__", "b"}), "b");
  auto strip_space = parse_decoder(R"({"type":"Strip","content":" ","start":1,"stop":1})");
  EXPECT_EQ(decode(*strip_space, {""}), "");
  // Malformed UTF-8 in a token (only possible for hand-built tokens) is kept byte for byte.
  EXPECT_EQ(decode(*parse_decoder(R"({"type":"Strip","content":"a","start":1,"stop":1})"),
                   {std::string("a\xE5\x8F", 3)}),
            std::string("\xE5\x8F", 2));
}

TEST(Decoders, EmptyInputs) {
  for (const char* json :
       {R"({"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true})",
        R"({"type":"WordPiece","prefix":"##","cleanup":true})",
        R"({"type":"Metaspace","replacement":"_"})", R"({"type":"BPEDecoder","suffix":"</w>"})",
        R"({"type":"ByteFallback"})", R"({"type":"Fuse"})",
        R"({"type":"CTC","pad_token":"<pad>","word_delimiter_token":"|","cleanup":true})",
        R"({"type":"Replace","pattern":{"String":""},"content":"x"})"}) {
    SCOPED_TRACE(json);
    EXPECT_EQ(decode(*parse_decoder(json), {}), "");
  }
}

TEST(Decoders, ArbitraryBytesNeverCrash) {
  // Hand-built tokens may hold any bytes; every decoder must stay in bounds (run under ASan),
  // and the byte-level decoder must always produce valid UTF-8.
  const char* configs[] = {
      R"({"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true})",
      R"({"type":"WordPiece","prefix":"##","cleanup":true})",
      R"({"type":"Metaspace","replacement":"\u2581","prepend_scheme":"first"})",
      R"({"type":"BPEDecoder","suffix":""})", R"({"type":"ByteFallback"})",
      R"({"type":"Strip","content":"\u00e9","start":2,"stop":3})",
      R"({"type":"Replace","pattern":{"String":""},"content":"-"})",
      R"({"type":"CTC","pad_token":"","word_delimiter_token":"","cleanup":true})"};
  std::mt19937 rng(1234);
  const std::string alphabet[] = {"a", " ", "\xC3", "\xA9", "\xE2\x96\x81", "\xF0", "\x9F", "<0x",
                                  "E5>", "##", "\xC4\xA0", "\xFF", "_"};
  for (const char* json : configs) {
    SCOPED_TRACE(json);
    auto d = parse_decoder(json);
    for (int iter = 0; iter < 300; ++iter) {
      std::vector<std::string> tokens(rng() % 5);
      for (std::string& t : tokens) {
        for (int k = rng() % 5; k > 0; --k) t += alphabet[rng() % std::size(alphabet)];
      }
      const std::string out = decode(*d, tokens);
      if (std::string_view(json).find("ByteLevel") != std::string_view::npos) {
        EXPECT_EQ(utf8_lossy(out), out);
      }
    }
  }
}

TEST(Utf8Lossy, MaximalSubpartsBecomeOneReplacementEach) {
  // Python: b.decode("utf-8", "replace"), which follows the same Unicode practice as Rust's
  // String::from_utf8_lossy.
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(utf8_lossy("\xE5\x8F"), r);
  EXPECT_EQ(utf8_lossy("a\xE5\x8F" "b"), "a" + r + "b");
  EXPECT_EQ(utf8_lossy("\xF0\x9F\xA4"), r);
  EXPECT_EQ(utf8_lossy("\xF0\x9F\xA4\x97"), "\xF0\x9F\xA4\x97");
  EXPECT_EQ(utf8_lossy("\xED\xA0\x80"), r + r + r);  // surrogate
  EXPECT_EQ(utf8_lossy("\xC0\xAF"), r + r);          // overlong
  EXPECT_EQ(utf8_lossy("\xF4\x90\x80\x80"), r + r + r + r);  // > U+10FFFF
  EXPECT_EQ(utf8_lossy("\xE0\x80\xAF"), r + r + r);
  EXPECT_EQ(utf8_lossy("\x80\x80"), r + r);
  EXPECT_EQ(utf8_lossy("\xFF\xFE"), r + r);
  EXPECT_EQ(utf8_lossy("\xF0\x90\x80"), r);
  EXPECT_EQ(utf8_lossy("\xE1\x80\xE2\xF0\x91\x92\xF1\xBF\x41"), r + r + r + r + "A");
  EXPECT_EQ(utf8_lossy("\xF8\x88\x80\x80\x80"), r + r + r + r + r);
  EXPECT_EQ(utf8_lossy(""), "");
  EXPECT_EQ(utf8_lossy("plain ascii \xC3\xA9"), "plain ascii \xC3\xA9");
  EXPECT_EQ(utf8_lossy(std::string("a\0b", 3)), std::string("a\0b", 3));
}

TEST(Cleanup, TransformersCleanUpTokenization) {
  // transformers 4.57.3: PreTrainedTokenizerBase.clean_up_tokenization(s).
  EXPECT_EQ(clean_up_tokenization("Hello , world ! Is it ? yes . I do not know"),
            "Hello, world! Is it? yes. I do not know");
  EXPECT_EQ(clean_up_tokenization("I ' m here , they 're , we 've , it 's , don 't , can n't"),
            "I'm here, they're, we've, it's, don 't, cann't");
  EXPECT_EQ(clean_up_tokenization(" . . ."), "...");
  EXPECT_EQ(clean_up_tokenization("a  .b ,"), "a .b,");
  EXPECT_EQ(clean_up_tokenization(""), "");
  // The Rust WordPiece/CTC clean-up also rewrites " do not".
  EXPECT_EQ(wordpiece_cleanup("I do not know ."), "I don't know.");
}

TEST(Cleanup, ReplaceAllHasRustSemantics) {
  EXPECT_EQ(replace_all("ab", "", "-"), "-a-b-");
  EXPECT_EQ(replace_all("", "", "-"), "-");
  EXPECT_EQ(replace_all("\xC3\xA9x", "", "-"), "-\xC3\xA9-x-");  // boundaries are chars
  EXPECT_EQ(replace_all("aaa", "aa", "b"), "ba");
  EXPECT_EQ(replace_all("xyz", "q", "b"), "xyz");
}

}  // namespace
}  // namespace mlhub::tok
