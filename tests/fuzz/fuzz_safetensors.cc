// libFuzzer target: arbitrary bytes as a safetensors file. parse_safetensors must return a
// Status (kCorruption for a broken file, kUnimplemented for an unsupported dtype) or tensors
// whose every byte lies inside the parsed buffer (ASan checks the reads). A parsed file is
// written back with write_safetensors and must parse again to the same tensors.
// Seeds: corpus/fuzz_safetensors (the tests/data/io fixtures and small hand-made files).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>

#include "mlhub/io.h"

namespace {

#define CHECK(cond)                                                  \
  do {                                                               \
    if (!(cond)) {                                                   \
      std::fprintf(stderr, "fuzz invariant broken: %s\n", #cond);    \
      std::abort();                                                  \
    }                                                                \
  } while (0)

uint64_t checksum(const mlhub::Tensor& t) {
  const auto* p = static_cast<const unsigned char*>(t.raw_data());
  uint64_t h = 0;
  for (size_t i = 0; i < t.nbytes(); ++i) h = h * 31 + p[i];
  return h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto ck = mlhub::io::parse_safetensors(bytes);
  if (!ck.ok()) {
    const auto code = ck.status().code();
    CHECK(code == mlhub::StatusCode::kCorruption || code == mlhub::StatusCode::kUnimplemented);
    CHECK(ck.status().message().rfind("safetensors: ", 0) == 0);
    return 0;
  }
  std::map<std::string, mlhub::Tensor> tensors;
  for (const std::string& name : ck->names()) {
    const mlhub::Tensor& t = ck->get(name);
    CHECK(t.is_contiguous());
    CHECK(t.nbytes() <= size);
    (void)checksum(t);
    tensors[name] = t;
  }
  // Round trip through the writer (names that are not valid UTF-8 are refused by it).
  static const std::string path = (std::filesystem::temp_directory_path() /
                                   ("fuzz_safetensors_" + std::to_string(::getpid()))).string();
  const mlhub::Status written = mlhub::io::write_safetensors(path, tensors, ck->metadata());
  if (!written.ok()) {
    CHECK(written.code() == mlhub::StatusCode::kInvalidArgument);
    return 0;
  }
  auto again = mlhub::io::read_safetensors(path);
  std::error_code ec;
  std::filesystem::remove(path, ec);  // the mapping stays valid; no file is left behind
  CHECK(again.ok());
  CHECK(again->names() == ck->names());
  CHECK(again->metadata() == ck->metadata());
  for (const std::string& name : ck->names()) {
    const mlhub::Tensor& a = ck->get(name);
    const mlhub::Tensor& b = again->get(name);
    CHECK(a.dtype() == b.dtype() && a.shape() == b.shape());
    CHECK(a.nbytes() == b.nbytes() && std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0);
  }
  return 0;
}
