// PreTokenizedString (tokenizers/src/tokenizer/pre_tokenizer.rs): construction and the
// conversion of tokenized pieces into an Encoding (spec sections 3.4 and 9).
#include "tokenizers/pre_tokenized_string.h"

#include <cstdint>

#include "mlhub/core.h"

namespace mlhub::tok {
namespace {

// Byte offsets -> char offsets over one sequence's original text, with the reference's
// BytesToCharOffsetConverter rules: every byte of a char maps to that char's index; an end
// offset past the text maps through the byte before it; a start past the text is not
// converted.
class ByteToCharConverter {
 public:
  explicit ByteToCharConverter(std::string_view text) : map_(text.size()) {
    uint32_t index = 0;
    for (size_t i = 0; i < text.size(); ++i) {
      // A continuation byte (10xxxxxx) belongs to the char started before it.
      if (i > 0 && (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++index;
      map_[i] = index;
    }
  }

  Offsets convert(Offsets o) const {
    const size_t len = map_.size();
    if (o.first >= len) return o;
    size_t start = map_[o.first];
    size_t end;
    if (o.second < len) {
      end = map_[o.second];
    } else {
      size_t last = o.second - 1 < len ? map_[o.second - 1] : start + 1;
      end = last + 1;
    }
    return {start, end};
  }

 private:
  std::vector<uint32_t> map_;
};

}  // namespace

PreTokenizedString::PreTokenizedString(std::string_view original) : original_(original) {
  splits_.push_back(Split{NormalizedString(original, 0), std::nullopt});
}

PreTokenizedString::PreTokenizedString(NormalizedString normalized)
    : original_(normalized.original()) {
  splits_.push_back(Split{std::move(normalized), std::nullopt});
}

Encoding PreTokenizedString::into_encoding(std::optional<uint32_t> word_index, uint32_t type_id,
                                           OffsetType offset_type) const {
  Encoding enc;
  if (splits_.empty()) return enc;
  size_t n = 0;
  for (const Split& s : splits_) {
    if (!s.tokens) {
      throw Error(StatusCode::kInternal,
                  "Split has not been tokenized, call `PreTokenizedString::tokenize` first");
    }
    n += s.tokens->size();
  }
  enc.ids.reserve(n);
  enc.type_ids.assign(n, type_id);
  enc.tokens.reserve(n);
  enc.words.reserve(n);
  enc.offsets.reserve(n);
  enc.special_tokens_mask.assign(n, 0);
  enc.attention_mask.assign(n, 1);

  std::optional<ByteToCharConverter> converter;
  if (offset_type == OffsetType::kChar) converter.emplace(original_);

  for (size_t idx = 0; idx < splits_.size(); ++idx) {
    const NormalizedString& normalized = splits_[idx].normalized;
    const size_t shift = normalized.original_shift();
    const std::optional<uint32_t> word =
        word_index ? word_index : std::optional<uint32_t>(static_cast<uint32_t>(idx));
    for (const Token& token : *splits_[idx].tokens) {
      Offsets offsets = token.offsets;
      if (auto range = normalized.convert_offsets(token.offsets.first, token.offsets.second)) {
        offsets = {shift + range->first, shift + range->second};
      }
      if (converter) offsets = converter->convert(offsets);
      enc.ids.push_back(token.id);
      enc.tokens.push_back(token.value);
      enc.words.push_back(word);
      enc.offsets.push_back(offsets);
    }
  }
  return enc;
}

std::vector<std::pair<std::string, Offsets>> PreTokenizedString::get_splits() const {
  std::vector<std::pair<std::string, Offsets>> out;
  out.reserve(splits_.size());
  for (const Split& s : splits_)
    out.emplace_back(s.normalized.get(), s.normalized.offsets_original());
  return out;
}

}  // namespace mlhub::tok
