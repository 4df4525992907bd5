// Pre-tokenizers of spec section 6 built from their tokenizer.json objects, against the Python
// reference (tokenizers 0.22.2). The expected values of the table were produced with:
//
//   from tokenizers import Tokenizer
//   d = {"version": "1.0", "model": {"type": "WordLevel", "vocab": {"a": 0}, "unk_token": "a"},
//        "pre_tokenizer": PRE_TOKENIZER_JSON}
//   Tokenizer.from_str(json.dumps(d)).pre_tokenizer.pre_tokenize_str(INPUT)
//
// (pieces with char offsets). Covers the vectors of spec 16 (whitespace runs, Metaspace
// "Hey   friend!", all Split behaviours with and without invert, contractions, digits,
// newlines) and the Metaspace "first" rule on pieces that do not start the input.
#include <gtest/gtest.h>

#include <string_view>

#include "pre_tokenizer_test_util.h"

namespace mlhub::tok {
namespace {

using namespace std::string_view_literals;
using testing::Pieces;

struct ExpectedPiece {
  std::string_view text;
  size_t start;
  size_t end;
};

struct Case {
  std::string_view json;
  std::string_view input;
  std::vector<ExpectedPiece> expected;
};

// clang-format off
const Case kCases[] = {
    {R"({"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true})"sv, "Hello there       dear"sv,
     {{"Hello"sv, 0, 5}, {"Ġthere"sv, 5, 11}, {"ĠĠĠĠĠĠ"sv, 11, 17}, {"Ġdear"sv, 17, 22}}},
    {R"({"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true})"sv, "Hello my friend, how is your day going?"sv,
     {{"ĠHello"sv, 0, 5}, {"Ġmy"sv, 5, 8}, {"Ġfriend"sv, 8, 15}, {","sv, 15, 16}, {"Ġhow"sv, 16, 20}, {"Ġis"sv, 20, 23}, {"Ġyour"sv, 23, 28}, {"Ġday"sv, 28, 32}, {"Ġgoing"sv, 32, 38}, {"?"sv, 38, 39}}},
    {R"({"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true})"sv, " already"sv,
     {{"Ġalready"sv, 0, 8}}},
    {R"({"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true})"sv, "i⭢j"sv,
     {{"i"sv, 0, 1}, {"âŃ¢"sv, 1, 2}, {"j"sv, 2, 3}}},
    {R"({"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true})"sv, "i'm i'M i've i'Ve i'vE i'VE I'LL"sv,
     {{"i"sv, 0, 1}, {"'m"sv, 1, 3}, {"Ġi"sv, 3, 5}, {"'"sv, 5, 6}, {"M"sv, 6, 7}, {"Ġi"sv, 7, 9}, {"'ve"sv, 9, 12}, {"Ġi"sv, 12, 14}, {"'"sv, 14, 15}, {"Ve"sv, 15, 17}, {"Ġi"sv, 17, 19}, {"'"sv, 19, 20}, {"vE"sv, 20, 22}, {"Ġi"sv, 22, 24}, {"'"sv, 24, 25}, {"VE"sv, 25, 27}, {"ĠI"sv, 27, 29}, {"'"sv, 29, 30}, {"LL"sv, 30, 32}}},
    {R"({"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true})"sv, "A\n'll !!to?'d''d of, can't."sv,
     {{"A"sv, 0, 1}, {"Ċ"sv, 1, 2}, {"'ll"sv, 2, 5}, {"Ġ!!"sv, 5, 8}, {"to"sv, 8, 10}, {"?'"sv, 10, 12}, {"d"sv, 12, 13}, {"''"sv, 13, 15}, {"d"sv, 15, 16}, {"Ġof"sv, 16, 19}, {","sv, 19, 20}, {"Ġcan"sv, 20, 24}, {"'t"sv, 24, 26}, {"."sv, 26, 27}}},
    {R"({"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true})"sv, "\n\t\n"sv,
     {{"ĊĉĊ"sv, 0, 3}}},
    {R"({"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true})"sv, " \n"sv,
     {{"ĠĊ"sv, 0, 2}}},
    {R"({"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true})"sv, "ax\n####\nboo"sv,
     {{"ax"sv, 0, 2}, {"Ċ"sv, 2, 3}, {"####"sv, 3, 7}, {"Ċ"sv, 7, 8}, {"boo"sv, 8, 11}}},
    {R"({"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true})"sv, "12 and 123 and 1234"sv,
     {{"12"sv, 0, 2}, {"Ġand"sv, 2, 6}, {"Ġ123"sv, 6, 10}, {"Ġand"sv, 10, 14}, {"Ġ1234"sv, 14, 19}}},
    {R"({"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true})"sv, "\000\177\302\240\302\255ÿ"sv,
     {{"Āġ"sv, 0, 2}, {"Âł"sv, 2, 3}, {"ÂŃ"sv, 3, 4}, {"Ã¿"sv, 4, 5}}},
    {R"({"type":"ByteLevel","add_prefix_space":true,"trim_offsets":false,"use_regex":false})"sv, "Hello  worldé"sv,
     {{"ĠHelloĠĠworldÃ©"sv, 0, 13}}},
    {R"({"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true})"sv, ""sv,
     {}},
    {R"({"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true})"sv, "Hey   friend!"sv,
     {{"▁Hey"sv, 0, 3}, {"▁"sv, 3, 4}, {"▁"sv, 4, 5}, {"▁friend!"sv, 5, 13}}},
    {R"({"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true})"sv, "  Hey friend!"sv,
     {{"▁"sv, 0, 1}, {"▁Hey"sv, 1, 5}, {"▁friend!"sv, 5, 13}}},
    {R"({"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true})"sv, "▁This ▁is ▁a ▁test ▁."sv,
     {{"▁This"sv, 0, 5}, {"▁"sv, 5, 6}, {"▁is"sv, 6, 9}, {"▁"sv, 9, 10}, {"▁a"sv, 10, 12}, {"▁"sv, 12, 13}, {"▁test"sv, 13, 18}, {"▁"sv, 18, 19}, {"▁."sv, 19, 21}}},
    {R"({"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":true})"sv, "Hey friend"sv,
     {{"▁Hey"sv, 0, 3}, {"▁friend"sv, 3, 10}}},
    {R"({"type":"Metaspace","replacement":"▁","prepend_scheme":"never","split":true})"sv, "Hey friend"sv,
     {{"Hey"sv, 0, 3}, {"▁friend"sv, 3, 10}}},
    {R"({"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":false})"sv, "Hey   friend!"sv,
     {{"▁Hey▁▁▁friend!"sv, 0, 13}}},
    {R"({"type":"Metaspace","replacement":"_","prepend_scheme":"always","split":true})"sv, "a_b c"sv,
     {{"_a"sv, 0, 1}, {"_b"sv, 1, 3}, {"_c"sv, 3, 5}}},
    {R"({"type":"Metaspace","replacement":"▁","str_rep":"▁","add_prefix_space":true})"sv, "Hey   friend!"sv,
     {{"▁Hey"sv, 0, 3}, {"▁"sv, 3, 4}, {"▁"sv, 4, 5}, {"▁friend!"sv, 5, 13}}},
    {R"({"type":"Metaspace","replacement":"▁","add_prefix_space":false,"prepend_scheme":"never"})"sv, "Hey   friend!"sv,
     {{"Hey"sv, 0, 3}, {"▁"sv, 3, 4}, {"▁"sv, 4, 5}, {"▁friend!"sv, 5, 13}}},
    {R"({"type":"Metaspace","replacement":"▁","add_prefix_space":true,"prepend_scheme":"never"})"sv, "Hey   friend!"sv,
     {{"Hey"sv, 0, 3}, {"▁"sv, 3, 4}, {"▁"sv, 4, 5}, {"▁friend!"sv, 5, 13}}},
    {R"({"type":"Whitespace"})"sv, "Hey man!"sv,
     {{"Hey"sv, 0, 3}, {"man"sv, 4, 7}, {"!"sv, 7, 8}}},
    {R"({"type":"Whitespace"})"sv, "How are you doing?"sv,
     {{"How"sv, 0, 3}, {"are"sv, 4, 7}, {"you"sv, 8, 11}, {"doing"sv, 12, 17}, {"?"sv, 17, 18}}},
    {R"({"type":"Whitespace"})"sv, "\n"sv,
     {}},
    {R"({"type":"Whitespace"})"sv, "Hello, y'all! How are you 😁 ?"sv,
     {{"Hello"sv, 0, 5}, {","sv, 5, 6}, {"y"sv, 7, 8}, {"'"sv, 8, 9}, {"all"sv, 9, 12}, {"!"sv, 12, 13}, {"How"sv, 14, 17}, {"are"sv, 18, 21}, {"you"sv, 22, 25}, {"😁"sv, 26, 27}, {"?"sv, 28, 29}}},
    {R"({"type":"Whitespace"})"sv, "a\342\200\213b a\302\240b a\342\200\250b a\341\240\216b a\343\200\200b a\302\205b"sv,
     {{"a"sv, 0, 1}, {"\342\200\213"sv, 1, 2}, {"b"sv, 2, 3}, {"a"sv, 4, 5}, {"b"sv, 6, 7}, {"a"sv, 8, 9}, {"b"sv, 10, 11}, {"a"sv, 12, 13}, {"\341\240\216"sv, 13, 14}, {"b"sv, 14, 15}, {"a"sv, 16, 17}, {"b"sv, 18, 19}, {"a"sv, 20, 21}, {"b"sv, 22, 23}}},
    {R"({"type":"Whitespace"})"sv, "Héllò ﬁ ① ²½ e\314\201 \342\200\215x _a_ ٣"sv,
     {{"Héllò"sv, 0, 5}, {"ﬁ"sv, 6, 7}, {"①"sv, 8, 9}, {"²½"sv, 10, 12}, {"e\314\201"sv, 13, 15}, {"\342\200\215x"sv, 16, 18}, {"_a_"sv, 19, 22}, {"٣"sv, 23, 24}}},
    {R"({"type":"WhitespaceSplit"})"sv, "Hey man!"sv,
     {{"Hey"sv, 0, 3}, {"man!"sv, 4, 8}}},
    {R"({"type":"WhitespaceSplit"})"sv, "a\342\200\213b a\302\240b a\342\200\250b a\341\240\216b a\343\200\200b a\302\205b\013\014\034c"sv,
     {{"a\342\200\213b"sv, 0, 3}, {"a"sv, 4, 5}, {"b"sv, 6, 7}, {"a"sv, 8, 9}, {"b"sv, 10, 11}, {"a\341\240\216b"sv, 12, 15}, {"a"sv, 16, 17}, {"b"sv, 18, 19}, {"a"sv, 20, 21}, {"b"sv, 22, 23}, {"\034c"sv, 25, 27}}},
    {R"({"type":"BertPreTokenizer"})"sv, "Hey friend!     How are you?!?"sv,
     {{"Hey"sv, 0, 3}, {"friend"sv, 4, 10}, {"!"sv, 10, 11}, {"How"sv, 16, 19}, {"are"sv, 20, 23}, {"you"sv, 24, 27}, {"?"sv, 27, 28}, {"!"sv, 28, 29}, {"?"sv, 29, 30}}},
    {R"({"type":"BertPreTokenizer"})"sv, "test $1 R2 #3 €4 £5 ¥6 ₣7 ₹8 ₱9 test"sv,
     {{"test"sv, 0, 4}, {"$"sv, 5, 6}, {"1"sv, 6, 7}, {"R2"sv, 8, 10}, {"#"sv, 11, 12}, {"3"sv, 12, 13}, {"€4"sv, 14, 16}, {"£5"sv, 17, 19}, {"¥6"sv, 20, 22}, {"₣7"sv, 23, 25}, {"₹8"sv, 26, 28}, {"₱9"sv, 29, 31}, {"test"sv, 32, 36}}},
    {R"({"type":"BertPreTokenizer"})"sv, "野口里佳 Noguchi Rika。«x» ¿y? “z” a\342\200\250b ^`~|+<=>"sv,
     {{"野口里佳"sv, 0, 4}, {"Noguchi"sv, 5, 12}, {"Rika"sv, 13, 17}, {"。"sv, 17, 18}, {"«"sv, 18, 19}, {"x"sv, 19, 20}, {"»"sv, 20, 21}, {"¿"sv, 22, 23}, {"y"sv, 23, 24}, {"?"sv, 24, 25}, {"“"sv, 26, 27}, {"z"sv, 27, 28}, {"”"sv, 28, 29}, {"a"sv, 30, 31}, {"b"sv, 32, 33}, {"^"sv, 34, 35}, {"`"sv, 35, 36}, {"~"sv, 36, 37}, {"|"sv, 37, 38}, {"+"sv, 38, 39}, {"<"sv, 39, 40}, {"="sv, 40, 41}, {">"sv, 41, 42}}},
    {R"({"type":"Punctuation"})"sv, "Hey friend!     How are you?!?"sv,
     {{"Hey friend"sv, 0, 10}, {"!"sv, 10, 11}, {"     How are you"sv, 11, 27}, {"?"sv, 27, 28}, {"!"sv, 28, 29}, {"?"sv, 29, 30}}},
    {R"({"type":"Punctuation","behavior":"Removed"})"sv, "Hey friend!!? How,, you?!?"sv,
     {{"Hey friend"sv, 0, 10}, {" How"sv, 13, 17}, {" you"sv, 19, 23}}},
    {R"({"type":"Punctuation","behavior":"Isolated"})"sv, "Hey friend!!? How,, you?!?"sv,
     {{"Hey friend"sv, 0, 10}, {"!"sv, 10, 11}, {"!"sv, 11, 12}, {"?"sv, 12, 13}, {" How"sv, 13, 17}, {","sv, 17, 18}, {","sv, 18, 19}, {" you"sv, 19, 23}, {"?"sv, 23, 24}, {"!"sv, 24, 25}, {"?"sv, 25, 26}}},
    {R"({"type":"Punctuation","behavior":"MergedWithPrevious"})"sv, "Hey friend!!? How,, you?!?"sv,
     {{"Hey friend!"sv, 0, 11}, {"!"sv, 11, 12}, {"?"sv, 12, 13}, {" How,"sv, 13, 18}, {","sv, 18, 19}, {" you?"sv, 19, 24}, {"!"sv, 24, 25}, {"?"sv, 25, 26}}},
    {R"({"type":"Punctuation","behavior":"MergedWithNext"})"sv, "Hey friend!!? How,, you?!?"sv,
     {{"Hey friend"sv, 0, 10}, {"!"sv, 10, 11}, {"!"sv, 11, 12}, {"? How"sv, 12, 17}, {","sv, 17, 18}, {", you"sv, 18, 23}, {"?"sv, 23, 24}, {"!"sv, 24, 25}, {"?"sv, 25, 26}}},
    {R"({"type":"Punctuation","behavior":"Contiguous"})"sv, "Hey friend!!? How,, you?!?"sv,
     {{"Hey friend"sv, 0, 10}, {"!!?"sv, 10, 13}, {" How"sv, 13, 17}, {",,"sv, 17, 19}, {" you"sv, 19, 23}, {"?!?"sv, 23, 26}}},
    {R"({"type":"Digits","individual_digits":true})"sv, "Hey 123 friend!"sv,
     {{"Hey "sv, 0, 4}, {"1"sv, 4, 5}, {"2"sv, 5, 6}, {"3"sv, 6, 7}, {" friend!"sv, 7, 15}}},
    {R"({"type":"Digits","individual_digits":false})"sv, "Hey 123 friend!"sv,
     {{"Hey "sv, 0, 4}, {"123"sv, 4, 7}, {" friend!"sv, 7, 15}}},
    {R"({"type":"Digits","individual_digits":false})"sv, "²½Ⅻ ١٢٣ ४२ 12ab3"sv,
     {{"²½Ⅻ"sv, 0, 3}, {" "sv, 3, 4}, {"١٢٣"sv, 4, 7}, {" "sv, 7, 8}, {"४२"sv, 8, 10}, {" "sv, 10, 11}, {"12"sv, 11, 13}, {"ab"sv, 13, 15}, {"3"sv, 15, 16}}},
    {R"({"type":"Digits","individual_digits":true})"sv, "0123456789 0 1 2 3 4 5 6 7 8 9 10 100 1000"sv,
     {{"0"sv, 0, 1}, {"1"sv, 1, 2}, {"2"sv, 2, 3}, {"3"sv, 3, 4}, {"4"sv, 4, 5}, {"5"sv, 5, 6}, {"6"sv, 6, 7}, {"7"sv, 7, 8}, {"8"sv, 8, 9}, {"9"sv, 9, 10}, {" "sv, 10, 11}, {"0"sv, 11, 12}, {" "sv, 12, 13}, {"1"sv, 13, 14}, {" "sv, 14, 15}, {"2"sv, 15, 16}, {" "sv, 16, 17}, {"3"sv, 17, 18}, {" "sv, 18, 19}, {"4"sv, 19, 20}, {" "sv, 20, 21}, {"5"sv, 21, 22}, {" "sv, 22, 23}, {"6"sv, 23, 24}, {" "sv, 24, 25}, {"7"sv, 25, 26}, {" "sv, 26, 27}, {"8"sv, 27, 28}, {" "sv, 28, 29}, {"9"sv, 29, 30}, {" "sv, 30, 31}, {"1"sv, 31, 32}, {"0"sv, 32, 33}, {" "sv, 33, 34}, {"1"sv, 34, 35}, {"0"sv, 35, 36}, {"0"sv, 36, 37}, {" "sv, 37, 38}, {"1"sv, 38, 39}, {"0"sv, 39, 40}, {"0"sv, 40, 41}, {"0"sv, 41, 42}}},
    {R"({"type":"CharDelimiterSplit","delimiter":"x"})"sv, "HelloxThere xx yx"sv,
     {{"Hello"sv, 0, 5}, {"There "sv, 6, 12}, {" y"sv, 14, 16}}},
    {R"({"type":"CharDelimiterSplit","delimiter":"é"})"sv, "aébéé"sv,
     {{"a"sv, 0, 1}, {"b"sv, 2, 3}}},
    {R"({"type":"FixedLength","length":5})"sv, "Hello there é world!"sv,
     {{"Hello"sv, 0, 5}, {" ther"sv, 5, 10}, {"e é w"sv, 10, 15}, {"orld!"sv, 15, 20}}},
    {R"({"type":"FixedLength"})"sv, "Hello there é world!"sv,
     {{"Hello"sv, 0, 5}, {" ther"sv, 5, 10}, {"e é w"sv, 10, 15}, {"orld!"sv, 15, 20}}},
    {R"({"type":"FixedLength","length":1})"sv, "aé😀"sv,
     {{"a"sv, 0, 1}, {"é"sv, 1, 2}, {"😀"sv, 2, 3}}},
    {R"({"type":"UnicodeScripts"})"sv, "どこで生れ。Yes"sv,
     {{"どこで生れ"sv, 0, 5}, {"。"sv, 5, 6}, {"Yes"sv, 6, 9}}},
    {R"({"type":"UnicodeScripts"})"sv, "Apples are りんご 林檎"sv,
     {{"Apples are "sv, 0, 11}, {"りんご 林檎"sv, 11, 17}}},
    {R"({"type":"UnicodeScripts"})"sv, "Hello, 世界! ΟΔΟΣ Привет שלום 123"sv,
     {{"Hello"sv, 0, 5}, {", "sv, 5, 7}, {"世界"sv, 7, 9}, {"! "sv, 9, 11}, {"ΟΔΟΣ "sv, 11, 16}, {"Привет "sv, 16, 23}, {"שלום "sv, 23, 28}, {"123"sv, 28, 31}}},
    {R"({"type":"UnicodeScripts"})"sv, "  京 a b"sv,
     {{"京 "sv, 2, 4}, {"a b"sv, 4, 7}}},
    {R"({"type":"UnicodeScripts"})"sv, "   "sv,
     {}},
    {R"({"type":"UnicodeScripts"})"sv, "ab😀cd ーカ"sv,
     {{"ab"sv, 0, 2}, {"😀"sv, 2, 3}, {"cd "sv, 3, 6}, {"ーカ"sv, 6, 8}}},
    {R"({"type":"Sequence","pretokenizers":[{"type":"WhitespaceSplit"},{"type":"Metaspace","replacement":"▁","str_rep":"▁","add_prefix_space":true}]})"sv, "Hey   friend! how"sv,
     {{"▁Hey"sv, 0, 3}, {"▁friend!"sv, 6, 13}, {"▁how"sv, 14, 17}}},
    {R"({"type":"Sequence","pretokenizers":[{"type":"Punctuation"},{"type":"Digits","individual_digits":true}]})"sv, "a1,b22"sv,
     {{"a"sv, 0, 1}, {"1"sv, 1, 2}, {","sv, 2, 3}, {"b"sv, 3, 4}, {"2"sv, 4, 5}, {"2"sv, 5, 6}}},
    {R"({"type":"Sequence","pretokenizers":[]})"sv, "a b"sv,
     {{"a b"sv, 0, 3}}},
    {R"({"type":"Sequence","pretokenizers":[{"type":"Punctuation","behavior":"Contiguous"},{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true},{"type":"Digits","individual_digits":false},{"type":"Split","pattern":{"Regex":"[0-9][0-9][0-9]"},"behavior":"Isolated","invert":false}]})"sv, "Hello 1234567 world!! é12"sv,
     {{"Hello"sv, 0, 5}, {"Ġ"sv, 5, 6}, {"123"sv, 6, 9}, {"456"sv, 9, 12}, {"7"sv, 12, 13}, {"Ġworld"sv, 13, 19}, {"!!"sv, 19, 21}, {"ĠÃ©"sv, 21, 23}, {"12"sv, 23, 25}}},
    {R"({"type":"Split","pattern":{"String":"-"},"behavior":"Removed","invert":false})"sv, "the-final--countdown"sv,
     {{"the"sv, 0, 3}, {"final"sv, 4, 9}, {"countdown"sv, 11, 20}}},
    {R"({"type":"Split","pattern":{"String":"-"},"behavior":"Removed","invert":true})"sv, "the-final--countdown"sv,
     {{"-"sv, 3, 4}, {"-"sv, 9, 10}, {"-"sv, 10, 11}}},
    {R"({"type":"Split","pattern":{"String":"-"},"behavior":"Isolated","invert":false})"sv, "the-final--countdown"sv,
     {{"the"sv, 0, 3}, {"-"sv, 3, 4}, {"final"sv, 4, 9}, {"-"sv, 9, 10}, {"-"sv, 10, 11}, {"countdown"sv, 11, 20}}},
    {R"({"type":"Split","pattern":{"String":"-"},"behavior":"Isolated","invert":true})"sv, "the-final--countdown"sv,
     {{"the"sv, 0, 3}, {"-"sv, 3, 4}, {"final"sv, 4, 9}, {"-"sv, 9, 10}, {"-"sv, 10, 11}, {"countdown"sv, 11, 20}}},
    {R"({"type":"Split","pattern":{"String":"-"},"behavior":"MergedWithPrevious","invert":false})"sv, "the-final--countdown"sv,
     {{"the-"sv, 0, 4}, {"final-"sv, 4, 10}, {"-"sv, 10, 11}, {"countdown"sv, 11, 20}}},
    {R"({"type":"Split","pattern":{"String":"-"},"behavior":"MergedWithPrevious","invert":true})"sv, "the-final--countdown"sv,
     {{"the"sv, 0, 3}, {"-final"sv, 3, 9}, {"-"sv, 9, 10}, {"-countdown"sv, 10, 20}}},
    {R"({"type":"Split","pattern":{"String":"-"},"behavior":"MergedWithNext","invert":false})"sv, "the-final--countdown"sv,
     {{"the"sv, 0, 3}, {"-final"sv, 3, 9}, {"-"sv, 9, 10}, {"-countdown"sv, 10, 20}}},
    {R"({"type":"Split","pattern":{"String":"-"},"behavior":"MergedWithNext","invert":true})"sv, "the-final--countdown"sv,
     {{"the-"sv, 0, 4}, {"final-"sv, 4, 10}, {"-"sv, 10, 11}, {"countdown"sv, 11, 20}}},
    {R"({"type":"Split","pattern":{"String":"-"},"behavior":"Contiguous","invert":false})"sv, "the-final--countdown"sv,
     {{"the"sv, 0, 3}, {"-"sv, 3, 4}, {"final"sv, 4, 9}, {"--"sv, 9, 11}, {"countdown"sv, 11, 20}}},
    {R"({"type":"Split","pattern":{"String":"-"},"behavior":"Contiguous","invert":true})"sv, "the-final--countdown"sv,
     {{"the"sv, 0, 3}, {"-"sv, 3, 4}, {"final"sv, 4, 9}, {"--"sv, 9, 11}, {"countdown"sv, 11, 20}}},
    {R"({"type":"Split","pattern":{"Regex":"\\w+|[^\\w\\s]+"},"behavior":"Removed","invert":true})"sv, "Hey, man! doing?"sv,
     {{"Hey"sv, 0, 3}, {","sv, 3, 4}, {"man"sv, 5, 8}, {"!"sv, 8, 9}, {"doing"sv, 10, 15}, {"?"sv, 15, 16}}},
    {R"({"type":"Split","pattern":{"Regex":"\\w+|[^\\w\\s]+"},"behavior":"MergedWithPrevious","invert":true})"sv, "Hey, man! doing?"sv,
     {{"Hey"sv, 0, 3}, {", "sv, 3, 5}, {"man"sv, 5, 8}, {"! "sv, 8, 10}, {"doing"sv, 10, 15}, {"?"sv, 15, 16}}},
    {R"({"type":"Split","pattern":{"Regex":"\\w+|[^\\w\\s]+"},"behavior":"MergedWithNext","invert":false})"sv, "Hey, man! doing?"sv,
     {{"Hey"sv, 0, 3}, {", "sv, 3, 5}, {"man"sv, 5, 8}, {"! "sv, 8, 10}, {"doing"sv, 10, 15}, {"?"sv, 15, 16}}},
    {R"({"type":"Split","pattern":{"Regex":"\\w+|[^\\w\\s]+"},"behavior":"Contiguous","invert":true})"sv, "Hey, man! doing?"sv,
     {{"Hey,"sv, 0, 4}, {" "sv, 4, 5}, {"man!"sv, 5, 9}, {" "sv, 9, 10}, {"doing?"sv, 10, 16}}},
    {R"({"type":"Split","pattern":{"Regex":"a*"},"behavior":"MergedWithNext","invert":false})"sv, "baab"sv,
     {{"b"sv, 0, 1}, {"aab"sv, 1, 4}}},
    {R"({"type":"Split","pattern":{"Regex":"a*"},"behavior":"Contiguous","invert":true})"sv, "baab"sv,
     {{"b"sv, 0, 1}, {"aa"sv, 1, 3}, {"b"sv, 3, 4}}},
    {R"({"type":"Split","pattern":{"Regex":"(?<=a)b|\\Gc"},"behavior":"Isolated","invert":false})"sv, "ccabcab"sv,
     {{"c"sv, 0, 1}, {"c"sv, 1, 2}, {"a"sv, 2, 3}, {"b"sv, 3, 4}, {"c"sv, 4, 5}, {"a"sv, 5, 6}, {"b"sv, 6, 7}}},
    {R"({"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"String":"-"},"behavior":"Removed","invert":false},{"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":true}]})"sv, "Hey-you there"sv,
     {{"▁Hey"sv, 0, 3}, {"you"sv, 4, 7}, {"▁there"sv, 7, 13}}},
    {R"({"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"String":"-"},"behavior":"Removed","invert":false},{"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":true}]})"sv, "-Hey-you there"sv,
     {{"Hey"sv, 1, 4}, {"you"sv, 5, 8}, {"▁there"sv, 8, 14}}},
    {R"({"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"String":"-"},"behavior":"Removed","invert":false},{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":false}]})"sv, "Hey-you there"sv,
     {{"▁Hey"sv, 0, 3}, {"▁you▁there"sv, 4, 13}}},
    {R"({"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"String":"-"},"behavior":"Removed","invert":false},{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true}]})"sv, "Hey-you there- x"sv,
     {{"ĠHey"sv, 0, 3}, {"Ġyou"sv, 4, 7}, {"Ġthere"sv, 7, 13}, {"Ġx"sv, 14, 16}}},
    {R"({"type":"Sequence","pretokenizers":[{"type":"WhitespaceSplit"},{"type":"UnicodeScripts"},{"type":"FixedLength","length":2}]})"sv, "abc中文字 xyz"sv,
     {{"ab"sv, 0, 2}, {"c"sv, 2, 3}, {"中文"sv, 3, 5}, {"字"sv, 5, 6}, {"xy"sv, 7, 9}, {"z"sv, 9, 10}}},
};
// clang-format on

TEST(PreTokenizers, MatchPythonReference) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(std::string(c.json) + " on \"" + std::string(c.input) + "\"");
    Pieces got = testing::run(std::string(c.json), c.input);
    Pieces want;
    for (const auto& e : c.expected)
      want.emplace_back(std::string(e.text), Offsets{e.start, e.end});
    EXPECT_EQ(got, want);
  }
}

// Error message of building `json`, or "" when it builds.
std::string build_error(const std::string& json) {
  try {
    testing::make_pre_tokenizer(json);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::kInvalidArgument);
    return e.what();
  }
  return "";
}

TEST(PreTokenizers, JsonErrorsNameThePath) {
  EXPECT_EQ(build_error(R"({"type":"Nope"})"),
            "$.pre_tokenizer.type: unknown pre_tokenizer type \"Nope\"");
  // The wrapper's "Delimiter" tag does not load in the reference either.
  EXPECT_NE(build_error(R"({"type":"Delimiter","delimiter":"x"})"), "");
  EXPECT_NE(build_error(R"([1,2])"), "");
  EXPECT_NE(build_error(R"({"behavior":"Isolated"})").find("$.pre_tokenizer"), std::string::npos);

  std::string bad_regex = build_error(
      R"({"type":"Sequence","pretokenizers":[{"type":"Whitespace"},)"
      R"({"type":"Split","pattern":{"Regex":"(a"},"behavior":"Isolated","invert":false}]})");
  EXPECT_EQ(
      bad_regex.rfind("$.pre_tokenizer.pretokenizers[1].pattern.Regex: invalid regex /(a/: ", 0),
      0u)
      << bad_regex;
  EXPECT_NE(bad_regex.find("end pattern with unmatched parenthesis"), std::string::npos)
      << bad_regex;

  // Required fields, as in the Rust deserializer.
  EXPECT_NE(build_error(R"({"type":"Split","pattern":{"String":"-"},"behavior":"Isolated"})")
                .find("$.pre_tokenizer"),
            std::string::npos);
  EXPECT_NE(build_error(R"({"type":"Split","pattern":{"String":"-","Regex":"-"},)"
                        R"("behavior":"Isolated","invert":false})")
                .find("$.pre_tokenizer.pattern"),
            std::string::npos);
  EXPECT_NE(build_error(R"({"type":"Split","pattern":{"String":"-"},"behavior":"Sideways",)"
                        R"("invert":false})")
                .find("$.pre_tokenizer.behavior"),
            std::string::npos);
  EXPECT_NE(build_error(R"({"type":"ByteLevel","add_prefix_space":false})"), "");
  EXPECT_NE(build_error(R"({"type":"ByteLevel","trim_offsets":false})"), "");
  EXPECT_NE(build_error(R"({"type":"Digits"})"), "");
  EXPECT_NE(build_error(R"({"type":"CharDelimiterSplit","delimiter":"ab"})")
                .find("$.pre_tokenizer.delimiter"),
            std::string::npos);
  EXPECT_NE(build_error(R"({"type":"Metaspace"})").find("replacement"), std::string::npos);
  EXPECT_NE(build_error(R"({"type":"Metaspace","replacement":"__"})"), "");
  EXPECT_NE(build_error(R"({"type":"Metaspace","replacement":"_","prepend_scheme":"sometimes"})")
                .find("$.pre_tokenizer.prepend_scheme"),
            std::string::npos);
  // Legacy add_prefix_space=false must agree with prepend_scheme, whose default is "always":
  // the reference rejects both of these ("add_prefix_space does not match declared
  // prepend_scheme").
  EXPECT_NE(build_error(R"({"type":"Metaspace","replacement":"_","add_prefix_space":false})")
                .find("add_prefix_space does not match declared prepend_scheme"),
            std::string::npos);
  EXPECT_NE(build_error(R"({"type":"Metaspace","replacement":"_","add_prefix_space":false,)"
                        R"("prepend_scheme":"first"})"),
            "");
  // Rust panics on the first piece with length 0; we refuse it when loading.
  EXPECT_NE(build_error(R"({"type":"FixedLength","length":0})"), "");
  EXPECT_NE(build_error(R"({"type":"Sequence"})"), "");
  EXPECT_NE(build_error(R"({"type":"Sequence","pretokenizers":[{"type":"Foo"}]})")
                .find("$.pre_tokenizer.pretokenizers[0]"),
            std::string::npos);

  // Unknown extra fields are ignored, as serde does.
  EXPECT_EQ(build_error(R"({"type":"Whitespace","foo":1})"), "");
}

TEST(PreTokenizers, PiecesWithTokensAreLeftAlone) {
  auto p = testing::make_pre_tokenizer(
      R"({"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true})");
  std::string_view text = "ab <mask> cd";
  PreTokenizedString s(text);
  // Emulate added-token extraction: "ab ", "<mask>" (a token), " cd".
  NormalizedString whole(text);
  auto& splits = s.splits();
  splits.clear();
  splits.push_back(Split{*whole.slice(0, 3), std::nullopt});
  splits.push_back(Split{*whole.slice(3, 9), std::vector<Token>{Token{7, "<mask>", {0, 6}}}});
  splits.push_back(Split{*whole.slice(9, 12), std::nullopt});
  p->pre_tokenize(s);
  testing::Pieces got;
  for (auto& [piece, offsets] : s.get_splits()) got.emplace_back(piece, offsets);
  // The prefix space is added to every piece without tokens, including the one after <mask>.
  testing::Pieces want = {{"Ġab", {0, 2}}, {"Ġ", {2, 3}}, {"<mask>", {3, 9}}, {"Ġcd", {9, 12}}};
  EXPECT_EQ(got, want);
  ASSERT_TRUE(s.splits()[2].tokens.has_value());
  EXPECT_EQ((*s.splits()[2].tokens)[0].id, 7u);
}

TEST(PreTokenizers, EmptyAndWhitespaceOnlyInputs) {
  const char* configs[] = {
      R"({"type":"BertPreTokenizer"})",
      R"({"type":"Whitespace"})",
      R"({"type":"WhitespaceSplit"})",
      R"({"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true})",
      R"({"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true})",
      R"({"type":"Split","pattern":{"Regex":"a*"},"behavior":"MergedWithNext","invert":true})",
      R"({"type":"Punctuation"})",
      R"({"type":"Digits","individual_digits":true})",
      R"({"type":"UnicodeScripts"})",
      R"({"type":"CharDelimiterSplit","delimiter":" "})",
      R"({"type":"FixedLength","length":3})",
  };
  for (const char* json : configs) {
    SCOPED_TRACE(json);
    EXPECT_TRUE(testing::run(json, "").empty());
    for (auto& [piece, offsets] : testing::run(json, " \t\n ")) {
      EXPECT_FALSE(piece.empty());
      EXPECT_LE(offsets.first, offsets.second);
    }
  }
}

}  // namespace
}  // namespace mlhub::tok
