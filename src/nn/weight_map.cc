// WeightMap: binds checkpoint tensors to model parameters by their Hugging Face names, and reports
// missing / unexpected / mismatched keys with the semantics of transformers'
// PreTrainedModel._load_pretrained_model (modeling_utils.py, 4.57): legacy LayerNorm gamma/beta
// renames, base_model_prefix added or stripped, task keys of a head checkpoint reported as
// unexpected when a base model is loaded from it, ignore patterns searched as regexes.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <regex>

#include "mlhub/nn.h"

namespace mlhub::nn {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// transformers' _fix_state_dict_key_on_load: TensorFlow-era LayerNorm names.
std::string fix_legacy_key(const std::string& key) {
  if (ends_with(key, "LayerNorm.beta")) return key.substr(0, key.size() - 4) + "bias";
  if (ends_with(key, "LayerNorm.gamma")) return key.substr(0, key.size() - 5) + "weight";
  return key;
}

}  // namespace

struct WeightMap::State {
  std::shared_ptr<const io::Checkpoint> checkpoint;
  std::string model_prefix;     // base_model_prefix, e.g. "bert"
  bool task_from_base = false;  // head model, checkpoint keys lack the prefix
  bool base_from_task = false;  // base model, checkpoint keys carry the prefix
  // Model-side key -> checkpoint key (the inverse of transformers' key_renaming_mapping).
  std::map<std::string, std::string> model_to_checkpoint;
  // Checkpoint keys dropped by the renaming (task-specific keys of a head checkpoint when a base
  // model is loaded), reported as unexpected under their original names.
  std::vector<std::string> dropped_keys;

  std::mutex mu;
  std::set<std::string> expected;  // every model parameter asked for (the model's state dict)
  std::set<std::string> missing;
  std::set<std::string> tied;
  std::vector<std::string> mismatched;
  std::vector<std::string> mismatched_described;  // "key (checkpoint [a], model [b])"
  std::vector<std::regex> ignore_unexpected;
  std::set<std::string> ignore_unexpected_text;  // patterns already compiled
  bool keep_quantized = false;
};

WeightMap::WeightMap(std::shared_ptr<const io::Checkpoint> checkpoint, std::string model_prefix,
                     bool head_model)
    : state_(std::make_shared<State>()) {
  State& s = *state_;
  s.checkpoint = std::move(checkpoint);
  s.model_prefix = std::move(model_prefix);
  const std::vector<std::string> keys = s.checkpoint->names();
  // transformers tests `startswith(prefix)` without the dot here, and with it below.
  const bool has_prefix_module =
      !s.model_prefix.empty() && std::any_of(keys.begin(), keys.end(), [&](const std::string& k) {
        return starts_with(k, s.model_prefix);
      });
  const bool expects_prefix_module = head_model && !s.model_prefix.empty();
  s.task_from_base = !has_prefix_module && expects_prefix_module;
  s.base_from_task = has_prefix_module && !expects_prefix_module;
  const std::string dotted = s.model_prefix + ".";
  for (const std::string& key : keys) {
    std::string model_key = fix_legacy_key(key);
    if (s.task_from_base) {
      model_key = dotted + model_key;
    } else if (s.base_from_task) {
      if (!starts_with(model_key, dotted)) {
        s.dropped_keys.push_back(key);
        continue;
      }
      model_key = model_key.substr(dotted.size());
    }
    s.model_to_checkpoint[model_key] = key;
  }
}

WeightMap::WeightMap(std::shared_ptr<State> state, std::string prefix)
    : state_(std::move(state)), prefix_(std::move(prefix)) {}

void WeightMap::keep_quantized(bool keep) const { state_->keep_quantized = keep; }

WeightMap WeightMap::sub(std::string_view name) const {
  return WeightMap(state_, prefix_ + std::string(name) + ".");
}

std::string WeightMap::full_name(std::string_view name) const {
  return prefix_ + std::string(name);
}

bool WeightMap::has(std::string_view name) const {
  return state_->model_to_checkpoint.count(full_name(name)) != 0;
}

Tensor WeightMap::get_optional(std::string_view name, const Shape& shape) const {
  const std::string key = full_name(name);
  const auto it = state_->model_to_checkpoint.find(key);
  std::lock_guard lock(state_->mu);
  state_->expected.insert(key);
  if (it == state_->model_to_checkpoint.end()) return Tensor();
  const Tensor& t = state_->checkpoint->get(it->second);
  if (t.shape() != shape) {
    state_->mismatched.push_back(key);
    state_->mismatched_described.push_back(fmt::format(
        "{} (checkpoint {}, model {})", key, shape_string(t.shape()), shape_string(shape)));
    return Tensor::zeros(DType::kF32, shape);
  }
  if (dtype_is_quantized(t.dtype()))
    return state_->keep_quantized ? t : ops::dequantize(t);
  switch (t.dtype()) {
    case DType::kF32:
      return t;  // a view into the mapped file
    case DType::kF16:
    case DType::kBF16:
    case DType::kF64:
      return t.to(DType::kF32);
    default:
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("weight \"{}\" has dtype {}; a floating-point tensor is expected",
                              it->second, dtype_name(t.dtype())));
  }
}

Tensor WeightMap::get(std::string_view name, const Shape& shape) const {
  Tensor t = get_optional(name, shape);
  if (t.defined()) return t;
  std::lock_guard lock(state_->mu);
  state_->missing.insert(full_name(name));
  return Tensor::zeros(DType::kF32, shape);
}

void WeightMap::mark_tied(std::string_view name) const {
  std::lock_guard lock(state_->mu);
  state_->expected.insert(full_name(name));
  state_->tied.insert(full_name(name));
}

void WeightMap::ignore_unexpected(std::vector<std::string> patterns) const {
  std::lock_guard lock(state_->mu);
  for (std::string& p : patterns) {
    if (!state_->ignore_unexpected_text.insert(p).second) continue;
    // ECMAScript regexes accept the patterns transformers writes (".*", "\.", classes).
    state_->ignore_unexpected.emplace_back(p, std::regex::ECMAScript);
  }
}

Result<LoadReport> WeightMap::finish(bool allow_missing) const {
  return catch_errors([&]() -> LoadReport {
    State& s = *state_;
    std::lock_guard lock(s.mu);
    const std::string dotted = s.model_prefix + ".";
    if (s.task_from_base) {
      // transformers refuses a prefix-less checkpoint holding a key that only the head has.
      for (const auto& [model_key, ckpt_key] : s.model_to_checkpoint) {
        const std::string key = model_key.substr(dotted.size());  // renamed, prefix-less
        if (s.expected.count(key) && !starts_with(key, dotted) && !s.expected.count(model_key))
          throw Error(StatusCode::kCorruption,
                      fmt::format("checkpoint key \"{}\" belongs to the task head, but the "
                                  "checkpoint has no \"{}\" base model keys",
                                  ckpt_key, s.model_prefix));
      }
    }
    LoadReport report;
    for (const std::string& key : s.missing)
      if (!s.tied.count(key)) report.missing_keys.push_back(key);
    std::vector<std::string> unexpected;
    for (const auto& [model_key, ckpt_key] : s.model_to_checkpoint)
      if (!s.expected.count(model_key)) unexpected.push_back(model_key);
    for (const std::string& key : s.dropped_keys) unexpected.push_back(key);
    std::sort(unexpected.begin(), unexpected.end());
    unexpected.erase(std::unique(unexpected.begin(), unexpected.end()), unexpected.end());
    for (const std::string& key : unexpected) {
      const bool ignored =
          std::any_of(s.ignore_unexpected.begin(), s.ignore_unexpected.end(),
                      [&](const std::regex& re) { return std::regex_search(key, re); });
      if (ignored) continue;
      // Shown as the checkpoint spells them: transformers removes the prefix it added.
      if (s.task_from_base && starts_with(key, dotted)) {
        report.unexpected_keys.push_back(key.substr(dotted.size()));
      } else {
        report.unexpected_keys.push_back(key);
      }
    }
    report.mismatched_keys = s.mismatched;
    if (!allow_missing && (!report.missing_keys.empty() || !report.mismatched_keys.empty())) {
      std::string msg = "the checkpoint does not provide every weight of the model";
      if (!report.missing_keys.empty())
        msg += fmt::format("; missing: {}", fmt::join(report.missing_keys, ", "));
      if (!report.mismatched_keys.empty())
        msg += fmt::format("; wrong shape: {}", fmt::join(s.mismatched_described, ", "));
      throw Error(StatusCode::kInvalidArgument, msg);
    }
    for (const std::string& k : report.unexpected_keys)
      log(LogLevel::kInfo, fmt::format("checkpoint weight not used by the model: {}", k));
    return report;
  });
}

}  // namespace mlhub::nn
