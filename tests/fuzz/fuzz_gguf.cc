// libFuzzer target: arbitrary bytes as a GGUF file. GgufFile::parse must return a Status
// (kCorruption for a broken file, kUnimplemented for an unsupported version or ggml type) or a
// file whose every metadata value decodes and every tensor lies inside the parsed buffer (ASan
// checks the reads). What a parsed file yields through the typed getters, the Hugging Face
// conversion and the tokenizer conversion must be a value or a Status, never a crash.
// Seeds: corpus/fuzz_gguf (the tests/data/io/gguf fixtures and small hand-made files).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mlhub/io.h"

namespace {

#define CHECK(cond)                                               \
  do {                                                            \
    if (!(cond)) {                                                \
      std::fprintf(stderr, "fuzz invariant broken: %s\n", #cond); \
      std::abort();                                               \
    }                                                             \
  } while (0)

uint64_t checksum(const mlhub::Tensor& t) {
  const auto* p = static_cast<const unsigned char*>(t.raw_data());
  uint64_t h = 0;
  for (size_t i = 0; i < t.nbytes(); ++i) h = h * 31 + p[i];
  return h;
}

// A getter's failure must be one of the documented codes.
template <typename R>
void check_getter(const R& r) {
  if (r.ok()) return;
  const auto c = r.status().code();
  CHECK(c == mlhub::StatusCode::kInvalidArgument || c == mlhub::StatusCode::kOutOfRange);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using mlhub::StatusCode;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto f = mlhub::io::GgufFile::parse(bytes);
  if (!f.ok()) {
    const auto code = f.status().code();
    CHECK(code == StatusCode::kCorruption || code == StatusCode::kUnimplemented);
    CHECK(f.status().message().rfind("gguf: ", 0) == 0);
    return 0;
  }
  CHECK(f->data_offset() % f->alignment() == 0);
  const nlohmann::json meta = f->metadata_json();
  CHECK(meta.size() == f->keys().size());
  for (const std::string& key : f->keys()) {
    CHECK(f->contains(key));
    check_getter(f->get_string(key));
    check_getter(f->get_int(key));
    check_getter(f->get_float(key));
    check_getter(f->get_bool(key));
    check_getter(f->get_string_array(key));
    check_getter(f->get_int_array(key));
    check_getter(f->get_float_array(key));
  }
  for (const auto& info : f->tensor_infos()) {
    CHECK(info.nbytes <= size);
    CHECK(f->data_offset() + info.offset + info.nbytes <= size);
    auto t = f->tensor(info.name);
    if (!t.ok()) {
      CHECK(t.status().code() == StatusCode::kUnimplemented && !info.dtype);
      continue;
    }
    CHECK(t->nbytes() == info.nbytes);
    CHECK(t->shape() == info.shape);
    (void)checksum(*t);
  }
  (void)f->checkpoint();
  auto hf = mlhub::io::gguf_to_hf(*f);
  if (!hf.ok()) {
    const auto code = hf.status().code();
    CHECK(code == StatusCode::kCorruption || code == StatusCode::kUnimplemented ||
          code == StatusCode::kInvalidArgument || code == StatusCode::kOutOfRange);
  } else {
    CHECK(hf->config.is_object());
    for (const std::string& name : hf->tensors.names()) (void)checksum(hf->tensors.get(name));
  }
  auto tok = mlhub::io::gguf_tokenizer_json(*f);
  if (!tok.ok()) {
    const auto code = tok.status().code();
    CHECK(code == StatusCode::kCorruption || code == StatusCode::kUnimplemented);
  } else {
    CHECK(tok->tokenizer.is_object() && tok->tokenizer_config.is_object());
  }
  return 0;
}
