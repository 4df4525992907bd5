// BERT's vocab.txt (spec 15.1) converted as transformers' BertConverter does, from the state
// of the slow BertTokenizer (load_vocab + BasicTokenizer options).
#include "tokenizers/legacy/converters.h"

namespace mlhub::tok::legacy {
namespace {

// transformers' load_vocab: readlines() (universal newlines), rstrip("\n") only, id = line
// index; a repeated token keeps its last index.
Json load_vocab(const std::string& path) {
  std::string text = read_text_file(path);
  Json vocab = Json::object();
  uint32_t index = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string::npos ? text.size() : nl;
    vocab[text.substr(pos, end - pos)] = index++;
    pos = nl == std::string::npos ? text.size() : nl + 1;
  }
  return vocab;
}

// The slow tokenizer's convert_tokens_to_ids: its added tokens, then the vocabulary, then the
// unknown token's id.
uint32_t slow_token_id(const Json& vocab, const Json& kwargs, const std::string& token,
                       const std::string& unk) {
  for (const Json& e : kwargs["added_tokens_decoder"]) {
    if (e["content"] == token) return e["id"].get<uint32_t>();
  }
  for (const std::string* t : {&token, &unk}) {
    auto it = vocab.find(*t);
    if (it != vocab.end()) return it->get<uint32_t>();
  }
  throw Error(StatusCode::kInvalidArgument, "vocab.txt: neither \"" + token +
                                                "\" nor the unknown token \"" + unk +
                                                "\" is in the vocabulary");
}

std::string content_of(const Json& kwargs, std::string_view key) {
  auto v = kwarg_special(kwargs, key);
  if (!v) {
    throw Error(StatusCode::kInvalidArgument,
                "tokenizer_config.json: BertTokenizer needs a " + std::string(key));
  }
  return v->token.content;
}

}  // namespace

Json convert_vocab_txt(const std::string& vocab_path, const Json& kwargs) {
  Json vocab = load_vocab(vocab_path);
  const std::string unk = content_of(kwargs, "unk_token");
  const std::string cls = content_of(kwargs, "cls_token");
  const std::string sep = content_of(kwargs, "sep_token");
  const uint32_t cls_id = slow_token_id(vocab, kwargs, cls, unk);
  const uint32_t sep_id = slow_token_id(vocab, kwargs, sep, unk);

  Json doc = empty_document();
  // BertConverter reads the BasicTokenizer's options; without basic tokenization they are all
  // false (BertTokenizerFast.__init__ then re-applies its own arguments).
  const bool basic = kwarg_bool(kwargs, "do_basic_tokenize", true);
  Json strip_accents =
      basic && kwargs.contains("strip_accents") ? kwargs["strip_accents"] : Json(false);
  if (!basic) strip_accents = false;
  doc["normalizer"] =
      Json{{"type", "BertNormalizer"},
           {"clean_text", true},
           {"handle_chinese_chars", basic && kwarg_bool(kwargs, "tokenize_chinese_chars", true)},
           {"strip_accents", strip_accents},
           {"lowercase", basic && kwarg_bool(kwargs, "do_lower_case", true)}};
  doc["pre_tokenizer"] = Json{{"type", "BertPreTokenizer"}};
  doc["post_processor"] = template_processing(cls + ":0 $A:0 " + sep + ":0",
                                              cls + ":0 $A:0 " + sep + ":0 $B:1 " + sep + ":1",
                                              {{cls, cls_id}, {sep, sep_id}});
  doc["decoder"] = Json{{"type", "WordPiece"}, {"prefix", "##"}, {"cleanup", true}};
  doc["model"] = Json{{"type", "WordPiece"},
                      {"unk_token", unk},
                      {"continuing_subword_prefix", "##"},
                      {"max_input_chars_per_word", 100},
                      {"vocab", std::move(vocab)}};
  return doc;
}

}  // namespace mlhub::tok::legacy
