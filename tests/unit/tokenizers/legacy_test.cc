// Legacy model folders (src/tokenizers/legacy): the SentencePiece protobuf reader on valid and
// hostile bytes, the converters' documents, and the tokenizer_config.json settings applied on
// top. Expected values come from transformers 4.57.3 (snippets above each test; `load(files)`
// writes the files to a temp folder and returns AutoTokenizer.from_pretrained(folder) and
// json.loads(tok.backend_tokenizer.to_str())). End-to-end parity over real folders is in
// tests/parity/auto_tokenizer_parity_test.cc.
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include <gtest/gtest.h>

#include "tokenizers/legacy/converters.h"
#include "tokenizers/legacy/legacy.h"
#include "tokenizers/legacy/sentencepiece_model.h"

namespace mlhub::tok::legacy {
namespace {

namespace fs = std::filesystem;

// ---- protobuf encoding helpers ---------------------------------------------------------------

std::string varint(uint64_t v) {
  std::string out;
  do {
    uint8_t b = v & 0x7F;
    v >>= 7;
    out.push_back(static_cast<char>(v ? b | 0x80 : b));
  } while (v);
  return out;
}
std::string tag(uint32_t field, uint32_t wire) {
  return varint((field << 3) | wire);
}
std::string len_field(uint32_t field, const std::string& payload) {
  return tag(field, 2) + varint(payload.size()) + payload;
}
std::string varint_field(uint32_t field, uint64_t v) {
  return tag(field, 0) + varint(v);
}
std::string float_field(uint32_t field, float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  std::string out = tag(field, 5);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xFF));
  return out;
}
std::string piece(const std::string& p, float score, uint32_t type) {
  return len_field(1, len_field(1, p) + float_field(2, score) + varint_field(3, type));
}

std::string from_hex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// Parses and expects Error(kCorruption) whose message contains `what`.
void expect_corrupt(const std::string& bytes, const std::string& what) {
  try {
    parse_sentencepiece_model(bytes);
    ADD_FAILURE() << "no error for bytes of size " << bytes.size() << ", expected: " << what;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::kCorruption) << e.what();
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

const fs::path kFixtures = fs::path(MLHUB_SHARED_DIR) / "data" / "tokenizers";

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// ---- protobuf reader -------------------------------------------------------------------------

TEST(SentencePieceModelTest, ParsesFieldsAndKeepsProtoDefaults) {
  std::string bytes =
      piece("<unk>", 0.0f, 2) + piece("\xE2\x96\x81the", -3.5f, 1) +
      len_field(2, varint_field(3, 2) + varint_field(35, 1) + varint_field(40, 0) +
                       len_field(45, "<UNK>")) +
      len_field(3, len_field(1, "nmt_nfkc") + len_field(2, std::string("\x00\x01\xFF", 3)) +
                       varint_field(3, 0));
  SentencePieceModel m = parse_sentencepiece_model(bytes);
  ASSERT_EQ(m.pieces.size(), 2u);
  EXPECT_EQ(m.pieces[0].piece, "<unk>");
  EXPECT_EQ(m.pieces[0].type, PieceType::kUnknown);
  EXPECT_EQ(m.pieces[1].piece, "\xE2\x96\x81the");
  EXPECT_FLOAT_EQ(m.pieces[1].score, -3.5f);
  EXPECT_EQ(m.trainer_spec.model_type, SpmModelType::kBpe);
  EXPECT_TRUE(m.trainer_spec.byte_fallback);
  EXPECT_EQ(m.trainer_spec.unk_piece, "<UNK>");
  EXPECT_EQ(m.trainer_spec.bos_id, 1);   // default
  EXPECT_EQ(m.trainer_spec.pad_id, -1);  // default
  EXPECT_EQ(m.normalizer_spec.name, "nmt_nfkc");
  EXPECT_EQ(m.normalizer_spec.precompiled_charsmap, std::string("\x00\x01\xFF", 3));
  EXPECT_FALSE(m.normalizer_spec.add_dummy_prefix);
  EXPECT_TRUE(m.normalizer_spec.escape_whitespaces);  // default
}

TEST(SentencePieceModelTest, EmptyInputIsAnEmptyModel) {
  SentencePieceModel m = parse_sentencepiece_model("");
  EXPECT_TRUE(m.pieces.empty());
  EXPECT_EQ(m.trainer_spec.model_type, SpmModelType::kUnigram);
}

TEST(SentencePieceModelTest, ProtobufMergeRules) {
  std::string bytes =
      // unknown fields of every wire type, at top level and inside a piece
      varint_field(9, 300) + tag(10, 1) + std::string(8, '\x7F') + len_field(11, "xyz") +
      tag(12, 5) + std::string(4, '\0') + tag(13, 3) + varint_field(1, 1) + tag(14, 3) +
      tag(14, 4) + tag(13, 4) +
      len_field(
          1, len_field(1, "a") + varint_field(99, 5) + float_field(2, 1.0f) + varint_field(3, 42)) +
      // trainer_spec twice: merged; the last scalar wins
      len_field(2, varint_field(40, 5) + varint_field(41, 7)) + len_field(2, varint_field(40, 3)) +
      // pad_id = -1 as a 10-byte varint; model_type out of range keeps the default
      len_field(2, varint_field(43, static_cast<uint64_t>(-1)) + varint_field(3, 9));
  SentencePieceModel m = parse_sentencepiece_model(bytes);
  ASSERT_EQ(m.pieces.size(), 1u);
  EXPECT_EQ(m.pieces[0].piece, "a");
  EXPECT_EQ(m.pieces[0].type, PieceType::kNormal);  // 42 is no PieceType: proto2 keeps the default
  EXPECT_EQ(m.trainer_spec.unk_id, 3);
  EXPECT_EQ(m.trainer_spec.bos_id, 7);
  EXPECT_EQ(m.trainer_spec.pad_id, -1);
  EXPECT_EQ(m.trainer_spec.model_type, SpmModelType::kUnigram);
}

TEST(SentencePieceModelTest, HostileInputsAreCleanErrors) {
  expect_corrupt("\x0A", "truncated varint");      // tag, no length
  expect_corrupt("\x0A\x80", "truncated varint");  // length varint cut
  expect_corrupt(
      "\x0A\x05"
      "ab",
      "runs past the end");  // length past the end
  expect_corrupt(len_field(1,
                           "\x0A\x09"
                           "abc"),
                 "byte 3: length 9 runs past");                   // absolute offset
  expect_corrupt(varint_field(1, 5), "wire type 0, expected 2");  // pieces as a varint
  expect_corrupt(len_field(1, len_field(2, "abcd")), "field 2 has wire type 2");  // score as bytes
  expect_corrupt(len_field(1, tag(2, 5) + "ab"), "truncated 32-bit");
  expect_corrupt(tag(9, 1) + "1234567", "truncated 64-bit");
  expect_corrupt("\x0E", "invalid wire type 6");
  expect_corrupt("\x0F", "invalid wire type 7");
  expect_corrupt(std::string(1, '\0'), "invalid field number 0");
  expect_corrupt(std::string(11, '\xFF') + "\x01", "varint");  // more than 10 bytes
  expect_corrupt(tag(9, 0) + std::string(9, '\xFF') + "\x02", "longer than 64 bits");
  expect_corrupt(tag(13, 3) + varint_field(1, 1), "unterminated group");
  expect_corrupt(tag(13, 3) + tag(14, 4), "does not match");
  expect_corrupt(tag(13, 4), "unexpected end-group");
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += tag(13, 3);
  expect_corrupt(deep, "nested too deep");
  expect_corrupt(piece("a\xFF", 0, 1), "not valid UTF-8");
  expect_corrupt(len_field(2, len_field(45, "\xC3")), "unk_piece is not valid UTF-8");
}

TEST(SentencePieceModelTest, RandomAndMutatedBytesNeverCrash) {
  std::mt19937 rng(1234);
  std::string base = piece("<unk>", 0, 2) + piece("hello", -1, 1) +
                     len_field(2, varint_field(3, 2) + len_field(45, "<unk>")) +
                     len_field(3, len_field(2, "charsmap"));
  size_t parsed = 0, rejected = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string bytes;
    if (iter % 2 == 0) {
      bytes.resize(rng() % 64);
      for (char& c : bytes) c = static_cast<char>(rng());
    } else {
      bytes = base.substr(0, rng() % (base.size() + 1));
      for (int k = rng() % 4; k > 0 && !bytes.empty(); --k)
        bytes[rng() % bytes.size()] = static_cast<char>(rng());
    }
    try {
      parse_sentencepiece_model(bytes);
      ++parsed;
    } catch (const Error& e) {
      ASSERT_EQ(e.code(), StatusCode::kCorruption) << e.what();
      ++rejected;
    }
  }
  EXPECT_GT(parsed, 0u);
  EXPECT_GT(rejected, 0u);
}

// from sentencepiece import sentencepiece_model_pb2 as pb
// m = pb.ModelProto(); m.ParseFromString(open("llama-2/tokenizer.model", "rb").read())
// len(m.pieces), m.trainer_spec.model_type, .byte_fallback, .unk_id, .pad_id, .split_digits
//   -> 32000 2 True 0 -1 True;   m.normalizer_spec.name -> 'identity'
// [(p.piece, p.score, p.type) for i in (0, 1, 3, 259, 1000, 31999)] ->
//   ('<unk>', 0.0, 2) ('<s>', 0.0, 3) ('<0x00>', 0.0, 6) ('▁▁', -1e9, 1) ('ied', -741.0, 1)
//   ('给', -31740.0, 1)
TEST(SentencePieceModelTest, ReadsLlama2Model) {
  const fs::path path = kFixtures / "llama-2" / "tokenizer.model";
  if (!fs::exists(path)) GTEST_SKIP() << "no fixture " << path;
  SentencePieceModel m = parse_sentencepiece_model(read_bytes(path));
  ASSERT_EQ(m.pieces.size(), 32000u);
  EXPECT_EQ(m.trainer_spec.model_type, SpmModelType::kBpe);
  EXPECT_TRUE(m.trainer_spec.byte_fallback);
  EXPECT_TRUE(m.trainer_spec.split_digits);
  EXPECT_EQ(m.trainer_spec.unk_id, 0);
  EXPECT_EQ(m.trainer_spec.pad_id, -1);
  EXPECT_EQ(m.normalizer_spec.name, "identity");
  EXPECT_EQ(m.pieces[0].type, PieceType::kUnknown);
  EXPECT_EQ(m.pieces[1].piece, "<s>");
  EXPECT_EQ(m.pieces[1].type, PieceType::kControl);
  EXPECT_EQ(m.pieces[3].piece, "<0x00>");
  EXPECT_EQ(m.pieces[3].type, PieceType::kByte);
  EXPECT_EQ(m.pieces[259].piece, "\xE2\x96\x81\xE2\x96\x81");
  EXPECT_FLOAT_EQ(m.pieces[259].score, -1e9f);
  EXPECT_EQ(m.pieces[1000].piece, "ied");
  EXPECT_FLOAT_EQ(m.pieces[1000].score, -741.0f);
  EXPECT_EQ(m.pieces[31999].piece, "\xE7\xBB\x99");
}

// Same for marian-nmt/vocab.joint.spm -> 32000 pieces, model_type 1, unk_id 1, bos_id -1,
// eos_id 0, treat_whitespace_as_suffix True, len(precompiled_charsmap) 27355;
// pieces[2] ('(phrasefix)', 0.0, 4), pieces[1000] ('低', -8.952588081359863, 1)
TEST(SentencePieceModelTest, ReadsMarianUnigramModel) {
  const fs::path path = kFixtures / "marian-nmt" / "vocab.joint.spm";
  if (!fs::exists(path)) GTEST_SKIP() << "no fixture " << path;
  SentencePieceModel m = parse_sentencepiece_model(read_bytes(path));
  ASSERT_EQ(m.pieces.size(), 32000u);
  EXPECT_EQ(m.trainer_spec.model_type, SpmModelType::kUnigram);
  EXPECT_EQ(m.trainer_spec.unk_id, 1);
  EXPECT_EQ(m.trainer_spec.bos_id, -1);
  EXPECT_EQ(m.trainer_spec.eos_id, 0);
  EXPECT_TRUE(m.trainer_spec.treat_whitespace_as_suffix);
  EXPECT_EQ(m.normalizer_spec.precompiled_charsmap.size(), 27355u);
  EXPECT_EQ(m.pieces[2].piece, "(phrasefix)");
  EXPECT_EQ(m.pieces[2].type, PieceType::kUserDefined);
  EXPECT_EQ(m.pieces[1000].piece, "\xE4\xBD\x8E");
  EXPECT_FLOAT_EQ(m.pieces[1000].score, -8.952588081359863f);
}

// ---- converters ------------------------------------------------------------------------------

class TempFolder {
 public:
  TempFolder() {
    static int n = 0;
    dir_ = fs::temp_directory_path() /
           ("mlhub_legacy_test_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~TempFolder() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  TempFolder& write(const std::string& name, const std::string& content) {
    std::ofstream(dir_ / name, std::ios::binary) << content;
    return *this;
  }
  std::string path() const { return dir_.string(); }

  // convert_legacy_folder + apply_tokenizer_config, as from_pretrained does.
  Json load() const {
    FolderConfig cfg = read_folder_config(path());
    std::optional<Json> doc = convert_legacy_folder(path(), cfg);
    if (!doc) throw Error(StatusCode::kNotFound, "no legacy files");
    apply_tokenizer_config(*doc, cfg);
    return *doc;
  }

 private:
  fs::path dir_;
};

Json added(uint32_t id, const std::string& content, bool special, bool normalized,
           bool lstrip = false) {
  return Json{{"id", id},          {"content", content}, {"single_word", false},
              {"lstrip", lstrip},  {"rstrip", false},    {"normalized", normalized},
              {"special", special}};
}

// t, j = load({"vocab.txt": "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\r\nworld\n\nhello\n##s",
//              "tokenizer_config.json": {"do_lower_case": False, "tokenize_chinese_chars": False},
//              "config.json": {"model_type": "bert"}})
// j["model"]["vocab"] -> {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4,
//                         "world": 6, "": 7, "hello": 8, "##s": 9}
// j["normalizer"] -> BertNormalizer(clean_text, handle_chinese_chars=False, strip_accents=None,
//                    lowercase=False); special ids [CLS] 2, [SEP] 3; added tokens: the five
//                    specials, normalized False, special True.
TEST(LegacyConvertTest, BertVocabTxt) {
  TempFolder f;
  f.write("vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\r\nworld\n\nhello\n##s")
      .write("tokenizer_config.json",
             R"({"do_lower_case": false, "tokenize_chinese_chars": false})")
      .write("config.json", R"({"model_type": "bert"})");
  Json doc = f.load();
  EXPECT_EQ(doc["model"]["type"], "WordPiece");
  EXPECT_EQ(doc["model"]["vocab"], Json::parse(R"({"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3,
      "[MASK]": 4, "world": 6, "": 7, "hello": 8, "##s": 9})"));
  EXPECT_EQ(doc["model"]["unk_token"], "[UNK]");
  EXPECT_EQ(doc["normalizer"], Json::parse(R"({"type": "BertNormalizer", "clean_text": true,
      "handle_chinese_chars": false, "strip_accents": null, "lowercase": false})"));
  EXPECT_EQ(doc["pre_tokenizer"]["type"], "BertPreTokenizer");
  EXPECT_EQ(doc["post_processor"]["special_tokens"]["[CLS]"]["ids"], Json::array({2}));
  EXPECT_EQ(doc["post_processor"]["special_tokens"]["[SEP]"]["ids"], Json::array({3}));
  EXPECT_EQ(doc["post_processor"]["pair"][4],
            Json::parse(R"({"SpecialToken": {"id": "[SEP]", "type_id": 1}})"));
  EXPECT_EQ(doc["decoder"],
            Json::parse(R"({"type": "WordPiece", "prefix": "##", "cleanup": true})"));
  Json want = Json::array();
  for (uint32_t i = 0; i < 5; ++i) {
    want.push_back(added(
        i, std::vector<std::string>{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}[i], true, false));
  }
  // unk, sep, pad, cls, mask is the order transformers adds them in; ids are what matters.
  Json got = doc["added_tokens"];
  std::sort(got.begin(), got.end(), [](const Json& a, const Json& b) { return a["id"] < b["id"]; });
  EXPECT_EQ(got, want);
  EXPECT_FALSE(doc.contains(std::string(kSlowInitKwargsKey)));
}

// for merges in ["#version: 0.2\na b\na b\nab c\n", "#version: 0.2\na b\nab c"]:
//   t, j = load({"vocab.json": {"a": 0, "b": 1, "ab": 2, "c": 3, "abc": 4, "<|endoftext|>": 5},
//                "merges.txt": merges,
//                "tokenizer_config.json": {"tokenizer_class": "GPT2Tokenizer",
//                                          "add_prefix_space": True}})
// -> merges [["a", "b"], ["ab", "c"]], then [["a", "b"]] (GPT2Tokenizer drops the first and
//    the last split("\n") element); pre_tokenizer ByteLevel(add_prefix_space=True);
//    added [<|endoftext|> id 5, normalized True, special True]
TEST(LegacyConvertTest, Gpt2VocabJsonAndMerges) {
  for (const auto& [merges, want] : std::vector<std::pair<std::string, std::string>>{
           {"#version: 0.2\na b\na b\nab c\n", R"([["a", "b"], ["ab", "c"]])"},
           {"#version: 0.2\na b\nab c", R"([["a", "b"]])"}}) {
    TempFolder f;
    f.write("vocab.json", R"({"a": 0, "b": 1, "ab": 2, "c": 3, "abc": 4, "<|endoftext|>": 5})")
        .write("merges.txt", merges)
        .write("tokenizer_config.json",
               R"({"tokenizer_class": "GPT2Tokenizer", "add_prefix_space": true})");
    Json doc = f.load();
    EXPECT_EQ(doc["model"]["merges"], Json::parse(want)) << merges;
    EXPECT_EQ(doc["pre_tokenizer"]["add_prefix_space"], true);
    EXPECT_EQ(doc["post_processor"]["type"], "ByteLevel");
    EXPECT_EQ(doc["added_tokens"], Json::array({added(5, "<|endoftext|>", true, true)}));
  }
}

// load({..., "merges.txt": "#version: 0.2\n  a b  \n\nab c",
//       "tokenizer_config.json": {"tokenizer_class": "Qwen2Tokenizer"}})
// -> merges [["a", "b"], ["ab", "c"]]; <|endoftext|> normalized False (Qwen2 wraps it so)
TEST(LegacyConvertTest, Qwen2MergesAreStrippedLines) {
  TempFolder f;
  f.write("vocab.json", R"({"a": 0, "b": 1, "ab": 2, "c": 3, "abc": 4, "<|endoftext|>": 5})")
      .write("merges.txt", "#version: 0.2\n  a b  \n\nab c")
      .write("tokenizer_config.json", R"({"tokenizer_class": "Qwen2Tokenizer"})");
  Json doc = f.load();
  EXPECT_EQ(doc["model"]["merges"], Json::parse(R"([["a", "b"], ["ab", "c"]])"));
  EXPECT_EQ(doc["normalizer"]["type"], "NFC");
  EXPECT_EQ(doc["added_tokens"], Json::array({added(5, "<|endoftext|>", true, false)}));
}

TEST(LegacyConvertTest, BadLegacyFilesAreErrors) {
  auto code_of = [](const TempFolder& f) {
    try {
      f.load();
    } catch (const Error& e) {
      return e.code();
    }
    return StatusCode::kOk;
  };
  TempFolder three_parts;
  three_parts.write("vocab.json", R"({"a": 0})").write("merges.txt", "#v\na b c\n");
  EXPECT_EQ(code_of(three_parts), StatusCode::kInvalidArgument);
  TempFolder bad_id;
  bad_id.write("vocab.json", R"({"a": -1})").write("merges.txt", "#v\n");
  EXPECT_EQ(code_of(bad_id), StatusCode::kInvalidArgument);
  TempFolder bad_utf8;
  bad_utf8.write("vocab.txt", "[UNK]\n\xC3(\n");
  EXPECT_EQ(code_of(bad_utf8), StatusCode::kInvalidArgument);
  TempFolder corrupt_spm;
  corrupt_spm.write("tokenizer.model", "\x0A\x7F");
  EXPECT_EQ(code_of(corrupt_spm), StatusCode::kCorruption);
  TempFolder marian;  // MarianTokenizer reads source.spm and target.spm too (marian_test.cc)
  marian.write("tokenizer_config.json", R"({"tokenizer_class": "MarianTokenizer"})")
      .write("vocab.json", "{}");
  EXPECT_EQ(code_of(marian), StatusCode::kNotFound);
  TempFolder unknown_class;
  unknown_class.write("tokenizer_config.json", R"({"tokenizer_class": "XLNetTokenizer"})")
      .write("spiece.model", "");
  EXPECT_EQ(code_of(unknown_class), StatusCode::kUnimplemented);
  TempFolder missing_file;  // the class reads vocab.txt; the folder has vocab.json + merges.txt
  missing_file.write("config.json", R"({"model_type": "bert"})")
      .write("vocab.json", "{}")
      .write("merges.txt", "");
  EXPECT_EQ(code_of(missing_file), StatusCode::kNotFound);
  TempFolder empty;
  FolderConfig cfg = read_folder_config(empty.path());
  EXPECT_FALSE(convert_legacy_folder(empty.path(), cfg).has_value());
}

// A tiny BPE SentencePiece model (sentencepiece_model_pb2, serialized to the hex below):
//   pieces <unk>(UNKNOWN) <s> </s>(CONTROL) ▁(-1) a(-2) b(-2) ab(-3) ▁a(-3) ▁ab(-4) ba(-3)
//   aba(-5) <extra>(USER_DEFINED), trainer_spec.model_type BPE
// t, j = load({"tokenizer.model": data,
//              "tokenizer_config.json": {"tokenizer_class": "LlamaTokenizer"}})
// j["model"]["merges"] ->
//   [["a","b"],["▁","a"],["b","a"],["▁a","b"],["▁","ab"],["ab","a"],["a","ba"]]
// j["added_tokens"] -> <unk> 0, <s> 1, </s> 2 (special, not normalized), <extra> 11 (not special)
// j["post_processor"] -> TemplateProcessing "<s>:0 $A:0" / "<s>:0 $A:0 <s>:1 $B:1"
TEST(LegacyConvertTest, SentencePieceBpeMergesRebuiltFromVocab) {
  const std::string model = from_hex(
      "0a0e0a053c756e6b3e150000000018020a0c0a033c733e150000000018030a0d0a043c2f733e150000000018030a"
      "0c0a03e2"
      "968115000080bf18010a0a0a016115000000c018010a0a0a016215000000c018010a0b0a02616215000040c01801"
      "0a0d0a04"
      "e296816115000040c018010a0e0a05e29681616215000080c018010a0b0a02626115000040c018010a0c0a036162"
      "61150000"
      "a0c018010a100a073c65787472613e1500000000180412071802200c9802001a0c0a086964656e746974791801");
  TempFolder f;
  f.write("tokenizer.model", model)
      .write("tokenizer_config.json", R"({"tokenizer_class": "LlamaTokenizer"})");
  Json doc = f.load();
  EXPECT_EQ(doc["model"]["type"], "BPE");
  EXPECT_EQ(doc["model"]["merges"],
            Json::parse(R"([["a","b"],["▁","a"],["b","a"],["▁a","b"],["▁","ab"],
      ["ab","a"],["a","ba"]])"));
  EXPECT_EQ(doc["model"]["vocab"]["aba"], 10);
  EXPECT_EQ(doc["model"]["byte_fallback"], true);
  EXPECT_EQ(doc["model"]["fuse_unk"], true);
  EXPECT_EQ(doc["normalizer"]["normalizers"][0],
            Json::parse(R"({"type": "Prepend", "prepend": "▁"})"));
  EXPECT_EQ(doc["decoder"]["decoders"].back(),
            Json::parse(R"({"type": "Strip", "content": " ", "start": 1, "stop": 0})"));
  EXPECT_EQ(doc["post_processor"]["single"],
            Json::parse(R"([{"SpecialToken": {"id": "<s>", "type_id": 0}},
      {"Sequence": {"id": "A", "type_id": 0}}])"));
  EXPECT_EQ(doc["post_processor"]["special_tokens"]["<s>"]["ids"], Json::array({1}));
  std::map<uint32_t, Json> by_id;  // the replay log, as the Rust loader resolves it
  for (const Json& e : doc["added_tokens"]) by_id[e["id"].get<uint32_t>()] = e;
  ASSERT_EQ(by_id.size(), 4u);
  EXPECT_EQ(by_id[0], added(0, "<unk>", true, false));
  EXPECT_EQ(by_id[1], added(1, "<s>", true, false));
  EXPECT_EQ(by_id[11], added(11, "<extra>", false, false));
}

// marian-nmt/vocab.joint.spm as a T5 spiece.model (the t5-spm-unigram-legacy parity case):
// Unigram over the 32000 pieces plus <extra_id_99> .. <extra_id_0>, unk_id 1, byte_fallback
// False (T5Converter does not handle it); Precompiled + Strip(right) + Replace(" {2,}", "▁");
// Metaspace(always); "$A </s>" template with </s> = 0.
TEST(LegacyConvertTest, SentencePieceUnigramAsT5) {
  const fs::path path = kFixtures / "marian-nmt" / "vocab.joint.spm";
  if (!fs::exists(path)) GTEST_SKIP() << "no fixture " << path;
  TempFolder f;
  f.write("spiece.model", read_bytes(path))
      .write("tokenizer_config.json", R"({"tokenizer_class": "T5Tokenizer"})");
  Json doc = f.load();
  const Json& model = doc["model"];
  EXPECT_EQ(model["type"], "Unigram");
  ASSERT_EQ(model["vocab"].size(), 32100u);
  EXPECT_EQ(model["vocab"][32000], Json::array({"<extra_id_99>", 0.0}));
  EXPECT_EQ(model["vocab"][32099], Json::array({"<extra_id_0>", 0.0}));
  EXPECT_FLOAT_EQ(model["vocab"][1000][1].get<float>(), -8.952588081359863f);
  EXPECT_EQ(model["unk_id"], 1);
  EXPECT_EQ(model["byte_fallback"], false);
  const Json& norms = doc["normalizer"]["normalizers"];
  ASSERT_EQ(norms.size(), 3u);
  EXPECT_EQ(norms[0]["type"], "Precompiled");
  EXPECT_EQ(norms[0]["precompiled_charsmap"].get<std::string>().size(), (27355u + 2) / 3 * 4);
  EXPECT_EQ(norms[1],
            Json::parse(R"({"type": "Strip", "strip_left": false, "strip_right": true})"));
  EXPECT_EQ(norms[2],
            Json::parse(R"({"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": "▁"})"));
  EXPECT_EQ(doc["pre_tokenizer"], Json::parse(R"({"type": "Metaspace", "replacement": "▁",
      "prepend_scheme": "always", "split": true})"));
  EXPECT_EQ(doc["post_processor"]["special_tokens"]["</s>"]["ids"], Json::array({0}));
  EXPECT_EQ(doc["post_processor"]["pair"][2],
            Json::parse(R"({"Sequence": {"id": "B", "type_id": 0}})"));
}

// ---- apply_tokenizer_config ------------------------------------------------------------------

const char kRobertaDoc[] = R"({"version": "1.0", "truncation": null, "padding": null,
  "added_tokens": [
    {"id": 0, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false,
      "normalized": true, "special": true},
    {"id": 1, "content": "<pad>", "single_word": false, "lstrip": false, "rstrip": false,
      "normalized": true, "special": true},
    {"id": 2, "content": "</s>", "single_word": false, "lstrip": false, "rstrip": false,
      "normalized": true, "special": true},
    {"id": 3, "content": "<unk>", "single_word": false, "lstrip": false, "rstrip": false,
      "normalized": true, "special": true},
    {"id": 5, "content": "<mask>", "single_word": false, "lstrip": true, "rstrip": false,
      "normalized": false, "special": true}],
  "normalizer": null,
  "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true,
    "use_regex": true},
  "post_processor": {"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0],
    "trim_offsets": true, "add_prefix_space": false},
  "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true,
    "use_regex": true},
  "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": "",
    "end_of_word_suffix": "", "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
    "vocab": {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "a": 4, "<mask>": 5}, "merges": []}})";

// t, j = load({"tokenizer.json": <kRobertaDoc>, "tokenizer_config.json": {"tokenizer_class":
//              "RobertaTokenizer", "add_prefix_space": True, "trim_offsets": False}})
// j["pre_tokenizer"] -> ByteLevel(add_prefix_space=True, trim_offsets=True, use_regex=True)
// j["post_processor"] -> RobertaProcessing(trim_offsets=False, add_prefix_space=True)
// j["added_tokens"] -> unchanged
TEST(ApplyTokenizerConfigTest, RobertaPrefixSpaceAndTrimOffsets) {
  Json doc = Json::parse(kRobertaDoc);
  const Json before = doc["added_tokens"];
  FolderConfig cfg;
  cfg.tokenizer_config =
      Json::parse(R"({"tokenizer_class": "RobertaTokenizer", "add_prefix_space": true,
                                         "trim_offsets": false})");
  apply_tokenizer_config(doc, cfg);
  EXPECT_EQ(doc["pre_tokenizer"], Json::parse(R"({"type": "ByteLevel", "add_prefix_space": true,
      "trim_offsets": true, "use_regex": true})"));
  EXPECT_EQ(doc["post_processor"], Json::parse(R"({"type": "RobertaProcessing", "sep": ["</s>", 2],
      "cls": ["<s>", 0], "trim_offsets": false, "add_prefix_space": true})"));
  EXPECT_EQ(doc["added_tokens"], before);
}

// A generic class: the ByteLevel pre-tokenizer follows add_prefix_space (default False).
TEST(ApplyTokenizerConfigTest, ByteLevelPrefixSpaceDefaultsToFalse) {
  Json doc = Json::parse(kRobertaDoc);
  doc["pre_tokenizer"]["add_prefix_space"] = true;
  FolderConfig cfg;
  cfg.tokenizer_config = Json::parse(R"({"tokenizer_class": "PreTrainedTokenizerFast"})");
  apply_tokenizer_config(doc, cfg);
  EXPECT_EQ(doc["pre_tokenizer"]["add_prefix_space"], false);
  EXPECT_EQ(doc["post_processor"]["add_prefix_space"], false);  // only Roberta touches it
}

// llama = tokenizer.json with <unk> <s> </s> (special, not normalized), vocab
//   {"<unk>":0,"<s>":1,"</s>":2,"▁":3,"a":4}
// cfg = {"tokenizer_class": "LlamaTokenizer", "add_bos_token": False, "add_eos_token": True,
//        "additional_special_tokens": ["<new>", "a"], "pad_token": "<pad>",
//        "bos_token": {"__type": "AddedToken", "content": "<s>", "normalized": True, ...}}
// j["post_processor"] -> "$A:0 </s>:0" / "$A:0 </s>:0 $B:1 </s>:1", </s> = 2
// j["added_tokens"] -> ... a 4, <pad> 5, <new> 6, all special, not normalized (the bos dict is
//   replaced by tokenizer.json's <s>, so <s> keeps normalized False)
TEST(ApplyTokenizerConfigTest, LlamaSpecialTokensAndTemplate) {
  Json doc = Json::parse(R"({"version": "1.0", "truncation": null, "padding": null,
    "added_tokens": [
      {"id": 0, "content": "<unk>", "single_word": false, "lstrip": false, "rstrip": false,
        "normalized": false, "special": true},
      {"id": 1, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false,
        "normalized": false, "special": true},
      {"id": 2, "content": "</s>", "single_word": false, "lstrip": false, "rstrip": false,
        "normalized": false, "special": true}],
    "normalizer": null, "pre_tokenizer": null, "post_processor": null, "decoder": null,
    "model": {"type": "BPE", "dropout": null, "unk_token": "<unk>",
      "continuing_subword_prefix": null,
              "end_of_word_suffix": null, "fuse_unk": true, "byte_fallback": false,
                "ignore_merges": false,
              "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "▁": 3, "a": 4}, "merges": []}})");
  FolderConfig cfg;
  cfg.tokenizer_config =
      Json::parse(R"({"tokenizer_class": "LlamaTokenizer", "add_bos_token": false,
      "add_eos_token": true, "additional_special_tokens": ["<new>", "a"], "pad_token": "<pad>",
      "bos_token": {"__type": "AddedToken", "content": "<s>", "normalized": true, "lstrip": false,
                    "rstrip": false, "single_word": false}})");
  apply_tokenizer_config(doc, cfg);
  EXPECT_EQ(doc["post_processor"], Json::parse(R"({"type": "TemplateProcessing",
      "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>",
        "type_id": 0}}],
      "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>",
        "type_id": 0}},
               {"Sequence": {"id": "B", "type_id": 1}}, {"SpecialToken": {"id": "</s>",
                 "type_id": 1}}],
      "special_tokens": {"</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}}})"));
  std::map<uint32_t, Json> by_id;
  for (const Json& e : doc["added_tokens"]) by_id[e["id"].get<uint32_t>()] = e;
  ASSERT_EQ(by_id.size(), 6u);
  EXPECT_EQ(by_id[1], added(1, "<s>", true, false));
  EXPECT_EQ(by_id[4], added(4, "a", true, false));
  EXPECT_EQ(by_id[5], added(5, "<pad>", true, false));
  EXPECT_EQ(by_id[6], added(6, "<new>", true, false));
}

TEST(FolderConfigTest, ReadsConfigsAndRejectsBadJson) {
  TempFolder f;
  FolderConfig empty = read_folder_config(f.path());
  EXPECT_EQ(empty.tokenizer_config, Json::object());
  EXPECT_EQ(empty.config, Json::object());
  f.write("config.json", R"({"model_type": "llama"})");
  EXPECT_EQ(read_folder_config(f.path()).config["model_type"], "llama");
  f.write("tokenizer_config.json", "{\"a\": ");
  try {
    read_folder_config(f.path());
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("tokenizer_config.json"), std::string::npos) << e.what();
  }
  f.write("tokenizer_config.json", "[1, 2]");
  EXPECT_THROW(read_folder_config(f.path()), Error);
  f.write("tokenizer_config.json", R"({"bos_token": {"content": "<s>"}})");  // no "__type"
  Json doc = Json::parse(kRobertaDoc);
  EXPECT_THROW(apply_tokenizer_config(doc, read_folder_config(f.path())), Error);
}

TEST(TokenizerClassTest, ResolvesLikeAutoTokenizer) {
  FolderConfig cfg;
  cfg.tokenizer_config = Json::parse(R"({"tokenizer_class": "LlamaTokenizerFast"})");
  EXPECT_EQ(resolve_tokenizer_class(cfg).cls, TokClass::kLlama);
  cfg.tokenizer_config = Json::object();
  cfg.config = Json::parse(R"({"model_type": "phi"})");
  EXPECT_EQ(resolve_tokenizer_class(cfg).cls, TokClass::kCodeGen);
  cfg.config = Json::parse(R"({"model_type": "mistral", "tokenizer_class": "GemmaTokenizer"})");
  EXPECT_EQ(resolve_tokenizer_class(cfg).cls, TokClass::kGemma);
  cfg.config = Json::parse(R"({"model_type": "no_such_model"})");
  EXPECT_FALSE(resolve_tokenizer_class(cfg).known);
  cfg.tokenizer_config =
      Json::parse(R"({"tokenizer_class": "LlamaTokenizer", "add_prefix_space": false})");
  EXPECT_TRUE(wants_slow_conversion(cfg));
}

TEST(LegacySupportTest, PythonStringHelpers) {
  EXPECT_EQ(py_split("  a\u3000b\x1c"
                     "c\xC2\x85 "),
            (std::vector<std::string_view>{"a", "b", "c"}));
  EXPECT_EQ(py_strip("\xE2\x80\xA8 x y\t\x1f"), "x y");
  EXPECT_EQ(py_strip("\xE2\x80\x8B"), "\xE2\x80\x8B");  // U+200B is not whitespace in Python
}

}  // namespace
}  // namespace mlhub::tok::legacy
