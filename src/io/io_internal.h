// Private pieces shared by the checkpoint readers of src/io.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mlhub/io.h"

namespace mlhub::io {

// What a Checkpoint holds. Readers fill one and wrap it; Checkpoint shares it between copies.
struct CheckpointData {
  std::map<std::string, Tensor> tensors;
  std::vector<std::filesystem::path> files;
  std::map<std::string, std::string> metadata;

  static Checkpoint wrap(CheckpointData data);
  static const CheckpointData& of(const Checkpoint& checkpoint);
};

// Throws mlhub::Error(kCorruption, message): the one way the readers report a broken file.
[[noreturn]] void corrupt(const std::string& message);
[[noreturn]] void unimplemented(const std::string& message);

// Runs `fn` (which throws mlhub::Error) and returns its result; an error's message gets
// "<what>: " in front so that every message names the file (or "safetensors" for a buffer).
template <typename Fn>
auto with_context(const std::string& what, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Error& e) {
    throw Error(e.code(), what + ": " + e.what());
  }
}

// A read-only memory mapping of a whole file. `owner` keeps the mapping alive (it is the owner
// passed to Storage::view); `data` is null for an empty file.
struct MappedFile {
  std::shared_ptr<const void> owner;
  const std::byte* data = nullptr;
  size_t size = 0;
};
// Throws kNotFound when the file does not exist, kIoError when it cannot be opened or mapped.
MappedFile map_file(const std::filesystem::path& file);

// The safetensors reader over bytes that `owner` keeps alive (a mapping or a copied buffer).
// Throws mlhub::Error with a message that does not name the file (the caller adds it).
CheckpointData parse_safetensors_image(std::shared_ptr<const void> owner, const std::byte* data,
                                       size_t size);
// read_safetensors without the Result: maps `file`, errors name it.
CheckpointData read_safetensors_file(const std::filesystem::path& file);

// The restricted unpickler behind parse_torch_pickle: `load_storage(key, min_bytes)` returns the
// raw bytes of storage `key`, at least `min_bytes` long (it throws when it cannot).
using StorageLoader =
    std::function<std::shared_ptr<Storage>(const std::string& key, size_t min_bytes)>;
CheckpointData unpickle_state_dict(std::string_view pickle, const StorageLoader& load_storage);

// A torch zip archive (file or buffer) read into a CheckpointData. Throws mlhub::Error.
CheckpointData read_torch_zip_file(const std::filesystem::path& file);
CheckpointData read_torch_zip_memory(std::string_view bytes);

// A *.index.json of a sharded checkpoint (safetensors or torch shards). Throws mlhub::Error.
CheckpointData read_sharded_index(const std::filesystem::path& index_file);

// Opens one checkpoint file by its format (safetensors, torch zip, index). Throws mlhub::Error.
CheckpointData open_checkpoint_file(const std::filesystem::path& file);

}  // namespace mlhub::io
