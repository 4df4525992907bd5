#include <gtest/gtest.h>

#include "mlhub/store.h"

namespace mlhub::store {
namespace {

TEST(ValidateRepoPath, AcceptsOrdinaryPaths) {
  for (const std::string& path : std::vector<std::string>{"README.md", "a/b/c.bin", ".gitattributes", "dir.git/x", "x.git",
                                 "日本語/ファイル.txt", "a b/c d", "...", "..a", ".a/.b", "a%2e%2e/b",
                                 "emoji-\xF0\x9F\x98\x80.txt", std::string(4096, 'a')}) {
    EXPECT_TRUE(validate_repo_path(path).ok()) << path << ": " << validate_repo_path(path).to_string();
  }
}

TEST(ValidateRepoPath, RejectsHostilePaths) {
  const std::vector<std::string> bad = {
      "",
      "/etc/passwd",
      "../secret",
      "a/../../b",          // a percent-decoded "a/%2e%2e/%2e%2e/b"
      "%2e%2e/x",           // still encoded: a router decoding raw paths would see ".."
      "a/%2E%2e/b",
      "a/.%2e",
      "%2e/x",
      "..",
      ".",
      "./a",
      "a/.",
      "a/./b",
      "a//b",
      "a/",
      "/",
      "a\\b",
      "..\\..\\windows",
      ".git/config",
      "a/.git/hooks/x",
      ".GIT/config",
      "a/.Git",
      std::string("a\0b", 3),
      "a\nb",
      "a\tb",
      "a\rb",
      "\x7f",
      "a\xC2\x85" "b",      // C1 control NEL
      "\xC0\xAE\xC0\xAE/x", // overlong "..": invalid UTF-8
      "\xE0\x80\xAF",       // overlong '/'
      "\xC3",               // truncated
      "\xED\xA0\x80",       // surrogate
      "\xF4\x90\x80\x80",   // past U+10FFFF
      "\xFF",
      std::string(4097, 'a'),
      std::string(2049, 'a') + "/" + std::string(2047, 'b'),
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    const Status s = validate_repo_path(bad[i]);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << "case " << i << ": " << bad[i];
  }
}

TEST(ValidateRepoPath, MessagesNameTheProblemAndStayPrintable) {
  EXPECT_NE(validate_repo_path("a/../b").message().find("'..'"), std::string::npos);
  EXPECT_NE(validate_repo_path("a\\b").message().find("backslash"), std::string::npos);
  const std::string msg = validate_repo_path("a\xFF\n").message();
  EXPECT_NE(msg.find("UTF-8"), std::string::npos) << msg;
  EXPECT_NE(msg.find("\\xFF"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\xFF'), std::string::npos);
  EXPECT_EQ(msg.find('\n'), std::string::npos);
}

TEST(ValidateRefName, AcceptsGitBranchNames) {
  for (const std::string& name : std::vector<std::string>{"main", "v1.0", "feature/x", "release-2024.01", "a/b/c", "user@host",
                                 "x.lockx", "caf\xC3\xA9", "refs/heads/x", "a-", "_", "1"}) {
    EXPECT_TRUE(validate_ref_name(name).ok()) << name << ": " << validate_ref_name(name).to_string();
  }
}

TEST(ValidateRefName, RejectsWhatGitRejects) {
  const std::vector<std::string> bad = {
      "",          "@",        "HEAD",        "a..b",       "..",          "a@{1}",     "@{",
      "-x",        "/a",       "a/",          "a//b",       "a.",          ".a",        "a/.b",
      "a.lock",    "a/b.lock", "a.lock/b",    "a b",        "a~1",         "a^",        "a:b",
      "a?",        "a*",       "a[",          "a\\b",       "a\tb",        "a\nb",      "a\x7f",
      std::string("a\0b", 3),  "\xC3(",       "\xFF",       std::string(1025, 'a'),
      std::string(201, 'a'),
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    EXPECT_EQ(validate_ref_name(bad[i]).code(), StatusCode::kInvalidArgument) << "case " << i << ": " << bad[i];
  }
}

// Every name we accept, git accepts too (`git check-ref-format --branch`).
TEST(ValidateRefName, AgreesWithGitOnAcceptedNames) {
  for (const std::string& name : std::vector<std::string>{"main", "v1.0", "feature/x", "a-", "user@host", "x.lockx"}) {
    ASSERT_TRUE(validate_ref_name(name).ok());
    const std::string cmd = "git check-ref-format --branch '" + name + "' >/dev/null 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << name;
  }
  for (const std::string& name : std::vector<std::string>{"a..b", "a.lock", "a b", "a~1", "-x", "a/", "a@{1}"}) {
    const std::string cmd = "git check-ref-format --branch '" + name + "' >/dev/null 2>&1";
    EXPECT_NE(std::system(cmd.c_str()), 0) << name;
  }
}

}  // namespace
}  // namespace mlhub::store
