// Helpers shared by the store tests: a temp folder per test, shell commands, small commits.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "mlhub/store.h"

namespace mlhub::store::testing_util {

namespace fs = std::filesystem;

// A fresh folder under testing::TempDir(), removed with everything in it at the end.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::path(::testing::TempDir()) / "mlhub_store_XXXXXX").string();
    char* made = ::mkdtemp(tmpl.data());
    if (made == nullptr) throw std::runtime_error("mkdtemp failed for " + tmpl);
    path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Single-quoted for /bin/sh.
inline std::string sh_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

// Runs `cmd` with /bin/sh and returns its stdout; `exit_code` receives the exit status.
inline std::string run_command(const std::string& cmd, int* exit_code = nullptr) {
  std::string out;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) {
    if (exit_code) *exit_code = -1;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  const int status = ::pclose(pipe);
  if (exit_code) *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

inline std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

inline std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_all(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << content;
}

inline FileChange put(GitRepo& repo, const std::string& path, const std::string& content) {
  auto blob = repo.write_blob(content);
  EXPECT_TRUE(blob.ok()) << blob.status().to_string();
  return {FileChange::Kind::kPut, path, blob.ok() ? *blob : ""};
}
inline FileChange del(const std::string& path) { return {FileChange::Kind::kDelete, path, ""}; }
inline FileChange del_folder(const std::string& path) { return {FileChange::Kind::kDeleteFolder, path, ""}; }

inline CommitRequest request(std::string parent, std::vector<FileChange> changes, std::string message = "update",
                             int64_t time = 1700000000, std::string ref = "refs/heads/main") {
  CommitRequest req;
  req.ref = std::move(ref);
  req.expected_parent = std::move(parent);
  req.changes = std::move(changes);
  req.message = std::move(message);
  req.author_name = "Ada Lovelace";
  req.author_email = "ada@example.com";
  req.time = time;
  return req;
}

// Commits `changes` on main on top of `parent`; returns the new commit id ("" on failure, with a
// test failure recorded).
inline std::string commit(GitRepo& repo, const std::string& parent, std::vector<FileChange> changes,
                          std::string message = "update", int64_t time = 1700000000) {
  auto r = repo.commit(request(parent, std::move(changes), std::move(message), time));
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.ok() ? *r : "";
}

inline int git_fsck(const fs::path& repo) {
  return std::system(("git -C " + sh_quote(repo.string()) + " fsck --strict --no-progress >/dev/null 2>&1").c_str());
}

}  // namespace mlhub::store::testing_util
