#include <gtest/gtest.h>

#include <thread>

#include "mlhub/store.h"
#include "store_test_util.h"

namespace mlhub::store {
namespace {

using namespace testing_util;

size_t count_files(const fs::path& dir) {
  size_t n = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file()) ++n;
  }
  return n;
}

// Writes `content` in chunks of `chunk` bytes.
Status store(BlobStore& blobs, const std::string& content, std::string sha, uint64_t size, size_t chunk = 7) {
  auto w = blobs.begin_write();
  if (!w.ok()) return w.status();
  for (size_t pos = 0; pos < content.size(); pos += chunk) {
    Status s = (*w)->write(content.data() + pos, std::min(chunk, content.size() - pos));
    if (!s.ok()) return s;
  }
  EXPECT_EQ((*w)->bytes_written(), content.size());
  return (*w)->finish(sha, size);
}

TEST(BlobStore, WriteInChunksThenRead) {
  TempDir dir;
  BlobStore blobs(dir.path() / "lfs");
  const std::string content = "the quick brown fox jumps over the lazy dog, many times over";
  const std::string sha = sha256_hex(content);
  EXPECT_FALSE(blobs.contains(sha));
  EXPECT_EQ(blobs.path_of(sha).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(blobs.size_of(sha).status().code(), StatusCode::kNotFound);

  ASSERT_TRUE(store(blobs, content, sha, content.size()).ok());
  EXPECT_TRUE(blobs.contains(sha));
  auto path = blobs.path_of(sha);
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(*path, dir.path() / "lfs" / "objects" / sha.substr(0, 2) / sha.substr(2, 2) / sha);
  EXPECT_EQ(read_all(*path), content);
  ASSERT_TRUE(blobs.size_of(sha).ok());
  EXPECT_EQ(*blobs.size_of(sha), content.size());
  EXPECT_EQ(count_files(dir.path() / "lfs" / "tmp"), 0u);

  // Writing the same object again is fine and changes nothing.
  ASSERT_TRUE(store(blobs, content, sha, content.size(), 1000).ok());
  EXPECT_EQ(read_all(*path), content);
  EXPECT_EQ(count_files(dir.path() / "lfs" / "tmp"), 0u);
  EXPECT_EQ(count_files(dir.path() / "lfs" / "objects"), 1u);
}

TEST(BlobStore, EmptyObject) {
  TempDir dir;
  BlobStore blobs(dir.path());
  const std::string sha = sha256_hex("");
  auto w = blobs.begin_write();
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->finish(sha, 0).ok());
  EXPECT_TRUE(blobs.contains(sha));
  EXPECT_EQ(*blobs.size_of(sha), 0u);
}

TEST(BlobStore, WrongShaOrSizeStoresNothing) {
  TempDir dir;
  BlobStore blobs(dir.path());
  const std::string content = "payload";
  const std::string sha = sha256_hex(content);
  const std::string other = sha256_hex("other");

  Status s = store(blobs, content, other, content.size());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "sha256 mismatch: expected " + other + ", got " + sha);
  s = store(blobs, content, sha, content.size() + 1);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("size mismatch"), std::string::npos) << s.message();
  s = store(blobs, content, "not-a-sha", content.size());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);

  EXPECT_FALSE(blobs.contains(sha));
  EXPECT_FALSE(blobs.contains(other));
  EXPECT_EQ(count_files(dir.path() / "tmp"), 0u);
  EXPECT_EQ(count_files(dir.path() / "objects"), 0u);
}

TEST(BlobStore, FinishTwiceOrWriteAfterFinishFails) {
  TempDir dir;
  BlobStore blobs(dir.path());
  auto w = blobs.begin_write();
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->write("ab", 2).ok());
  ASSERT_TRUE((*w)->finish(sha256_hex("ab"), 2).ok());
  EXPECT_FALSE((*w)->finish(sha256_hex("ab"), 2).ok());
  EXPECT_FALSE((*w)->write("c", 1).ok());
  EXPECT_TRUE(blobs.contains(sha256_hex("ab")));
}

TEST(BlobStore, AbandonedWriterLeavesNothing) {
  TempDir dir;
  BlobStore blobs(dir.path());
  {
    auto w = blobs.begin_write();
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->write("partial", 7).ok());
    EXPECT_EQ(count_files(dir.path() / "tmp"), 1u);
  }
  EXPECT_EQ(count_files(dir.path() / "tmp"), 0u);
  EXPECT_EQ(count_files(dir.path() / "objects"), 0u);
}

TEST(BlobStore, RecoverRemovesLeftovers) {
  TempDir dir;
  BlobStore blobs(dir.path());
  ASSERT_TRUE(store(blobs, "kept", sha256_hex("kept"), 4).ok());
  write_all(dir.path() / "tmp" / "12345-0-deadbeef.tmp", "left by a killed process");
  write_all(dir.path() / "tmp" / "another", "x");
  EXPECT_EQ(count_files(dir.path() / "tmp"), 2u);
  blobs.recover();
  EXPECT_EQ(count_files(dir.path() / "tmp"), 0u);
  EXPECT_TRUE(fs::is_directory(dir.path() / "tmp"));
  EXPECT_TRUE(blobs.contains(sha256_hex("kept")));
}

TEST(BlobStore, RejectsHostileIds) {
  TempDir dir;
  BlobStore blobs(dir.path());
  write_all(dir.path() / "secret", "x");
  for (const std::string& id : std::vector<std::string>{"../secret", "", "ABCDEF", std::string(64, 'A'), std::string(63, 'a'),
                               "../../" + std::string(58, 'a')}) {
    EXPECT_FALSE(blobs.contains(id)) << id;
    EXPECT_FALSE(blobs.path_of(id).ok()) << id;
    EXPECT_FALSE(blobs.size_of(id).ok()) << id;
  }
}

TEST(BlobStore, FiftyMegabytesInOneMegabyteChunks) {
  TempDir dir;
  BlobStore blobs(dir.path());
  constexpr size_t kChunk = 1 << 20;
  constexpr size_t kChunks = 50;
  std::string chunk(kChunk, '\0');
  Hasher hasher;
  auto w = blobs.begin_write();
  ASSERT_TRUE(w.ok());
  for (size_t i = 0; i < kChunks; ++i) {
    for (size_t k = 0; k < kChunk; ++k) chunk[k] = static_cast<char>((i * 131 + k * 7) & 0xFF);
    hasher.update(chunk);
    ASSERT_TRUE((*w)->write(chunk.data(), chunk.size()).ok());
  }
  const std::string sha = hasher.hex_digest();
  ASSERT_TRUE((*w)->finish(sha, kChunk * kChunks).ok());
  ASSERT_TRUE(blobs.size_of(sha).ok());
  EXPECT_EQ(*blobs.size_of(sha), kChunk * kChunks);
  // The stored file hashes to its name.
  const std::string out = run_command("sha256sum " + sh_quote(blobs.path_of(sha)->string()));
  EXPECT_EQ(out.substr(0, 64), sha);
}

TEST(BlobStore, ConcurrentWritersOfTheSameObject) {
  TempDir dir;
  BlobStore blobs(dir.path());
  const std::string content(100000, 'z');
  const std::string sha = sha256_hex(content);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      if (store(blobs, content, sha, content.size(), 4096).ok()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 8);
  EXPECT_EQ(read_all(*blobs.path_of(sha)), content);
  EXPECT_EQ(count_files(dir.path() / "tmp"), 0u);
}

}  // namespace
}  // namespace mlhub::store
