#include <gtest/gtest.h>

#include "mlhub/generation.h"

namespace mlhub::generation {
namespace {
TEST(ChatTemplate, Smoke) {
  auto t = ChatTemplate::parse("{% for m in messages %}{{ m.role }}{% endfor %}");
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  auto r = t->render(nlohmann::ordered_json::parse(R"([{"role":"user","content":"hi"}])"));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(*r, "user");
}
}  // namespace
}  // namespace mlhub::generation
