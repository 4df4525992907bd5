// The GPT-2 byte <-> char table (spec 6.4) shared by the ByteLevel pre-tokenizer, decoder and
// normalizer.
#include <gtest/gtest.h>

#include <string>

#include "tokenizers/byte_level.h"
#include "tokenizers/unicode.h"

namespace mlhub::tok {
namespace {

using namespace std::string_view_literals;

TEST(ByteLevelTable, MatchesGpt2BytesToUnicode) {
  // from transformers.models.gpt2.tokenization_gpt2 import bytes_to_unicode
  // m = bytes_to_unicode(); ''.join(m[b] for b in range(256))
  // (equal, as a set, to tokenizers.pre_tokenizers.ByteLevel.alphabet())
  constexpr std::string_view kWant =
      "ĀāĂăĄąĆćĈĉĊċČčĎďĐđĒēĔĕĖėĘęĚěĜĝĞğĠ!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ"
      "[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~ġĢģĤĥĦħĨĩĪīĬĭĮįİıĲĳĴĵĶķĸĹĺĻļĽľĿŀŁł¡¢£¤¥¦§¨©ª«¬Ń®¯°"
      "±²³´µ¶·¸¹º»¼½¾¿ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖ×ØÙÚÛÜÝÞßàáâãäåæçèéêëìíîïðñòóôõö÷øùúûüýþÿ"sv;
  std::string got;
  for (int b = 0; b < 256; ++b) got += byte_to_char_utf8(static_cast<uint8_t>(b));
  EXPECT_EQ(got, kWant);
  EXPECT_EQ(byte_to_char(' '), U'\u0120');
  EXPECT_EQ(byte_to_char('\n'), U'\u010A');
  EXPECT_EQ(byte_to_char('\t'), U'\u0109');
  EXPECT_EQ(byte_to_char(0xAD), U'\u0143');
  EXPECT_EQ(byte_to_char(0x7F), U'\u0121');
}

TEST(ByteLevelTable, InverseCoversExactlyTheAlphabet) {
  int in_alphabet = 0;
  for (char32_t c = 0; c < 0x400; ++c) {
    auto b = char_to_byte(c);
    if (!b) continue;
    ++in_alphabet;
    EXPECT_EQ(byte_to_char(*b), c);
  }
  EXPECT_EQ(in_alphabet, 256);
  for (int b = 0; b < 256; ++b) {
    EXPECT_EQ(char_to_byte(byte_to_char(static_cast<uint8_t>(b))), static_cast<uint8_t>(b));
    std::string_view u = byte_to_char_utf8(static_cast<uint8_t>(b));
    size_t i = 0;
    EXPECT_EQ(unicode::decode_utf8(u, i), byte_to_char(static_cast<uint8_t>(b)));
    EXPECT_EQ(i, u.size());
  }
  EXPECT_FALSE(char_to_byte(U' ').has_value());
  EXPECT_FALSE(char_to_byte(U'\u0144').has_value());
  EXPECT_FALSE(char_to_byte(U'\u00AD').has_value());
  EXPECT_FALSE(char_to_byte(0x10FFFF).has_value());
  EXPECT_FALSE(char_to_byte(0xFFFFFFFF).has_value());
  EXPECT_EQ(char_to_byte(U'č'), uint8_t{0x0D});  // why "Začnimo" decodes to "Za\rnimo"
}

}  // namespace
}  // namespace mlhub::tok
