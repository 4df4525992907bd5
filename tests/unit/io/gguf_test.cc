// GGUF reader: fixtures written by gguf-py's GGUFWriter (tools/reference/gguf_fixtures.py) must
// read as gguf-py's GGUFReader reads them (tests/data/io/gguf/expected.json), the real
// SmolLM2-135M-Instruct.Q4_1.gguf as smollm2_expected.json records, and hostile files give the
// documented Status.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "gguf_test_util.h"

namespace mlhub::io::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const json& gguf_expected() {
  static const json j = json::parse(read_bytes(gguf_dir() / "expected.json"));
  return j;
}

std::string tensor_sha256(const Tensor& t) {
  return sha256_hex(std::string_view(static_cast<const char*>(t.raw_data()), t.nbytes()));
}

// Header, tensor infos and every tensor's bytes against what GGUFReader read.
void expect_matches_reader(const GgufFile& f, const json& want) {
  EXPECT_EQ(f.version(), want["version"].get<uint32_t>());
  EXPECT_EQ(f.alignment(), want["alignment"].get<uint64_t>());
  EXPECT_EQ(f.data_offset(), want["data_offset"].get<uint64_t>());
  ASSERT_EQ(f.tensor_infos().size(), want["tensor_count"].get<size_t>());
  for (size_t i = 0; i < f.tensor_infos().size(); ++i) {
    const GgufTensorInfo& info = f.tensor_infos()[i];
    const json& w = want["tensors"][i];
    SCOPED_TRACE("tensor " + w["name"].get<std::string>());
    EXPECT_EQ(info.name, w["name"].get<std::string>());
    EXPECT_EQ(info.type_name, w["type"].get<std::string>());
    EXPECT_EQ(info.ggml_type, w["type_id"].get<uint32_t>());
    EXPECT_EQ(info.shape, w["shape"].get<Shape>());
    EXPECT_EQ(info.offset, w["offset"].get<uint64_t>());
    EXPECT_EQ(info.nbytes, w["nbytes"].get<uint64_t>());
    EXPECT_EQ(f.find_tensor(info.name), &info);
    if (!info.dtype) continue;
    auto t = f.tensor(info.name);
    ASSERT_TRUE(t.ok()) << t.status().to_string();
    EXPECT_EQ(dtype_name(t->dtype()), w["type"].get<std::string>());
    EXPECT_EQ(t->shape(), w["shape"].get<Shape>());
    EXPECT_EQ(t->nbytes(), w["nbytes"].get<size_t>());
    EXPECT_EQ(tensor_sha256(*t), w["sha256"].get<std::string>());
  }
}

class GgufFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(GgufFixture, MatchesGgufPyReaderWhenMapped) {
  auto f = GgufFile::open(gguf_dir() / GetParam());
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EXPECT_EQ(f->source(), (gguf_dir() / GetParam()).string());
  expect_matches_reader(*f, gguf_expected()[GetParam()]);
}

TEST_P(GgufFixture, MatchesGgufPyReaderFromBytes) {
  auto f = GgufFile::parse(read_bytes(gguf_dir() / GetParam()));
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  expect_matches_reader(*f, gguf_expected()[GetParam()]);
}

INSTANTIATE_TEST_SUITE_P(Files, GgufFixture,
                         ::testing::Values("metadata.gguf", "tensors.gguf", "tensors_v2.gguf",
                                           "align64.gguf", "iq4_xs.gguf"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(Gguf, TensorsAreZeroCopyViewsOfTheMapping) {
  auto f = GgufFile::open(gguf_dir() / "tensors.gguf");
  ASSERT_TRUE(f.ok());
  for (const char* name : {"f32.2d", "q4_0", "q6_k", "bf16"}) {
    auto t = f->tensor(name);
    ASSERT_TRUE(t.ok());
    EXPECT_TRUE(t->read_only()) << name;  // a view, not an owned copy
  }
  auto t = f->tensor("f32.2d");
  // The first values as numpy wrote them row-major: shape [3, 5], so item {1, 0} is element 5.
  auto ck = f->checkpoint();
  ASSERT_TRUE(ck.ok()) << ck.status().to_string();
  EXPECT_EQ(ck->size(), f->tensor_infos().size());
  EXPECT_EQ(ck->get("q4_k").dtype(), DType::kQ4_K);
  EXPECT_EQ(ck->get("f32.2d").item_f32({1, 0}), t->to_floats()[5]);
}

TEST(Gguf, UnsupportedGgmlTypeIsUnimplementedOnlyWhenRead) {
  auto f = GgufFile::open(gguf_dir() / "iq4_xs.gguf");
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  const GgufTensorInfo* info = f->find_tensor("iq4");
  ASSERT_NE(info, nullptr);
  EXPECT_FALSE(info->dtype.has_value());
  EXPECT_STATUS(f->tensor("iq4").status(), StatusCode::kUnimplemented, "IQ4_XS");
  EXPECT_STATUS(f->checkpoint().status(), StatusCode::kUnimplemented, "iq4_xs.gguf");
  EXPECT_TRUE(f->tensor("f32").ok());
  EXPECT_STATUS(f->tensor("nope").status(), StatusCode::kNotFound, "nope");
}

// ---- metadata -----------------------------------------------------------------------------------

TEST(GgufMetadata, EveryValueTypeMatchesGgufPy) {
  auto f = GgufFile::open(gguf_dir() / "metadata.gguf");
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  const json& want = gguf_expected()["metadata.gguf"]["metadata"];
  const json all = f->metadata_json();
  ASSERT_EQ(all.size(), want.size());
  ASSERT_EQ(f->keys().size(), want.size());
  static const std::map<std::string, GgufType> kTypes = {
      {"UINT8", GgufType::kU8},    {"INT8", GgufType::kI8},    {"UINT16", GgufType::kU16},
      {"INT16", GgufType::kI16},   {"UINT32", GgufType::kU32}, {"INT32", GgufType::kI32},
      {"FLOAT32", GgufType::kF32}, {"BOOL", GgufType::kBool},  {"STRING", GgufType::kString},
      {"ARRAY", GgufType::kArray}, {"UINT64", GgufType::kU64}, {"INT64", GgufType::kI64},
      {"FLOAT64", GgufType::kF64}};
  for (const auto& [key, w] : want.items()) {
    SCOPED_TRACE(key);
    EXPECT_EQ(f->type_of(key), kTypes.at(w["type"].get<std::string>()));
    if (w.contains("element_type")) {
      EXPECT_EQ(f->array_type_of(key), kTypes.at(w["element_type"].get<std::string>()));
    }
    EXPECT_EQ(all.at(key), w["value"]);
    EXPECT_EQ(f->value_json(key), w["value"]);
  }
  EXPECT_TRUE(f->value_json("absent").is_null());
}

TEST(GgufMetadata, TypedGetters) {
  auto f = GgufFile::open(gguf_dir() / "metadata.gguf");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f->get_int("t.u8"), 200);
  EXPECT_EQ(*f->get_int("t.i8"), -100);
  EXPECT_EQ(*f->get_int("t.u32"), 4'000'000'000);
  EXPECT_EQ(*f->get_int("t.i64"), -9'000'000'000'000'000'000);
  EXPECT_EQ(*f->get_float("t.f32"), static_cast<double>(0.1f));
  EXPECT_EQ(*f->get_float("t.f64"), 0.1);
  EXPECT_EQ(*f->get_bool("t.bool"), true);
  EXPECT_EQ(*f->get_bool("t.false"), false);
  EXPECT_EQ(*f->get_string("t.string"), "h\u00e9llo \u2713 \U0001F600");
  EXPECT_EQ(*f->get_string("general.architecture"), "test");
  EXPECT_EQ(*f->get_string_array("t.arr.string"),
            (std::vector<std::string>{"a", "", "\u00fc\u00df"}));
  EXPECT_EQ(*f->get_int_array("t.arr.i8"), (std::vector<int64_t>{-128, 0, 127}));
  EXPECT_EQ(*f->get_int_array("t.arr.u32"), (std::vector<int64_t>{0, 4294967295}));
  EXPECT_EQ(*f->get_float_array("t.arr.f64"), (std::vector<double>{0.1, -1e300}));
  EXPECT_EQ(f->get_float_array("t.arr.f32")->at(1), static_cast<double>(-0.1f));

  EXPECT_STATUS(f->get_int("missing").status(), StatusCode::kNotFound, "\"missing\"");
  EXPECT_STATUS(f->get_string("t.u8").status(), StatusCode::kInvalidArgument,
                "\"t.u8\" is u8, not string");
  EXPECT_STATUS(f->get_float("t.i32").status(), StatusCode::kInvalidArgument, "i32");
  EXPECT_STATUS(f->get_int("t.f32").status(), StatusCode::kInvalidArgument, "f32");
  EXPECT_STATUS(f->get_bool("t.string").status(), StatusCode::kInvalidArgument, "metadata.gguf");
  EXPECT_STATUS(f->get_int("t.u64").status(), StatusCode::kOutOfRange, "int64");
  EXPECT_STATUS(f->get_int_array("t.arr.u64").status(), StatusCode::kOutOfRange, "int64");
  EXPECT_STATUS(f->get_string_array("t.arr.i8").status(), StatusCode::kInvalidArgument,
                "array of i8");
  EXPECT_STATUS(f->get_int_array("t.i8").status(), StatusCode::kInvalidArgument, "not an array");
  EXPECT_STATUS(f->get_int_array("t.arr.nested").status(), StatusCode::kInvalidArgument,
                "array of array");
}

// ---- the real SmolLM2 file ----------------------------------------------------------------------

TEST(GgufSmolLm2, MatchesGgufPyReader) {
  MLHUB_OPEN_SMOLLM2(f);
  const json want = json::parse(read_bytes(gguf_dir() / "smollm2_expected.json"));
  EXPECT_EQ(f.tensor_infos().size(), 272u);
  expect_matches_reader(f, want);
  const json& meta = want["metadata"];
  EXPECT_EQ(f.keys().size(), meta.size());
  for (const auto& [key, w] : meta.items()) {
    SCOPED_TRACE(key);
    const json got = f.value_json(key);
    if (w["value"].is_object()) {  // an array: its length, first and last elements
      ASSERT_TRUE(got.is_array());
      ASSERT_EQ(got.size(), w["value"]["length"].get<size_t>());
      const json& head = w["value"]["head"];
      for (size_t i = 0; i < head.size(); ++i) EXPECT_EQ(got[i], head[i]) << i;
      const json& tail = w["value"]["tail"];
      for (size_t i = 0; i < tail.size(); ++i)
        EXPECT_EQ(got[got.size() - tail.size() + i], tail[i]) << i;
    } else {
      EXPECT_EQ(got, w["value"]);
    }
  }
  EXPECT_EQ(*f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.get_string_array("tokenizer.ggml.tokens")->size(), 49152u);
  EXPECT_EQ(f.find_tensor("blk.0.attn_q.weight")->dtype, DType::kQ4_1);
  EXPECT_EQ(f.find_tensor("token_embd.weight")->dtype, DType::kQ8_0);
  EXPECT_EQ(f.find_tensor("output_norm.weight")->dtype, DType::kF32);
}

}  // namespace
}  // namespace mlhub::io::testing
