// GGUF reader on hostile input: each broken file gives the documented Status with a message
// naming the file and the problem; nothing crashes or allocates from a count in the file.
#include <gtest/gtest.h>

#include "gguf_test_util.h"

namespace mlhub::io::testing {
namespace {

namespace fs = std::filesystem;

constexpr uint32_t kF32 = 0, kQ4_0 = 2, kArray = 9, kString = 8;

Status parse_status(const std::string& bytes) {
  return GgufFile::parse(bytes).status();
}

// A valid one-tensor file with the given tensor infos and `data` bytes of data.
std::string one_tensor(const std::vector<uint64_t>& ne, uint32_t type, uint64_t offset,
                       size_t data = 64) {
  GgufBuilder b;
  b.header(1, 0).tensor("w", ne, type, offset).pad().zeros(data);
  return b.bytes();
}

TEST(GgufHostile, ValidBuilderFileParses) {
  auto f = GgufFile::parse(one_tensor({4, 2}, kF32, 0, 32));
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EXPECT_EQ(f->tensor_infos()[0].shape, (Shape{2, 4}));
  EXPECT_EQ(f->data_offset(), 96u);  // 24 header + 41 tensor info, padded to 32
}

TEST(GgufHostile, Header) {
  EXPECT_STATUS(parse_status(""), StatusCode::kCorruption, "truncated");
  EXPECT_STATUS(parse_status("GGUX\3\0\0\0"), StatusCode::kCorruption, "not a GGUF file");
  GgufBuilder v1, v0, v9, be;
  v1.header(0, 0, 1);
  v0.header(0, 0, 0);
  v9.header(0, 0, 9);
  be.header(0, 0, 0x03000000);
  EXPECT_STATUS(parse_status(v1.bytes()), StatusCode::kUnimplemented, "version 1");
  EXPECT_STATUS(parse_status(v0.bytes()), StatusCode::kCorruption, "version 0");
  EXPECT_STATUS(parse_status(v9.bytes()), StatusCode::kUnimplemented, "version 9");
  EXPECT_STATUS(parse_status(be.bytes()), StatusCode::kUnimplemented, "big-endian");
  EXPECT_STATUS(parse_status(std::string("GGUF\3\0\0\0", 8)), StatusCode::kCorruption,
                "tensor count");
}

TEST(GgufHostile, AbsurdCounts) {
  GgufBuilder kv, tensors, arr, str, key, nested_arr;
  kv.header(0, uint64_t{1} << 60);
  tensors.header(uint64_t{1} << 61, 0);
  arr.header(0, 1).str("a").u32(kArray).u32(0).u64(uint64_t{1} << 62);
  str.header(0, 1).str("a").u32(kString).u64(~uint64_t{0});
  key.header(0, 1).u64(uint64_t{1} << 40).zeros(64);
  nested_arr.header(0, 1).str("a").u32(kArray).u32(kArray).u64(1000000);
  EXPECT_STATUS(parse_status(kv.bytes()), StatusCode::kCorruption, "kv_count");
  EXPECT_STATUS(parse_status(tensors.bytes()), StatusCode::kCorruption, "tensor_count");
  EXPECT_STATUS(parse_status(arr.bytes()), StatusCode::kCorruption, "cannot fit");
  EXPECT_STATUS(parse_status(str.bytes()), StatusCode::kCorruption, "runs past the end");
  EXPECT_STATUS(parse_status(key.bytes()), StatusCode::kCorruption, "runs past the end");
  EXPECT_STATUS(parse_status(nested_arr.bytes()), StatusCode::kCorruption, "cannot fit");
}

TEST(GgufHostile, MetadataValues) {
  GgufBuilder type, elem, dup, align3, align_type, deep;
  type.header(0, 1).str("k").u32(13).u32(0);
  elem.header(0, 1).str("k").u32(kArray).u32(77).u64(1).u32(0);
  dup.header(0, 2).kv_u32("k", 1).kv_u32("k", 2);
  align3.header(0, 1).kv_u32("general.alignment", 3);
  align_type.header(0, 1).kv_str("general.alignment", "32");
  deep.header(0, 1).str("k").u32(kArray);
  for (int i = 0; i < 20; ++i) deep.u32(kArray).u64(1);
  EXPECT_STATUS(parse_status(type.bytes()), StatusCode::kCorruption, "unknown value type 13");
  EXPECT_STATUS(parse_status(elem.bytes()), StatusCode::kCorruption, "unknown value type 77");
  EXPECT_STATUS(parse_status(dup.bytes()), StatusCode::kCorruption, "duplicate metadata \"k\"");
  EXPECT_STATUS(parse_status(align3.bytes()), StatusCode::kCorruption, "not a power of two");
  EXPECT_STATUS(parse_status(align_type.bytes()), StatusCode::kCorruption, "not u32");
  EXPECT_STATUS(parse_status(deep.bytes()), StatusCode::kCorruption, "nested deeper");
}

TEST(GgufHostile, TensorShapes) {
  EXPECT_STATUS(parse_status(one_tensor({1, 1, 1, 1, 1}, kF32, 0)), StatusCode::kCorruption,
                "5 dimensions");
  EXPECT_STATUS(parse_status(one_tensor({}, kF32, 0)), StatusCode::kCorruption, "0 dimensions");
  EXPECT_STATUS(parse_status(one_tensor({4, 0}, kF32, 0)), StatusCode::kCorruption,
                "zero dimension");
  EXPECT_STATUS(parse_status(one_tensor({4, ~uint64_t{0}}, kF32, 0)), StatusCode::kCorruption,
                "negative dimension -1");
  EXPECT_STATUS(parse_status(one_tensor({uint64_t{1} << 40, uint64_t{1} << 40}, kF32, 0)),
                StatusCode::kCorruption, "overflow");
  EXPECT_STATUS(parse_status(one_tensor({uint64_t{1} << 62, 2}, kF32, 0)), StatusCode::kCorruption,
                "overflow");
  EXPECT_STATUS(parse_status(one_tensor({33}, kQ4_0, 0)), StatusCode::kCorruption,
                "not whole 32-value blocks of Q4_0");
  EXPECT_STATUS(parse_status(one_tensor({4}, 99, 0)), StatusCode::kUnimplemented,
                "unknown ggml type 99");
}

TEST(GgufHostile, TensorOffsets) {
  EXPECT_STATUS(parse_status(one_tensor({4}, kF32, 4)), StatusCode::kCorruption,
                "not a multiple of the alignment 32");
  EXPECT_STATUS(parse_status(one_tensor({4}, kF32, 64, 64)), StatusCode::kCorruption,
                "run past the data section");
  EXPECT_STATUS(parse_status(one_tensor({17}, kF32, 0, 64)), StatusCode::kCorruption,
                "run past the data section");
  EXPECT_STATUS(parse_status(one_tensor({4}, kF32, ~uint64_t{0} - 31)), StatusCode::kCorruption,
                "run past the data section");
  GgufBuilder overlap, dup;
  overlap.header(2, 0).tensor("a", {16}, kF32, 0).tensor("b", {4}, kF32, 32).pad().zeros(128);
  dup.header(2, 0).tensor("a", {4}, kF32, 0).tensor("a", {4}, kF32, 32).pad().zeros(64);
  EXPECT_STATUS(parse_status(overlap.bytes()), StatusCode::kCorruption, "overlap");
  EXPECT_STATUS(parse_status(dup.bytes()), StatusCode::kCorruption, "duplicate tensor name \"a\"");
}

TEST(GgufHostile, EveryTruncationOfAFixtureIsCorruption) {
  const std::string full = read_bytes(gguf_dir() / "tensors.gguf");
  auto f = GgufFile::parse(full);
  ASSERT_TRUE(f.ok());
  // Only the padding after the last tensor may be cut.
  uint64_t end = 0;
  for (const GgufTensorInfo& t : f->tensor_infos()) end = std::max(end, t.offset + t.nbytes);
  end += f->data_offset();
  ASSERT_LT(end, full.size());
  for (size_t n = 0; n < full.size(); ++n) {
    const Status st = parse_status(full.substr(0, n));
    if (n >= end) {
      ASSERT_TRUE(st.ok()) << n << ": " << st.to_string();
      continue;
    }
    ASSERT_EQ(st.code(), StatusCode::kCorruption) << n << ": " << st.to_string();
    ASSERT_EQ(st.message().rfind("gguf: ", 0), 0u) << st.to_string();
  }
}

TEST(GgufHostile, EverySingleByteFlipGivesAStatusOrAFile) {
  const std::string full = read_bytes(gguf_dir() / "metadata.gguf");
  for (size_t i = 0; i < full.size(); ++i) {
    for (const uint8_t x : {0x01, 0x80, 0xff}) {
      std::string b = full;
      b[i] = static_cast<char>(static_cast<uint8_t>(b[i]) ^ x);
      auto f = GgufFile::parse(b);
      if (!f.ok()) {
        const StatusCode c = f.status().code();
        ASSERT_TRUE(c == StatusCode::kCorruption || c == StatusCode::kUnimplemented)
            << i << ": " << f.status().to_string();
        continue;
      }
      (void)f->metadata_json();  // decoding what parsed must stay in bounds (ASan build)
    }
  }
}

TEST(GgufHostile, MessagesNameTheFile) {
  TempDir dir("gguf_hostile");
  const fs::path p = dir.path() / "broken.gguf";
  write_bytes(p, one_tensor({4}, kF32, 4));
  const Status st = GgufFile::open(p).status();
  EXPECT_EQ(st.code(), StatusCode::kCorruption);
  EXPECT_EQ(st.message().rfind(p.string() + ": tensor \"w\"", 0), 0u) << st.to_string();
  EXPECT_STATUS(GgufFile::open(dir.path() / "absent.gguf").status(), StatusCode::kNotFound,
                "absent.gguf");
}

}  // namespace
}  // namespace mlhub::io::testing
