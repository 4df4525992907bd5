// Internals shared by the legacy loaders (legacy.h): the emulation of how transformers 4.57.3
// resolves a folder's tokenizer class and its special tokens, and the per-format converters
// (transformers' convert_slow_tokenizer.py, one file per format).
//
// How the pieces fit (mirroring PreTrainedTokenizerBase._from_pretrained and
// PreTrainedTokenizerFast.__init__):
//   - the "init kwargs" of a tokenizer class are tokenizer_config.json (plus
//     special_tokens_map.json when the config has no "added_tokens_decoder"), completed with the
//     class's own defaults and AddedToken wrapping (init_kwargs());
//   - when no tokenizer.json exists, the slow class's converter builds the document and stores
//     the slow tokenizer's init kwargs in it under kSlowInitKwargsKey; apply_tokenizer_config
//     takes them out again, as PreTrainedTokenizerFast.__init__ does with
//     `kwargs.update(slow_tokenizer.init_kwargs)`;
//   - apply_tokenizer_config then appends the tokens transformers adds to "added_tokens" (the
//     list is a replay log: a token may appear twice, the later entry carrying the flags
//     transformers changed; the Rust loader replays it with add_tokens, which keeps the first
//     entry's flags for matching and the last one's for the id -> token map, as transformers'
//     two add_tokens calls do).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizers/json.h"
#include "tokenizers/legacy/legacy.h"

namespace mlhub::tok::legacy {

// Key of the document member carrying {"class": label, "init_kwargs": {...}}, the slow
// tokenizer's class and init kwargs, from a converter to apply_tokenizer_config (which removes
// it).
inline constexpr std::string_view kSlowInitKwargsKey = "mlhub_slow_init_kwargs";

// Python's tokenizers.AddedToken as transformers manipulates it. `normalized` is unset until
// given explicitly or fixed by a copy.deepcopy (which serialises the resolved value); unset, it
// reads as !special, so setting `special` later flips it.
struct PyAddedToken {
  std::string content;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  std::optional<bool> normalized;
  bool special = false;

  bool resolved_normalized() const { return normalized.value_or(!special); }
  // Python ==: every field compared, `normalized` resolved.
  bool same_as(const PyAddedToken& o) const;
  // A tokenizer.json "added_tokens" entry.
  Json to_added_json(uint32_t id) const;
  // The tokenizer_config.json form: {"__type": "AddedToken", ...}.
  Json to_config_json() const;
};

// A special-token attribute value: a plain string or an AddedToken (None is std::nullopt).
struct SpecialValue {
  PyAddedToken token;  // token.content is the string when is_string
  bool is_string = false;
};

// Parses a tokenizer_config.json special-token value: a string, an object with
// "__type": "AddedToken", or null (nullopt). Other objects are an error, as in transformers.
std::optional<SpecialValue> parse_special_value(const Json& j, const std::string& path);
Json special_value_to_json(const SpecialValue& v);
// An AddedToken built from a dict of its fields (AddedToken(**d)); "__type" is ignored.
PyAddedToken py_added_token_from_dict(const Json& d, const std::string& path);

// The tokenizer classes this module knows, by the transformers (fast) class they stand for.
enum class TokClass {
  kGeneric,  // PreTrainedTokenizerFast (and any class with no special handling)
  kBert,     // BertTokenizerFast and its copies (DistilBert, Electra, ...)
  kGpt2,
  kCodeGen,
  kRoberta,
  kClip,
  kWhisper,
  kQwen2,
  kLlama,
  kGemma,
  kT5,
  kMarian,  // MarianTokenizer: slow only in transformers
};

struct ResolvedClass {
  TokClass cls = TokClass::kGeneric;
  std::string name;    // as found ("LlamaTokenizer", "model_type llama", "" when none)
  bool known = false;  // false: no class found, or one this module does not model
};

// The class AutoTokenizer would pick: tokenizer_config "tokenizer_class", else config.json
// "tokenizer_class", else config.json "model_type" through transformers' TOKENIZER_MAPPING.
ResolvedClass resolve_tokenizer_class(const FolderConfig& cfg);

// The class stored in the kSlowInitKwargsKey member ("llama", ...), nullopt when unknown.
std::optional<TokClass> class_from_label(std::string_view label);

// True when transformers would convert from the slow tokenizer even though tokenizer.json
// exists (LlamaTokenizerFast / T5TokenizerFast given a non-null add_prefix_space set
// from_slow=True). The folder must then hold the SentencePiece model.
bool wants_slow_conversion(const FolderConfig& cfg);

// Which side of a class the init kwargs are for.
enum class Side { kFast, kSlow };

// The init kwargs of `cls` (fast or slow side) built from the folder's configs as
// _from_pretrained and the class __init__ do: tokenizer_config.json; special_tokens_map.json
// merged when there is no "added_tokens_decoder"; special tokens replaced by the entry of the
// same content in the added-tokens decoder (the config's, else `tokenizer_json_added`, the
// tokenizer.json "added_tokens" list, when the folder has one); class defaults filled in and
// string values wrapped in AddedToken as the class does. The slow side is deep-copied
// (`normalized` resolved), as init_kwargs are. Special-token values are in
// tokenizer_config.json form. "added_tokens_decoder" is returned as a list of
// {"id": n, ...token dict} in id order.
Json init_kwargs(TokClass cls, Side side, const FolderConfig& cfg,
                 const Json* tokenizer_json_added);

// The special tokens of a kwargs object in transformers' all_special_tokens_extended order
// (bos, eos, unk, sep, pad, cls, mask, additional..., extra_special_tokens...), each content once
// except within additional_special_tokens.
std::vector<SpecialValue> all_special_tokens_extended(const Json& kwargs);

// Reads kwargs[key] as a special value (nullopt when absent or null).
std::optional<SpecialValue> kwarg_special(const Json& kwargs, std::string_view key);
// kwargs[key] as a bool / string, `def` when absent or null.
bool kwarg_bool(const Json& kwargs, std::string_view key, bool def);
std::optional<std::string> kwarg_str(const Json& kwargs, std::string_view key);

// ---- documents ----------------------------------------------------------------------------

// Token -> id as the Rust tokenizer answers it for `doc`: added tokens first, then the model's
// vocabulary. Built once; the document must not change while it is used.
class DocVocab {
 public:
  explicit DocVocab(const Json& doc);
  std::optional<uint32_t> token_to_id(std::string_view token) const;
  size_t model_vocab_size() const { return model_size_; }
  // The largest id in "added_tokens", if any.
  std::optional<uint32_t> max_added_id() const { return max_added_; }

 private:
  const Json* doc_;
  size_t model_size_ = 0;
  std::optional<uint32_t> max_added_;
  std::unordered_map<std::string, uint32_t> added_;
  std::unordered_map<std::string, uint32_t> unigram_;  // Unigram only
};

// Appends tokens to doc["added_tokens"] as Rust's AddedVocabulary::add_tokens assigns ids
// (existing token -> its id, else the next free id after the model vocabulary).
void append_added_tokens(Json& doc, const std::vector<PyAddedToken>& tokens);

// TemplateProcessing from transformers' "A:0 B:1"-style template strings; each special token
// is (token, id).
Json template_processing(const std::string& single, const std::string& pair,
                         const std::vector<std::pair<std::string, uint32_t>>& special_tokens);

// An empty tokenizer.json document (version, null components, empty added_tokens).
Json empty_document();

// Standard base64 with "=" padding (how tokenizer.json stores binary data).
std::string base64_encode(std::string_view bytes);

// ---- decode-time behaviour of transformers classes ------------------------------------------

// Decoders appended (in a Sequence after the class's ByteLevel decoder, whose output is one
// string) to reproduce what the transformers class does to decoded text:
//   CLIPTokenizerFast wraps the backend decode: text.replace(end_of_word_suffix, " ").strip()
//     (Python str.strip(): every str.isspace() char at both ends);
//   WhisperTokenizerFast.decode removes timestamp tokens: re.sub(r"<\|(\d+\.\d+)\|>", "", text).
//     transformers does this after clean_up_tokenization_spaces, the decoder before it: they
//     differ only when removing a timestamp leaves a " ." (" ?", " 's", ...) that clean-up would
//     have collapsed, e.g. "a <|1.00|>." gives "a ." in transformers and "a." here.
std::vector<Json> clip_decode_hooks(const std::string& end_of_word_suffix);
std::vector<Json> whisper_decode_hooks();

// ---- files --------------------------------------------------------------------------------

// Whether `dir` holds a regular file `name`, and that file's path.
bool has_file(const std::string& dir, const char* name);
std::string in_dir(const std::string& dir, const char* name);

// The bytes of a file; kNotFound when missing, kIoError when unreadable.
std::string read_binary_file(const std::string& path);
// A text file as Python's open(path, encoding="utf-8").read() gives it: strict UTF-8
// (kInvalidArgument naming the byte otherwise) with universal newlines ("\r\n", "\r" -> "\n").
std::string read_text_file(const std::string& path);
// Parses a JSON file (kInvalidArgument naming the file and byte on bad JSON).
Json read_json_file(const std::string& path);

// Python str.isspace() for one code point.
bool is_py_space(char32_t c);
// Python str.split() with no argument (runs of whitespace, ends ignored).
std::vector<std::string_view> py_split(std::string_view s);
// Python str.strip() with no argument.
std::string_view py_strip(std::string_view s);

// ---- converters (one file each) -------------------------------------------------------------

// BertConverter from vocab.txt (vocab_txt.cc).
Json convert_vocab_txt(const std::string& vocab_path, const Json& slow_kwargs);
// GPT2 / CodeGen / Roberta / CLIP / Whisper / Qwen2 converters from vocab.json + merges.txt
// (bpe_files.cc).
Json convert_bpe_files(TokClass cls, const std::string& vocab_path, const std::string& merges_path,
                       const Json& slow_kwargs);
// SpmConverter family (Llama, Gemma, T5) from a SentencePiece model (sentencepiece.cc).
Json convert_sentencepiece(TokClass cls, const std::string& model_path, const Json& slow_kwargs);
// The slow MarianTokenizer of folder `dir` (source.spm, target.spm, vocab.json, and
// target_vocab.json with separate_vocabs) as a document with the mlhub "MarianSentencePiece"
// model and decoder (marian.cc). `tokenizer_json_added` is the folder's tokenizer.json
// "added_tokens", used when tokenizer_config.json has no "added_tokens_decoder". The document
// is complete: apply_tokenizer_config only removes the kSlowInitKwargsKey member. Throws
// kNotFound for a missing file, kInvalidArgument for bad vocab / config contents, kCorruption
// for a SentencePiece model that does not parse.
Json convert_marian(const std::string& dir, const FolderConfig& cfg,
                    const Json* tokenizer_json_added);

}  // namespace mlhub::tok::legacy
