// ByteLevel pre-tokenizer (pre_tokenizers/byte_level.rs, spec 6.4): optional prefix space, the
// GPT-2 regex split, then every byte becomes its printable byte-level char.
#include "tokenizers/byte_level.h"
#include "tokenizers/pre_tokenizers/pre_tokenizers.h"
#include "tokenizers/regex.h"
#include "tokenizers/regex_fast.h"
#include "tokenizers/unicode.h"

namespace mlhub::tok {
namespace {

const Regex& gpt2_regex() {
  static const Regex re(kGpt2Pattern);
  return re;
}

// Rewrites every char of L bytes as the L byte-level chars of its bytes: the first replaces
// the char (change 0), the others are insertions (+1), so all keep the char's alignment.
void byte_level_transform(NormalizedString& n) {
  const std::string& s = n.get();
  bool ascii_printable = true;
  for (char ch : s) {
    auto b = static_cast<unsigned char>(ch);
    if (b < 0x21 || b > 0x7E) {
      ascii_printable = false;
      break;
    }
  }
  if (ascii_printable) return;  // every byte maps to itself: nothing would change
  std::vector<NormalizedString::Change> changes;
  changes.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    size_t len = unicode::utf8_seq_len(static_cast<unsigned char>(s[i]));
    for (size_t k = 0; k < len; ++k) {
      changes.push_back({byte_to_char(static_cast<uint8_t>(s[i + k])), k > 0 ? 1 : 0});
    }
    i += len;
  }
  n.transform(changes, 0);
}

class ByteLevel final : public PreTokenizer {
 public:
  ByteLevel(bool add_prefix_space, bool use_regex)
      : add_prefix_space_(add_prefix_space), use_regex_(use_regex) {}

  void pre_tokenize(PreTokenizedString& s) const override {
    const RegexPattern pattern(gpt2_regex());
    s.split([&](size_t, NormalizedString n) {
      if (add_prefix_space_ && (n.get().empty() || n.get()[0] != ' ')) n.prepend(" ");
      if (use_regex_) return n.split(pattern, SplitBehavior::kIsolated);
      std::vector<NormalizedString> out;
      out.push_back(std::move(n));
      return out;
    });
    s.normalize(byte_level_transform);
  }

 private:
  bool add_prefix_space_;
  bool use_regex_;
};

}  // namespace

std::unique_ptr<PreTokenizer> make_byte_level(bool add_prefix_space, bool use_regex) {
  return std::make_unique<ByteLevel>(add_prefix_space, use_regex);
}

std::unique_ptr<PreTokenizer> byte_level_from_json(const JsonRef& j) {
  // add_prefix_space and trim_offsets are required by the Rust deserializer; trim_offsets has
  // no effect on pre-tokenization (the post-processor trims).
  bool add_prefix_space = j.at("add_prefix_space").boolean();
  j.at("trim_offsets").boolean();
  return make_byte_level(add_prefix_space, j.bool_or("use_regex", true));
}

}  // namespace mlhub::tok
