// A restricted pickle machine: the opcodes torch.save writes (protocols 2 to 5, binary forms
// only), with every global, persistent id, REDUCE and BUILD handed to a Hooks object that
// decides what they mean. Nothing is imported or executed; an opcode outside the list is an
// error. Everything is bounded: lengths against the remaining bytes, the number of objects,
// stack and memo entries and marks. No recursion, so deep nesting cannot overflow the C stack.
//
// Objects live in an arena owned by the Unpickler (values refer to them by pointer), so shared
// and even cyclic references (a list appended to itself) are harmless and freed at once.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mlhub/tensor.h"

namespace mlhub::io::pickle {

struct Object;

struct Value {
  enum class Kind : uint8_t { kNone, kBool, kInt, kFloat, kObject };
  Kind kind = Kind::kNone;
  int64_t i = 0;  // kBool (0/1), kInt
  double f = 0;   // kFloat
  Object* obj = nullptr;

  static Value of(Object* o) { return {Kind::kObject, 0, 0, o}; }
};

enum class ObjType : uint8_t { kString, kBytes, kTuple, kList, kDict, kGlobal, kStorage, kTensor };

struct Object {
  ObjType type;
  std::string text;          // kString/kBytes: the content; kGlobal: "module.name"; kStorage: key
  std::vector<Value> items;  // kTuple/kList; kDict: key, value, key, value, ...
  int tag = 0;               // kGlobal: what the hooks resolved it to
  DType dtype = DType::kF32;  // kGlobal (storage types) and kStorage
  int64_t numel = 0;          // kStorage: elements
  std::shared_ptr<Storage> storage;  // kStorage
  Tensor tensor;                     // kTensor
};

class Unpickler;

// What the machine asks the caller. Each method throws mlhub::Error to refuse.
class Hooks {
 public:
  virtual ~Hooks() = default;
  // GLOBAL / STACK_GLOBAL: fills `global` (tag, dtype) or throws.
  virtual void resolve_global(const std::string& module, const std::string& name,
                              Object& global) = 0;
  // BINPERSID.
  virtual Value persistent_load(Unpickler& u, Value pid) = 0;
  // REDUCE: `callable` is a resolved global, `args` a tuple.
  virtual Value call(Unpickler& u, const Object& callable, const Object& args) = 0;
  // BUILD: sets `state` on `target` (the value stays on the stack).
  virtual void build(Unpickler& u, Value target, Value state) = 0;
};

class Unpickler {
 public:
  // Limits far above what a state dict needs (one per tensor: a few dozen objects).
  static constexpr size_t kMaxObjects = 1 << 20;
  static constexpr size_t kMaxStack = 1 << 20;
  static constexpr size_t kMaxMemo = 1 << 20;
  static constexpr size_t kMaxMarks = 1 << 16;

  Unpickler(std::string_view data, Hooks& hooks) : data_(data), hooks_(hooks) {}

  // Runs to STOP and returns the result. Throws mlhub::Error(kCorruption) naming the byte.
  Value load();
  // A new object in the arena.
  Object* make(ObjType type);
  // "at byte N" of the opcode being run, for messages.
  size_t position() const { return op_pos_; }

 private:
  uint8_t u8();
  uint64_t uint_le(int bytes);
  std::string_view bytes(uint64_t n);
  std::string_view line();
  int64_t signed_le(std::string_view b);

  void push(Value v);
  Value pop();
  Value& top();
  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  // Pops the topmost mark; returns the stack index where it was (items above it follow).
  size_t pop_mark();
  Object* collect(ObjType type, size_t from);  // stack[from:] into a new tuple/list
  Value string_object(ObjType type, std::string_view s);
  void put_memo(uint64_t index);
  void get_memo(uint64_t index);
  void set_items(Value dict, size_t from);
  void append_items(Value list, size_t from);
  void global(std::string_view module, std::string_view name);
  Object& expect(Value v, ObjType type, const char* what);
  [[noreturn]] void fail(const std::string& what) const;

  std::string_view data_;
  size_t pos_ = 0;
  size_t op_pos_ = 0;
  Hooks& hooks_;
  std::vector<Value> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, Value> memo_;
  std::deque<Object> arena_;
};

}  // namespace mlhub::io::pickle
