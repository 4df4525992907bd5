// PLACEHOLDER while the encoder routes are written on branch h-routes-enc: that branch deletes
// this file. Every function answers "not implemented" so the server links meanwhile.
#include "server/inference/inference_server.h"

namespace mlhub::inference {
namespace {
[[noreturn]] void pending(const char* what) {
  throw InferenceError(ErrorKind::kUnsupported, std::string(what) + " is not implemented yet");
}
}  // namespace
Response task_api(RouteContext&) { pending("the task API"); }
Response tei_embed(RouteContext&) { pending("/embed"); }
Response tei_rerank(RouteContext&) { pending("/rerank"); }
Response tei_predict(RouteContext&) { pending("/predict"); }
Response tei_similarity(RouteContext&) { pending("/similarity"); }
Response tei_tokenize(RouteContext&) { pending("/tokenize"); }
Response openai_embeddings(RouteContext&) { pending("/v1/embeddings"); }
Response model_info_route(RouteContext&) { pending("/info"); }
}  // namespace mlhub::inference
