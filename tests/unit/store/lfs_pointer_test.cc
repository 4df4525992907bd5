#include <gtest/gtest.h>

#include "mlhub/store.h"
#include "store_test_util.h"

namespace mlhub::store {
namespace {

using namespace testing_util;

const std::string kOid = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393";

std::string pointer_text(const std::string& oid, const std::string& size) {
  return "version https://git-lfs.github.com/spec/v1\noid sha256:" + oid + "\nsize " + size + "\n";
}

TEST(LfsPointer, FormatIsTheSpecText) {
  EXPECT_EQ(format_lfs_pointer({kOid, 12345}), pointer_text(kOid, "12345"));
}

// git-lfs writes an empty file as an empty blob (its pointer encoding of size 0 is ""), and an
// empty blob is a plain empty file, not a pointer.
TEST(LfsPointer, EmptyFileIsAnEmptyBlob) {
  EXPECT_EQ(format_lfs_pointer({sha256_hex(""), 0}), "");
  EXPECT_FALSE(parse_lfs_pointer("").has_value());
  // A spelled-out size-0 pointer is still a valid pointer.
  auto zero = parse_lfs_pointer(pointer_text(kOid, "0"));
  ASSERT_TRUE(zero.has_value());
  EXPECT_EQ(zero->size, 0u);
}

TEST(LfsPointer, RoundTrip) {
  for (uint64_t size : {uint64_t{1}, uint64_t{1024}, uint64_t{5} << 40,
                        uint64_t{9223372036854775807ULL}}) {
    const std::string text = format_lfs_pointer({kOid, size});
    auto parsed = parse_lfs_pointer(text);
    ASSERT_TRUE(parsed.has_value()) << text;
    EXPECT_EQ(parsed->oid, kOid);
    EXPECT_EQ(parsed->size, size);
  }
}

// The pointer must be what `git lfs pointer --file=<f>` prints for the same content.
TEST(LfsPointer, ByteIdenticalToGitLfs) {
  int rc = 0;
  run_command("git lfs version >/dev/null 2>&1", &rc);
  if (rc != 0) GTEST_SKIP() << "git-lfs is not installed";
  TempDir dir;
  for (const std::string& content : {std::string(), std::string("hello\n"), std::string(100000, 'x')}) {
    const fs::path file = dir.path() / "f.bin";
    write_all(file, content);
    const std::string expected =
        run_command("cd " + sh_quote(dir.path().string()) + " && git lfs pointer --file=f.bin 2>/dev/null", &rc);
    ASSERT_EQ(rc, 0);
    EXPECT_EQ(format_lfs_pointer({sha256_hex(content), content.size()}), expected);
    if (content.empty()) continue;  // see EmptyFileIsAnEmptyBlob
    auto parsed = parse_lfs_pointer(expected);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->oid, sha256_hex(content));
    EXPECT_EQ(parsed->size, content.size());
  }
}

TEST(LfsPointer, RejectsMalformed) {
  const std::string good = pointer_text(kOid, "12");
  ASSERT_TRUE(parse_lfs_pointer(good).has_value());
  std::string upper = kOid;
  upper[0] = 'D';
  const std::vector<std::string> bad = {
      "",
      "\n",
      "version https://git-lfs.github.com/spec/v1\n",
      good.substr(0, good.size() - 1),                                   // no trailing newline
      good + "\n",                                                       // extra blank line
      good + "ext-0-foo sha256:" + kOid + "\n",                          // extension key
      "version https://git-lfs.github.com/spec/v2\noid sha256:" + kOid + "\nsize 12\n",
      "version https://hawser.github.com/spec/v1\noid sha256:" + kOid + "\nsize 12\n",
      "oid sha256:" + kOid + "\nversion https://git-lfs.github.com/spec/v1\nsize 12\n",  // order
      "version https://git-lfs.github.com/spec/v1\nsize 12\noid sha256:" + kOid + "\n",  // order
      "version https://git-lfs.github.com/spec/v1\noid sha256:" + kOid + "\n",           // no size
      "version https://git-lfs.github.com/spec/v1\nsize 12\n",                           // no oid
      pointer_text(upper, "12"),                                         // uppercase hex
      pointer_text(kOid.substr(0, 63), "12"),                            // short oid
      pointer_text(kOid + "0", "12"),                                    // long oid
      pointer_text(std::string("g").append(kOid, 1), "12"),                          // not hex
      "version https://git-lfs.github.com/spec/v1\noid sha1:" + kOid + "\nsize 12\n",
      pointer_text(kOid, ""),                                            // empty size
      pointer_text(kOid, "-1"),
      pointer_text(kOid, "+12"),
      pointer_text(kOid, "012"),                                         // leading zero
      pointer_text(kOid, "1 2"),
      pointer_text(kOid, "12 "),
      pointer_text(kOid, "0x10"),
      pointer_text(kOid, "9223372036854775808"),                         // > int64 max
      pointer_text(kOid, "99999999999999999999999"),
      "version https://git-lfs.github.com/spec/v1\r\noid sha256:" + kOid + "\r\nsize 12\r\n",
      "version  https://git-lfs.github.com/spec/v1\noid sha256:" + kOid + "\nsize 12\n",
      std::string(" ").append(good),
      good + std::string(1100, ' '),                                     // over 1024 bytes
      std::string("version https://git-lfs.github.com/spec/v1\0", 44) + "oid sha256:" + kOid + "\nsize 12\n",
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    EXPECT_FALSE(parse_lfs_pointer(bad[i]).has_value()) << "case " << i << ": " << bad[i];
  }
}

}  // namespace
}  // namespace mlhub::store
