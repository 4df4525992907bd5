// MarianTokenizer folders (src/tokenizers/legacy/marian.cc, models/marian.cc,
// decoders/marian.cc) against transformers 4.57.3 + sentencepiece 0.2.1:
//   - the seq2seq marian golden (tests/golden/seq2seq/marian/case.json): the folder that
//     tools/reference/seq2seq_goldens.py builds, its input_ids and the decoded greedy outputs;
//   - tests/golden/tokenizers/marian/cases.json (tools/reference/marian_tokenizer_goldens.py):
//     four folders, every text's ids, decode with and without special tokens and clean-up,
//     pairs, and random id sequences;
//   - the loading rules and errors (which folders become a MarianTokenizer, which fail how).
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "mlhub/tokenizers.h"
#include "tokenizers/json.h"

namespace mlhub::tok {
namespace {

namespace fs = std::filesystem;

const fs::path kShared = fs::path(MLHUB_SHARED_DIR);
const fs::path kSource = fs::path(MLHUB_SOURCE_DIR);
const fs::path kFixture = kShared / "data" / "tokenizers" / "marian-nmt";
const fs::path kSeq2Seq = kSource / "tests" / "golden" / "seq2seq" / "marian";

Json read_json(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  return Json::parse(in);
}

class TempFolder {
 public:
  TempFolder() {
    static int n = 0;
    dir_ = fs::temp_directory_path() /
           ("mlhub_marian_test_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~TempFolder() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  TempFolder& copy(const fs::path& from, const std::string& name) {
    fs::copy_file(from, dir_ / name, fs::copy_options::overwrite_existing);
    fs::permissions(dir_ / name, fs::perms::owner_read | fs::perms::owner_write,
                    fs::perm_options::add);
    return *this;
  }
  TempFolder& write(const std::string& name, const std::string& content) {
    std::ofstream(dir_ / name, std::ios::binary) << content;
    return *this;
  }
  TempFolder& remove(const std::string& name) {
    fs::remove(dir_ / name);
    return *this;
  }
  std::string path() const { return dir_.string(); }

 private:
  fs::path dir_;
};

// The folder of seq2seq_goldens.py load_tokenizer("marian-nmt", "MarianTokenizer") with the
// config files the seq2seq golden committed: every fixture file (tokenizer.json included),
// vocab.joint.spm copied to source.spm and target.spm.
void fill_seq2seq_folder(TempFolder& f) {
  for (const auto& e : fs::directory_iterator(kFixture)) {
    f.copy(e.path(), e.path().filename().string());
  }
  f.copy(kFixture / "vocab.joint.spm", "source.spm")
      .copy(kFixture / "vocab.joint.spm", "target.spm");
  f.copy(kSeq2Seq / "tokenizer_config.json", "tokenizer_config.json")
      .copy(kSeq2Seq / "special_tokens_map.json", "special_tokens_map.json");
}

// A folder as a cases.json entry describes it.
void fill_case_folder(TempFolder& f, const Json& spec) {
  if (spec.contains("copy_shared")) {
    for (const Json& e : spec["copy_shared"]) f.copy(kShared / e[0].get<std::string>(), e[1]);
  }
  if (spec.contains("copy_golden")) {
    for (const Json& e : spec["copy_golden"]) f.copy(kSource / e[0].get<std::string>(), e[1]);
  }
  if (spec.contains("dir")) {
    for (const auto& e : fs::directory_iterator(kSource / spec["dir"].get<std::string>())) {
      f.copy(e.path(), e.path().filename().string());
    }
  }
  if (spec.contains("write")) {
    for (auto it = spec["write"].begin(); it != spec["write"].end(); ++it) {
      f.write(it.key(), it.value().dump());
    }
  }
}

Tokenizer load(const std::string& folder) {
  auto t = Tokenizer::from_pretrained(folder);
  if (!t.ok()) throw std::runtime_error("load failed: " + t.status().to_string());
  return std::move(t).value();
}

std::vector<uint32_t> ids_of(const Json& j) {
  return j.get<std::vector<uint32_t>>();
}

std::string show(const std::vector<uint32_t>& ids) {
  std::ostringstream s;
  for (size_t i = 0; i < ids.size(); ++i) s << (i ? " " : "") << ids[i];
  return s.str();
}

TEST(MarianTokenizer, Seq2SeqGoldenIdsAndGreedyDecode) {
  const Json c = read_json(kSeq2Seq / "case.json");
  TempFolder f;
  fill_seq2seq_folder(f);
  Tokenizer tok = load(f.path());
  ASSERT_EQ(c["texts"].size(), c["input_ids"].size());
  for (size_t i = 0; i < c["texts"].size(); ++i) {
    const std::string text = c["prefix"].get<std::string>() + c["texts"][i].get<std::string>();
    auto enc = tok.encode(text);
    ASSERT_TRUE(enc.ok()) << enc.status().to_string();
    EXPECT_EQ(show(enc.value().ids), show(ids_of(c["input_ids"][i]))) << text;
  }
  // The fixture's tokenizer.json (in the folder too) gives other ids: it is not what loads.
  EXPECT_FALSE(c["tokenizer_json_matches"].get<bool>());
  const Json& greedy = c["greedy"];
  ASSERT_EQ(greedy["sequences"].size(), greedy["decoded"].size());
  for (size_t i = 0; i < greedy["sequences"].size(); ++i) {
    auto text = tok.decode(ids_of(greedy["sequences"][i]), /*skip_special_tokens=*/true);
    ASSERT_TRUE(text.ok()) << text.status().to_string();
    EXPECT_EQ(text.value(), greedy["decoded"][i].get<std::string>());
  }
}

// Compares one folder of cases.json; reports at most a few mismatches per kind.
void check_case(const Json& c) {
  SCOPED_TRACE("folder " + c["name"].get<std::string>());
  TempFolder f;
  fill_case_folder(f, c);
  Tokenizer tok = load(f.path());
  EXPECT_EQ(tok.vocab_size(/*with_added_tokens=*/false), c["vocab_size"].get<size_t>());
  for (auto it = c["special_ids"].begin(); it != c["special_ids"].end(); ++it) {
    EXPECT_EQ(tok.token_to_id(it.key()), it.value().get<uint32_t>()) << it.key();
  }
  size_t bad = 0, n = 0;
  auto expect_eq = [&](const std::string& got, const std::string& want, const std::string& what) {
    if (got == want) return;
    if (++bad <= 12)
      ADD_FAILURE() << what << "\n  got:  " << Json(got) << "\n  want: " << Json(want);
  };
  for (const Json& e : c["encode"]) {
    ++n;
    const std::string text = e["text"];
    auto enc = tok.encode(text);
    ASSERT_TRUE(enc.ok()) << enc.status().to_string();
    const std::vector<uint32_t> want = ids_of(e["ids"]);
    expect_eq(show(enc.value().ids), show(want), "ids of " + Json(text).dump());
    auto d = tok.decode(want, false);
    auto ds = tok.decode(want, true);
    auto dsc = tok.decode(want, true, true);
    ASSERT_TRUE(d.ok() && ds.ok() && dsc.ok());
    expect_eq(d.value(), e["decoded"], "decode of " + Json(text).dump());
    expect_eq(ds.value(), e["decoded_skip"], "decode(skip) of " + Json(text).dump());
    expect_eq(dsc.value(), e["decoded_skip_clean"], "decode(skip, clean) of " + Json(text).dump());
  }
  for (const Json& p : c["pairs"]) {
    ++n;
    auto enc = tok.encode_pair(p["text"].get<std::string>(), p["text_pair"].get<std::string>());
    ASSERT_TRUE(enc.ok()) << enc.status().to_string();
    expect_eq(show(enc.value().ids), show(ids_of(p["ids"])), "pair " + p["text"].dump());
  }
  for (const Json& e : c["decode"]) {
    ++n;
    const std::vector<uint32_t> ids = ids_of(e["ids"]);
    auto d = tok.decode(ids, false);
    auto ds = tok.decode(ids, true);
    ASSERT_TRUE(d.ok() && ds.ok());
    expect_eq(d.value(), e["decoded"], "decode of ids " + show(ids));
    expect_eq(ds.value(), e["decoded_skip"], "decode(skip) of ids " + show(ids));
  }
  EXPECT_EQ(bad, 0u) << "of " << n << " cases";
  EXPECT_GT(n, 50u);
}

class MarianGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(MarianGolden, MatchesTransformers) {
  const Json all = read_json(kSource / "tests/golden/tokenizers/marian/cases.json");
  for (const Json& c : all["cases"]) {
    if (c["name"] == GetParam()) return check_case(c);
  }
  FAIL() << "no case " << GetParam() << " in cases.json";
}

INSTANTIATE_TEST_SUITE_P(Folders, MarianGolden,
                         ::testing::Values("joint", "old-config", "opus", "opus-separate"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& ch : s) ch = ch == '-' ? '_' : ch;
                           return s;
                         });

// Offsets: the SentencePiece surface spans, the language code first.
TEST(MarianTokenizer, OffsetsFollowTheText) {
  TempFolder f;
  fill_seq2seq_folder(f);
  Tokenizer tok = load(f.path());
  auto enc = tok.encode(">>de<< Hi x</s>", true, OffsetType::kByte);
  ASSERT_TRUE(enc.ok());
  const Encoding& e = enc.value();
  ASSERT_GE(e.size(), 4u);
  EXPECT_EQ(e.tokens[0], ">>de<<");
  EXPECT_EQ(e.offsets[0], (Offsets{0, 6}));
  for (size_t i = 1; i + 1 < e.size(); ++i) {  // the appended eos has no span
    EXPECT_LE(e.offsets[i].first, e.offsets[i].second);
    EXPECT_LE(e.offsets[i].second, 15u);
    EXPECT_GE(e.offsets[i].first, e.offsets[i - 1].first) << i;
  }
  // "</s>" in the text is the added token, then the appended eos.
  EXPECT_EQ(e.offsets[e.size() - 2], (Offsets{11, 15}));
  EXPECT_EQ(e.ids.back(), 0u);
  EXPECT_EQ(e.special_tokens_mask.back(), 1u);
  EXPECT_EQ(tok.num_special_tokens_to_add(false), 1u);
  EXPECT_EQ(tok.num_special_tokens_to_add(true), 1u);
}

// Ids no token has decode as <unk> (transformers' decoder.get(id, unk_token)).
TEST(MarianTokenizer, UnknownIdsDecodeAsUnk) {
  TempFolder f;
  fill_seq2seq_folder(f);
  Tokenizer tok = load(f.path());
  EXPECT_EQ(tok.id_to_token(1u << 30), "<unk>");
  std::vector<uint32_t> ids = {13919, 1u << 30, 745};
  EXPECT_EQ(tok.decode(ids, false).value(), "hello<unk> world");
  EXPECT_EQ(tok.decode(ids, true).value(), "helloworld");
}

// A Marian folder without source.spm: AutoTokenizer fails; mlhub reads the tokenizer.json as
// PreTrainedTokenizerFast would (what case.json's tokenizer_json_ids record).
TEST(MarianTokenizer, TokenizerJsonWithoutSpmFiles) {
  const Json c = read_json(kSeq2Seq / "case.json");
  Tokenizer tok = load(kFixture.string());
  for (size_t i = 0; i < c["texts"].size(); ++i) {
    auto enc = tok.encode(c["texts"][i].get<std::string>());
    ASSERT_TRUE(enc.ok());
    EXPECT_EQ(show(enc.value().ids), show(ids_of(c["tokenizer_json_ids"][i])));
  }
}

StatusCode load_code(const std::string& folder) {
  auto t = Tokenizer::from_pretrained(folder);
  return t.ok() ? StatusCode::kOk : t.status().code();
}

TEST(MarianTokenizer, LoadErrors) {
  {  // no tokenizer.json and no spm files
    TempFolder f;
    f.write("tokenizer_config.json", R"({"tokenizer_class": "MarianTokenizer"})")
        .copy(kFixture / "vocab.json", "vocab.json");
    EXPECT_EQ(load_code(f.path()), StatusCode::kNotFound);
  }
  {  // target.spm missing: MarianTokenizer loads both models
    TempFolder f;
    fill_seq2seq_folder(f);
    f.remove("target.spm");
    EXPECT_EQ(load_code(f.path()), StatusCode::kNotFound);
  }
  {  // vocab.json missing, even with tokenizer.json present
    TempFolder f;
    fill_seq2seq_folder(f);
    f.remove("vocab.json");
    EXPECT_EQ(load_code(f.path()), StatusCode::kNotFound);
  }
  {  // separate_vocabs without target_vocab.json
    TempFolder f;
    fill_seq2seq_folder(f);
    f.write("tokenizer_config.json",
            R"({"tokenizer_class": "MarianTokenizer", "separate_vocabs": true})");
    EXPECT_EQ(load_code(f.path()), StatusCode::kNotFound);
  }
  {  // <unk> not in vocab.json (transformers: KeyError)
    TempFolder f;
    fill_seq2seq_folder(f);
    f.write("vocab.json", R"({"</s>": 0, "<pad>": 1, "a": 2})");
    EXPECT_EQ(load_code(f.path()), StatusCode::kInvalidArgument);
  }
  {  // <pad> not in vocab.json (transformers: AssertionError)
    TempFolder f;
    fill_seq2seq_folder(f);
    f.write("vocab.json", R"({"</s>": 0, "<unk>": 1, "a": 2})");
    EXPECT_EQ(load_code(f.path()), StatusCode::kInvalidArgument);
  }
  {  // ids must be non-negative integers
    TempFolder f;
    fill_seq2seq_folder(f);
    f.write("vocab.json", R"({"</s>": 0, "<unk>": -1, "<pad>": 2})");
    EXPECT_EQ(load_code(f.path()), StatusCode::kInvalidArgument);
  }
  {  // a truncated SentencePiece model
    TempFolder f;
    fill_seq2seq_folder(f);
    std::ifstream in(kFixture / "vocab.joint.spm", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    f.write("source.spm", bytes.substr(0, bytes.size() / 2));
    EXPECT_EQ(load_code(f.path()), StatusCode::kCorruption);
  }
  {  // random segmentation cannot be reproduced
    TempFolder f;
    fill_seq2seq_folder(f);
    f.write("tokenizer_config.json", R"({"tokenizer_class": "MarianTokenizer",
                                         "sp_model_kwargs": {"enable_sampling": true}})");
    EXPECT_EQ(load_code(f.path()), StatusCode::kUnimplemented);
  }
}

// The extension components reject bad objects with a JSON path, like any component.
TEST(MarianTokenizer, ExtensionJsonErrors) {
  auto code = [](const std::string& json) {
    auto t = Tokenizer::from_json_string(json);
    return t.ok() ? StatusCode::kOk : t.status().code();
  };
  EXPECT_EQ(code(R"({"model": {"type": "MarianSentencePiece", "spm": "!!", "vocab": {},
                    "unk_token": "<unk>"}})"),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code(R"({"model": {"type": "MarianSentencePiece", "spm": "AAAA", "vocab": {},
                    "unk_token": "<unk>"}})"),
            StatusCode::kCorruption);
  EXPECT_EQ(code(R"({"model": {"type": "WordLevel", "vocab": {"a": 0}, "unk_token": "a"},
                    "decoder": {"type": "MarianSentencePiece"}})"),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace mlhub::tok
