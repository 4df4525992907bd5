// The torch side of the restricted unpickler: the whitelist of globals a state dict may name,
// persistent ids (storages), and rebuilding tensors as views of those storages.
//
// torch.save writes each tensor as
//   torch._utils._rebuild_tensor_v2(<BINPERSID ('storage', torch.FloatStorage, '0', 'cpu', numel)>,
//                                   storage_offset, size, stride, requires_grad, hooks[, metadata])
// optionally wrapped in torch._utils._rebuild_parameter(tensor, requires_grad, hooks), inside a
// dict or collections.OrderedDict (whose _metadata arrives through BUILD and is ignored).
// Any other global is refused, so a hostile pickle can never reach os.system, eval, ...
//
// Views: a tensor whose strides are contiguous, or a permutation of contiguous strides (a
// transposed weight), is a view of its storage (zero-copy, shares it with tied tensors). Other
// layouts (step slices, expanded dims) are rare in checkpoints and are copied into a contiguous
// tensor, because Tensor has no public way to build arbitrary strides.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>

#include "io/io_internal.h"
#include "io/pickle.h"

namespace mlhub::io {
namespace {

using pickle::Object;
using pickle::ObjType;
using pickle::Unpickler;
using pickle::Value;

enum GlobalTag : int {
  kOrderedDict = 1,
  kRebuildTensorV2,
  kRebuildTensor,
  kRebuildParameter,
  kRebuildParameterWithState,
  kStorageType,
};

struct StorageName {
  std::string_view name;
  DType dtype;
};

// torch.<X>Storage (the classic typed storages torch.save still writes) and the torch.<dtype>
// names newer torch versions may use in the persistent id instead.
constexpr StorageName kStorageNames[] = {
    {"FloatStorage", DType::kF32}, {"HalfStorage", DType::kF16},
    {"BFloat16Storage", DType::kBF16}, {"DoubleStorage", DType::kF64},
    {"LongStorage", DType::kI64}, {"IntStorage", DType::kI32},
    {"ShortStorage", DType::kI16}, {"CharStorage", DType::kI8},
    {"ByteStorage", DType::kU8}, {"BoolStorage", DType::kBool},
    {"float32", DType::kF32}, {"float", DType::kF32},
    {"float16", DType::kF16}, {"half", DType::kF16},
    {"bfloat16", DType::kBF16}, {"float64", DType::kF64},
    {"double", DType::kF64}, {"int64", DType::kI64},
    {"long", DType::kI64}, {"int32", DType::kI32},
    {"int", DType::kI32}, {"int16", DType::kI16},
    {"short", DType::kI16}, {"int8", DType::kI8},
    {"uint8", DType::kU8}, {"bool", DType::kBool},
};

// Storage types torch may write that are legitimate but that mlhub has no dtype for.
constexpr std::string_view kUnsupportedStorages[] = {
    "ComplexFloatStorage", "ComplexDoubleStorage", "QInt8Storage", "QUInt8Storage",
    "QInt32Storage", "QUInt4x2Storage", "QUInt2x4Storage", "complex64", "complex128",
    "cfloat", "cdouble", "complex32", "chalf", "float8_e4m3fn", "float8_e5m2",
    "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu", "uint16", "uint32", "uint64",
    "qint8", "quint8", "qint32", "quint4x2", "quint2x4"};

bool checked_mul(int64_t a, int64_t b, int64_t* out) { return !__builtin_mul_overflow(a, b, out); }
bool checked_add(int64_t a, int64_t b, int64_t* out) { return !__builtin_add_overflow(a, b, out); }

std::string ints_string(const std::vector<int64_t>& v) {
  return fmt::format("[{}]", fmt::join(v, ", "));
}

class TorchHooks : public pickle::Hooks {
 public:
  explicit TorchHooks(const StorageLoader& load) : load_(load) {}

  void resolve_global(const std::string& module, const std::string& name,
                      Object& global) override {
    if (module == "collections" && name == "OrderedDict") {
      global.tag = kOrderedDict;
      return;
    }
    if (module == "torch._utils") {
      static constexpr std::pair<std::string_view, GlobalTag> kRebuilders[] = {
          {"_rebuild_tensor_v2", kRebuildTensorV2},
          {"_rebuild_tensor", kRebuildTensor},
          {"_rebuild_parameter", kRebuildParameter},
          {"_rebuild_parameter_with_state", kRebuildParameterWithState}};
      for (const auto& [n, tag] : kRebuilders) {
        if (n == name) {
          global.tag = tag;
          return;
        }
      }
    }
    if (module == "torch") {
      for (const StorageName& s : kStorageNames) {
        if (s.name == name) {
          global.tag = kStorageType;
          global.dtype = s.dtype;
          return;
        }
      }
      for (std::string_view u : kUnsupportedStorages)
        if (u == name)
          unimplemented(fmt::format("the checkpoint holds a torch.{} tensor; mlhub does not "
                                    "support that dtype",
                                    name));
    }
    corrupt(fmt::format("pickle refers to {}.{}, which is not allowed in a checkpoint", module,
                        name));
  }

  Value persistent_load(Unpickler& u, Value pid) override {
    const auto bad = [&]() {
      corrupt(fmt::format("pickle: persistent id at byte {} is not ('storage', type, key, "
                          "location, numel)",
                          u.position()));
    };
    if (pid.kind != Value::Kind::kObject || pid.obj->type != ObjType::kTuple) bad();
    const std::vector<Value>& f = pid.obj->items;
    if (f.size() != 5 || !is(f[0], ObjType::kString) || f[0].obj->text != "storage" ||
        !is(f[1], ObjType::kGlobal) || f[1].obj->tag != kStorageType ||
        !is(f[2], ObjType::kString) || f[4].kind != Value::Kind::kInt || f[4].i < 0)
      bad();
    const DType dtype = f[1].obj->dtype;
    const std::string& key = f[2].obj->text;
    const int64_t numel = f[4].i;
    int64_t nbytes = 0;
    if (!checked_mul(numel, static_cast<int64_t>(dtype_size(dtype)), &nbytes))
      corrupt(fmt::format("storage \"{}\" claims {} elements, too many", key, numel));
    std::shared_ptr<Storage>& cached = storages_[key];
    if (!cached || cached->size() < static_cast<size_t>(nbytes))
      cached = load_(key, static_cast<size_t>(nbytes));
    Object* s = u.make(ObjType::kStorage);
    s->text = key;
    s->dtype = dtype;
    s->numel = numel;
    s->storage = cached;
    return Value::of(s);
  }

  Value call(Unpickler& u, const Object& callable, const Object& args) override {
    const std::vector<Value>& a = args.items;
    const auto arity = [&](size_t lo, size_t hi) {
      if (a.size() < lo || a.size() > hi)
        corrupt(fmt::format("pickle: {} called with {} arguments (byte {})", callable.text,
                            a.size(), u.position()));
    };
    switch (callable.tag) {
      case kOrderedDict:
        arity(0, 0);
        return Value::of(u.make(ObjType::kDict));
      case kRebuildTensorV2:
        arity(6, 7);  // storage, offset, size, stride, requires_grad, hooks[, metadata]
        return rebuild(u, a);
      case kRebuildTensor:
        arity(4, 4);  // storage, offset, size, stride
        return rebuild(u, a);
      case kRebuildParameter:
        arity(3, 3);  // data, requires_grad, hooks
        if (!is(a[0], ObjType::kTensor)) corrupt("pickle: _rebuild_parameter of a non-tensor");
        return a[0];
      case kRebuildParameterWithState:
        arity(4, 4);  // data, requires_grad, hooks, state
        if (!is(a[0], ObjType::kTensor)) corrupt("pickle: _rebuild_parameter of a non-tensor");
        return a[0];
      default:
        corrupt(fmt::format("pickle: {} cannot be called (byte {})", callable.text, u.position()));
    }
  }

  void build(Unpickler& u, Value target, Value state) override {
    // Module.state_dict() sets _metadata on the OrderedDict; parameters may carry state too.
    // Neither changes tensor values, so the state is dropped.
    if (is(target, ObjType::kDict) || is(target, ObjType::kTensor)) return;
    corrupt(fmt::format("pickle: BUILD on something that is not a dict or tensor (byte {})",
                        u.position()));
  }

 private:
  static bool is(const Value& v, ObjType t) {
    return v.kind == Value::Kind::kObject && v.obj->type == t;
  }

  static std::vector<int64_t> int_tuple(const Value& v, const char* what) {
    if (!is(v, ObjType::kTuple)) corrupt(fmt::format("pickle: tensor {} is not a tuple", what));
    std::vector<int64_t> out;
    for (const Value& x : v.obj->items) {
      if (x.kind != Value::Kind::kInt)
        corrupt(fmt::format("pickle: tensor {} holds a non-integer", what));
      out.push_back(x.i);
    }
    return out;
  }

  Value rebuild(Unpickler& u, const std::vector<Value>& a) {
    if (!is(a[0], ObjType::kStorage))
      corrupt("pickle: tensor rebuilt from something not a storage");
    if (a[1].kind != Value::Kind::kInt) corrupt("pickle: tensor storage offset is not an integer");
    const Object& s = *a[0].obj;
    Object* t = u.make(ObjType::kTensor);
    t->tensor = make_tensor(s, a[1].i, int_tuple(a[2], "size"), int_tuple(a[3], "stride"));
    return Value::of(t);
  }

  static Tensor make_tensor(const Object& s, int64_t offset, const Shape& size,
                            const std::vector<int64_t>& stride);

  const StorageLoader& load_;
  std::map<std::string, std::shared_ptr<Storage>> storages_;
};

// Copies a strided tensor element by element into a new contiguous one.
Tensor gather(const std::byte* base, DType dtype, const Shape& size,
              const std::vector<int64_t>& stride) {
  Tensor out = Tensor::empty(dtype, size);
  const size_t esize = dtype_size(dtype);
  std::byte* dst = out.storage()->mutable_data() + out.byte_offset();
  const int64_t n = out.numel();
  std::vector<int64_t> index(size.size(), 0);
  int64_t off = 0;
  for (int64_t i = 0; i < n; ++i) {
    std::memcpy(dst + i * static_cast<int64_t>(esize), base + off * static_cast<int64_t>(esize),
                esize);
    for (size_t d = size.size(); d-- > 0;) {
      if (++index[d] < size[d]) {
        off += stride[d];
        break;
      }
      off -= stride[d] * (size[d] - 1);
      index[d] = 0;
    }
  }
  return out;
}

Tensor TorchHooks::make_tensor(const Object& s, int64_t offset, const Shape& size,
                               const std::vector<int64_t>& stride) {
  const std::string what = fmt::format("tensor of size {} stride {} at offset {} in storage \"{}\"",
                                       ints_string(size), ints_string(stride), offset, s.text);
  if (size.size() != stride.size())
    corrupt("pickle: " + what + ": size and stride differ in length");
  if (size.size() > 64) corrupt("pickle: " + what + ": too many dimensions");
  if (offset < 0) corrupt("pickle: " + what + ": negative offset");
  int64_t numel = 1;
  int64_t last = offset;  // the highest element index the view touches
  for (size_t d = 0; d < size.size(); ++d) {
    if (size[d] < 0 || stride[d] < 0) corrupt("pickle: " + what + ": negative size or stride");
    int64_t span = 0;
    if (!checked_mul(numel, size[d], &numel) ||
        (size[d] > 0 && (!checked_mul(size[d] - 1, stride[d], &span) ||
                         !checked_add(last, span, &last))))
      corrupt("pickle: " + what + ": too large");
  }
  if (numel == 0) return Tensor::empty(s.dtype, size);
  if (last >= s.numel)
    corrupt(fmt::format("pickle: {} reaches element {}, but the storage holds {}", what, last,
                        s.numel));
  const size_t esize = dtype_size(s.dtype);
  const size_t byte_offset = static_cast<size_t>(offset) * esize;

  // Physical order: dims by decreasing stride. The layout is dense (a permuted contiguous
  // tensor) when every dim of size > 1 has the stride a contiguous tensor of that order has.
  std::vector<int> order(size.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return stride[a] > stride[b]; });
  Shape physical(size.size());
  for (size_t k = 0; k < order.size(); ++k) physical[k] = size[order[k]];
  bool dense = true;
  int64_t expect = 1;
  for (size_t k = order.size(); k-- > 0;) {
    if (physical[k] > 1 && stride[order[k]] != expect) dense = false;
    expect *= physical[k];
  }
  if (!dense) {
    // A copy of a non-overlapping view is never larger than its storage; overlapping or
    // expanded views that are (stride 0 over a huge size) would let a tiny file demand
    // unbounded memory, so they are refused.
    if (numel > s.numel)
      unimplemented(fmt::format("pickle: {}: overlapping strides (more elements than the storage "
                                "holds) are not supported",
                                what));
    return gather(s.storage->data() + byte_offset, s.dtype, size, stride);
  }

  Tensor t = Tensor::view_of(s.storage, byte_offset, s.dtype, physical);
  // Transpose the physical dims back into the logical order (selection by position).
  std::vector<int> at(order);  // at[k]: logical dim now at position k
  for (int i = 0; i < static_cast<int>(at.size()); ++i) {
    const int j = static_cast<int>(std::find(at.begin(), at.end(), i) - at.begin());
    if (j != i) {
      t = t.transpose(i, j);
      std::swap(at[i], at[j]);
    }
  }
  return t;
}

}  // namespace

CheckpointData unpickle_state_dict(std::string_view data, const StorageLoader& load_storage) {
  TorchHooks hooks(load_storage);
  Unpickler u(data, hooks);
  const Value root = u.load();
  if (root.kind != Value::Kind::kObject || root.obj->type != ObjType::kDict)
    corrupt("pickle: the checkpoint is not a dict of tensors (a state dict)");
  CheckpointData out;
  const std::vector<Value>& items = root.obj->items;
  size_t skipped = 0;
  for (size_t i = 0; i + 1 < items.size(); i += 2) {
    const Value& k = items[i];
    const Value& v = items[i + 1];
    if (k.kind != Value::Kind::kObject || k.obj->type != ObjType::kString)
      corrupt("pickle: a state dict key is not a string");
    // Entries that are not tensors (a step counter, a nested dict of extra state) carry no
    // weights; transformers ignores them when it loads a state dict into a model.
    if (v.kind != Value::Kind::kObject || v.obj->type != ObjType::kTensor) {
      ++skipped;
      continue;
    }
    out.tensors[k.obj->text] = v.obj->tensor;
  }
  if (skipped > 0)
    log(LogLevel::kDebug, fmt::format("torch checkpoint: skipped {} non-tensor entries", skipped));
  return out;
}

Result<Checkpoint> parse_torch_pickle(
    std::string_view pickle,
    const std::function<Result<std::string>(const std::string& key)>& load_record) {
  return catch_errors([&] {
    const StorageLoader loader = [&](const std::string& key, size_t min_bytes) {
      Result<std::string> record = load_record(key);
      if (!record.ok()) throw Error(record.status());
      if (record->size() < min_bytes)
        corrupt(fmt::format("storage \"{}\" has {} bytes, its tensors need {}", key,
                            record->size(), min_bytes));
      std::shared_ptr<Storage> s = Storage::allocate(record->size());
      if (!record->empty()) std::memcpy(s->mutable_data(), record->data(), record->size());
      return s;
    };
    return CheckpointData::wrap(unpickle_state_dict(pickle, loader));
  });
}

}  // namespace mlhub::io
