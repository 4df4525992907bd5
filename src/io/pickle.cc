// The restricted pickle machine (see pickle.h). Opcode names and encodings follow CPython's
// Lib/pickletools.py documentation of the format.
#include "io/pickle.h"

#include <fmt/format.h>

#include <cstring>

#include "io/io_internal.h"

namespace mlhub::io::pickle {
namespace {

// Opcodes (protocol 2 and the binary opcodes of protocols 3 to 5).
enum Op : uint8_t {
  kMark = '(',
  kStop = '.',
  kPop = '0',
  kPopMark = '1',
  kDup = '2',
  kBinFloat = 'G',
  kBinInt = 'J',
  kBinInt1 = 'K',
  kBinInt2 = 'M',
  kNone = 'N',
  kBinPersId = 'Q',
  kReduce = 'R',
  kBinString = 'T',
  kShortBinString = 'U',
  kBinUnicode = 'X',
  kAppend = 'a',
  kBuild = 'b',
  kGlobal = 'c',
  kDict = 'd',
  kEmptyDict = '}',
  kAppends = 'e',
  kBinGet = 'h',
  kLongBinGet = 'j',
  kList = 'l',
  kEmptyList = ']',
  kBinPut = 'q',
  kLongBinPut = 'r',
  kSetItem = 's',
  kTuple = 't',
  kEmptyTuple = ')',
  kSetItems = 'u',
  kBinBytes = 'B',
  kShortBinBytes = 'C',
  kProto = 0x80,
  kTuple1 = 0x85,
  kTuple2 = 0x86,
  kTuple3 = 0x87,
  kNewTrue = 0x88,
  kNewFalse = 0x89,
  kLong1 = 0x8a,
  kLong4 = 0x8b,
  kShortBinUnicode = 0x8c,
  kBinUnicode8 = 0x8d,
  kBinBytes8 = 0x8e,
  kMemoize = 0x94,
  kFrame = 0x95,
  kStackGlobal = 0x93,
};

constexpr size_t kMaxGlobalName = 256;

}  // namespace

void Unpickler::fail(const std::string& what) const {
  corrupt(fmt::format("pickle: {} (opcode at byte {})", what, op_pos_));
}

uint8_t Unpickler::u8() {
  if (pos_ >= data_.size()) fail("the data ends in the middle of an opcode");
  return static_cast<uint8_t>(data_[pos_++]);
}

uint64_t Unpickler::uint_le(int n) {
  if (data_.size() - pos_ < static_cast<size_t>(n))
    fail("the data ends in the middle of an opcode");
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(data_[pos_ + i]);
  pos_ += n;
  return v;
}

std::string_view Unpickler::bytes(uint64_t n) {
  if (n > data_.size() - pos_)
    fail(fmt::format("a length of {} runs past the end of the data ({} bytes left)", n,
                     data_.size() - pos_));
  std::string_view s = data_.substr(pos_, n);
  pos_ += n;
  return s;
}

std::string_view Unpickler::line() {
  const size_t nl = data_.find('\n', pos_);
  if (nl == std::string_view::npos || nl - pos_ > kMaxGlobalName)
    fail("a GLOBAL name is not a short newline-terminated line");
  std::string_view s = data_.substr(pos_, nl - pos_);
  pos_ = nl + 1;
  return s;
}

// Two's complement little-endian, as LONG1/LONG4 store it. More than 8 bytes cannot be a size,
// an offset or a stride of a real tensor, so it is refused.
int64_t Unpickler::signed_le(std::string_view b) {
  if (b.size() > 8) fail(fmt::format("an integer of {} bytes is too large", b.size()));
  if (b.empty()) return 0;
  uint64_t v = 0;
  for (size_t i = b.size(); i-- > 0;) v = (v << 8) | static_cast<uint8_t>(b[i]);
  if (b.size() < 8 && (static_cast<uint8_t>(b.back()) & 0x80)) v |= ~uint64_t{0} << (8 * b.size());
  int64_t out;
  std::memcpy(&out, &v, 8);
  return out;
}

Object* Unpickler::make(ObjType type) {
  if (arena_.size() >= kMaxObjects)
    fail(fmt::format("more than {} objects", kMaxObjects));
  arena_.emplace_back();
  arena_.back().type = type;
  return &arena_.back();
}

void Unpickler::push(Value v) {
  if (stack_.size() >= kMaxStack) fail(fmt::format("the stack grows past {} items", kMaxStack));
  stack_.push_back(v);
}

Value Unpickler::pop() {
  if (stack_.size() <= floor()) fail("stack underflow");
  Value v = stack_.back();
  stack_.pop_back();
  return v;
}

Value& Unpickler::top() {
  if (stack_.size() <= floor()) fail("stack underflow");
  return stack_.back();
}

size_t Unpickler::pop_mark() {
  if (marks_.empty()) fail("no MARK to pop");
  const size_t m = marks_.back();
  marks_.pop_back();
  return m;
}

Object* Unpickler::collect(ObjType type, size_t from) {
  Object* o = make(type);
  o->items.assign(stack_.begin() + static_cast<std::ptrdiff_t>(from), stack_.end());
  stack_.resize(from);
  return o;
}

Value Unpickler::string_object(ObjType type, std::string_view s) {
  Object* o = make(type);
  o->text.assign(s);
  return Value::of(o);
}

Object& Unpickler::expect(Value v, ObjType type, const char* what) {
  if (v.kind != Value::Kind::kObject || v.obj->type != type) fail(fmt::format("{} expected", what));
  return *v.obj;
}

void Unpickler::put_memo(uint64_t index) {
  if (memo_.size() >= kMaxMemo && memo_.count(index) == 0)
    fail(fmt::format("more than {} memo entries", kMaxMemo));
  memo_[index] = top();
}

void Unpickler::get_memo(uint64_t index) {
  const auto it = memo_.find(index);
  if (it == memo_.end()) fail(fmt::format("memo index {} is not defined", index));
  push(it->second);
}

void Unpickler::set_items(Value dict, size_t from) {
  Object& d = expect(dict, ObjType::kDict, "a dict for SETITEM(S)");
  if ((stack_.size() - from) % 2 != 0) fail("SETITEMS with an odd number of items");
  d.items.insert(d.items.end(), stack_.begin() + static_cast<std::ptrdiff_t>(from), stack_.end());
  stack_.resize(from);
}

void Unpickler::append_items(Value list, size_t from) {
  Object& l = expect(list, ObjType::kList, "a list for APPEND(S)");
  l.items.insert(l.items.end(), stack_.begin() + static_cast<std::ptrdiff_t>(from), stack_.end());
  stack_.resize(from);
}

void Unpickler::global(std::string_view module, std::string_view name) {
  Object* g = make(ObjType::kGlobal);
  g->text = fmt::format("{}.{}", module, name);
  hooks_.resolve_global(std::string(module), std::string(name), *g);
  push(Value::of(g));
}

Value Unpickler::load() {
  while (true) {
    op_pos_ = pos_;
    if (pos_ >= data_.size()) fail("the data ends before STOP");
    const uint8_t op = u8();
    switch (op) {
      case kProto: {
        const uint8_t proto = u8();
        if (proto < 2 || proto > 5) fail(fmt::format("unsupported protocol {}", proto));
        break;
      }
      case kFrame:
        // Frames only group opcodes for buffered reading; the whole stream is in memory.
        if (uint_le(8) > data_.size() - pos_) fail("a FRAME runs past the end of the data");
        break;
      case kStop: {
        const Value v = pop();
        return v;
      }
      case kMark:
        if (marks_.size() >= kMaxMarks) fail(fmt::format("more than {} nested MARKs", kMaxMarks));
        marks_.push_back(stack_.size());
        break;
      case kPop:
        pop();
        break;
      case kPopMark:
        stack_.resize(pop_mark());
        break;
      case kDup:
        push(top());
        break;
      case kNone:
        push(Value{});
        break;
      case kNewTrue:
      case kNewFalse:
        push(Value{Value::Kind::kBool, op == kNewTrue ? 1 : 0, 0, nullptr});
        break;
      case kBinInt:
        push(Value{Value::Kind::kInt, static_cast<int32_t>(uint_le(4)), 0, nullptr});
        break;
      case kBinInt1:
        push(Value{Value::Kind::kInt, static_cast<int64_t>(uint_le(1)), 0, nullptr});
        break;
      case kBinInt2:
        push(Value{Value::Kind::kInt, static_cast<int64_t>(uint_le(2)), 0, nullptr});
        break;
      case kLong1:
        push(Value{Value::Kind::kInt, signed_le(bytes(uint_le(1))), 0, nullptr});
        break;
      case kLong4:
        push(Value{Value::Kind::kInt, signed_le(bytes(uint_le(4))), 0, nullptr});
        break;
      case kBinFloat: {
        const std::string_view b = bytes(8);
        uint64_t bits = 0;
        for (char c : b) bits = (bits << 8) | static_cast<uint8_t>(c);  // big-endian
        Value v{Value::Kind::kFloat, 0, 0, nullptr};
        std::memcpy(&v.f, &bits, 8);
        push(v);
        break;
      }
      case kBinUnicode:
        push(string_object(ObjType::kString, bytes(uint_le(4))));
        break;
      case kShortBinUnicode:
        push(string_object(ObjType::kString, bytes(uint_le(1))));
        break;
      case kBinUnicode8:
        push(string_object(ObjType::kString, bytes(uint_le(8))));
        break;
      case kBinString: {
        const auto n = static_cast<int32_t>(uint_le(4));
        if (n < 0) fail("BINSTRING with a negative length");
        push(string_object(ObjType::kString, bytes(static_cast<uint64_t>(n))));
        break;
      }
      case kShortBinString:
        push(string_object(ObjType::kString, bytes(uint_le(1))));
        break;
      case kBinBytes:
        push(string_object(ObjType::kBytes, bytes(uint_le(4))));
        break;
      case kShortBinBytes:
        push(string_object(ObjType::kBytes, bytes(uint_le(1))));
        break;
      case kBinBytes8:
        push(string_object(ObjType::kBytes, bytes(uint_le(8))));
        break;
      case kEmptyDict:
        push(Value::of(make(ObjType::kDict)));
        break;
      case kEmptyList:
        push(Value::of(make(ObjType::kList)));
        break;
      case kEmptyTuple:
        push(Value::of(make(ObjType::kTuple)));
        break;
      case kDict: {
        const size_t m = pop_mark();
        if ((stack_.size() - m) % 2 != 0) fail("DICT with an odd number of items");
        push(Value::of(collect(ObjType::kDict, m)));
        break;
      }
      case kList:
        push(Value::of(collect(ObjType::kList, pop_mark())));
        break;
      case kTuple:
        push(Value::of(collect(ObjType::kTuple, pop_mark())));
        break;
      case kTuple1:
      case kTuple2:
      case kTuple3: {
        const size_t n = op - kTuple1 + 1;
        if (stack_.size() < floor() + n) fail("stack underflow");
        push(Value::of(collect(ObjType::kTuple, stack_.size() - n)));
        break;
      }
      case kSetItem: {
        if (stack_.size() < floor() + 3) fail("stack underflow");
        const size_t from = stack_.size() - 2;
        set_items(stack_[from - 1], from);
        break;
      }
      case kSetItems: {
        const size_t m = pop_mark();
        if (m <= floor()) fail("SETITEMS without a dict below its MARK");
        set_items(stack_[m - 1], m);
        break;
      }
      case kAppend: {
        if (stack_.size() < floor() + 2) fail("stack underflow");
        const size_t from = stack_.size() - 1;
        append_items(stack_[from - 1], from);
        break;
      }
      case kAppends: {
        const size_t m = pop_mark();
        if (m <= floor()) fail("APPENDS without a list below its MARK");
        append_items(stack_[m - 1], m);
        break;
      }
      case kGlobal: {
        const std::string_view module = line();
        const std::string_view name = line();
        global(module, name);
        break;
      }
      case kStackGlobal: {
        const Value name = pop();
        const Value module = pop();
        const Object& n = expect(name, ObjType::kString, "a string name for STACK_GLOBAL");
        const Object& m = expect(module, ObjType::kString, "a string module for STACK_GLOBAL");
        if (n.text.size() > kMaxGlobalName || m.text.size() > kMaxGlobalName)
          fail("a STACK_GLOBAL name is too long");
        global(m.text, n.text);
        break;
      }
      case kReduce: {
        const Value args = pop();
        const Value callable = pop();
        const Object& a = expect(args, ObjType::kTuple, "a tuple of arguments for REDUCE");
        const Object& c = expect(callable, ObjType::kGlobal, "a global to call for REDUCE");
        push(hooks_.call(*this, c, a));
        break;
      }
      case kBuild: {
        const Value state = pop();
        hooks_.build(*this, top(), state);
        break;
      }
      case kBinPersId:
        push(hooks_.persistent_load(*this, pop()));
        break;
      case kBinPut:
        put_memo(uint_le(1));
        break;
      case kLongBinPut:
        put_memo(uint_le(4));
        break;
      case kMemoize:
        put_memo(memo_.size());
        break;
      case kBinGet:
        get_memo(uint_le(1));
        break;
      case kLongBinGet:
        get_memo(uint_le(4));
        break;
      default:
        fail(fmt::format("opcode 0x{:02x} is not supported in a checkpoint", op));
    }
  }
}

}  // namespace mlhub::io::pickle
