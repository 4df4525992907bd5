// libFuzzer target: arbitrary bytes as a tokenizer.json document. Loading must fail cleanly or
// give a tokenizer that encodes and decodes without crashing. Seeds: corpus/fuzz_tokenizer_json
// (hand-made files, one per family of components; tests/fuzz/make_json_seeds.py).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "mlhub/tokenizers.h"

namespace {

using mlhub::fuzz::char_count;
using mlhub::fuzz::check_encoding;
using mlhub::tok::Encoding;
using mlhub::tok::Tokenizer;

// Fixed lengths above this make every encode allocate and pad that many tokens; the reference
// would do the same, so it is not a finding, only a slow fuzzer.
constexpr size_t kMaxPadding = 4096;
constexpr size_t kMaxInputToEncode = 2048;

void exercise(const Tokenizer& tok, std::string_view text) {
  const size_t limit = char_count(text);
  for (const bool special : {true, false}) {
    auto enc = tok.encode(text, special);
    if (!enc.ok()) continue;  // e.g. truncation impossible for this input: an error, fine
    check_encoding(*enc, limit);
    (void)tok.decode(enc->ids, /*skip_special_tokens=*/false);
    (void)tok.decode(enc->ids, /*skip_special_tokens=*/true, /*clean_up=*/true);
    mlhub::tok::DecodeStream stream(tok, /*skip_special_tokens=*/false);
    for (const uint32_t id : enc->ids) {
      if (!stream.step(id).ok()) break;
    }
  }
  auto pair = tok.encode_pair(text, "second sequence", true);
  if (pair.ok()) check_encoding(*pair, SIZE_MAX);
  auto bytes = tok.encode(text, true, mlhub::tok::OffsetType::kByte);
  if (bytes.ok()) check_encoding(*bytes, text.size());
  auto pretok = tok.encode_pretokenized({std::string(text), "b", ""}, true);
  if (pretok.ok()) check_encoding(*pretok, SIZE_MAX);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  auto loaded = Tokenizer::from_json_string(json);
  if (!loaded.ok()) return 0;
  Tokenizer tok = std::move(loaded).value();
  if (tok.padding() && tok.padding()->fixed_length.value_or(0) > kMaxPadding) {
    tok.set_padding(std::nullopt);
  }

  exercise(tok, "Hello world! héllo  wörld\t123 4567");
  exercise(tok, " [CLS] <s></s> <|endoftext|> 你好 \xF0\x9F\xA4\x97 ▁a  ");
  exercise(tok, "");
  if (size <= kMaxInputToEncode && mlhub::fuzz::valid_utf8(json)) exercise(tok, json);
  MLHUB_FUZZ_CHECK(!tok.encode("\xFF\xFE").ok());  // invalid UTF-8 is an error

  // Arbitrary ids, in and out of range, through decode and the vocabulary lookups.
  const size_t vocab = tok.vocab_size(true);
  std::vector<uint32_t> ids = {0, 1, 2, 3, 100, 0xFFFFFFFFu};
  if (vocab > 0) ids.push_back(static_cast<uint32_t>(vocab - 1));
  ids.push_back(static_cast<uint32_t>(vocab));
  (void)tok.decode(ids, false);
  (void)tok.decode(ids, true);
  (void)tok.decode_batch({ids, {}}, true);
  for (const uint32_t id : ids) {
    if (auto token = tok.id_to_token(id)) (void)tok.token_to_id(*token);
  }
  (void)tok.added_tokens();
  (void)tok.num_special_tokens_to_add(false);
  (void)tok.num_special_tokens_to_add(true);
  return 0;
}
