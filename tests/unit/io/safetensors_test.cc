// safetensors: values equal to what torch/safetensors wrote, zero-copy mapping, byte-identical
// writing, and every kind of broken header giving the right Status.
#include <fmt/format.h>

#include <fstream>

#include "io_test_util.h"

namespace mlhub::io {
namespace {

using testing::data_dir;
using testing::expected;
using testing::read_bytes;
using testing::TempDir;
using testing::write_bytes;

// An image with the given header (taken verbatim) and data section.
std::string image(std::string_view header, std::string_view data) {
  std::string out;
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out += static_cast<char>((n >> (8 * i)) & 0xff);
  out.append(header);
  out.append(data);
  return out;
}

std::string f32_bytes(std::initializer_list<float> values) {
  std::string out;
  for (float v : values) out.append(reinterpret_cast<const char*>(&v), 4);
  return out;
}

TEST(Safetensors, DtypesFixtureMatchesTorch) {
  const auto want = expected()["dtypes.safetensors"];
  auto ck = read_safetensors(data_dir() / "dtypes.safetensors");
  ASSERT_TRUE(ck.ok()) << ck.status().to_string();
  ASSERT_EQ(ck->size(), want["tensors"].size());
  for (const auto& [name, w] : want["tensors"].items()) {
    ASSERT_TRUE(ck->contains(name)) << name;
    testing::expect_tensor_equals(name, ck->get(name), w);
  }
  EXPECT_EQ(ck->metadata(), (want["metadata"].get<std::map<std::string, std::string>>()));
  ASSERT_EQ(ck->files().size(), 1u);
  EXPECT_EQ(ck->files()[0], data_dir() / "dtypes.safetensors");
}

// True when `p` lies inside a mapping of `file` listed in /proc/self/maps.
bool inside_mapping_of(const void* p, const std::filesystem::path& file) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  const auto addr = reinterpret_cast<uintptr_t>(p);
  const std::string canonical = std::filesystem::canonical(file).string();
  while (std::getline(maps, line)) {
    if (line.size() < canonical.size() ||
        line.compare(line.size() - canonical.size(), canonical.size(), canonical) != 0)
      continue;
    uintptr_t lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx", &lo, &hi) == 2 && addr >= lo && addr < hi)
      return true;
  }
  return false;
}

TEST(Safetensors, TensorsAreZeroCopyViewsOfTheMapping) {
  const auto file = data_dir() / "dtypes.safetensors";
  auto ck = read_safetensors(file);
  ASSERT_TRUE(ck.ok()) << ck.status().to_string();
  const Tensor& f32 = ck->get("f32");
  EXPECT_TRUE(f32.read_only());
  EXPECT_TRUE(inside_mapping_of(f32.raw_data(), file));
  // Every tensor of the file views the same storage: one mapping, no copies.
  for (const std::string& name : ck->names()) {
    EXPECT_EQ(ck->get(name).storage(), f32.storage()) << name;
    EXPECT_TRUE(ck->get(name).read_only()) << name;
  }
  // The mapping outlives the Checkpoint while a tensor holds it.
  Tensor kept = f32;
  ck = Status::not_found("dropped");
  EXPECT_TRUE(inside_mapping_of(kept.raw_data(), file));
  const auto want = expected()["dtypes.safetensors"]["tensors"]["f32"];
  testing::expect_tensor_equals("f32", kept, want);
}

TEST(Safetensors, ParseFromBytesMatchesTorch) {
  const auto want = expected()["dtypes.safetensors"];
  auto ck = parse_safetensors(read_bytes(data_dir() / "dtypes.safetensors"));
  ASSERT_TRUE(ck.ok()) << ck.status().to_string();
  ASSERT_EQ(ck->size(), want["tensors"].size());
  for (const auto& [name, w] : want["tensors"].items())
    testing::expect_tensor_equals(name, ck->get(name), w);
}

TEST(Safetensors, WriterOutputIsByteIdenticalToTheSafetensorsLibrary) {
  const auto file = data_dir() / "dtypes.safetensors";
  auto ck = read_safetensors(file);
  ASSERT_TRUE(ck.ok()) << ck.status().to_string();
  std::map<std::string, Tensor> tensors;
  for (const std::string& name : ck->names()) tensors[name] = ck->get(name);
  TempDir dir("write_identical");
  const auto out = dir.path() / "out.safetensors";
  ASSERT_TRUE(write_safetensors(out, tensors, ck->metadata()).ok());
  EXPECT_EQ(read_bytes(out), read_bytes(file));
}

TEST(Safetensors, WriteThenReadRoundTrips) {
  TempDir dir("roundtrip");
  const auto out = dir.path() / "rt.safetensors";
  const Tensor m = Tensor::from_floats(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
  std::map<std::string, Tensor> tensors = {
      {"b.transposed", m.transpose(0, 1)},  // non-contiguous: written in logical order
      {"a.half", m.to(DType::kF16)},
      {"c.ids", Tensor::from_ints(std::vector<int64_t>{-1, 1LL << 50, 3}, {3})},
      {"d.byte", Tensor::from_bytes(DType::kU8, {3}, "\x01\x02\x03")},
  };
  ASSERT_TRUE(write_safetensors(out, tensors, {{"format", "pt"}}).ok());
  auto ck = read_safetensors(out);
  ASSERT_TRUE(ck.ok()) << ck.status().to_string();
  EXPECT_EQ(ck->names(), (std::vector<std::string>{"a.half", "b.transposed", "c.ids", "d.byte"}));
  EXPECT_EQ(ck->metadata().at("format"), "pt");
  EXPECT_EQ(ck->get("b.transposed").shape(), (Shape{3, 2}));
  EXPECT_EQ(ck->get("b.transposed").to_floats(), (std::vector<float>{1, 4, 2, 5, 3, 6}));
  EXPECT_EQ(ck->get("a.half").to_floats(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(testing::elements(ck->get("c.ids")).ints, (std::vector<int64_t>{-1, 1LL << 50, 3}));
  EXPECT_EQ(testing::elements(ck->get("d.byte")).ints, (std::vector<int64_t>{1, 2, 3}));
  // Laid out largest dtype first, so every tensor is aligned and viewed in place.
  for (const std::string& name : ck->names()) EXPECT_TRUE(ck->get(name).read_only()) << name;
}

TEST(Safetensors, WriterRejectsUndefinedTensorsAndBadPaths) {
  TempDir dir("write_errors");
  EXPECT_EQ(write_safetensors(dir.path() / "x.safetensors", {{"x", Tensor()}}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(write_safetensors(dir.path() / "missing" / "x.safetensors",
                              {{"x", Tensor::full({1}, 1.0f)}})
                .code(),
            StatusCode::kIoError);
}

TEST(Safetensors, MisalignedTensorIsCopiedIntoAlignedStorage) {
  // "b" starts at data byte 1: not aligned for F32, so it is copied; "a" (U8) stays a view.
  const std::string bytes = image(
      R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
      R"("b":{"dtype":"F32","shape":[2],"data_offsets":[1,9]}})",
      std::string("\x07").append(f32_bytes({1.5f, -2.0f})));
  TempDir dir("misaligned");
  write_bytes(dir.path() / "m.safetensors", bytes);
  auto ck = read_safetensors(dir.path() / "m.safetensors");
  ASSERT_TRUE(ck.ok()) << ck.status().to_string();
  const Tensor& b = ck->get("b");
  EXPECT_FALSE(b.read_only());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b.raw_data()) % 4, 0u);
  EXPECT_EQ(b.to_floats(), (std::vector<float>{1.5f, -2.0f}));
  EXPECT_TRUE(ck->get("a").read_only());
  EXPECT_EQ(testing::elements(ck->get("a")).ints, (std::vector<int64_t>{7}));
}

TEST(Safetensors, EmptyAndZeroSizedTensorsAreFine) {
  auto ck = parse_safetensors(image(
      R"({"e":{"dtype":"F32","shape":[0,4],"data_offsets":[4,4]},)"
      R"("x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
      f32_bytes({3.0f})));
  ASSERT_TRUE(ck.ok()) << ck.status().to_string();
  EXPECT_EQ(ck->get("e").numel(), 0);
  EXPECT_EQ(ck->get("x").to_floats(), (std::vector<float>{3.0f}));
}

struct HostileCase {
  const char* name;
  std::string bytes;
  StatusCode code;
  const char* needle;
};

std::vector<HostileCase> hostile_cases() {
  const std::string one = f32_bytes({1, 2});
  const auto entry = [](const char* dtype, const char* shape, const char* offsets) {
    return fmt::format(R"({{"t":{{"dtype":"{}","shape":{},"data_offsets":{}}}}})", dtype, shape,
                       offsets);
  };
  std::string past_eof = image(entry("F32", "[2]", "[0,8]"), one);
  past_eof[0] = static_cast<char>(0xff);  // header length 255 + ... past the 67-byte file
  std::string huge = image("{}", "");
  huge[7] = 0x40;  // 2^62
  return {
      {"too short", "\x02\0\0\0", StatusCode::kCorruption, "too short"},
      {"header past EOF", past_eof, StatusCode::kCorruption, "runs past the end"},
      {"header huge", huge, StatusCode::kCorruption, "larger than the 100000000-byte limit"},
      {"invalid JSON", image("{\"t\": {", one), StatusCode::kCorruption, "not valid JSON"},
      {"not an object", image("[1, 2]", one), StatusCode::kCorruption, "not a JSON object"},
      {"unknown dtype", image(entry("F8_E4M3", "[2]", "[0,2]"), one), StatusCode::kUnimplemented,
       "dtype \"F8_E4M3\" is not supported"},
      {"made-up dtype", image(entry("Q7", "[2]", "[0,2]"), one), StatusCode::kUnimplemented,
       "\"Q7\""},
      {"dtype not a string", image(R"({"t":{"dtype":42,"shape":[2],"data_offsets":[0,8]}})", one),
       StatusCode::kCorruption, "\"dtype\""},
      {"offsets out of range", image(entry("F32", "[4]", "[0,16]"), one), StatusCode::kCorruption,
       "outside the data section (8 bytes)"},
      {"offsets reversed", image(entry("F32", "[0]", "[8,4]"), one), StatusCode::kCorruption,
       "outside the data section"},
      {"offsets negative", image(entry("F32", "[2]", "[-8,0]"), one), StatusCode::kCorruption,
       "not non-negative integers"},
      {"offsets not a pair", image(entry("F32", "[2]", "[0]"), one), StatusCode::kCorruption,
       "[begin, end] pair"},
      {"overlap",
       image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
             R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
             one),
       StatusCode::kCorruption, "overlap"},
      {"size mismatch", image(entry("F32", "[3]", "[0,8]"), one), StatusCode::kCorruption,
       "hold 8 bytes, but F32 x [3] needs 12"},
      {"negative dim", image(entry("F32", "[-2]", "[0,8]"), one), StatusCode::kCorruption,
       "negative dimension -2"},
      {"fractional dim", image(entry("F32", "[1.5]", "[0,8]"), one), StatusCode::kCorruption,
       "not an integer"},
      {"overflowing shape",
       image(entry("F32", "[4294967296,4294967296,4]", "[0,8]"), one), StatusCode::kCorruption,
       "too many elements"},
      {"overflowing bytes", image(entry("F64", "[4611686018427387904]", "[0,8]"), one),
       StatusCode::kCorruption, "too many elements"},
      {"dim past int64", image(entry("U8", "[18446744073709551615]", "[0,8]"), one),
       StatusCode::kCorruption, "too many elements"},
      {"missing shape", image(R"({"t":{"dtype":"F32","data_offsets":[0,8]}})", one),
       StatusCode::kCorruption, "\"shape\" is missing"},
      {"entry not an object", image(R"({"t":[1]})", one), StatusCode::kCorruption,
       "tensor \"t\": entry is not a JSON object"},
      {"metadata not strings", image(R"({"__metadata__":{"a":1}})", ""), StatusCode::kCorruption,
       "\"__metadata__\".\"a\" is not a string"},
      {"metadata not an object", image(R"({"__metadata__":[]})", ""), StatusCode::kCorruption,
       "\"__metadata__\" is not a JSON object"},
  };
}

TEST(Safetensors, HostileHeadersGiveTheRightStatus) {
  for (const HostileCase& c : hostile_cases()) {
    SCOPED_TRACE(c.name);
    auto ck = parse_safetensors(c.bytes);
    ASSERT_FALSE(ck.ok());
    EXPECT_STATUS(ck.status(), c.code, c.needle);
    EXPECT_EQ(ck.status().message().rfind("safetensors: ", 0), 0u) << ck.status().message();
  }
}

TEST(Safetensors, MutatedFixtureBytesAreRejected) {
  const std::string good = read_bytes(data_dir() / "dtypes.safetensors");
  // Header length pointing past the end of the file.
  std::string bad = good;
  const uint64_t n = good.size();
  for (int i = 0; i < 8; ++i) bad[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  EXPECT_STATUS(parse_safetensors(bad).status(), StatusCode::kCorruption, "runs past the end");
  // Truncated data: the last tensors end past the data section.
  EXPECT_STATUS(parse_safetensors(good.substr(0, good.size() - 3)).status(),
                StatusCode::kCorruption, "outside the data section");
  // A header cut in the middle.
  std::string cut = good.substr(0, 8) + good.substr(8, 40);
  EXPECT_STATUS(parse_safetensors(cut).status(), StatusCode::kCorruption, "runs past the end");
  // Every prefix of the file is rejected or parsed, never a crash.
  for (size_t len = 0; len < good.size(); len += 7) (void)parse_safetensors(good.substr(0, len));
}

TEST(Safetensors, FileErrorsNameTheFile) {
  TempDir dir("file_errors");
  const auto missing = dir.path() / "missing.safetensors";
  EXPECT_STATUS(read_safetensors(missing).status(), StatusCode::kNotFound, missing.string());
  const auto empty = dir.path() / "empty.safetensors";
  write_bytes(empty, "");
  EXPECT_STATUS(read_safetensors(empty).status(), StatusCode::kCorruption,
                empty.string() + ": 0 bytes is too short");
  const auto bad = dir.path() / "bad.safetensors";
  write_bytes(bad, image("{oops", ""));
  EXPECT_STATUS(read_safetensors(bad).status(), StatusCode::kCorruption,
                bad.string() + ": the header is not valid JSON");
}

}  // namespace
}  // namespace mlhub::io
