// pytorch_model.bin: values equal to what torch.save wrote, storage sharing and views, the old
// formats refused, and hostile pickles (disallowed globals, bad opcodes, memo, bounds) refused
// without running anything.
#include <fmt/format.h>

#include "io_test_util.h"

namespace mlhub::io {
namespace {

using testing::data_dir;
using testing::expected;
using testing::one_tensor_pickle;
using testing::PickleWriter;
using testing::read_bytes;

// A load_record that serves `bytes` for key "0" and counts its calls.
struct Records {
  std::string bytes;
  int calls = 0;
  std::function<Result<std::string>(const std::string&)> fn() {
    return [this](const std::string& key) -> Result<std::string> {
      ++calls;
      if (key != "0") return Status::not_found("no record " + key);
      return bytes;
    };
  }
};

std::string floats(std::initializer_list<float> values) {
  std::string out;
  for (float v : values) out.append(reinterpret_cast<const char*>(&v), 4);
  return out;
}

void expect_state_dict(const Checkpoint& ck) {
  const auto want = expected()["state_dict.bin"]["tensors"];
  ASSERT_EQ(ck.size(), want.size());
  for (const auto& [name, w] : want.items()) {
    ASSERT_TRUE(ck.contains(name)) << name;
    testing::expect_tensor_equals(name, ck.get(name), w);
    // Views keep torch's strides; the step slice "strided" is copied (see torch_pickle.cc).
    if (name != "strided") {
      EXPECT_EQ(ck.get(name).strides(), w["stride"].get<std::vector<int64_t>>()) << name;
    }
  }
}

TEST(TorchBin, StateDictMatchesTorch) {
  auto ck = read_torch_bin(data_dir() / "state_dict.bin");
  ASSERT_TRUE(ck.ok()) << ck.status().to_string();
  expect_state_dict(*ck);
  EXPECT_TRUE(ck->metadata().empty());
  ASSERT_EQ(ck->files().size(), 1u);
}

TEST(TorchBin, ParseFromBytesMatchesTorch) {
  auto ck = parse_torch_bin(read_bytes(data_dir() / "state_dict.bin"));
  ASSERT_TRUE(ck.ok()) << ck.status().to_string();
  expect_state_dict(*ck);
}

TEST(TorchBin, Protocol4MatchesTorch) {
  // STACK_GLOBAL, MEMOIZE, FRAME and SHORT_BINUNICODE instead of protocol 2's opcodes.
  const auto want = expected()["state_dict_protocol4.bin"]["tensors"];
  auto ck = read_torch_bin(data_dir() / "state_dict_protocol4.bin");
  ASSERT_TRUE(ck.ok()) << ck.status().to_string();
  ASSERT_EQ(ck->size(), want.size());
  for (const auto& [name, w] : want.items()) testing::expect_tensor_equals(name, ck->get(name), w);
  EXPECT_EQ(ck->get("transposed").storage(), ck->get("linear.weight").storage());
}

TEST(TorchBin, TiedAndViewTensorsShareStorage) {
  auto ck = read_torch_bin(data_dir() / "state_dict.bin");
  ASSERT_TRUE(ck.ok()) << ck.status().to_string();
  // torch reports these groups as sharing one storage (expected.json "shared_storage").
  for (const auto& group : expected()["state_dict.bin"]["shared_storage"]) {
    const auto names = group.get<std::vector<std::string>>();
    const Tensor& first = ck->get(names[0]);
    for (const std::string& n : names) {
      if (n == "strided") {  // copied: contiguous, own storage
        EXPECT_TRUE(ck->get(n).is_contiguous());
        EXPECT_NE(ck->get(n).storage(), first.storage());
        continue;
      }
      EXPECT_EQ(ck->get(n).storage(), first.storage()) << n << " vs " << names[0];
    }
  }
  EXPECT_EQ(ck->get("row").byte_offset(), 4 * sizeof(float));
  EXPECT_FALSE(ck->get("transposed").is_contiguous());
  EXPECT_EQ(ck->get("linear.weight").raw_data(), ck->get("tied").raw_data());
  EXPECT_EQ(ck->get("scalar").ndim(), 0);
}

TEST(TorchBin, LegacyFormatIsUnimplemented) {
  auto ck = read_torch_bin(data_dir() / "legacy.bin");
  EXPECT_STATUS(ck.status(), StatusCode::kUnimplemented, "legacy pickle-stream format");
  EXPECT_STATUS(parse_torch_bin(read_bytes(data_dir() / "legacy.bin")).status(),
                StatusCode::kUnimplemented, "re-save it");
}

TEST(TorchBin, MaliciousGlobalsAreRefused) {
  EXPECT_STATUS(read_torch_bin(data_dir() / "evil_os_system.bin").status(),
                StatusCode::kCorruption,
                "pickle refers to os.system, which is not allowed in a checkpoint");
  EXPECT_STATUS(read_torch_bin(data_dir() / "evil_builtins_eval.bin").status(),
                StatusCode::kCorruption, "pickle refers to builtins.eval");
  // What pickle writes for an object whose __reduce__ returns os.system.
  EXPECT_STATUS(read_torch_bin(data_dir() / "evil_reduce_object.bin").status(),
                StatusCode::kCorruption, "pickle refers to posix.system");
  Records records;
  EXPECT_STATUS(
      parse_torch_pickle(read_bytes(data_dir() / "evil_posix_system.pkl"), records.fn()).status(),
      StatusCode::kCorruption, "pickle refers to posix.system");
  EXPECT_EQ(records.calls, 0);
}

TEST(TorchBin, OtherDisallowedGlobals) {
  Records records;
  const std::pair<const char*, const char*> globals[] = {
      {"builtins", "exec"}, {"subprocess", "Popen"}, {"torch", "load"},
      {"torch._utils", "_rebuild_from_type_v2"}, {"__builtin__", "getattr"}, {"nt", "system"}};
  for (const auto& [module, name] : globals) {
    PickleWriter w;
    w.proto().global(module, name).mark().str("x").tuple().reduce().stop();
    EXPECT_STATUS(parse_torch_pickle(w.bytes(), records.fn()).status(), StatusCode::kCorruption,
                  fmt::format("pickle refers to {}.{}, which is not allowed", module, name));
  }
  // STACK_GLOBAL (protocol 4) goes through the same whitelist.
  PickleWriter w;
  w.proto().str("os").str("system").op('\x93').stop();
  EXPECT_STATUS(parse_torch_pickle(w.bytes(), records.fn()).status(), StatusCode::kCorruption,
                "pickle refers to os.system");
  EXPECT_EQ(records.calls, 0);
}

TEST(TorchBin, HandWrittenStateDictBuildsViews) {
  Records records{floats({1, 2, 3, 4, 5, 6})};
  // Contiguous [2, 2] from offset 1.
  auto ck = parse_torch_pickle(one_tensor_pickle("FloatStorage", 6, 1, {2, 2}, {2, 1}),
                               records.fn());
  ASSERT_TRUE(ck.ok()) << ck.status().to_string();
  EXPECT_EQ(ck->get("w").to_floats(), (std::vector<float>{2, 3, 4, 5}));
  // Transposed [3, 2] of a [2, 3]: a view with strides [1, 3].
  ck = parse_torch_pickle(one_tensor_pickle("FloatStorage", 6, 0, {3, 2}, {1, 3}), records.fn());
  ASSERT_TRUE(ck.ok()) << ck.status().to_string();
  EXPECT_EQ(ck->get("w").strides(), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(ck->get("w").to_floats(), (std::vector<float>{1, 4, 2, 5, 3, 6}));
  // A step slice [3] stride 2: copied.
  ck = parse_torch_pickle(one_tensor_pickle("FloatStorage", 6, 0, {3}, {2}), records.fn());
  ASSERT_TRUE(ck.ok()) << ck.status().to_string();
  EXPECT_EQ(ck->get("w").to_floats(), (std::vector<float>{1, 3, 5}));
  // An expanded dim (stride 0): copied.
  ck = parse_torch_pickle(one_tensor_pickle("FloatStorage", 6, 4, {2, 2}, {0, 1}), records.fn());
  ASSERT_TRUE(ck.ok()) << ck.status().to_string();
  EXPECT_EQ(ck->get("w").to_floats(), (std::vector<float>{5, 6, 5, 6}));
  // The torch.<dtype> spelling of storage types.
  ck = parse_torch_pickle(one_tensor_pickle("float32", 6, 0, {6}, {1}), records.fn());
  ASSERT_TRUE(ck.ok()) << ck.status().to_string();
  EXPECT_EQ(ck->get("w").numel(), 6);
}

TEST(TorchBin, NonTensorEntriesAreSkipped) {
  Records records{floats({1, 2})};
  PickleWriter w;
  w.proto().empty_dict().mark().str("w").tensor("FloatStorage", "0", 2, 0, {2}, {1});
  w.str("step").int1(5).str("nested").empty_dict().setitems().stop();
  auto ck = parse_torch_pickle(w.bytes(), records.fn());
  ASSERT_TRUE(ck.ok()) << ck.status().to_string();
  EXPECT_EQ(ck->names(), (std::vector<std::string>{"w"}));
}

TEST(TorchBin, StorageIsLoadedOncePerKey) {
  Records records{floats({1, 2, 3, 4})};
  PickleWriter w;
  w.proto().empty_dict().mark();
  w.str("a").tensor("FloatStorage", "0", 4, 0, {4}, {1});
  w.str("b").tensor("FloatStorage", "0", 4, 2, {2}, {1});
  w.setitems().stop();
  auto ck = parse_torch_pickle(w.bytes(), records.fn());
  ASSERT_TRUE(ck.ok()) << ck.status().to_string();
  EXPECT_EQ(records.calls, 1);
  EXPECT_EQ(ck->get("a").storage(), ck->get("b").storage());
  EXPECT_EQ(ck->get("b").to_floats(), (std::vector<float>{3, 4}));
}

struct BadPickle {
  const char* name;
  std::string bytes;
  StatusCode code;
  const char* needle;
};

std::vector<BadPickle> bad_pickles() {
  const auto p = [] { return PickleWriter().proto(); };
  std::string deep = "\x80\x02";
  deep.append(70000, '(');
  const std::string self_list = PickleWriter().proto().op(']').put(0).get(0).op('a').stop().bytes();
  std::string cut = one_tensor_pickle("FloatStorage", 4, 0, {2, 2}, {2, 1});
  cut.resize(cut.size() / 2);
  return {
      {"bad opcode", p().op('\xff').stop().bytes(), StatusCode::kCorruption, "opcode 0xff"},
      {"text opcode", p().raw("I01\n").stop().bytes(), StatusCode::kCorruption, "opcode 0x49"},
      {"memo index out of range", p().get(5).stop().bytes(), StatusCode::kCorruption,
       "memo index 5 is not defined"},
      {"long memo index", p().long_get(1000000000).stop().bytes(), StatusCode::kCorruption,
       "memo index 1000000000 is not defined"},
      {"storage too small for view", one_tensor_pickle("FloatStorage", 4, 1, {2, 2}, {2, 1}),
       StatusCode::kCorruption, "reaches element 4, but the storage holds 4"},
      {"record too small", one_tensor_pickle("FloatStorage", 8, 0, {8}, {1}),
       StatusCode::kCorruption, "has 24 bytes, its tensors need 32"},
      {"size/stride mismatch", one_tensor_pickle("FloatStorage", 4, 0, {2, 2}, {1}),
       StatusCode::kCorruption, "size and stride differ"},
      {"unsupported dtype", one_tensor_pickle("ComplexFloatStorage", 2, 0, {2}, {1}),
       StatusCode::kUnimplemented, "torch.ComplexFloatStorage"},
      {"string past end", p().raw("X\xff\xff\xff\x7f" "abc").bytes(), StatusCode::kCorruption,
       "runs past the end of the data"},
      {"no STOP", p().empty_dict().bytes(), StatusCode::kCorruption, "ends before STOP"},
      {"truncated", cut, StatusCode::kCorruption, "pickle:"},
      {"stack underflow", p().reduce().bytes(), StatusCode::kCorruption, "stack underflow"},
      {"tuple without mark", p().tuple().bytes(), StatusCode::kCorruption, "no MARK"},
      {"root not a dict", p().op(']').stop().bytes(), StatusCode::kCorruption,
       "not a dict of tensors"},
      {"list holding itself", self_list, StatusCode::kCorruption, "not a dict of tensors"},
      {"too many marks", deep, StatusCode::kCorruption, "nested MARKs"},
      {"huge LONG", p().raw("\x8a\x10" + std::string(16, '\x01')).stop().bytes(),
       StatusCode::kCorruption, "integer of 16 bytes is too large"},
      {"bad protocol", "\x80\x09.", StatusCode::kCorruption, "unsupported protocol 9"},
      {"call a storage type",
       p().global("torch", "FloatStorage").empty_tuple().reduce().stop().bytes(),
       StatusCode::kCorruption, "torch.FloatStorage cannot be called"},
      {"REDUCE with a non-tuple",
       p().global("collections", "OrderedDict").int1(1).reduce().stop().bytes(),
       StatusCode::kCorruption, "a tuple of arguments for REDUCE expected"},
      {"bad persistent id", p().str("x").persid().stop().bytes(), StatusCode::kCorruption,
       "is not ('storage', type, key, location, numel)"},
      {"BUILD on a string", p().str("x").empty_dict().op('b').stop().bytes(),
       StatusCode::kCorruption, "BUILD on something that is not a dict or tensor"},
      {"non-string key", p().empty_dict().int1(1).int1(2).op('s').stop().bytes(),
       StatusCode::kCorruption, "key is not a string"},
  };
}

TEST(TorchBin, HostilePicklesGiveTheRightStatus) {
  for (const BadPickle& c : bad_pickles()) {
    SCOPED_TRACE(c.name);
    Records records{floats({1, 2, 3, 4, 5, 6})};
    auto ck = parse_torch_pickle(c.bytes, records.fn());
    ASSERT_FALSE(ck.ok());
    EXPECT_STATUS(ck.status(), c.code, c.needle);
  }
}

TEST(TorchBin, MissingRecordIsReported) {
  Records records{floats({1, 2})};
  PickleWriter w;
  w.proto().empty_dict().mark().str("w").tensor("FloatStorage", "7", 2, 0, {2}, {1});
  EXPECT_STATUS(parse_torch_pickle(w.setitems().stop().bytes(), records.fn()).status(),
                StatusCode::kNotFound, "no record 7");
}

TEST(TorchBin, TruncatedAndBrokenZipsAreRejected) {
  const std::string good = read_bytes(data_dir() / "state_dict.bin");
  for (size_t len : {size_t{0}, size_t{3}, size_t{10}, good.size() / 2, good.size() - 1}) {
    SCOPED_TRACE(len);
    auto ck = parse_torch_bin(good.substr(0, len));
    ASSERT_FALSE(ck.ok());
    EXPECT_EQ(ck.status().code(), StatusCode::kCorruption) << ck.status().to_string();
  }
  EXPECT_STATUS(parse_torch_bin("PK\x05\x06" + std::string(18, '\0')).status(),
                StatusCode::kCorruption, "no <name>/data.pkl");
  EXPECT_STATUS(parse_torch_bin("hello, world").status(), StatusCode::kCorruption,
                "not a zip archive");
  // A flipped byte inside the stored data.pkl fails the CRC or the pickle, never crashes.
  for (size_t i = 40; i < good.size(); i += 97) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x5a);
    (void)parse_torch_bin(bad);
  }
  EXPECT_STATUS(read_torch_bin(data_dir() / "no_such.bin").status(), StatusCode::kNotFound,
                "no_such.bin");
}

}  // namespace
}  // namespace mlhub::io
