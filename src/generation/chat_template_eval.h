// The chat-template evaluator: renders a parsed Program against a context dict with Jinja2's
// runtime semantics (scoping, loops, macros, Undefined, Python operators). Private to
// src/generation.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "chat_template_ast.h"
#include "chat_template_value.h"

namespace mlhub::generation::jinja {

struct RenderLimits {
  int64_t fuel = 10'000'000;    // statements, calls (x4), loop iterations (x2), items, bytes/16
  int max_call_depth = 100;     // nested macro / caller calls
};

// Renders `program` with `context` (render variables over the builtin globals). Throws
// TemplateError. Reentrant: one Program may be rendered on several threads at once.
std::string render_program(const Program& program, const Dict& context, const RenderLimits& limits);

// Throws TemplateError(kSyntax) when the program names a filter or test that does not exist
// (Jinja2 rejects those when it compiles the template, even in branches never taken).
void check_names(const Program& program);

}  // namespace mlhub::generation::jinja
