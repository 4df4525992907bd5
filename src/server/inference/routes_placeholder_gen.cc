// PLACEHOLDER while the generation routes are written on branch h-routes-gen: that branch deletes
// this file. Every function answers "not implemented" so the server links meanwhile.
#include "server/inference/inference_server.h"

namespace mlhub::inference {
namespace {
[[noreturn]] void pending(const char* what) {
  throw InferenceError(ErrorKind::kUnsupported, std::string(what) + " is not implemented yet");
}
}  // namespace
Response tgi_generate(RouteContext&, bool) { pending("/generate"); }
Response task_text_generation(RouteContext&) { pending("text-generation"); }
Response openai_chat(RouteContext&) { pending("/v1/chat/completions"); }
Response openai_completions(RouteContext&) { pending("/v1/completions"); }
Response tgi_info(RouteContext&) { pending("/info"); }
}  // namespace mlhub::inference
