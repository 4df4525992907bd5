// SentencePiece models (spec 15.3) converted as transformers' SpmConverter subclasses do:
// LlamaConverter (BPE with merges rebuilt from the vocabulary by generate_merges),
// GemmaConverter, and T5Converter (Unigram).
#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "tokenizers/legacy/converters.h"
#include "tokenizers/legacy/sentencepiece_model.h"
#include "tokenizers/unicode.h"

namespace mlhub::tok::legacy {
namespace {

const char kSpace[] = "\xE2\x96\x81";  // U+2581, SentencePiece's whitespace mark

// Python truthiness of a kwargs value (None and false are falsy).
bool truthy(const Json& kwargs, std::string_view key, bool absent) {
  auto it = kwargs.find(key);
  if (it == kwargs.end()) return absent;
  if (it->is_null()) return false;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_number()) return it->get<double>() != 0;
  if (it->is_string()) return !it->get_ref<const std::string&>().empty();
  return true;
}

std::string content_of(const Json& kwargs, std::string_view key) {
  auto v = kwarg_special(kwargs, key);
  if (!v) {
    throw Error(StatusCode::kInvalidArgument,
                "tokenizer_config.json: this SentencePiece tokenizer needs a " + std::string(key));
  }
  return v->token.content;
}

using VocabScores = std::vector<std::pair<std::string, double>>;

struct Merge {
  std::string_view left, right;
  double score;
  uint32_t left_len, right_len;  // in code points
};

// transformers' generate_merges(vocab, vocab_scores): every split of a piece into two pieces
// of `vocab`, grouped per piece in vocab_scores order (ties by the halves' ids), then stably
// sorted by descending (score, len(left), len(right)).
Json generate_merges(const std::unordered_map<std::string_view, uint32_t>& vocab,
                     const VocabScores& vocab_scores) {
  // dict(vocab_scores): first position, last score.
  std::vector<std::pair<std::string_view, double>> pieces;
  std::unordered_map<std::string_view, size_t> where;
  for (const auto& [piece, score] : vocab_scores) {
    auto [it, fresh] = where.emplace(piece, pieces.size());
    if (fresh) {
      pieces.emplace_back(piece, score);
    } else {
      pieces[it->second].second = score;
    }
  }
  std::vector<Merge> merges;
  std::vector<size_t> cuts;
  std::vector<std::pair<Merge, std::pair<uint32_t, uint32_t>>> local;
  for (const auto& [piece, score] : pieces) {
    cuts.clear();
    for (size_t i = 0; i < piece.size();
         i += unicode::utf8_seq_len(static_cast<uint8_t>(piece[i]))) {
      if (i > 0) cuts.push_back(i);
    }
    local.clear();
    const auto n = static_cast<uint32_t>(cuts.size() + 1);
    for (size_t k = 0; k < cuts.size(); ++k) {
      std::string_view l = piece.substr(0, cuts[k]), r = piece.substr(cuts[k]);
      auto li = vocab.find(l);
      if (li == vocab.end()) continue;
      auto ri = vocab.find(r);
      if (ri == vocab.end()) continue;
      // NaN scores would make the sort below undefined; they sort as the lowest score.
      double s = std::isnan(score) ? -std::numeric_limits<double>::infinity() : score;
      local.push_back({{l, r, s, static_cast<uint32_t>(k + 1), n - static_cast<uint32_t>(k + 1)},
                       {li->second, ri->second}});
    }
    std::stable_sort(local.begin(), local.end(),
                     [](const auto& a, const auto& b) { return a.second < b.second; });
    for (const auto& m : local) merges.push_back(m.first);
  }
  std::stable_sort(merges.begin(), merges.end(), [](const Merge& a, const Merge& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.left_len != b.left_len) return a.left_len > b.left_len;
    return a.right_len > b.right_len;
  });
  Json out = Json::array();
  for (const Merge& m : merges)
    out.push_back(Json::array({std::string(m.left), std::string(m.right)}));
  return out;
}

// The slow tokenizer's convert_ids_to_tokens(id) / convert_tokens_to_ids(token): the config's
// added tokens first, then the SentencePiece model.
std::string slow_id_to_token(const SentencePieceModel& m, const Json& kwargs, uint32_t id) {
  for (const Json& e : kwargs["added_tokens_decoder"]) {
    if (e["id"] == id) return e["content"].get<std::string>();
  }
  if (id >= m.pieces.size()) {
    throw Error(StatusCode::kInvalidArgument,
                "sentencepiece model: id " + std::to_string(id) + " is out of range");
  }
  return m.pieces[id].piece;
}

uint32_t slow_token_to_id(const SentencePieceModel& m, const Json& kwargs,
                          const std::string& token) {
  for (const Json& e : kwargs["added_tokens_decoder"]) {
    if (e["content"] == token) return e["id"].get<uint32_t>();
  }
  // SentencePiece's PieceToId: the piece's id, else unk_id.
  for (size_t i = 0; i < m.pieces.size(); ++i) {
    if (m.pieces[i].piece == token) return static_cast<uint32_t>(i);
  }
  if (m.trainer_spec.unk_id < 0) {
    throw Error(StatusCode::kInvalidArgument, "sentencepiece model: negative unk_id");
  }
  return static_cast<uint32_t>(m.trainer_spec.unk_id);
}

Json metaspace(const char* type, const std::string& prepend_scheme, bool split) {
  return Json{{"type", type},
              {"replacement", kSpace},
              {"prepend_scheme", prepend_scheme},
              {"split", split}};
}

// _get_prepend_scheme.
std::string prepend_scheme(bool add_prefix_space, bool legacy) {
  if (!add_prefix_space) return "never";
  return legacy ? "always" : "first";
}

Json replace_decoder(const std::string& from, const std::string& to) {
  return Json{{"type", "Replace"}, {"pattern", {{"String", from}}}, {"content", to}};
}

}  // namespace

Json convert_sentencepiece(TokClass cls, const std::string& model_path, const Json& kwargs) {
  SentencePieceModel m = [&] {
    std::string bytes = read_binary_file(model_path);
    try {
      return parse_sentencepiece_model(bytes);
    } catch (const Error& e) {
      throw Error(e.code(), model_path + ": " + e.what());
    }
  }();
  if (cls != TokClass::kLlama && cls != TokClass::kGemma && cls != TokClass::kT5) {
    throw Error(StatusCode::kUnimplemented,
                model_path + ": no SentencePiece converter for this tokenizer class");
  }
  if (m.pieces.size() < 3) {
    throw Error(StatusCode::kInvalidArgument, model_path + ": fewer than 3 pieces");
  }
  const bool byte_fallback = cls != TokClass::kT5;  // handle_byte_fallback

  // The converter's vocab(proto).
  VocabScores vocab_scores;
  vocab_scores.reserve(m.pieces.size() + 100);
  if (cls == TokClass::kLlama) {
    for (uint32_t i = 0; i < 3; ++i) vocab_scores.emplace_back(slow_id_to_token(m, kwargs, i), 0.0);
  } else if (cls == TokClass::kGemma) {
    for (const char* key : {"pad_token", "eos_token", "bos_token"}) {
      vocab_scores.emplace_back(content_of(kwargs, key), 0.0);
    }
  }
  for (size_t i = cls == TokClass::kT5 ? 0 : 3; i < m.pieces.size(); ++i) {
    vocab_scores.emplace_back(m.pieces[i].piece, static_cast<double>(m.pieces[i].score));
  }
  if (cls == TokClass::kGemma && std::none_of(vocab_scores.begin(), vocab_scores.end(),
                                              [](const auto& v) { return v.first == "\t"; })) {
    // Older Gemma models lack a tab piece: the <0x09> byte piece takes its place.
    for (auto& v : vocab_scores) {
      if (v.first == "<0x09>") {
        v = {"\t", 0.0};
        break;
      }
    }
  }
  if (cls == TokClass::kT5) {
    int64_t extra = kwargs.contains("extra_ids") && kwargs["extra_ids"].is_number_integer()
                        ? kwargs["extra_ids"].get<int64_t>()
                        : 100;
    for (int64_t i = extra - 1; i >= 0; --i)
      vocab_scores.emplace_back("<extra_id_" + std::to_string(i) + ">", 0.0);
  }

  Json doc = empty_document();
  if (m.trainer_spec.model_type == SpmModelType::kUnigram) {
    int64_t unk_id = cls == TokClass::kLlama   ? 0
                     : cls == TokClass::kGemma ? 3
                                               : m.trainer_spec.unk_id;
    if (unk_id < 0 || static_cast<size_t>(unk_id) >= vocab_scores.size()) {
      throw Error(StatusCode::kInvalidArgument,
                  model_path + ": unk_id " + std::to_string(unk_id) + " is not in the vocabulary");
    }
    Json vocab = Json::array();
    for (const auto& [piece, score] : vocab_scores) vocab.push_back(Json::array({piece, score}));
    doc["model"] = Json{{"type", "Unigram"},
                        {"unk_id", unk_id},
                        {"vocab", std::move(vocab)},
                        {"byte_fallback", byte_fallback}};
  } else if (m.trainer_spec.model_type == SpmModelType::kBpe) {
    // SentencePieceExtractor: piece -> id over the model's own pieces (the last id of a
    // repeated piece); GemmaSentencePieceExtractor adds "\t" as <0x09>.
    std::unordered_map<std::string_view, uint32_t> sp_vocab;
    for (size_t i = 0; i < m.pieces.size(); ++i)
      sp_vocab[m.pieces[i].piece] = static_cast<uint32_t>(i);
    if (cls == TokClass::kGemma && !sp_vocab.count("\t")) {
      if (auto it = sp_vocab.find("<0x09>"); it != sp_vocab.end()) sp_vocab["\t"] = it->second;
    }
    Json merges = generate_merges(sp_vocab, vocab_scores);
    Json vocab = Json::object();
    for (size_t i = 0; i < vocab_scores.size(); ++i) vocab[vocab_scores[i].first] = i;
    doc["model"] = Json{{"type", "BPE"},
                        {"dropout", nullptr},
                        {"unk_token", m.trainer_spec.unk_piece},
                        {"continuing_subword_prefix", nullptr},
                        {"end_of_word_suffix", nullptr},
                        {"fuse_unk", true},
                        {"byte_fallback", byte_fallback},
                        {"ignore_merges", false},
                        {"vocab", std::move(vocab)},
                        {"merges", std::move(merges)}};
  } else {
    throw Error(StatusCode::kInvalidArgument,
                model_path + ": only Unigram and BPE SentencePiece models can be converted");
  }

  // Control (special) and user-defined pieces become added tokens, not normalized.
  std::vector<PyAddedToken> added;
  for (const SentencePiece& p : m.pieces) {
    if (p.type != PieceType::kControl && p.type != PieceType::kUserDefined) continue;
    PyAddedToken t;
    t.content = p.piece;
    t.normalized = false;
    t.special =
        p.type == PieceType::kControl ||
        (cls == TokClass::kGemma && (p.piece == "<start_of_turn>" || p.piece == "<end_of_turn>"));
    added.push_back(std::move(t));
  }
  append_added_tokens(doc, added);

  const bool add_prefix_space = truthy(kwargs, "add_prefix_space", true);
  const bool legacy = truthy(kwargs, "legacy", true);
  if (cls == TokClass::kLlama) {
    if (legacy) {
      Json seq = Json::array();
      if (add_prefix_space) seq.push_back(Json{{"type", "Prepend"}, {"prepend", kSpace}});
      seq.push_back(Json{{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kSpace}});
      doc["normalizer"] = Json{{"type", "Sequence"}, {"normalizers", std::move(seq)}};
    } else {
      doc["pre_tokenizer"] =
          metaspace("Metaspace", prepend_scheme(add_prefix_space, legacy), false);
    }
    Json dec = Json::array(
        {replace_decoder(kSpace, " "), Json{{"type", "ByteFallback"}}, Json{{"type", "Fuse"}}});
    if (add_prefix_space)
      dec.push_back(Json{{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
    doc["decoder"] = Json{{"type", "Sequence"}, {"decoders", std::move(dec)}};
  } else if (cls == TokClass::kGemma) {
    doc["normalizer"] =
        Json{{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kSpace}};
    doc["pre_tokenizer"] = Json{{"type", "Split"},
                                {"pattern", {{"String", " "}}},
                                {"behavior", "MergedWithPrevious"},
                                {"invert", false}};
    doc["decoder"] =
        Json{{"type", "Sequence"},
             {"decoders", Json::array({replace_decoder(kSpace, " "), Json{{"type", "ByteFallback"}},
                                       Json{{"type", "Fuse"}}})}};
  } else {  // T5: the SpmConverter defaults
    Json seq = Json::array();
    if (!m.normalizer_spec.precompiled_charsmap.empty()) {
      seq.push_back(
          Json{{"type", "Precompiled"},
               {"precompiled_charsmap", base64_encode(m.normalizer_spec.precompiled_charsmap)}});
    }
    seq.push_back(Json{{"type", "Strip"}, {"strip_left", false}, {"strip_right", true}});
    seq.push_back(
        Json{{"type", "Replace"}, {"pattern", {{"Regex", " {2,}"}}}, {"content", kSpace}});
    doc["normalizer"] = Json{{"type", "Sequence"}, {"normalizers", std::move(seq)}};
    std::string scheme = prepend_scheme(add_prefix_space, legacy);
    doc["pre_tokenizer"] = metaspace("Metaspace", scheme, true);
    doc["decoder"] = metaspace("Metaspace", scheme, true);
    uint32_t eos_id = slow_token_to_id(m, kwargs, "</s>");
    doc["post_processor"] = template_processing("$A </s>", "$A </s> $B </s>", {{"</s>", eos_id}});
  }
  return doc;
}

}  // namespace mlhub::tok::legacy
