// Checkpoint: the tensor map every reader produces, and open(), which picks the reader.
#include <fmt/format.h>

#include <array>
#include <cstring>
#include <fstream>

#include "io/io_internal.h"

namespace mlhub::io {

namespace fs = std::filesystem;

[[noreturn]] void corrupt(const std::string& message) {
  throw Error(StatusCode::kCorruption, message);
}

[[noreturn]] void unimplemented(const std::string& message) {
  throw Error(StatusCode::kUnimplemented, message);
}

// ---- Checkpoint ------------------------------------------------------------------------------

Checkpoint CheckpointData::wrap(CheckpointData data) {
  Checkpoint c;
  c.data_ = std::make_shared<CheckpointData>(std::move(data));
  return c;
}

const CheckpointData& CheckpointData::of(const Checkpoint& checkpoint) {
  static const CheckpointData kEmpty;
  return checkpoint.data_ ? *checkpoint.data_ : kEmpty;
}

const Tensor& Checkpoint::get(const std::string& name) const {
  const auto& tensors = CheckpointData::of(*this).tensors;
  const auto it = tensors.find(name);
  if (it == tensors.end()) {
    const auto& files = CheckpointData::of(*this).files;
    throw Error(StatusCode::kNotFound,
                fmt::format("tensor \"{}\" is not in the checkpoint{}", name,
                            files.empty() ? "" : " " + files.front().string() +
                                                     (files.size() > 1 ? " (and shards)" : "")));
  }
  return it->second;
}

bool Checkpoint::contains(const std::string& name) const {
  return CheckpointData::of(*this).tensors.count(name) != 0;
}

std::vector<std::string> Checkpoint::names() const {
  std::vector<std::string> out;
  for (const auto& [name, tensor] : CheckpointData::of(*this).tensors) out.push_back(name);
  return out;
}

size_t Checkpoint::size() const { return CheckpointData::of(*this).tensors.size(); }

const std::vector<fs::path>& Checkpoint::files() const { return CheckpointData::of(*this).files; }

const std::map<std::string, std::string>& Checkpoint::metadata() const {
  return CheckpointData::of(*this).metadata;
}

void Checkpoint::put(const std::string& name, Tensor t) {
  // Copies of a Checkpoint share their data; copy on write so that a put on one copy does not
  // change another (which may be read by other threads).
  if (!data_) {
    data_ = std::make_shared<CheckpointData>();
  } else if (data_.use_count() > 1) {
    data_ = std::make_shared<CheckpointData>(*data_);
  }
  data_->tensors[name] = std::move(t);
}

// ---- opening by format -----------------------------------------------------------------------

namespace {

constexpr std::array<const char*, 4> kFolderCandidates = {
    "model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
    "pytorch_model.bin.index.json"};

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The first bytes of a file (fewer when the file is shorter).
std::string head_of(const fs::path& file, size_t n) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(StatusCode::kIoError, fmt::format("{}: cannot open", file.string()));
  std::string head(n, '\0');
  in.read(head.data(), static_cast<std::streamsize>(n));
  head.resize(static_cast<size_t>(in.gcount()));
  return head;
}

}  // namespace

CheckpointData open_checkpoint_file(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec))
    throw Error(StatusCode::kNotFound, fmt::format("{}: no such file", file.string()));
  if (ends_with(file.filename().string(), ".index.json")) return read_sharded_index(file);
  const std::string head = head_of(file, 4);
  if (head.size() == 4 && std::memcmp(head.data(), "PK\x03\x04", 4) == 0)
    return read_torch_zip_file(file);
  // Old torch pickles (0x80 = pickle PROTO) and tars are rejected by the torch reader with a
  // clear message; anything else is taken as safetensors, whose reader names what is wrong.
  // A *.safetensors name wins over the 0x80 test: a safetensors header length whose low byte is
  // 0x80 (1 file in 256) starts with that byte too.
  const std::string name = file.filename().string();
  if (ends_with(name, ".safetensors")) return read_safetensors_file(file);
  if (ends_with(name, ".bin") || ends_with(name, ".pt") ||
      (!head.empty() && static_cast<unsigned char>(head[0]) == 0x80))
    return read_torch_zip_file(file);
  return read_safetensors_file(file);
}

Result<Checkpoint> Checkpoint::open(const fs::path& path) {
  return catch_errors([&]() -> Checkpoint {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      for (const char* name : kFolderCandidates) {
        const fs::path candidate = path / name;
        if (fs::is_regular_file(candidate, ec))
          return CheckpointData::wrap(open_checkpoint_file(candidate));
      }
      throw Error(StatusCode::kNotFound,
                  fmt::format("{}: no checkpoint in this folder (looked for {})", path.string(),
                              fmt::join(kFolderCandidates, ", ")));
    }
    return CheckpointData::wrap(open_checkpoint_file(path));
  });
}

}  // namespace mlhub::io
