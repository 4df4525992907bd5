// ChatTemplate API: template selection from tokenizer_config.json, special tokens, option
// checks, safety limits on hostile templates, and concurrent renders.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "mlhub/generation.h"

namespace mlhub::generation {
namespace {

using ojson = nlohmann::ordered_json;

ojson user(const std::string& text) { return ojson::array({{{"role", "user"}, {"content", text}}}); }

std::string render_or_die(std::string_view src, const ojson& messages, const ChatTemplateOptions& o = {}) {
  auto t = ChatTemplate::parse(src);
  EXPECT_TRUE(t.ok()) << t.status().to_string();
  if (!t.ok()) return "";
  auto r = t->render(messages, o);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.ok() ? *r : "";
}

Status render_status(std::string_view src, const ojson& messages, const ChatTemplateOptions& o = {}) {
  auto t = ChatTemplate::parse(src);
  if (!t.ok()) return t.status();
  auto r = t->render(messages, o);
  return r.ok() ? Status() : r.status();
}

TEST(ChatTemplate, RendersMessages) {
  EXPECT_EQ(render_or_die("{% for m in messages %}{{ m.role }}:{{ m['content'] }}{% endfor %}", user("hi")), "user:hi");
}

TEST(ChatTemplate, KeyOrderOfOrderedJsonReachesTojson) {
  const ojson msgs = ojson::parse(R"([{"role":"user","content":"x","zeta":1,"alpha":2}])");
  EXPECT_EQ(render_or_die("{{ messages[0]|tojson }}", msgs),
            R"({"role": "user", "content": "x", "zeta": 1, "alpha": 2})");
}

TEST(ChatTemplate, ToolsAndDocumentsAreNoneWhenAbsent) {
  EXPECT_EQ(render_or_die("{{ tools is none }} {{ documents is none }} {{ tools is defined }}", user("x")),
            "True True True");
}

TEST(ChatTemplate, ExtraContextOverridesSpecialTokens) {
  ChatTemplateOptions o;
  o.special_tokens = {{"bos_token", "<s>"}, {"eos_token", "</s>"}};
  o.extra_context = {{"eos_token", "<eos>"}, {"enable_thinking", false}};
  EXPECT_EQ(render_or_die("{{ bos_token }}{{ eos_token }}{{ enable_thinking }}", user("x"), o), "<s><eos>False");
  o.extra_context = {{"messages", 1}};
  EXPECT_FALSE(render_status("x", user("x"), o).ok());
}

TEST(ChatTemplate, ContinueFinalMessage) {
  const char* tmpl = "{% for m in messages %}<{{ m.role }}>{{ m.content }}</{{ m.role }}>\n{% endfor %}";
  ojson msgs = user("q");
  msgs.push_back({{"role", "assistant"}, {"content", "The answer is "}});
  ChatTemplateOptions o;
  o.continue_final_message = true;
  EXPECT_EQ(render_or_die(tmpl, msgs, o), "<user>q</user>\n<assistant>The answer is ");
  // A template that trims the message loses the trailing space: transformers rstrips.
  EXPECT_EQ(render_or_die("{% for m in messages %}[{{ m.content|trim }}]{% endfor %}", msgs, o), "[q][The answer is");
  o.add_generation_prompt = true;
  EXPECT_FALSE(render_status(tmpl, msgs, o).ok());
  o.add_generation_prompt = false;
  EXPECT_FALSE(render_status("{% for m in messages %}{{ m.role }}{% endfor %}", msgs, o).ok())
      << "the final message must appear in the output";
}

TEST(ChatTemplate, RejectsMalformedToolsAndDocuments) {
  ChatTemplateOptions o;
  o.tools = ojson::array({"not a schema"});
  EXPECT_FALSE(render_status("x", user("x"), o).ok());
  o.tools = nullptr;
  o.documents = ojson::array({1});
  EXPECT_FALSE(render_status("x", user("x"), o).ok());
}

TEST(ChatTemplate, RaiseExceptionMessageIsVerbatim) {
  const Status s = render_status("{{ raise_exception('Only user and assistant roles are supported!') }}", user("x"));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "Only user and assistant roles are supported!");
}

TEST(ChatTemplate, SandboxRefusesMutation) {
  const Status s = render_status("{% set l = [] %}{{ l.append(1) }}", user("x"));
  EXPECT_NE(s.message().find("SecurityError"), std::string::npos) << s.to_string();
  EXPECT_EQ(render_or_die("{{ [].__class__ }}|{{ messages.pop is defined }}", user("x")), "|False");
  EXPECT_FALSE(render_status("{{ messages.pop() }}", user("x")).ok());
}

TEST(ChatTemplate, SyntaxErrorsCarryLineNumbers) {
  auto t = ChatTemplate::parse("line1\n{% if x %}\n{{ 1 + }}\n{% endif %}");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("line 3"), std::string::npos) << t.status().to_string();
  EXPECT_FALSE(ChatTemplate::parse("{% extends 'base.html' %}").ok());
  EXPECT_FALSE(ChatTemplate::parse(std::string("{{ '\xff' }}")).ok()) << "invalid UTF-8";
}

TEST(ChatTemplate, LimitsStopHostileTemplates) {
  const char* cases[] = {
      // nested loops: 10^10 iterations
      "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}",
      // exponential macro recursion
      "{% macro f(n) %}{{ f(n + 1) }}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
      // unbounded recursion depth
      "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
      // output blow-up by doubling
      "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
      "{{ 'x' * 100000000 }}",
      "{{ [1] * 100000000 }}",
      "{{ range(1000000)|list }}",
      "{{ 2 ** 64 }}",
  };
  for (const char* src : cases) {
    SCOPED_TRACE(src);
    const Status s = render_status(src, user("x"));
    EXPECT_EQ(s.code(), StatusCode::kOutOfRange) << s.to_string();
  }
  // Deep nesting is refused by the parser instead of overflowing the stack.
  std::string deep(5000, '(');
  EXPECT_FALSE(ChatTemplate::parse("{{ " + deep + "1" + std::string(5000, ')') + " }}").ok());
  std::string blocks;
  for (int i = 0; i < 5000; ++i) blocks += "{% if true %}";
  EXPECT_FALSE(ChatTemplate::parse(blocks).ok());
}

TEST(ChatTemplate, ConcurrentRendersShareOneParse) {
  auto t = ChatTemplate::parse(
      "{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{{ m.content }}{% endfor %}{{ ns.n }}");
  ASSERT_TRUE(t.ok());
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < 200; ++k) {
        auto r = t->render(user(std::to_string(i)));
        if (!r.ok() || *r != std::to_string(i) + "1") ++bad;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST(ChatTemplateFromConfig, SingleTemplate) {
  ojson cfg = {{"chat_template", "{{ messages|length }}"}};
  auto t = chat_template_from_config(cfg);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t->render(user("x")), "1");
  EXPECT_EQ(chat_template_from_config(cfg, "tool_use").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(chat_template_from_config(ojson::object()).status().code(), StatusCode::kNotFound);
}

TEST(ChatTemplateFromConfig, NamedTemplatesPickToolUseWithTools) {
  ojson cfg = {{"chat_template", ojson::array({{{"name", "default"}, {"template", "D"}},
                                               {{"name", "tool_use"}, {"template", "T"}},
                                               {{"name", "rag"}, {"template", "R"}}})}};
  EXPECT_EQ(*chat_template_from_config(cfg)->render(user("x")), "D");
  EXPECT_EQ(*chat_template_from_config(cfg, "", /*with_tools=*/true)->render(user("x")), "T");
  EXPECT_EQ(*chat_template_from_config(cfg, "rag")->render(user("x")), "R");
  EXPECT_EQ(chat_template_from_config(cfg, "nope").status().code(), StatusCode::kNotFound);
  ojson no_default = {{"chat_template", ojson::array({{{"name", "rag"}, {"template", "R"}}})}};
  EXPECT_EQ(chat_template_from_config(no_default).status().code(), StatusCode::kInvalidArgument);
}

TEST(ChatTemplateFromConfig, SharedTokenizerConfigs) {
  // The special tokens the goldens were rendered with come from transformers' special_tokens_map.
  std::ifstream gf(std::string(MLHUB_SOURCE_DIR) + "/tests/golden/chat_templates/tokenizers.json");
  std::stringstream gs;
  gs << gf.rdbuf();
  const ojson golden = ojson::parse(gs.str());
  for (const auto& t : golden["templates"]) {
    const std::string model = t["name"];
    SCOPED_TRACE(model);
    std::ifstream f(std::string(MLHUB_SHARED_DIR) + "/data/tokenizers/" + model + "/tokenizer_config.json");
    if (!f) GTEST_SKIP() << "shared tokenizer data not present";
    std::stringstream ss;
    ss << f.rdbuf();
    const ojson cfg = ojson::parse(ss.str());
    EXPECT_EQ(special_tokens_from_config(cfg), t["special_tokens"]);
    auto tmpl = chat_template_from_config(cfg);
    ASSERT_TRUE(tmpl.ok()) << tmpl.status().to_string();
    EXPECT_EQ(tmpl->source(), t["template"].get<std::string>());
  }
}

}  // namespace
}  // namespace mlhub::generation
