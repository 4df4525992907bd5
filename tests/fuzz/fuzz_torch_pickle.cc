// libFuzzer target: arbitrary bytes as the data.pkl of a torch checkpoint. parse_torch_pickle
// must return a Status (kCorruption, or kUnimplemented for an unsupported dtype or layout) or
// tensors whose every element lies inside its storage. load_record serves 4096 deterministic
// bytes for any key, so the tensors of the seeds (and their mutations) really get built.
// Seeds: corpus/fuzz_torch_pickle (data.pkl of the tests/data/io fixtures, hostile pickles).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
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

constexpr size_t kRecordBytes = 4096;

mlhub::Result<std::string> load_record(const std::string& key) {
  uint32_t h = 2166136261u;
  for (char c : key) h = (h ^ static_cast<uint8_t>(c)) * 16777619u;
  std::string out(kRecordBytes, '\0');
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<char>((h >> (i % 4 * 8)) + i);
  return out;
}

// Reads every element through the tensor's strides (ASan reports any read outside).
uint64_t checksum(const mlhub::Tensor& t) {
  const auto* base = static_cast<const unsigned char*>(t.raw_data());
  const size_t esize = mlhub::dtype_size(t.dtype());
  const int64_t n = t.numel();
  std::vector<int64_t> index(t.shape().size(), 0);
  uint64_t h = 0;
  for (int64_t i = 0; i < n; ++i) {
    int64_t off = 0;
    for (size_t d = 0; d < index.size(); ++d) off += index[d] * t.strides()[d];
    CHECK(off >= 0);
    for (size_t b = 0; b < esize; ++b) h = h * 31 + base[off * static_cast<int64_t>(esize) + b];
    for (size_t d = index.size(); d-- > 0;) {
      if (++index[d] < t.shape()[d]) break;
      index[d] = 0;
    }
  }
  return h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto ck = mlhub::io::parse_torch_pickle(bytes, load_record);
  if (!ck.ok()) {
    const auto code = ck.status().code();
    CHECK(code == mlhub::StatusCode::kCorruption || code == mlhub::StatusCode::kUnimplemented);
    return 0;
  }
  for (const std::string& name : ck->names()) {
    const mlhub::Tensor& t = ck->get(name);
    CHECK(t.defined());
    CHECK(t.numel() == 0 || t.storage()->size() <= kRecordBytes);
    (void)checksum(t);
  }
  return 0;
}
