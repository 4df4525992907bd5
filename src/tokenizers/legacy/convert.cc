// convert_legacy_folder: picks the converter for a folder with no tokenizer.json, as
// transformers does when it builds a fast tokenizer from the slow one (the class from the
// configs; the files the class names).
#include <filesystem>

#include "mlhub/core.h"
#include "tokenizers/legacy/converters.h"

namespace mlhub::tok::legacy {
namespace {

// The class guessed from the files when the configs name none (transformers would refuse).
std::optional<TokClass> class_from_files(const std::string& dir) {
  if (has_file(dir, "vocab.txt")) return TokClass::kBert;
  if (has_file(dir, "vocab.json") && has_file(dir, "merges.txt")) return TokClass::kGpt2;
  if (has_file(dir, "tokenizer.model")) return TokClass::kLlama;
  if (has_file(dir, "spiece.model")) return TokClass::kT5;
  return std::nullopt;
}

const char* class_label(TokClass c) {
  switch (c) {
    case TokClass::kGeneric:
      return "generic";
    case TokClass::kBert:
      return "bert";
    case TokClass::kGpt2:
      return "gpt2";
    case TokClass::kCodeGen:
      return "codegen";
    case TokClass::kRoberta:
      return "roberta";
    case TokClass::kClip:
      return "clip";
    case TokClass::kWhisper:
      return "whisper";
    case TokClass::kQwen2:
      return "qwen2";
    case TokClass::kLlama:
      return "llama";
    case TokClass::kGemma:
      return "gemma";
    case TokClass::kT5:
      return "t5";
    case TokClass::kMarian:
      return "marian";
  }
  return "generic";
}

}  // namespace

std::optional<TokClass> class_from_label(std::string_view label) {
  for (TokClass c : {TokClass::kGeneric, TokClass::kBert, TokClass::kGpt2, TokClass::kCodeGen,
                     TokClass::kRoberta, TokClass::kClip, TokClass::kWhisper, TokClass::kQwen2,
                     TokClass::kLlama, TokClass::kGemma, TokClass::kT5, TokClass::kMarian}) {
    if (label == class_label(c)) return c;
  }
  return std::nullopt;
}

std::optional<Json> convert_legacy_folder(const std::string& dir, const FolderConfig& cfg) {
  const bool any_files = has_file(dir, "vocab.txt") ||
                         (has_file(dir, "vocab.json") && has_file(dir, "merges.txt")) ||
                         has_file(dir, "tokenizer.model") || has_file(dir, "spiece.model");
  ResolvedClass rc = resolve_tokenizer_class(cfg);
  TokClass cls = rc.cls;
  if (!rc.known) {
    if (!rc.name.empty() && any_files) {
      throw Error(StatusCode::kUnimplemented,
                  dir + ": tokenizer class \"" + rc.name + "\" has no legacy-file converter here");
    }
    auto guessed = class_from_files(dir);
    if (!guessed) return std::nullopt;
    cls = *guessed;
    log(LogLevel::kInfo, dir + ": no tokenizer class in the configs; converting as " +
                             std::string(class_label(cls)) + " from the files present");
  }

  // The files each slow class reads (its vocab_files_names).
  const char* vocab_file = nullptr;
  const char* merges_file = nullptr;
  switch (cls) {
    case TokClass::kBert:
      vocab_file = "vocab.txt";
      break;
    case TokClass::kGpt2:
    case TokClass::kCodeGen:
    case TokClass::kRoberta:
    case TokClass::kClip:
    case TokClass::kWhisper:
    case TokClass::kQwen2:
      vocab_file = "vocab.json";
      merges_file = "merges.txt";
      break;
    case TokClass::kLlama:
    case TokClass::kGemma:
      vocab_file = "tokenizer.model";
      break;
    case TokClass::kT5:
      vocab_file = "spiece.model";
      break;
    case TokClass::kMarian:
      return convert_marian(dir, cfg, nullptr);
    case TokClass::kGeneric:
      if (!any_files) return std::nullopt;
      throw Error(
          StatusCode::kUnimplemented,
          dir +
              ": PreTrainedTokenizerFast needs a tokenizer.json (it has no slow tokenizer to "
              "convert from; tiktoken files are not supported)");
  }
  if (!has_file(dir, vocab_file) || (merges_file && !has_file(dir, merges_file))) {
    if (!any_files) return std::nullopt;
    throw Error(StatusCode::kNotFound, dir + ": the tokenizer class (" +
                                           (rc.name.empty() ? class_label(cls) : rc.name) +
                                           ") reads " + vocab_file +
                                           (merges_file ? std::string(" and ") + merges_file : "") +
                                           ", which the folder lacks");
  }

  Json kwargs = init_kwargs(cls, Side::kSlow, cfg, nullptr);
  Json doc;
  switch (cls) {
    case TokClass::kBert:
      doc = convert_vocab_txt(in_dir(dir, vocab_file), kwargs);
      break;
    case TokClass::kLlama:
    case TokClass::kGemma:
    case TokClass::kT5:
      doc = convert_sentencepiece(cls, in_dir(dir, vocab_file), kwargs);
      break;
    default:
      doc = convert_bpe_files(cls, in_dir(dir, vocab_file), in_dir(dir, merges_file), kwargs);
  }
  kwargs.erase("added_tokens_decoder");  // not part of a slow tokenizer's init_kwargs
  doc[std::string(kSlowInitKwargsKey)] =
      Json{{"class", class_label(cls)}, {"init_kwargs", std::move(kwargs)}};
  return doc;
}

}  // namespace mlhub::tok::legacy
