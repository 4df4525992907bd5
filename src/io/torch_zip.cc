// pytorch_model.bin: the zip archive torch.save writes since PyTorch 1.6, read with libzip.
//
//   <prefix>/data.pkl       the pickled state dict (read by the restricted unpickler)
//   <prefix>/data/<key>     raw little-endian bytes of storage <key>
//   <prefix>/byteorder      "little" (optional; "big" is refused)
//   <prefix>/version, ...   ignored
//
// Storages are read into owned, 64-byte aligned buffers, once per key; tensors view them. The
// sizes an archive declares are checked before anything is allocated: a record must hold what
// its tensors need, and a compressed entry cannot claim more than deflate's ~1000:1 ratio.
// The pre-1.6 formats (a bare pickle stream, or a tar) are refused with kUnimplemented.
#include <zip.h>

#include <fmt/format.h>

#include <cstring>
#include <fstream>

#include "io/io_internal.h"

namespace mlhub::io {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kMaxPickleBytes = uint64_t{1} << 30;
constexpr uint64_t kMaxCompressionRatio = 1100;

// Refuses what is not a zip, naming the old torch formats when it sees them.
void check_magic(std::string_view head) {
  if (head.size() >= 4 && (head.substr(0, 4) == std::string_view("PK\x03\x04", 4) ||
                           head.substr(0, 4) == std::string_view("PK\x05\x06", 4)))
    return;
  const bool pickle_stream = !head.empty() && static_cast<unsigned char>(head[0]) == 0x80;
  const bool tar = head.size() >= 262 && head.substr(257, 5) == "ustar";
  if (pickle_stream || tar)
    unimplemented(fmt::format(
        "this is torch's legacy {} format (PyTorch < 1.6); mlhub reads the zip format only: "
        "re-save it with a recent torch.save, or convert it to safetensors",
        tar ? "tar" : "pickle-stream"));
  corrupt("not a torch checkpoint: not a zip archive");
}

// An open archive; discards it on scope exit.
class Archive {
 public:
  explicit Archive(zip_t* z) : z_(z) {}
  ~Archive() { zip_discard(z_); }
  Archive(const Archive&) = delete;
  Archive& operator=(const Archive&) = delete;

  // "<prefix>/" of the one "<prefix>/data.pkl" at the top level.
  std::string find_prefix() const {
    std::string prefix;
    const zip_int64_t n = zip_get_num_entries(z_, 0);
    for (zip_int64_t i = 0; i < n; ++i) {
      const char* name = zip_get_name(z_, static_cast<zip_uint64_t>(i), ZIP_FL_ENC_RAW);
      if (name == nullptr) continue;
      const std::string_view s(name);
      const size_t slash = s.find('/');
      if (slash == std::string_view::npos || s.substr(slash) != "/data.pkl") continue;
      if (!prefix.empty()) corrupt("the archive has more than one data.pkl");
      prefix = std::string(s.substr(0, slash + 1));
    }
    if (prefix.empty()) corrupt("not a torch checkpoint: the zip archive has no <name>/data.pkl");
    return prefix;
  }

  // The index of entry `name`, or -1.
  zip_int64_t locate(const std::string& name) const { return zip_name_locate(z_, name.c_str(), 0); }

  // The declared uncompressed size of entry `index`, checked for plausibility.
  uint64_t size_of(zip_int64_t index, const std::string& name) const {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(z_, static_cast<zip_uint64_t>(index), 0, &st) != 0 ||
        (st.valid & (ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD)) !=
            (ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD))
      corrupt(fmt::format("cannot read the zip entry of {}", name));
    if (st.comp_method != ZIP_CM_STORE && st.size / kMaxCompressionRatio > st.comp_size)
      corrupt(fmt::format("zip entry {} claims {} bytes from {} compressed bytes", name, st.size,
                          st.comp_size));
    return st.size;
  }

  // Reads all `size` bytes of entry `index` into `dst`.
  void read(zip_int64_t index, const std::string& name, std::byte* dst, uint64_t size) const {
    zip_file_t* f = zip_fopen_index(z_, static_cast<zip_uint64_t>(index), 0);
    if (f == nullptr)
      corrupt(fmt::format("cannot open zip entry {}: {}", name, zip_strerror(z_)));
    uint64_t got = 0;
    std::string error;
    while (got < size) {
      const zip_int64_t r = zip_fread(f, dst + got, size - got);
      if (r <= 0) {
        error = r < 0 ? zip_file_strerror(f) : "unexpected end of data";
        break;
      }
      got += static_cast<uint64_t>(r);
    }
    zip_fclose(f);
    if (got != size)
      corrupt(fmt::format("zip entry {}: read {} of {} bytes: {}", name, got, size, error));
  }

  std::string read_string(const std::string& name, uint64_t max_bytes) const {
    const zip_int64_t index = locate(name);
    if (index < 0) corrupt(fmt::format("the archive has no {}", name));
    const uint64_t size = size_of(index, name);
    if (size > max_bytes)
      corrupt(fmt::format("{} is {} bytes, more than the {}-byte limit", name, size, max_bytes));
    std::string out(size, '\0');
    read(index, name, reinterpret_cast<std::byte*>(out.data()), size);
    return out;
  }

  std::shared_ptr<Storage> read_storage(const std::string& name, size_t min_bytes) const {
    const zip_int64_t index = locate(name);
    if (index < 0) corrupt(fmt::format("the archive has no storage record {}", name));
    const uint64_t size = size_of(index, name);
    if (size < min_bytes)
      corrupt(fmt::format("storage record {} has {} bytes, its tensors need {}", name, size,
                          min_bytes));
    std::shared_ptr<Storage> s = Storage::allocate(static_cast<size_t>(size));
    if (size > 0) read(index, name, s->mutable_data(), size);
    return s;
  }

 private:
  zip_t* z_;
};

[[noreturn]] void zip_failure(int code, const char* what) {
  zip_error_t e;
  zip_error_init_with_code(&e, code);
  const std::string message = fmt::format("{}: {}", what, zip_error_strerror(&e));
  zip_error_fini(&e);
  if (code == ZIP_ER_NOENT) throw Error(StatusCode::kNotFound, message);
  if (code == ZIP_ER_OPEN || code == ZIP_ER_READ || code == ZIP_ER_SEEK)
    throw Error(StatusCode::kIoError, message);
  corrupt(message);
}

CheckpointData read_archive(const Archive& archive) {
  const std::string prefix = archive.find_prefix();
  if (archive.locate(prefix + "byteorder") >= 0) {
    const std::string order = archive.read_string(prefix + "byteorder", 16);
    if (order == "big") unimplemented("the checkpoint stores big-endian tensors");
    if (order != "little") corrupt(fmt::format("unknown byteorder \"{}\"", order));
  }
  const std::string pickle = archive.read_string(prefix + "data.pkl", kMaxPickleBytes);
  const StorageLoader loader = [&](const std::string& key, size_t min_bytes) {
    return archive.read_storage(prefix + "data/" + key, min_bytes);
  };
  return unpickle_state_dict(pickle, loader);
}

}  // namespace

CheckpointData read_torch_zip_file(const fs::path& file) {
  return with_context(file.string(), [&] {
    std::string head(512, '\0');
    {
      std::ifstream in(file, std::ios::binary);
      if (!in) {
        std::error_code ec;
        throw Error(fs::exists(file, ec) ? StatusCode::kIoError : StatusCode::kNotFound,
                    "cannot open");
      }
      in.read(head.data(), static_cast<std::streamsize>(head.size()));
      head.resize(static_cast<size_t>(in.gcount()));
    }
    check_magic(head);
    int code = 0;
    zip_t* z = zip_open(file.c_str(), ZIP_RDONLY, &code);
    if (z == nullptr) zip_failure(code, "cannot open the zip archive");
    Archive archive(z);
    CheckpointData out = read_archive(archive);
    out.files = {file};
    return out;
  });
}

CheckpointData read_torch_zip_memory(std::string_view bytes) {
  return with_context("torch checkpoint", [&] {
    check_magic(bytes.substr(0, 512));
    zip_error_t error;
    zip_error_init(&error);
    zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
    if (src == nullptr) {
      zip_error_fini(&error);
      corrupt("cannot read the buffer as a zip archive");
    }
    zip_t* z = zip_open_from_source(src, ZIP_RDONLY, &error);
    if (z == nullptr) {
      zip_source_free(src);
      const int code = zip_error_code_zip(&error);
      zip_error_fini(&error);
      zip_failure(code, "cannot open the zip archive");
    }
    zip_error_fini(&error);
    Archive archive(z);
    return read_archive(archive);
  });
}

Result<Checkpoint> read_torch_bin(const fs::path& file) {
  return catch_errors([&] { return CheckpointData::wrap(read_torch_zip_file(file)); });
}

Result<Checkpoint> parse_torch_bin(std::string_view bytes) {
  return catch_errors([&] { return CheckpointData::wrap(read_torch_zip_memory(bytes)); });
}

}  // namespace mlhub::io
