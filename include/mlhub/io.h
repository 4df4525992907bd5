// mlhub io: reading checkpoints as Hugging Face publishes them, with no conversion step.
//
//   model.safetensors                      memory-mapped; tensors are views into the mapping
//   model.safetensors.index.json (shards)  each shard mapped
//   pytorch_model.bin                      zip archive + pickle, through a restricted unpickler
//   pytorch_model.bin.index.json (shards)  that only rebuilds tensors (never runs code)
//   config.json                            parsed JSON
//   *.gguf (llama.cpp / ggml)              memory-mapped; metadata, tensors as views (GgufFile),
//                                          and the Hugging Face config, state dict and tokenizer
//                                          transformers builds from it (gguf_to_hf, ...)
//
// Every reader treats its input as hostile: header lengths past the end of the file, offsets
// out of range or overlapping, sizes that do not match dtype x shape, absurd shapes, unknown
// dtypes, pickle opcodes or globals outside the tensor-rebuilding whitelist all give a Status
// (kCorruption for broken files, kUnimplemented for valid but unsupported content such as an
// unknown dtype) with a message naming the file and what is wrong. No reader crashes, allocates
// unbounded memory from a size in the file, or executes anything from a file.
//
// Threads: a Checkpoint is immutable after open() and safe to read from several threads.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "mlhub/core.h"
#include "mlhub/tensor.h"

namespace mlhub::io {

// A set of named tensors from one or more files. Tensors keep their stored dtype and share the
// file mapping (zero-copy) or the buffer the archive was read into.
class Checkpoint {
 public:
  // Opens a checkpoint file or a model folder. In a folder, the first of these that exists is
  // used: model.safetensors, model.safetensors.index.json, pytorch_model.bin,
  // pytorch_model.bin.index.json (transformers' order of preference). A file path is opened by
  // its format (safetensors by its header, torch zip by its magic, *.index.json as an index).
  static Result<Checkpoint> open(const std::filesystem::path& path);

  // The tensor stored under `name` (exact checkpoint key). Throws kNotFound when absent.
  const Tensor& get(const std::string& name) const;
  bool contains(const std::string& name) const;
  // All keys in sorted order.
  std::vector<std::string> names() const;
  size_t size() const;
  // The files the tensors came from (one per shard).
  const std::vector<std::filesystem::path>& files() const;
  // safetensors "__metadata__" (empty for torch files).
  const std::map<std::string, std::string>& metadata() const;

  // Adds or replaces a tensor (used by tests and by readers). Not thread-safe.
  void put(const std::string& name, Tensor t);

 private:
  friend struct CheckpointData;  // the readers in src/io build Checkpoints through it
  std::shared_ptr<struct CheckpointData> data_;
};

// Single-file readers (Checkpoint::open uses them; exposed for tests and fuzzing).
// `bytes` variants parse an in-memory image; the storage is copied, the result self-contained.
Result<Checkpoint> read_safetensors(const std::filesystem::path& file);
Result<Checkpoint> parse_safetensors(std::string_view bytes);
Result<Checkpoint> read_torch_bin(const std::filesystem::path& file);
Result<Checkpoint> parse_torch_bin(std::string_view bytes);
// Parses just the pickle stream of a torch archive ("archive/data.pkl"), with `load_record`
// returning the raw bytes of storage `key` ("archive/data/<key>"). Exposed for the pickle fuzzer.
Result<Checkpoint> parse_torch_pickle(
    std::string_view pickle,
    const std::function<Result<std::string>(const std::string& key)>& load_record);

// Writes tensors as a safetensors file (used by tests and tools). The bytes are what the
// safetensors library writes for the same tensors and metadata: tensors laid out by dtype size
// then name (so each is aligned), header padded to 8 bytes. Written to <file>.tmp, then renamed.
Status write_safetensors(const std::filesystem::path& file,
                         const std::map<std::string, Tensor>& tensors,
                         const std::map<std::string, std::string>& metadata = {});

// Reads a whole text file (config.json, an index). kNotFound when missing, kIoError when the OS
// refuses the read. The content is not parsed or validated.
Result<std::string> read_text_file(const std::filesystem::path& file);

// ---- GGUF -----------------------------------------------------------------------------------
//
// GGUF (ggml's single-file format, versions 2 and 3, little-endian): a header, typed metadata
// key/values, tensor infos, then the data section (aligned to general.alignment, default 32).
// Hostile input is handled as for the readers above: bad magic, truncation, counts or lengths
// that cannot fit in the file, unknown value types, nesting deeper than kGgufMaxArrayDepth,
// duplicate keys or tensor names, n_dims outside 1..4, dims <= 0 or overflowing products, rows
// that are not whole blocks, offsets misaligned / past the data section / overlapping all give
// kCorruption (kUnimplemented for big-endian files, versions other than 2 and 3, unknown ggml
// types) naming the file. Parsing walks the metadata without copying it: memory used by open()
// is proportional to the number of keys and tensors, never to a count read from the file.

// Metadata value types, numbered as in the file.
enum class GgufType : uint32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7, kString = 8,
  kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12,
};
std::string_view gguf_type_name(GgufType type);  // "u8", ..., "string", "array"
inline constexpr int kGgufMaxArrayDepth = 8;      // arrays of arrays of ... at most this deep

// One tensor as the file describes it.
struct GgufTensorInfo {
  std::string name;
  uint32_t ggml_type = 0;       // ggml's type id (0 F32, 1 F16, 2 Q4_0, ..., 30 BF16)
  std::string_view type_name;   // ggml's name for it: "F32", "Q4_K", "IQ4_XS", ...
  std::optional<DType> dtype;   // the mlhub dtype; nullopt for ggml types mlhub cannot hold
  Shape shape;                  // row-major (ggml's ne[] reversed: ne[0] is the last dim)
  uint64_t offset = 0;          // from the start of the data section
  uint64_t nbytes = 0;
};

// A parsed GGUF file. Cheap to copy (copies share the mapping); immutable and thread-safe.
class GgufFile {
 public:
  // Memory-maps and parses `path`. Errors: kNotFound / kIoError from the OS, kCorruption and
  // kUnimplemented as listed above; messages start with the path.
  static Result<GgufFile> open(const std::filesystem::path& path);
  // Parses an in-memory image (copied; the result is self-contained). Messages start "gguf: ".
  static Result<GgufFile> parse(std::string_view bytes);

  uint32_t version() const;
  uint64_t alignment() const;
  uint64_t data_offset() const;             // file offset of the data section
  const std::string& source() const;        // the path, or "gguf" for parse()

  // ---- metadata. Keys in file order; typed getters return kNotFound when the key is absent
  // and kInvalidArgument when it holds another type (the message names key, file and both
  // types). Integer getters accept every integer type (u64 above INT64_MAX: kOutOfRange); float
  // getters f32 and f64 (an f32 is widened exactly). Strings are returned as stored (GGUF does
  // not promise UTF-8).
  const std::vector<std::string>& keys() const;
  bool contains(const std::string& key) const;
  std::optional<GgufType> type_of(const std::string& key) const;
  std::optional<GgufType> array_type_of(const std::string& key) const;  // element type
  Result<std::string> get_string(const std::string& key) const;
  Result<int64_t> get_int(const std::string& key) const;
  Result<double> get_float(const std::string& key) const;
  Result<bool> get_bool(const std::string& key) const;
  Result<std::vector<std::string>> get_string_array(const std::string& key) const;
  Result<std::vector<int64_t>> get_int_array(const std::string& key) const;
  Result<std::vector<double>> get_float_array(const std::string& key) const;
  // All metadata as one JSON object {key: value}: integers, floats (f32 widened), bools,
  // strings (invalid UTF-8 kept byte for byte; dump with error_handler_t::replace), arrays.
  nlohmann::json metadata_json() const;
  // One value as JSON (null when absent).
  nlohmann::json value_json(const std::string& key) const;

  // ---- tensors, in file order.
  const std::vector<GgufTensorInfo>& tensor_infos() const;
  const GgufTensorInfo* find_tensor(const std::string& name) const;  // null when absent
  // The tensor as a view into the mapping (zero-copy; a plain-dtype tensor whose first byte is
  // not aligned for its dtype is copied). kNotFound when absent; kUnimplemented for ggml types
  // without an mlhub DType (IQ*, TQ*, Q8_1, Q8_K).
  Result<Tensor> tensor(const std::string& name) const;
  // Every tensor under its GGUF name ("blk.0.attn_q.weight"); kUnimplemented as tensor().
  Result<Checkpoint> checkpoint() const;

 private:
  GgufFile() = default;  // only open() and parse() make one: every GgufFile holds a file
  std::shared_ptr<const struct GgufData> data_;
};

// What transformers 4.57.3 makes of a GGUF file (load_gguf_checkpoint, then the config class):
// `config` is the config.json of the model, i.e. AutoConfig.from_pretrained(dir, gguf_file=...)
// .to_diff_dict() without "transformers_version" (transformers sets no "architectures"); it
// includes "_model_name_or_path" (general.name) and tie_word_embeddings (true when the file has
// no output.weight). `tensors` holds the state dict under Hugging Face names: only the tensors
// transformers' weights map knows for that model (others are dropped, as it drops them). They
// keep their GGUF dtype (quantized stays quantized) and view the mapping, except where
// transformers' tensor processors change them: llama's q_proj/k_proj rows are moved back to
// Hugging Face order (a row permutation, so quantized rows work; owned copies), gemma2's norm
// weights - 1 (F32 results; kUnimplemented for a quantized norm) and gpt2's transposed Conv1D
// weights (owned copies; kUnimplemented when quantized). Architectures: llama (including
// llama files transformers renames to mistral: general.name exactly "mistral"), qwen2, qwen3,
// phi3, gemma2, gpt2. Others transformers reads (falcon, bloom, t5, ...) and unknown ones give
// kUnimplemented; a missing general.architecture or broken head counts kCorruption. Thread-safe.
struct GgufHf {
  nlohmann::json config;
  Checkpoint tensors;
};
Result<GgufHf> gguf_to_hf(const GgufFile& file);

// The tokenizer transformers rebuilds from tokenizer.ggml.* (AutoTokenizer.from_pretrained(dir,
// gguf_file=...): the integrations/ggml.py converter, then the fast tokenizer class). `tokenizer`
// is the backend's tokenizer.json (mlhub::tok::Tokenizer::from_json_string loads it; equal to
// transformers' backend_tokenizer.to_str() as JSON); `tokenizer_config` the keyword arguments the
// class was built with (bos/eos/unk/pad tokens, add_bos_token, chat_template, the GGUF token ids,
// ...). Converted: llama (GGUFLlamaConverter + LlamaTokenizerFast: byte-level BPE vocabularies,
// tokenizer model "gpt2", and SentencePiece ones, "llama", whose merges are rebuilt from the
// scores), phi3 (GGUFPhi3Converter + LlamaTokenizerFast), qwen2 / qwen3 (GGUFQwen2Converter +
// Qwen2TokenizerFast) and gpt2 (GGUFGPTConverter + GPT2TokenizerFast). transformers' quirks are kept: its llama converter passes the bos token as
// eos_token and ignores tokenizer.ggml.add_bos_token. Other model types: kUnimplemented;
// inconsistent metadata (ids past the vocabulary, invalid UTF-8, merges that are not two tokens,
// NaN scores, missing tokens): kCorruption. Thread-safe.
struct GgufTokenizer {
  nlohmann::json tokenizer;
  nlohmann::json tokenizer_config;
};
Result<GgufTokenizer> gguf_tokenizer_json(const GgufFile& file);

}  // namespace mlhub::io
