// Private to the encoder routes: running inputs through a model's encoder queue with the call's
// usage and timing kept (defined in routes_task.cc, used by routes_tei.cc too).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/inference/encoder_io.h"
#include "server/inference/inference_server.h"

namespace mlhub::inference::enc {

// Loads the model for `task` (Call::acquire) and checks that it is an encoder pipeline.
ServedModel& acquire_encoder(RouteContext& ctx, const std::string& task);

// Runs `inputs` through `model`'s queue with `params`: one result per input. Adds to the call's
// usage the characters of every string in `inputs` and the tokens the pipeline counted, and to
// its queue/inference time what the queue measured.
std::vector<json> run_encoder(RouteContext& ctx, ServedModel& model, std::vector<json> inputs,
                              const json& params);

// Pooled sentence embeddings of `texts` (strings) after the request's options (prompt_name,
// dimensions, normalize), from the model's "sentence-embeddings" pipeline: the
// sentence-transformers modules of the folder, or mean pooling for a plain transformers folder.
std::vector<std::vector<float>> embed_texts(RouteContext& ctx, const std::vector<json>& texts,
                                            const EmbedOptions& options);

// Cosine similarities of each {"source_sentence", "sentences"} item: one list of floats per item
// (util.cos_sim over the embeddings, as the sentence-similarity pipeline computes them).
std::vector<json> similarity_scores(RouteContext& ctx, const std::vector<json>& items,
                                    EmbedOptions options);

// The folder's config_sentence_transformers.json (null when absent or unreadable).
json sentence_transformers_config(const ModelInfo& info);

// A 200 JSON answer with the timing/usage headers of the call (TGI's set, and TEI's
// x-compute-tokens).
Response encoder_reply(RouteContext& ctx, const json& body);

}  // namespace mlhub::inference::enc
