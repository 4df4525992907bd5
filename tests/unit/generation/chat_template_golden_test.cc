// Replays tests/golden/chat_templates/*.json (made by tools/reference/chat_template_goldens.py
// with transformers 4.57.3): every case must render byte-identically, and every case where
// transformers raised must fail here too (raise_exception messages verbatim).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "mlhub/generation.h"

namespace mlhub::generation {
namespace {

using ojson = nlohmann::ordered_json;

ojson load(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ojson::parse(ss.str());
}

// "at byte N: got ...|... want ...|..." around the first differing byte.
std::string first_difference(const std::string& got, const std::string& want) {
  size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  const size_t from = i > 40 ? i - 40 : 0;
  return "first difference at byte " + std::to_string(i) + ":\n  got:  " + got.substr(from, 100) +
         "\n  want: " + want.substr(from, 100);
}

std::string golden_dir() { return std::string(MLHUB_SOURCE_DIR) + "/tests/golden/chat_templates"; }

class ChatTemplateGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(ChatTemplateGolden, MatchesTransformers) {
  const ojson doc = load(golden_dir() + "/" + GetParam() + ".json");
  ASSERT_TRUE(doc.contains("templates"));
  int checked = 0;
  for (const auto& t : doc["templates"]) {
    const std::string name = t["name"].get<std::string>();
    auto tmpl = ChatTemplate::parse(t["template"].get<std::string>());
    for (const auto& c : t["cases"]) {
      const std::string set = c["messages"].get<std::string>();
      std::ostringstream label;
      label << name << " / " << set << " agp=" << c["add_generation_prompt"] << " cfm="
            << c["continue_final_message"] << " tools=" << c["tools"] << " docs=" << c["documents"];
      SCOPED_TRACE(label.str());
      ++checked;
      const bool want_error = c.contains("error_type");
      if (!tmpl.ok()) {
        EXPECT_TRUE(want_error) << "parse failed: " << tmpl.status().to_string();
        continue;
      }
      ChatTemplateOptions opts;
      opts.add_generation_prompt = c["add_generation_prompt"].get<bool>();
      opts.continue_final_message = c["continue_final_message"].get<bool>();
      if (c["tools"].get<bool>()) opts.tools = doc["tools"];
      if (c["documents"].get<bool>()) opts.documents = doc["documents"];
      if (c["extra_context"].get<bool>()) opts.extra_context = doc["extra_context"];
      opts.special_tokens = t["special_tokens"];
      auto r = tmpl->render(doc["message_sets"][set], opts);
      if (want_error) {
        EXPECT_FALSE(r.ok()) << "transformers raised " << c["error_type"] << ": " << c["error"]
                             << "\nbut we rendered: " << (r.ok() ? *r : "");
        if (!r.ok() && c["error_type"] == "TemplateError") {
          EXPECT_EQ(r.status().message(), c["error"].get<std::string>());
        }
        continue;
      }
      ASSERT_TRUE(r.ok()) << r.status().to_string();
      const std::string want = c["expected"].get<std::string>();
      EXPECT_EQ(*r, want) << first_difference(*r, want);
    }
  }
  EXPECT_GT(checked, 0);
  std::printf("[ golden   ] %s: %d cases\n", GetParam().c_str(), checked);
}

INSTANTIATE_TEST_SUITE_P(ChatTemplates, ChatTemplateGolden,
                         ::testing::Values("tokenizers", "smollm2", "public", "features", "errors"));

TEST(ChatTemplateGoldenFiles, EveryFileIsReplayed) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(golden_dir())) n += e.path().extension() == ".json";
  EXPECT_EQ(n, 5) << "a golden file was added without a test instantiation";
}

}  // namespace
}  // namespace mlhub::generation
