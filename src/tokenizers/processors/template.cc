// TemplateProcessing (spec 11.1): the single / pair templates of Sequence and SpecialToken
// pieces. Each piece becomes one encoding and the caller merges them in order, so overflowing
// entries receive the template through Encoding merging. Mirrors
// tokenizers/src/processors/template.rs.
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tokenizers/processors/processors.h"

namespace mlhub::tok {
namespace {

struct SpecialToken {
  std::vector<uint32_t> ids;
  std::vector<std::string> tokens;
};

struct Piece {
  bool is_sequence = false;
  size_t sequence = 0;        // 0 = A, 1 = B (Sequence pieces)
  size_t special = 0;         // index into special_ (SpecialToken pieces)
  uint32_t type_id = 0;
  bool last_use = false;      // last piece reading this sequence: the encoding may be moved
};

class TemplateProcessing final : public PostProcessor {
 public:
  TemplateProcessing(std::vector<Piece> single, std::vector<Piece> pair,
                     std::vector<SpecialToken> special)
      : single_(std::move(single)), pair_(std::move(pair)), special_(std::move(special)) {
    added_single_ = count_added(single_);
    added_pair_ = count_added(pair_);
  }

  size_t added_tokens(bool is_pair) const override { return is_pair ? added_pair_ : added_single_; }

  std::vector<Encoding> process_encodings(std::vector<Encoding> encodings,
                                          bool add_special_tokens) const override {
    if (encodings.size() != 1 && encodings.size() != 2) {
      throw Error(StatusCode::kInvalidArgument,
                  "TemplateProcessing: expected 1 or 2 encodings, got " +
                      std::to_string(encodings.size()));
    }
    const std::vector<Piece>& pieces = encodings.size() == 2 ? pair_ : single_;
    std::vector<Encoding> out;
    out.reserve(pieces.size());
    for (const Piece& p : pieces) {
      if (p.is_sequence) {
        if (p.sequence >= encodings.size()) {
          // An index out of bounds panic in the reference.
          throw Error(StatusCode::kInvalidArgument,
                      "TemplateProcessing: the single template refers to sequence B");
        }
        Encoding& e = encodings[p.sequence];
        // Top-level only: overflowing entries keep their type ids, as in the reference.
        set_type_ids_shallow(e, p.type_id);
        set_sequence_id_shallow(e, p.sequence);
        out.push_back(p.last_use ? std::move(e) : e);
      } else if (add_special_tokens) {
        const SpecialToken& t = special_[p.special];
        const size_t n = t.ids.size();
        Encoding e;
        e.ids = t.ids;
        e.type_ids.assign(n, p.type_id);
        e.tokens = t.tokens;
        e.words.assign(n, std::nullopt);
        e.offsets.assign(n, Offsets{0, 0});
        e.special_tokens_mask.assign(n, 1u);
        e.attention_mask.assign(n, 1u);
        out.push_back(std::move(e));
      }
    }
    return out;
  }

 private:
  size_t count_added(const std::vector<Piece>& pieces) const {
    size_t n = 0;
    for (const Piece& p : pieces) {
      if (!p.is_sequence) n += special_[p.special].ids.size();
    }
    return n;
  }

  std::vector<Piece> single_;
  std::vector<Piece> pair_;
  std::vector<SpecialToken> special_;
  size_t added_single_ = 0;
  size_t added_pair_ = 0;
};

std::vector<Piece> pieces_from_json(const JsonRef& j,
                                    const std::unordered_map<std::string, size_t>& index) {
  if (!j.is_array()) j.fail("expected an array of template pieces");
  std::vector<Piece> pieces;
  pieces.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    const JsonRef item = j.at(i);
    if (!item.is_object() || item.size() != 1) {
      item.fail("expected {\"Sequence\": {...}} or {\"SpecialToken\": {...}}");
    }
    Piece p;
    if (item.has("Sequence")) {
      const JsonRef s = item.at("Sequence");
      const JsonRef id = s.at("id");
      const std::string_view name = id.str_view();
      if (name == "A") {
        p.sequence = 0;
      } else if (name == "B") {
        p.sequence = 1;
      } else {
        id.fail("expected \"A\" or \"B\"");
      }
      p.is_sequence = true;
      p.type_id = s.at("type_id").u32();
    } else if (item.has("SpecialToken")) {
      const JsonRef s = item.at("SpecialToken");
      const JsonRef id = s.at("id");
      auto it = index.find(id.str());
      if (it == index.end()) {
        // Deserialization skips the builder's check in the reference, which then panics while
        // encoding; reject the file instead.
        id.fail("special token \"" + id.str() + "\" is missing from \"special_tokens\"");
      }
      p.special = it->second;
      p.type_id = s.at("type_id").u32();
    } else {
      item.fail("expected {\"Sequence\": {...}} or {\"SpecialToken\": {...}}");
    }
    pieces.push_back(std::move(p));
  }
  // Mark the last piece reading each sequence, so its encoding can be moved instead of copied.
  bool seen[2] = {false, false};
  for (size_t k = pieces.size(); k-- > 0;) {
    Piece& p = pieces[k];
    if (p.is_sequence && !seen[p.sequence]) {
      p.last_use = true;
      seen[p.sequence] = true;
    }
  }
  return pieces;
}

}  // namespace

std::unique_ptr<PostProcessor> template_processing_from_json(const JsonRef& j) {
  const JsonRef tokens = j.at("special_tokens");
  if (!tokens.is_object()) tokens.fail("expected an object");
  std::vector<SpecialToken> special;
  std::unordered_map<std::string, size_t> index;
  for (const auto& [key, value] : tokens.raw().items()) {
    const JsonRef t(value, tokens.child_path(key));
    t.at("id").str();
    SpecialToken st;
    const JsonRef ids = t.at("ids");
    const JsonRef toks = t.at("tokens");
    if (!ids.is_array()) ids.fail("expected an array");
    if (!toks.is_array()) toks.fail("expected an array");
    for (size_t i = 0; i < ids.size(); ++i) st.ids.push_back(ids.at(i).u32());
    for (size_t i = 0; i < toks.size(); ++i) st.tokens.push_back(toks.at(i).str());
    if (st.ids.size() != st.tokens.size()) {
      // The reference accepts this and builds encodings whose fields differ in length.
      t.fail("\"ids\" and \"tokens\" must have the same length");
    }
    index.emplace(key, special.size());
    special.push_back(std::move(st));
  }
  std::vector<Piece> single = pieces_from_json(j.at("single"), index);
  std::vector<Piece> pair = pieces_from_json(j.at("pair"), index);
  return std::make_unique<TemplateProcessing>(std::move(single), std::move(pair),
                                              std::move(special));
}

}  // namespace mlhub::tok
