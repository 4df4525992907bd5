// TextStreamer: pieces concatenate to the full decode, never split a UTF-8 character (byte-level
// BPE and SentencePiece byte fallback), and skip_prompt drops the prompt's text.
#include <gtest/gtest.h>

#include "fake_model.h"

namespace mlhub::generation {
namespace {

std::string tokenizer_path(const std::string& name) {
  return std::string(MLHUB_SHARED_DIR) + "/data/tokenizers/" + name + "/tokenizer.json";
}

struct Streamed {
  std::vector<std::string> pieces;
  std::string joined() const {
    std::string s;
    for (const auto& p : pieces) s += p;
    return s;
  }
};

void check_tokenizer(const std::string& name) {
  auto tok = tok::Tokenizer::from_file(tokenizer_path(name));
  ASSERT_TRUE(tok.ok()) << tok.status().to_string();
  const std::string prompt = "Q: say hi";
  const std::string answer = " Héllo 😀 wörld 日本語 🇫🇷!\nok";
  auto p = tok->encode(prompt, false);
  auto a = tok->encode(prompt + answer, false);
  ASSERT_TRUE(p.ok() && a.ok());
  std::vector<int64_t> all(a->ids.begin(), a->ids.end());
  const size_t np = p->ids.size();
  ASSERT_TRUE(std::equal(p->ids.begin(), p->ids.end(), a->ids.begin()))
      << "prompt is not a token prefix";
  auto full = tok->decode(a->ids);
  auto prompt_text = tok->decode(p->ids);
  ASSERT_TRUE(full.ok() && prompt_text.ok());

  for (bool skip : {true, false}) {
    Streamed out;
    size_t held = 0;  // tokens that released nothing
    TextStreamer s(
        *tok, [&](std::string_view piece) { out.pieces.emplace_back(piece); }, skip);
    ASSERT_TRUE(s.put_prompt(std::span<const int64_t>(all.data(), np)).ok());
    const size_t before = out.pieces.size();
    for (size_t i = np; i < all.size(); ++i) {
      const size_t n = out.pieces.size();
      ASSERT_TRUE(s.put(all[i]).ok());
      if (out.pieces.size() == n) ++held;
    }
    ASSERT_TRUE(s.end().ok());
    for (const auto& piece : out.pieces) EXPECT_FALSE(find_invalid_utf8(piece).has_value()) << name;
    if (skip) {
      EXPECT_EQ(before, 0u);
      EXPECT_EQ(*prompt_text + out.joined(), *full) << name;
    } else {
      EXPECT_EQ(out.joined(), *full) << name;
    }
    // The emoji need several byte tokens: some tokens released nothing until completed.
    EXPECT_GT(held, 0u) << name;
  }
}

TEST(StreamerTest, Gpt2ByteLevel) {
  check_tokenizer("gpt2");
}
TEST(StreamerTest, Llama2ByteFallback) {
  check_tokenizer("llama-2");
}

TEST(StreamerTest, EndFlushesIncompleteBytes) {
  auto tok = tok::Tokenizer::from_file(tokenizer_path("llama-2"));
  ASSERT_TRUE(tok.ok());
  // <0xF0><0x9F> are the first two bytes of an emoji; alone they never complete.
  auto b0 = tok->token_to_id("<0xF0>");
  auto b1 = tok->token_to_id("<0x9F>");
  ASSERT_TRUE(b0 && b1);
  std::vector<std::string> pieces;
  TextStreamer s(*tok, [&](std::string_view p) { pieces.emplace_back(p); });
  ASSERT_TRUE(s.put(*b0).ok());
  ASSERT_TRUE(s.put(*b1).ok());
  EXPECT_TRUE(pieces.empty());
  ASSERT_TRUE(s.end().ok());
  ASSERT_FALSE(pieces.empty());
  EXPECT_FALSE(find_invalid_utf8(pieces.back()).has_value());
}

}  // namespace
}  // namespace mlhub::generation
