// mlhub io: reading checkpoints as Hugging Face publishes them, with no conversion step.
//
//   model.safetensors                      memory-mapped; tensors are views into the mapping
//   model.safetensors.index.json (shards)  each shard mapped
//   pytorch_model.bin                      zip archive + pickle, through a restricted unpickler
//   pytorch_model.bin.index.json (shards)  that only rebuilds tensors (never runs code)
//   config.json                            parsed JSON
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

}  // namespace mlhub::io
