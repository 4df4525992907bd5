// URL quoting, repo names, env resolution and other pure helpers of the hub client. Expected
// values come from Python: urllib.parse.quote(s, safe=...), huggingface_hub's repo_folder_name,
// hf_hub_url and constants.py (huggingface_hub 0.36 / 2.4).
#include <gtest/gtest.h>

#include <cstdlib>

#include "hub/internal.h"

namespace mlhub::hub::internal {
namespace {

TEST(HubNames, QuoteLikePython) {
  // quote("refs/pr/1", safe="") == "refs%2Fpr%2F1"
  EXPECT_EQ(quote("refs/pr/1"), "refs%2Fpr%2F1");
  // quote("a b/c+d.bin") == "a%20b/c%2Bd.bin"
  EXPECT_EQ(quote("a b/c+d.bin", "/"), "a%20b/c%2Bd.bin");
  // quote("é~_-.") == "%C3%A9~_-."
  EXPECT_EQ(quote("\xc3\xa9~_-."), "%C3%A9~_-.");
  EXPECT_EQ(quote("v1.0"), "v1.0");
}

TEST(HubNames, ResolveUrl) {
  EXPECT_EQ(resolve_url("https://hub.example", RepoType::kModel, "org/m", "main", "config.json"),
            "https://hub.example/org/m/resolve/main/config.json");
  EXPECT_EQ(resolve_url("http://h:1", RepoType::kDataset, "org/d", "refs/pr/2", "a dir/x#1.txt"),
            "http://h:1/datasets/org/d/resolve/refs%2Fpr%2F2/a%20dir/x%231.txt");
  EXPECT_EQ(resolve_url("http://h", RepoType::kSpace, "o/s", "main", "app.py"),
            "http://h/spaces/o/s/resolve/main/app.py");
}

TEST(HubNames, RepoFolderName) {
  EXPECT_EQ(repo_folder_name(RepoType::kModel, "julien-c/EsperBERTo-small"),
            "models--julien-c--EsperBERTo-small");
  EXPECT_EQ(repo_folder_name(RepoType::kDataset, "org/data"), "datasets--org--data");
  EXPECT_EQ(repo_folder_name(RepoType::kSpace, "gpt2"), "spaces--gpt2");
  EXPECT_EQ(api_type(RepoType::kDataset), "datasets");
  EXPECT_EQ(url_prefix(RepoType::kModel), "");
  EXPECT_EQ(url_prefix(RepoType::kSpace), "spaces/");
}

TEST(HubNames, RepoTypeParsing) {
  EXPECT_EQ(*parse_repo_type("dataset"), RepoType::kDataset);
  EXPECT_EQ(*parse_repo_type("models"), RepoType::kModel);
  EXPECT_FALSE(parse_repo_type("kernel").ok());
  EXPECT_EQ(repo_type_name(RepoType::kSpace), "space");
}

TEST(HubNames, ValidateRepoId) {
  EXPECT_TRUE(validate_repo_id("org/name").ok());
  EXPECT_TRUE(validate_repo_id("gpt2").ok());
  EXPECT_TRUE(validate_repo_id("sentence-transformers/all-MiniLM-L6-v2").ok());
  EXPECT_FALSE(validate_repo_id("").ok());
  EXPECT_FALSE(validate_repo_id("a/b/c").ok());
  EXPECT_FALSE(validate_repo_id("org/na--me").ok());
  EXPECT_FALSE(validate_repo_id("org/na..me").ok());
  EXPECT_FALSE(validate_repo_id("org/name.git").ok());
  EXPECT_FALSE(validate_repo_id("org/-name").ok());
  EXPECT_FALSE(validate_repo_id("org/na me").ok());
  EXPECT_FALSE(validate_repo_id("/name").ok());
}

TEST(HubNames, ValidateRepoPath) {
  EXPECT_TRUE(validate_repo_path("a/b.txt").ok());
  EXPECT_TRUE(validate_repo_path(".gitattributes").ok());
  EXPECT_FALSE(validate_repo_path("").ok());
  EXPECT_FALSE(validate_repo_path("/etc/passwd").ok());
  EXPECT_FALSE(validate_repo_path("a/../../x").ok());
  EXPECT_FALSE(validate_repo_path("a//b").ok());
}

TEST(HubNames, CommitHash) {
  EXPECT_TRUE(is_commit_hash("0123456789abcdef0123456789abcdef01234567"));
  EXPECT_FALSE(is_commit_hash("0123456789ABCDEF0123456789abcdef01234567"));
  EXPECT_FALSE(is_commit_hash("main"));
  EXPECT_FALSE(is_commit_hash("0123456"));
}

TEST(HubNames, UrlOrigin) {
  EXPECT_EQ(url_origin("http://127.0.0.1:8080/api/x?y=1"), "http://127.0.0.1:8080");
  EXPECT_EQ(url_origin("HTTPS://Hub.Example"), "https://hub.example");
  EXPECT_EQ(url_origin("/relative"), "");
}

TEST(HubNames, Base64) {
  // base64.b64encode(b"") / b"f" / b"fo" / b"foo" / b"foobar"
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string("\xff\x00\x80", 3)), "/wCA");
}

TEST(HubConfig, TruthyAndToken) {
  for (const char* v : {"1", "on", "YES", "True", "tRuE"}) EXPECT_TRUE(is_truthy(v)) << v;
  for (const char* v : {"0", "", "no", "false", "2", "y"}) EXPECT_FALSE(is_truthy(v)) << v;
  EXPECT_EQ(*clean_token("  hf_abc\r\n"), "hf_abc");
  EXPECT_EQ(*clean_token("hf_a\nbc"), "hf_abc");
  EXPECT_FALSE(clean_token(" \n ").has_value());
}

// Sets or clears environment variables for one test, restoring them afterwards.
class EnvGuard {
 public:
  EnvGuard() {
    for (const char* n : kNames) {
      const char* v = std::getenv(n);
      saved_.emplace_back(n, v ? std::optional<std::string>(v) : std::nullopt);
      ::unsetenv(n);
    }
  }
  ~EnvGuard() {
    for (const auto& [n, v] : saved_) {
      if (v) ::setenv(n, v->c_str(), 1); else ::unsetenv(n);
    }
  }
  static constexpr const char* kNames[] = {
      "HF_ENDPOINT", "HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_TOKEN",
      "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE",
      "XDG_CACHE_HOME", "HOME"};

 private:
  std::vector<std::pair<const char*, std::optional<std::string>>> saved_;
};

TEST(HubConfig, Defaults) {
  EnvGuard env;
  ::setenv("HOME", "/home/u", 1);
  const HubConfig c = HubConfig::from_env();
  EXPECT_EQ(c.endpoint, "https://huggingface.co");
  EXPECT_EQ(c.hf_home, "/home/u/.cache/huggingface");
  EXPECT_EQ(c.cache_dir, "/home/u/.cache/huggingface/hub");
  EXPECT_EQ(c.token_path, "/home/u/.cache/huggingface/token");
  EXPECT_FALSE(c.offline);
  ::setenv("XDG_CACHE_HOME", "/xdg", 1);
  EXPECT_EQ(HubConfig::from_env().cache_dir, "/xdg/huggingface/hub");
}

TEST(HubConfig, Overrides) {
  EnvGuard env;
  ::setenv("HOME", "/home/u", 1);
  ::setenv("HF_ENDPOINT", "http://127.0.0.1:9/", 1);
  ::setenv("HF_HOME", "~/hf", 1);
  ::setenv("HUGGINGFACE_HUB_CACHE", "/legacy", 1);
  ::setenv("TRANSFORMERS_OFFLINE", "1", 1);
  ::setenv("HUGGING_FACE_HUB_TOKEN", "hf_legacy", 1);
  HubConfig c = HubConfig::from_env();
  EXPECT_EQ(c.endpoint, "http://127.0.0.1:9");
  EXPECT_EQ(c.hf_home, "/home/u/hf");
  EXPECT_EQ(c.cache_dir, "/legacy");
  EXPECT_TRUE(c.offline);
  EXPECT_EQ(*c.token, "hf_legacy");
  ::setenv("HF_HUB_CACHE", "/new", 1);
  ::setenv("HF_HUB_OFFLINE", "0", 1);  // HF_HUB_OFFLINE wins when set
  ::setenv("HF_TOKEN", " hf_new\n", 1);
  c = HubConfig::from_env();
  EXPECT_EQ(c.cache_dir, "/new");
  EXPECT_FALSE(c.offline);
  EXPECT_EQ(*c.token, "hf_new");
}

}  // namespace
}  // namespace mlhub::hub::internal
