#include <gtest/gtest.h>

#include "mlhub/core.h"

namespace mlhub {
namespace {

TEST(Hash, Sha256OfKnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Hash, IncrementalEqualsOneShot) {
  Hasher h;
  h.update("a");
  h.update("bc");
  EXPECT_EQ(h.hex_digest(), sha256_hex("abc"));
}

TEST(Hash, GitBlobSha1MatchesGit) {
  // `printf 'hello\n' | git hash-object --stdin` and `git hash-object /dev/null`.
  EXPECT_EQ(git_blob_sha1_hex("hello\n"), "ce013625030ba8dba906f756967f9e9ca394464a");
  EXPECT_EQ(git_blob_sha1_hex(""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
}

TEST(Hash, LowerHex) {
  EXPECT_TRUE(is_lower_hex("0af9", 4));
  EXPECT_FALSE(is_lower_hex("0AF9", 4));
  EXPECT_FALSE(is_lower_hex("0af", 4));
  EXPECT_FALSE(is_lower_hex(""));
}

}  // namespace
}  // namespace mlhub
