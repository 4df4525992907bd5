// Normalizers (spec section 5): JSON factory, normalized text and original offsets of every
// output char, checked against tokenizers 0.22.2. The vectors were produced with:
//
//   import json
//   from tokenizers import PreTokenizedString, Regex, Tokenizer
//   def normalizer(nj):  # build the component through a tiny tokenizer.json
//       d = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": [],
//            "normalizer": nj, "pre_tokenizer": None, "post_processor": None, "decoder": None,
//            "model": {"type": "WordLevel", "vocab": {"a": 0}, "unk_token": "a"}}
//       return Tokenizer.from_str(json.dumps(d)).normalizer
//   def reference(norm, s):  # normalized text + per-char original byte offsets
//       p = PreTokenizedString(s)
//       p.normalize(lambda ns: norm.normalize(ns))
//       p.split(lambda i, ns: ns.split(Regex("(?m)."), "isolated"))
//       sp = p.get_splits(offset_referential="original", offset_type="byte")
//       return "".join(t for t, _, _ in sp), [o for _, o, _ in sp]
#include "tokenizers/normalizers/normalizers.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "mlhub/core.h"
#include "tokenizers/unicode.h"

namespace mlhub::tok {
namespace {

using OffsetList = std::vector<Offsets>;
using namespace std::string_literals;

struct Case {
  const char* normalizer;
  std::string input;
  std::string normalized;
  OffsetList offsets;
};

std::unique_ptr<Normalizer> from_json(std::string_view text) {
  Json j = Json::parse(text);
  return normalizer_from_json(JsonRef(j, "$.normalizer"));
}

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

void check(const Normalizer& n, const std::string& input, const std::string& normalized,
           const OffsetList& offsets, const std::string& label) {
  NormalizedString ns(input);
  n.normalize(ns);
  EXPECT_EQ(ns.get(), normalized) << label << " on \"" << input << "\"";
  EXPECT_EQ(char_offsets(ns), offsets) << label << " on \"" << input << "\"";
}

// reference(normalizer(nj), s) for each (nj, s).
const Case kCases[] = {
    {R"({"type": "NFC"})", "He\xCC\x81llo", "Héllo", {{0,1}, {1,2}, {4,5}, {5,6}, {6,7}}},
    {R"({"type": "NFC"})", "각 x\xCD\x85\xCC\x81\xCC\x93y", "각 x\xCC\x81\xCC\x93\xCD\x85y", {{0,3}, {9,10}, {10,11}, {11,13}, {13,15}, {15,17}, {17,18}}},
    {R"({"type": "NFC"})", "a\xCC\xA8\xCC\x81\xCC\xA3", "ą\xCC\xA3\xCC\x81", {{0,1}, {3,5}, {5,7}}},
    {R"({"type": "NFD"})", "Héllò 각", "He\xCC\x81llo\xCC\x80 각", {{0,1}, {1,3}, {1,3}, {3,4}, {4,5}, {5,7}, {5,7}, {7,8}, {8,11}, {8,11}, {8,11}}},
    {R"({"type": "NFKC"})", "ﬁ ﬂ ㎏ ①", "fi fl kg 1", {{0,3}, {0,3}, {3,4}, {4,7}, {4,7}, {7,8}, {8,11}, {8,11}, {11,12}, {12,15}}},
    {R"({"type": "NFKC"})", "Ａ\xCC\x81 ꟲ", "Á ꟲ", {{0,3}, {5,6}, {6,9}}},
    {R"({"type": "NFKD"})", "ậ…", "a\xCC\xA3\xCC\x82...", {{0,3}, {0,3}, {0,3}, {3,6}, {3,6}, {3,6}}},
    {R"({"type": "Lowercase"})", "İstanbul ΟΔΟΣ STRASSE ß ẞ", "i\xCC\x87stanbul οδοσ strasse ß ß", {{0,2}, {0,2}, {2,3}, {3,4}, {4,5}, {5,6}, {6,7}, {7,8}, {8,9}, {9,10}, {10,12}, {12,14}, {14,16}, {16,18}, {18,19}, {19,20}, {20,21}, {21,22}, {22,23}, {23,24}, {24,25}, {25,26}, {26,27}, {27,29}, {29,30}, {30,33}}},
    {R"({"type": "StripAccents"})", "e\xCC\x84\xCC\x84\xCC\x84o", "eo", {{0,1}, {7,8}}},
    {R"({"type": "Nmt"})", "a\x01" "b\x09" "c\xE2\x80\x8B" "d\xEF\xBB\xBF" "e\x7F", "ab c d e", {{0,1}, {2,3}, {3,4}, {4,5}, {5,8}, {8,9}, {9,12}, {12,13}}},
    {R"({"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true})", "Héllò", "hello", {{0,1}, {1,3}, {3,4}, {4,5}, {5,7}}},
    {R"({"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true})", " \x09HäLLo!how  \x0A Are yoU?  ", "  hallo!how    are you?  ", {{0,1}, {1,2}, {2,3}, {3,5}, {5,6}, {6,7}, {7,8}, {8,9}, {9,10}, {10,11}, {11,12}, {12,13}, {13,14}, {14,15}, {15,16}, {16,17}, {17,18}, {18,19}, {19,20}, {20,21}, {21,22}, {22,23}, {23,24}, {24,25}, {25,26}}},
    {R"({"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true})", "\xEF\xBB\xBFHello", "hello", {{3,4}, {4,5}, {5,6}, {6,7}, {7,8}}},
    {R"({"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true})", "1\x00" "2�3"s, "123", {{0,1}, {2,3}, {6,7}}},
    {R"({"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true})", "ah博推zz", "ah 博  推 zz", {{0,1}, {1,2}, {2,5}, {2,5}, {2,5}, {5,8}, {5,8}, {5,8}, {8,9}, {9,10}}},
    {R"({"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true})", "野口里佳 Noguchi Rika", " 野  口  里  佳  noguchi rika", {{0,3}, {0,3}, {0,3}, {3,6}, {3,6}, {3,6}, {6,9}, {6,9}, {6,9}, {9,12}, {9,12}, {9,12}, {12,13}, {13,14}, {14,15}, {15,16}, {16,17}, {17,18}, {18,19}, {19,20}, {20,21}, {21,22}, {22,23}, {23,24}, {24,25}}},
    {R"({"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true})", "a\x0B\x0C" "b\xC2\x85" "c\xE2\x80\xA8" "d\xC2\xAD" "e", "abc de", {{0,1}, {3,4}, {6,7}, {7,10}, {10,11}, {13,14}}},
    {R"({"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": false})", "Héllò 안녕", "Héllò 안녕", {{0,1}, {1,3}, {3,4}, {4,5}, {5,7}, {7,8}, {8,11}, {11,14}}},
    {R"({"type": "BertNormalizer", "clean_text": false, "handle_chinese_chars": false, "strip_accents": true, "lowercase": false})", "Héllò \xE0\xB9\x89", "Hello ", {{0,1}, {1,3}, {3,4}, {4,5}, {5,7}, {7,8}}},
    {R"({"type": "Strip", "strip_left": true, "strip_right": true})", "  \xE3\x80\x80hi \xE2\x80\x80 ", "hi", {{5,6}, {6,7}}},
    {R"({"type": "Strip", "strip_left": true, "strip_right": false})", "  hé  ", "hé  ", {{2,3}, {3,5}, {5,6}, {6,7}}},
    {R"({"type": "Strip", "strip_left": false, "strip_right": true})", "  hé  ", "  hé", {{0,1}, {1,2}, {2,3}, {3,5}}},
    {R"({"type": "Prepend", "prepend": "▁"})", "Hello", "▁Hello", {{0,1}, {0,1}, {1,2}, {2,3}, {3,4}, {4,5}}},
    {R"({"type": "Prepend", "prepend": "▁"})", "éa", "▁éa", {{0,2}, {0,2}, {2,3}}},
    {R"({"type": "Prepend", "prepend": ""})", "ab", "ab", {{0,0}, {1,2}}},
    {R"({"type": "Replace", "pattern": {"String": " "}, "content": "▁"})", "a b  c", "a▁b▁▁c", {{0,1}, {1,2}, {2,3}, {3,4}, {4,5}, {5,6}}},
    {R"({"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "})", "a  b   c", "a b c", {{0,1}, {2,3}, {3,4}, {6,7}, {7,8}}},
    {R"({"type": "Replace", "pattern": {"Regex": "l+"}, "content": "XYZ"})", "Hello", "HeXYZo", {{0,1}, {1,2}, {3,4}, {3,4}, {3,4}, {4,5}}},
    {R"({"type": "Replace", "pattern": {"String": ""}, "content": "_"})", "ab", "_a_b_", {{0,0}, {0,1}, {0,1}, {1,2}, {1,2}}},
    {R"({"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": ""})", " a \x09 b ", "ab", {{1,2}, {5,6}}},
    {R"({"type": "ByteLevel"})", "é a", "Ã©Ġa", {{0,2}, {0,2}, {2,3}, {3,4}}},
    {R"({"type": "Sequence", "normalizers": [{"type": "NFKD"}, {"type": "StripAccents"}, {"type": "Lowercase"}]})", "ậ…", "a...", {{0,3}, {3,6}, {3,6}, {3,6}}},
    {R"({"type": "Sequence", "normalizers": [{"type": "NFKD"}, {"type": "StripAccents"}, {"type": "Lowercase"}]})", "ำน\xE0\xB9\x89ำ3ลำ", "านา3ลา", {{0,3}, {3,6}, {9,12}, {12,13}, {13,16}, {16,19}}},
    {R"({"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]})", "Hey you", "▁Hey▁you", {{0,1}, {0,1}, {1,2}, {2,3}, {3,4}, {4,5}, {5,6}, {6,7}}},
};

TEST(NormalizersTest, MatchReference) {
  for (const Case& c : kCases) {
    auto n = from_json(c.normalizer);
    check(*n, c.input, c.normalized, c.offsets, c.normalizer);
  }
}

struct FileCase {
  const char* model;
  std::string input;
  std::string normalized;
  OffsetList offsets;
};

// reference(normalizer(json.load(open(f"{model}/tokenizer.json"))["normalizer"]), s): the
// T5 nmt_nfkc charsmap and Marian's Sequence[Precompiled, Strip, Replace].
const FileCase kFileCases[] = {
    {"t5-small", "\x01hello", "hello", {{0,1}, {1,2}, {2,3}, {3,4}, {4,5}}},
    {"t5-small", "ﬁ ﬂ ㎏ ①", "fi fl kg 1", {{0,3}, {0,3}, {3,4}, {4,7}, {4,7}, {7,8}, {8,11}, {8,11}, {11,12}, {12,15}}},
    {"t5-small", "Ａ\xCC\x81", "A", {{0,3}}},
    {"t5-small", "weird ～ edge ～ case", "weird ～ edge ～ case", {{0,1}, {1,2}, {2,3}, {3,4}, {4,5}, {5,6}, {6,9}, {9,10}, {10,11}, {11,12}, {12,13}, {13,14}, {14,15}, {15,18}, {18,19}, {19,20}, {20,21}, {21,22}, {22,23}}},
    {"t5-small", "you…\xC2\xA0\xC2\xA0", "you...  ", {{0,1}, {1,2}, {2,3}, {3,6}, {3,6}, {3,6}, {6,8}, {8,10}}},
    {"t5-small", "a\xE2\x80\x8B" "b a\xC2\xA0" "b a\xE2\x80\xA8" "b a\xE3\x80\x80" "b", "a b a b a b a b", {{0,1}, {1,4}, {4,5}, {5,6}, {6,7}, {7,9}, {9,10}, {10,11}, {11,12}, {12,15}, {15,16}, {16,17}, {17,18}, {18,21}, {21,22}}},
    {"t5-small", "Héllò  \x09 world\x0A", "Héllò    world ", {{0,1}, {1,3}, {3,4}, {4,5}, {5,7}, {7,8}, {8,9}, {9,10}, {10,11}, {11,12}, {12,13}, {13,14}, {14,15}, {15,16}, {16,17}}},
    {"t5-small", "😂 👍 ❤\xEF\xB8\x8F 👨🏻\xE2\x80\x8D🌾", "😂 👍 ❤\xEF\xB8\x8F 👨🏻 🌾", {{0,4}, {4,5}, {5,9}, {9,10}, {10,13}, {13,16}, {16,17}, {17,21}, {21,25}, {25,28}, {28,32}}},
    {"t5-small", "각 ｶﾞ", "각 カ\xE3\x82\x99", {{0,3}, {3,6}, {6,9}, {9,10}, {10,13}, {13,16}}},
    {"t5-small", "¼ ² ℌ", "1⁄4 2 H", {{0,2}, {0,2}, {0,2}, {2,3}, {3,5}, {5,6}, {6,9}}},
    {"marian-nmt", "\x01hello", "\x01hello", {{0,1}, {1,2}, {2,3}, {3,4}, {4,5}, {5,6}}},
    {"marian-nmt", "ﬁ ﬂ ㎏ ①", "ﬁ ﬂ ㎏ ①", {{0,3}, {3,4}, {4,7}, {7,8}, {8,11}, {11,12}, {12,15}}},
    {"marian-nmt", "Ａ\xCC\x81", "Uａ", {{0,3}, {3,5}}},
    {"marian-nmt", "weird ～ edge ～ case", "weird ～ edge ～ case", {{0,1}, {1,2}, {2,3}, {3,4}, {4,5}, {5,6}, {6,9}, {9,10}, {10,11}, {11,12}, {12,13}, {13,14}, {14,15}, {15,18}, {18,19}, {19,20}, {20,21}, {21,22}, {22,23}}},
    {"marian-nmt", "you…\xC2\xA0\xC2\xA0", "youP…", {{0,1}, {1,2}, {2,3}, {3,6}, {3,6}}},
    {"marian-nmt", "a\xE2\x80\x8B" "b a\xC2\xA0" "b a\xE2\x80\xA8" "b a\xE3\x80\x80" "b", "a\xE2\x80\x8B" "b a\xC2\xA0" "b a\xE2\x80\xA8" "b a\xE3\x80\x80" "b", {{0,1}, {1,4}, {4,5}, {5,6}, {6,7}, {7,9}, {9,10}, {10,11}, {11,12}, {12,15}, {15,16}, {16,17}, {17,18}, {18,21}, {21,22}}},
    {"marian-nmt", "Héllò  \x09 world\x0A", "Uhéllò▁\x09 world", {{0,1}, {0,1}, {1,3}, {3,4}, {4,5}, {5,7}, {8,9}, {9,10}, {10,11}, {11,12}, {12,13}, {13,14}, {14,15}, {15,16}}},
    {"marian-nmt", "😂 👍 ❤\xEF\xB8\x8F 👨🏻\xE2\x80\x8D🌾", "😂 👍 ❤\xEF\xB8\x8F 👨🏻\xE2\x80\x8D🌾", {{0,4}, {4,5}, {5,9}, {9,10}, {10,13}, {13,16}, {16,17}, {17,21}, {21,25}, {25,28}, {28,32}}},
    {"marian-nmt", "각 ｶﾞ", "각 ｶﾞ", {{0,3}, {3,6}, {6,9}, {9,10}, {10,13}, {13,16}}},
    {"marian-nmt", "¼ ² ℌ", "¼ ² ℌ", {{0,2}, {2,3}, {3,5}, {5,6}, {6,9}}},
};

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The text of the object value of the top-level "normalizer" key (parsing only that keeps the
// test fast in Debug builds; the files are several MB).
std::string normalizer_text(const std::string& file) {
  size_t start = file.find("\"normalizer\"");
  if (start == std::string::npos) return "";
  start = file.find('{', start);
  int depth = 0;
  bool in_string = false;
  for (size_t i = start; i < file.size(); ++i) {
    char c = file[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}' && --depth == 0) {
      return file.substr(start, i + 1 - start);
    }
  }
  return "";
}

TEST(NormalizersTest, PrecompiledFromRealFiles) {
  for (const char* model : {"t5-small", "marian-nmt"}) {
    std::string path =
        std::string(MLHUB_SHARED_DIR) + "/data/tokenizers/" + model + "/tokenizer.json";
    std::string text = read_file(path);
    if (text.empty()) GTEST_SKIP() << "missing fixture " << path;
    auto n = from_json(normalizer_text(text));
    int count = 0;
    for (const FileCase& c : kFileCases) {
      if (std::string_view(c.model) != model) continue;
      check(*n, c.input, c.normalized, c.offsets, model);
      ++count;
    }
    EXPECT_EQ(count, 10);
  }
}

TEST(NormalizersTest, EmptyInputStaysEmpty) {
  for (const char* nj : {
           R"({"type":"Prepend","prepend":"x"})",
           R"({"type":"Replace","pattern":{"String":""},"content":"_"})",
           R"({"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,)"
           R"("strip_accents":null,"lowercase":true})",
           R"({"type":"Strip","strip_left":true,"strip_right":true})",
           R"({"type":"ByteLevel"})",
       }) {
    NormalizedString ns("");
    from_json(nj)->normalize(ns);
    EXPECT_EQ(ns.get(), "") << nj;
  }
}

std::string error_of(std::string_view text) {
  try {
    from_json(text);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::kInvalidArgument);
    return e.what();
  }
  return "";
}

TEST(NormalizersTest, FactoryErrorsNameThePath) {
  struct Bad {
    const char* json;
    const char* in_message;
  };
  const Bad kBad[] = {
      {R"({"type":"Foo"})", "$.normalizer.type"},
      {R"({"type":"Strip","strip_left":true})", "strip_right"},
      {R"({"type":"Strip","strip_left":true,"strip_right":null})", "$.normalizer.strip_right"},
      {R"({"type":"BertNormalizer","clean_text":1,"handle_chinese_chars":true,"lowercase":true})",
       "$.normalizer.clean_text"},
      {R"({"type":"Sequence","normalizers":[{"type":"NFD"},{"type":"Bar"}]})",
       "$.normalizer.normalizers[1]"},
      {R"({"type":"Sequence","normalizers":{}})", "$.normalizer.normalizers"},
      {R"({"type":"Replace","pattern":{"String":"a","Regex":"b"},"content":""})", "pattern"},
      {R"({"type":"Replace","pattern":{"Regex":"("},"content":""})", "$.normalizer.pattern"},
      {R"({"type":"Prepend"})", "prepend"},
      {R"({"type":"Precompiled","precompiled_charsmap":"AA==AAAA"})", "precompiled_charsmap"},
      {R"({"type":"Precompiled","precompiled_charsmap":""})", "precompiled_charsmap"},
      // Trie size 8 but only 4 bytes of units follow.
      {R"({"type":"Precompiled","precompiled_charsmap":"CAAAAAAAAAA="})", "precompiled_charsmap"},
      // Replacement blob "\xFF" is not UTF-8.
      {R"({"type":"Precompiled","precompiled_charsmap":"AAAAAP8="})", "UTF-8"},
      {R"([])", "$.normalizer"},
      {R"({})", "$.normalizer"},
  };
  for (const Bad& bad : kBad) {
    EXPECT_NE(error_of(bad.json).find(bad.in_message), std::string::npos) << bad.json;
  }
  std::string deep;
  for (int i = 0; i < 200; ++i) deep += R"({"type":"Sequence","normalizers":[)";
  deep += R"({"type":"NFC"})";
  for (int i = 0; i < 200; ++i) deep += "]}";
  EXPECT_NE(error_of(deep).find("nested"), std::string::npos);
}

TEST(NormalizersTest, FactoryAcceptsWhatTheReferenceAccepts) {
  // "Bert" alias, untyped (legacy) objects, unknown extra fields, strip_accents missing.
  NormalizedString a("H\xC3\xA9llo");
  from_json(R"({"type":"Bert","clean_text":true,"handle_chinese_chars":true,)"
            R"("strip_accents":null,"lowercase":true})")
      ->normalize(a);
  EXPECT_EQ(a.get(), "hello");
  NormalizedString b("H\xC3\xA9llo");
  from_json(R"({"clean_text":true,"handle_chinese_chars":true,"lowercase":true})")->normalize(b);
  EXPECT_EQ(b.get(), "hello");
  NormalizedString c(" x ");
  from_json(R"({"strip_left":true,"strip_right":true,"extra":5})")->normalize(c);
  EXPECT_EQ(c.get(), "x");
  NormalizedString d("ab");
  from_json(R"({"pattern":{"String":"a"},"content":"x"})")->normalize(d);
  EXPECT_EQ(d.get(), "xb");
  NormalizedString e("ab");
  from_json(R"({"type":"Sequence","normalizers":[]})")->normalize(e);
  EXPECT_EQ(e.get(), "ab");
  // A charsmap whose trie is empty: every lookup misses (the reference panics on use).
  NormalizedString f("ab");
  from_json(R"({"type":"Precompiled","precompiled_charsmap":"AAAAAA"})")->normalize(f);
  EXPECT_EQ(f.get(), "ab");
}

TEST(NormalizersTest, Base64) {
  // Behaviour of the reference's decoder: padding optional, trailing bits must be zero.
  EXPECT_EQ(base64_decode("AAAAAA=="), std::string(4, '\0'));
  EXPECT_EQ(base64_decode("AAAAAA="), std::string(4, '\0'));
  EXPECT_EQ(base64_decode("AAAAAA"), std::string(4, '\0'));
  EXPECT_EQ(base64_decode("aGk="), "hi");
  EXPECT_EQ(base64_decode("+/+/"), "\xFB\xFF\xBF");
  EXPECT_EQ(base64_decode(""), "");
  for (const char* bad : {"AAAAAA===", "AAAAAB==", "AAAA AA==", "AAAAAA-_", "AAAAA", "A",
                          "AA==AAAA", "AAAA=", "AAAA==", "AAAAA=", "=", "=="}) {
    EXPECT_EQ(base64_decode(bad), std::nullopt) << bad;
  }
}

// A little-endian u32.
void put_u32(std::string& s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

TEST(NormalizersTest, HostileCharsmapsNeverCrash) {
  std::mt19937 rng(42);
  const std::vector<std::string> inputs = {"hello", "\xC3\xA9t\xC3\xA9", "ab\xF0\x9F\xA4\x97",
                                           "x y z"};
  int built = 0;
  for (int iter = 0; iter < 2000; ++iter) {
    size_t units = rng() % 64;
    std::string map;
    put_u32(map, static_cast<uint32_t>(units * 4));
    for (size_t u = 0; u < units; ++u) {
      // Bias towards plausible units: small offsets, labels of ASCII letters, leaf bits.
      uint32_t v = rng();
      if (rng() % 2) v = (v & 0x3FF) | ((rng() % 8) << 10);
      put_u32(map, v);
    }
    map += "ab";
    map.push_back('\0');
    map += "\xC3\xA9";
    std::unique_ptr<Normalizer> n;
    try {
      n = make_precompiled(map);
    } catch (const Error&) {
      continue;
    }
    ++built;
    for (const auto& in : inputs) {
      NormalizedString ns(in);
      try {
        n->normalize(ns);
        EXPECT_EQ(unicode::find_invalid_utf8(ns.get()), std::nullopt);
        EXPECT_EQ(ns.alignments().size(), ns.get().size());
      } catch (const Error& e) {
        EXPECT_EQ(e.code(), StatusCode::kInvalidArgument);
      }
    }
  }
  EXPECT_GT(built, 1000);
}

}  // namespace
}  // namespace mlhub::tok
