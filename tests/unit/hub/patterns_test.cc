// fnmatch-style filters of snapshot_download, the model file selection of resolve_model, and the
// response-header helpers. Expected values from Python: fnmatch.fnmatchcase and
// huggingface_hub.utils.filter_repo_objects.
#include <gtest/gtest.h>

#include "hub/internal.h"

namespace mlhub::hub::internal {
namespace {

TEST(HubPatterns, FnmatchLikePython) {
  EXPECT_TRUE(fnmatch("a/b/c.json", "*.json"));  // '*' crosses '/'
  EXPECT_TRUE(fnmatch("config.json", "config.json"));
  EXPECT_FALSE(fnmatch("config.jsonl", "*.json"));
  EXPECT_TRUE(fnmatch("model-00001-of-00002.safetensors", "model-*-of-*.safetensors"));
  EXPECT_TRUE(fnmatch("a1", "a?"));
  EXPECT_FALSE(fnmatch("a", "a?"));
  EXPECT_TRUE(fnmatch("v3.bin", "v[0-9].bin"));
  EXPECT_FALSE(fnmatch("vx.bin", "v[0-9].bin"));
  EXPECT_TRUE(fnmatch("vx.bin", "v[!0-9].bin"));
  EXPECT_TRUE(fnmatch("a[b", "a[b"));  // an unclosed '[' is literal
  EXPECT_TRUE(fnmatch("", "*"));
  EXPECT_FALSE(fnmatch("Config.json", "config.json"));  // case-sensitive on POSIX
  EXPECT_TRUE(fnmatch("x]", "[]]]") == false);
  EXPECT_TRUE(fnmatch("]", "[]]"));
}

TEST(HubPatterns, FilterRepoObjects) {
  const std::vector<std::string> none;
  EXPECT_TRUE(path_selected("x.bin", none, none));
  EXPECT_TRUE(path_selected("onnx/model.onnx", {"onnx/"}, none));  // "onnx/" means "onnx/*"
  EXPECT_FALSE(path_selected("model.onnx", {"onnx/"}, none));
  EXPECT_FALSE(path_selected("x.bin", {"*.json"}, none));
  EXPECT_FALSE(path_selected("a.json", {"*.json"}, {"a*"}));
  EXPECT_TRUE(path_selected("b.json", {"*.json"}, {"a*"}));
  EXPECT_FALSE(path_selected("sub/x", none, {"sub/"}));
}

TEST(HubPatterns, ModelFiles) {
  EXPECT_TRUE(model_file_wanted("config.json", true));
  EXPECT_TRUE(model_file_wanted("tokenizer.json", true));
  EXPECT_TRUE(model_file_wanted("vocab.txt", true));
  EXPECT_TRUE(model_file_wanted("spiece.model", true));
  EXPECT_TRUE(model_file_wanted("chat_template.jinja", true));
  EXPECT_TRUE(model_file_wanted("model.safetensors", true));
  EXPECT_TRUE(model_file_wanted("1_Pooling/config.json", true));
  EXPECT_FALSE(model_file_wanted("pytorch_model.bin", true));
  EXPECT_TRUE(model_file_wanted("pytorch_model.bin", false));
  EXPECT_TRUE(model_file_wanted("pytorch_model-00001-of-00002.bin", false));
  EXPECT_FALSE(model_file_wanted("onnx/model.onnx", true));
  EXPECT_FALSE(model_file_wanted("onnx/config.json", true));
  EXPECT_FALSE(model_file_wanted("tf_model.h5", true));
  EXPECT_FALSE(model_file_wanted("README.md", true));
}

TEST(HubHeaders, Etag) {
  EXPECT_EQ(normalize_etag("\"abc\""), "abc");
  EXPECT_EQ(normalize_etag("W/\"abc\""), "abc");
  EXPECT_EQ(normalize_etag("abc"), "abc");
  EXPECT_EQ(normalize_etag(" \"abc\" "), "abc");
}

TEST(HubHeaders, LinkNext) {
  EXPECT_EQ(parse_link_next("<https://h/api/x?cursor=a&limit=2>; rel=\"next\""),
            "https://h/api/x?cursor=a&limit=2");
  EXPECT_EQ(parse_link_next("<https://h/p1>; rel=\"prev\", <https://h/p3>; rel=\"next\""),
            "https://h/p3");
  EXPECT_EQ(parse_link_next("<https://h/p3>;rel=next"), "https://h/p3");
  EXPECT_EQ(parse_link_next("<https://h/p1>; rel=\"prev\""), "");
  EXPECT_EQ(parse_link_next(""), "");
}

TEST(HubHeaders, RelativeRedirect) {
  // Python: urlparse(url)._replace(path=urlparse(location).path).geturl()
  EXPECT_EQ(*relative_redirect_target("http://h:1/old/m/resolve/main/a.txt?x=1",
                                      "/new/m/resolve/main/a.txt?y=2"),
            "http://h:1/new/m/resolve/main/a.txt?x=1");
  EXPECT_EQ(*relative_redirect_target("https://h/a", "/b"), "https://h/b");
  EXPECT_FALSE(relative_redirect_target("https://h/a", "https://cdn/b").has_value());
  EXPECT_FALSE(relative_redirect_target("https://h/a", "//cdn/b").has_value());
}

TEST(HubHeaders, ErrorMapping) {
  HttpResponse r;
  r.status = 404;
  r.headers = {{"x-error-code", "RepoNotFound"}};
  EXPECT_EQ(response_status(r, "GET", "model a/b").code(), StatusCode::kNotFound);
  EXPECT_NE(response_status(r, "GET", "model a/b").message().find("repository not found"),
            std::string::npos);
  r.headers = {{"x-error-code", "EntryNotFound"}};
  EXPECT_NE(response_status(r, "HEAD", "x").message().find("file not found"), std::string::npos);
  r.headers = {{"x-error-code", "RevisionNotFound"}};
  EXPECT_NE(response_status(r, "HEAD", "x").message().find("revision not found"),
            std::string::npos);
  r.status = 403;
  r.headers = {{"x-error-code", "GatedRepo"}};
  EXPECT_EQ(response_status(r, "HEAD", "x").code(), StatusCode::kPermissionDenied);
  r.status = 401;
  r.headers = {{"x-error-message", "Invalid credentials in Authorization header"}};
  EXPECT_NE(response_status(r, "GET", "x").message().find("invalid credentials"),
            std::string::npos);
  r.headers = {};
  r.status = 500;
  r.body = "{\"error\":\"boom\"}";
  EXPECT_NE(response_status(r, "GET", "x").message().find("boom"), std::string::npos);
  EXPECT_EQ(response_status(r, "GET", "x").code(), StatusCode::kIoError);
  r.status = 0;
  r.error = "Couldn't connect to server";
  EXPECT_EQ(response_status(r, "GET", "x").code(), StatusCode::kIoError);
}

}  // namespace
}  // namespace mlhub::hub::internal
