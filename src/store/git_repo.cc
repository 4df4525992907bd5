// GitRepo: creating/opening bare repositories, crash recovery, revision resolution and blobs.
// Trees live in git_tree.cc and git_tree_edit.cc, refs in git_refs.cc, history in git_log.cc.
#include <algorithm>
#include <system_error>
#include <vector>

#include "store/git_internal.h"
#include "store/store_internal.h"

namespace mlhub::store {

namespace fs = std::filesystem;
using git::check;

GitRepo::GitRepo(GitRepo&&) noexcept = default;
GitRepo& GitRepo::operator=(GitRepo&&) noexcept = default;
GitRepo::~GitRepo() = default;

Result<GitRepo> GitRepo::create_bare(const fs::path& path, std::string_view default_branch) {
  return catch_errors([&]() -> GitRepo {
    git::ensure_init();
    git::throw_if_error(validate_ref_name(default_branch));
    std::error_code ec;
    if (fs::exists(path, ec) || ec) {
      throw Error(StatusCode::kAlreadyExists, "cannot create repository: " + path.string() + " exists");
    }
    git_repository_init_options opts;
    check(git_repository_init_options_init(&opts, GIT_REPOSITORY_INIT_OPTIONS_VERSION), "init options");
    opts.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH | GIT_REPOSITORY_INIT_NO_REINIT;
    const std::string head = "refs/heads/" + std::string(default_branch);
    opts.initial_head = head.c_str();
    git_repository* repo = nullptr;
    check(git_repository_init_ext(&repo, path.c_str(), &opts), "init " + path.string());
    GitRepo out;
    out.impl_ = std::make_unique<Impl>();
    out.impl_->repo.reset(repo);
    out.path_ = path;
    return out;
  });
}

Result<GitRepo> GitRepo::open(const fs::path& path) {
  return catch_errors([&]() -> GitRepo {
    git::ensure_init();
    std::error_code ec;
    if (!fs::is_directory(path, ec)) {
      throw Error(StatusCode::kNotFound, "repository not found: " + path.string());
    }
    git_repository* repo = nullptr;
    check(git_repository_open_bare(&repo, path.c_str()), "open " + path.string());
    GitRepo out;
    out.impl_ = std::make_unique<Impl>();
    out.impl_->repo.reset(repo);
    out.path_ = path;
    return out;
  });
}

void GitRepo::recover(const fs::path& path) {
  std::error_code ec;
  auto ends_with = [](const std::string& s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  // Lock files of ref updates (loose refs and their reflogs) anywhere below refs/ and logs/.
  for (const char* dir : {"refs", "logs"}) {
    for (fs::recursive_directory_iterator it(path / dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file(ec) && ends_with(it->path().filename().string(), ".lock")) {
        fs::remove(it->path(), ec);
      }
    }
    ec.clear();
  }
  for (const char* name : {"packed-refs.lock", "HEAD.lock", "config.lock", "index.lock"}) {
    fs::remove(path / name, ec);
  }
  // libgit2's temp files in objects/: loose object writes ("tmp_object_git2_<hex>"), streamed
  // blobs ("streamed_git2_<hex>"), and lock files of other writers.
  for (fs::directory_iterator it(path / "objects", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!it->is_regular_file(ec)) continue;
    if (name.rfind("tmp_obj", 0) == 0 || name.rfind("streamed_git2_", 0) == 0 || ends_with(name, ".lock")) {
      fs::remove(it->path(), ec);
    }
  }
}

Result<std::string> GitRepo::resolve(std::string_view revision) const {
  return catch_errors([&] { return git::oid_hex(git::resolve_commit(impl_->repo.get(), revision)); });
}

bool GitRepo::has_branch(std::string_view branch) const {
  if (!validate_ref_name(branch).ok()) return false;
  git_reference* ref = nullptr;
  const std::string name = "refs/heads/" + std::string(branch);
  if (git_reference_lookup(&ref, impl_->repo.get(), name.c_str()) < 0) return false;
  git_reference_free(ref);
  return true;
}

// ---- blobs ------------------------------------------------------------------------------------

Result<std::string> GitRepo::write_blob(std::string_view content) {
  return catch_errors([&] {
    git_oid oid;
    check(git_blob_create_from_buffer(&oid, impl_->repo.get(), content.data(), content.size()),
          "write blob");
    return git::oid_hex(oid);
  });
}

namespace {

// Writes into libgit2's "streamed" temp file in objects/, which commit() then hashes and
// stores as a loose object; nothing is held in memory. Must not outlive its GitRepo.
class StreamBlobWriter final : public GitRepo::BlobWriter {
 public:
  explicit StreamBlobWriter(git_writestream* stream) : stream_(stream) {}
  ~StreamBlobWriter() override {
    if (stream_ != nullptr) stream_->free(stream_);  // removes the temp file
  }

  Status write(const void* data, size_t size) override {
    if (stream_ == nullptr) return Status::failed_precondition("blob writer already finished");
    if (size == 0) return Status();
    if (stream_->write(stream_, static_cast<const char*>(data), size) < 0) {
      return Status::io_error("write blob: " + git::last_error_message());
    }
    return Status();
  }

  Result<std::string> finish() override {
    if (stream_ == nullptr) return Status::failed_precondition("blob writer already finished");
    git_oid oid;
    git_writestream* stream = stream_;
    stream_ = nullptr;  // commit frees the stream, on success and on failure
    if (git_blob_create_from_stream_commit(&oid, stream) < 0) {
      return Status::io_error("write blob: " + git::last_error_message());
    }
    return git::oid_hex(oid);
  }

 private:
  git_writestream* stream_;
};

constexpr size_t kChunk = 64 * 1024;

// Feeds data[offset, offset+length) to sink in chunks.
void feed(const char* data, uint64_t size, uint64_t offset, uint64_t length,
          const std::function<bool(const char*, size_t)>& sink) {
  const uint64_t end = offset + std::min(length, size - offset);
  for (uint64_t pos = offset; pos < end;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, end - pos));
    if (!sink(data + pos, n)) return;
    pos += n;
  }
}

Status range_error(uint64_t offset, uint64_t size) {
  return Status::out_of_range("offset " + std::to_string(offset) + " past the end of a blob of " +
                              std::to_string(size) + " bytes");
}

}  // namespace

Result<std::unique_ptr<GitRepo::BlobWriter>> GitRepo::begin_blob() {
  return catch_errors([&]() -> std::unique_ptr<BlobWriter> {
    git_writestream* stream = nullptr;
    check(git_blob_create_from_stream(&stream, impl_->repo.get(), nullptr), "begin blob");
    return std::make_unique<StreamBlobWriter>(stream);
  });
}

Status GitRepo::read_blob(std::string_view blob_oid, uint64_t offset, uint64_t length,
                          const std::function<bool(const char*, size_t)>& sink) const {
  return status_of([&]() -> Status {
    const git_oid oid = git::parse_oid(blob_oid);
    git_odb* raw_odb = nullptr;
    check(git_repository_odb(&raw_odb, impl_->repo.get()), "object database");
    git::OdbPtr odb(raw_odb);

    // Loose objects (every blob this hub writes until a repack) are inflated chunk by chunk
    // from a memory map, so memory stays at one chunk whatever the size.
    git_odb_stream* raw_stream = nullptr;
    size_t size = 0;
    git_object_t type = GIT_OBJECT_INVALID;
    if (git_odb_open_rstream(&raw_stream, &size, &type, odb.get(), &oid) == 0) {
      git::OdbStreamPtr stream(raw_stream);
      if (type != GIT_OBJECT_BLOB) return Status::not_found("not a blob: " + std::string(blob_oid));
      if (offset > size) return range_error(offset, size);
      const uint64_t end = offset + std::min<uint64_t>(length, size - offset);
      std::vector<char> buf(kChunk);
      for (uint64_t pos = 0; pos < end;) {
        const size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, end - pos));
        const int got = git_odb_stream_read(stream.get(), buf.data(), want);
        if (got < 0) return Status::io_error("read blob " + std::string(blob_oid) + ": " + git::last_error_message());
        if (got == 0) return Status::corruption("blob " + std::string(blob_oid) + " is truncated");
        // Bytes before `offset` are inflated and dropped (zlib cannot seek).
        const uint64_t chunk_begin = pos, chunk_end = pos + static_cast<uint64_t>(got);
        pos = chunk_end;
        if (chunk_end <= offset) continue;
        const uint64_t from = std::max(chunk_begin, offset);
        if (!sink(buf.data() + (from - chunk_begin), static_cast<size_t>(chunk_end - from))) break;
      }
      return Status();
    }

    // Packed objects (after a push of a pack or a gc): libgit2 has no streaming reader for
    // packs, so git_odb_read inflates the whole object into memory (the blob's full size, plus
    // delta bases for deltified objects). Fine for the regular (non-LFS) files the hub keeps in
    // git, which are small; LFS content lives in the BlobStore instead.
    git_odb_object* raw_obj = nullptr;
    check(git_odb_read(&raw_obj, odb.get(), &oid), "blob " + std::string(blob_oid));
    git::OdbObjectPtr obj(raw_obj);
    if (git_odb_object_type(obj.get()) != GIT_OBJECT_BLOB) {
      return Status::not_found("not a blob: " + std::string(blob_oid));
    }
    const uint64_t obj_size = git_odb_object_size(obj.get());
    if (offset > obj_size) return range_error(offset, obj_size);
    feed(static_cast<const char*>(git_odb_object_data(obj.get())), obj_size, offset, length, sink);
    return Status();
  });
}

}  // namespace mlhub::store
