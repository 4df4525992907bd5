// libFuzzer target: arbitrary bytes as input text for real tokenizers (gpt2, bert-base-uncased,
// t5-small, llama-2, llama-3 from $MLHUB_SHARED_DIR/data/tokenizers, else the folder the build
// was configured with), with truncation, padding, pairs and offsets chosen by the first bytes.
//
// Input layout: [tokenizer] [flags] [max_length] [stride/strategy] text...
// Oracles (an abort is a finding): invalid UTF-8 is an error, valid UTF-8 encodes (unless
// truncation is asked for, which may legitimately fail); Encoding invariants (fuzz_util.h);
// truncation and padding lengths; decode of produced ids succeeds; byte-level tokenizers
// (gpt2, llama-3) decode back to the exact input; encode_batch equals encode.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "mlhub/core.h"
#include "mlhub/tokenizers.h"

namespace {

using mlhub::fuzz::char_count;
using mlhub::fuzz::check_encoding;
using mlhub::fuzz::valid_utf8;
using namespace mlhub::tok;  // NOLINT: a test harness

struct Loaded {
  const char* name;
  bool lossless;  // decode(encode(text)) == text when nothing is truncated
  Tokenizer tokenizer;
};

std::vector<Loaded>* g_tokenizers = nullptr;
mlhub::ThreadPool* g_pool = nullptr;

enum Flag : uint8_t {
  kAddSpecial = 1,
  kPair = 2,
  kTruncate = 4,
  kPad = 8,
  kByteOffsets = 16,
  kLeft = 32,
  kEncodeSpecial = 64,  // set_encode_special_tokens(true)
  kPadFixed = 128,
};

size_t round_up(size_t n, size_t multiple) {
  return multiple ? (n + multiple - 1) / multiple * multiple : n;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* env = std::getenv("MLHUB_SHARED_DIR");
  const std::string shared = env ? env : MLHUB_SHARED_DIR;
  g_tokenizers = new std::vector<Loaded>();
  const std::pair<const char*, bool> names[] = {{"gpt2", true},
                                                {"bert-base-uncased", false},
                                                {"t5-small", false},
                                                {"llama-2", false},
                                                {"llama-3", true}};
  for (const auto& [name, lossless] : names) {
    const std::string path = shared + "/data/tokenizers/" + name + "/tokenizer.json";
    auto tok = Tokenizer::from_file(path);
    if (!tok.ok()) {
      std::fprintf(stderr, "cannot load %s: %s (set MLHUB_SHARED_DIR)\n", path.c_str(),
                   tok.status().to_string().c_str());
      std::abort();
    }
    g_tokenizers->push_back({name, lossless, std::move(tok).value()});
  }
  g_pool = new mlhub::ThreadPool(1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const Loaded& loaded = (*g_tokenizers)[data[0] % g_tokenizers->size()];
  const uint8_t flags = data[1];
  const size_t max_length = 1 + data[2] % 64;
  const size_t stride = data[3] % 16;
  const auto strategy = static_cast<TruncationStrategy>((data[3] >> 4) % 3);
  const size_t multiple = (data[3] & 0x40) ? 8 : 0;
  std::string_view text(reinterpret_cast<const char*>(data + 4), size - 4);
  std::string_view second;
  const bool pair = flags & kPair;
  if (pair) {
    size_t mid = text.size() / 2;
    while (mid < text.size() && (static_cast<unsigned char>(text[mid]) & 0xC0) == 0x80) ++mid;
    second = text.substr(mid);
    text = text.substr(0, mid);
  }

  Tokenizer tok = loaded.tokenizer;  // shares the vocabulary; setters copy on write
  const bool special = flags & kAddSpecial;
  bool truncating = false;
  if (flags & kTruncate) {
    TruncationParams t;
    t.max_length = max_length;
    t.stride = stride;
    t.strategy = strategy;
    t.direction = (flags & kLeft) ? TruncationDirection::kLeft : TruncationDirection::kRight;
    truncating = tok.set_truncation(t).ok();  // refused when stride is too large: fine
  }
  const bool padding = flags & kPad;
  if (padding) {
    PaddingParams p;
    if (flags & kPadFixed) p.fixed_length = max_length;
    p.pad_to_multiple_of = multiple ? std::optional<size_t>(multiple) : std::nullopt;
    p.direction = (flags & kLeft) ? PaddingDirection::kLeft : PaddingDirection::kRight;
    tok.set_padding(p);
  }
  if (flags & kEncodeSpecial) tok.set_encode_special_tokens(true);
  const OffsetType offsets = (flags & kByteOffsets) ? OffsetType::kByte : OffsetType::kChar;

  const bool valid = valid_utf8(text) && (!pair || valid_utf8(second));
  auto enc = pair ? tok.encode_pair(text, second, special, offsets)
                  : tok.encode(text, special, offsets);
  if (!valid) {
    MLHUB_FUZZ_CHECK(!enc.ok());  // invalid UTF-8 must be rejected
    return 0;
  }
  if (!truncating) MLHUB_FUZZ_CHECK(enc.ok());
  if (!enc.ok()) return 0;

  size_t limit = SIZE_MAX;
  if (!pair) limit = offsets == OffsetType::kByte ? text.size() : char_count(text);
  check_encoding(*enc, limit);
  const size_t n = enc->size();
  // When max_length is below the special tokens added, the reference's max_length - added
  // wraps around and nothing is truncated, so the length bound holds only above that.
  const size_t added = special ? tok.num_special_tokens_to_add(pair) : 0;
  if (truncating && max_length >= added) {
    MLHUB_FUZZ_CHECK(n <= (padding ? round_up(max_length, multiple) : max_length));
  }
  // Fixed padding pads up to max_length rounded to the multiple and never shortens; padding to
  // the longest pads to a multiple (both as in the reference).
  if (padding && (flags & kPadFixed)) MLHUB_FUZZ_CHECK(n >= round_up(max_length, multiple));
  if (padding && !(flags & kPadFixed) && multiple) MLHUB_FUZZ_CHECK(n % multiple == 0);

  auto decoded = tok.decode(enc->ids, /*skip_special_tokens=*/false);
  MLHUB_FUZZ_CHECK(decoded.ok());
  MLHUB_FUZZ_CHECK(tok.decode(enc->ids, /*skip_special_tokens=*/true).ok());
  if (loaded.lossless && !pair && !truncating && !padding && !special) {
    if (*decoded != text) {
      std::fprintf(stderr, "%s: decode(encode(text)) != text\n", loaded.name);
      mlhub::fuzz::fail("lossless round trip");
    }
  }

  if (!pair) {
    auto batch = tok.encode_batch({EncodeInput{std::string(text), std::nullopt}}, special,
                                  offsets, g_pool);
    MLHUB_FUZZ_CHECK(batch.ok() && batch->size() == 1);
    MLHUB_FUZZ_CHECK((*batch)[0].ids == enc->ids);
    MLHUB_FUZZ_CHECK((*batch)[0].offsets == enc->offsets);
  }
  return 0;
}
