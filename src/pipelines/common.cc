// What the task pipelines share: loading the model, batching rows through it, parameters, the
// EncoderPipeline driver, and small numeric / text helpers with Python semantics.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "pipelines/pipeline_internal.h"
#include "tokenizers/unicode.h"

namespace mlhub {

std::vector<nlohmann::json> Pipeline::run_batch(const std::vector<nlohmann::json>& inputs,
                                                const nlohmann::json& params) const {
  std::vector<nlohmann::json> out;
  out.reserve(inputs.size());
  for (const auto& in : inputs) out.push_back(run(in, params));
  return out;
}

}  // namespace mlhub

namespace mlhub::pipelines {
namespace {

// Batches stop growing at these sizes: the padded token count bounds the activations, and the
// masked-LM head's [B, T, vocab] logits need a tighter bound.
constexpr size_t kMaxBatchRows = 32;
constexpr size_t kMaxBatchTokens = 8192;
constexpr size_t kMaxBatchLogits = size_t{64} << 20;  // floats

std::vector<float> to_float_vector(const Tensor& t) {
  const Tensor c = t.to(DType::kF32).contiguous();
  const float* p = c.data<float>();
  return std::vector<float>(p, p + c.numel());
}

}  // namespace

LoadedModel load_model(const std::filesystem::path& folder, models::Head head) {
  models::LoadOptions opts;
  opts.head = head;
  auto model = models::load_encoder(folder, opts);
  if (!model.ok()) throw Error(model.status());
  return LoadedModel{std::shared_ptr<const models::EncoderModel>(std::move(*model)),
                     load_tokenizer(folder)};
}

std::vector<RowOutput> forward_rows(const LoadedModel& m, const std::vector<tok::Encoding>& rows) {
  std::vector<RowOutput> out(rows.size());
  if (rows.empty()) return out;
  const models::Head head = m.model->head();
  const models::ModelConfig& cfg = m.model->config();
  const bool type_ids = m.tok.info.returns_token_type_ids && cfg.type_vocab_size > 0;
  const bool pad_right = m.tok.info.padding_right;
  const int64_t pad_id =
      m.tok.info.pad_id ? *m.tok.info.pad_id : std::max<int64_t>(cfg.pad_token_id, 0);
  int64_t per_token = 1;
  if (head == models::Head::kMaskedLM) per_token = cfg.raw.value("vocab_size", int64_t{32000});

  // Rows sorted by length so each batch pads little; results go back by index.
  std::vector<size_t> order(rows.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return rows[a].size() < rows[b].size(); });
  size_t begin = 0;
  while (begin < order.size()) {
    size_t end = begin + 1;
    while (end < order.size() && end - begin < kMaxBatchRows) {
      const size_t len = std::max<size_t>(rows[order[end]].size(), 1);
      const size_t n = end - begin + 1;
      if (n * len > kMaxBatchTokens || n * len * per_token > kMaxBatchLogits) break;
      ++end;
    }
    const int64_t batch = static_cast<int64_t>(end - begin);
    int64_t len = 1;
    for (size_t i = begin; i < end; ++i) len = std::max<int64_t>(len, rows[order[i]].size());
    // Padding goes on the tokenizer's padding_side, as transformers pads a batch: XLNet's is the
    // left, so that its last position (what its sequence summary reads) is a real token.
    std::vector<int64_t> ids(batch * len, pad_id), mask(batch * len, 0), types(batch * len, 0);
    std::vector<int64_t> first(batch, 0);  // where each row's tokens start
    for (int64_t b = 0; b < batch; ++b) {
      const tok::Encoding& e = rows[order[begin + b]];
      if (!pad_right) first[b] = len - static_cast<int64_t>(e.size());
      for (size_t t = 0; t < e.size(); ++t) {
        const int64_t at = b * len + first[b] + static_cast<int64_t>(t);
        ids[at] = e.ids[t];
        mask[at] = e.attention_mask.empty() ? 1 : e.attention_mask[t];
        types[at] = e.type_ids.empty() ? 0 : e.type_ids[t];
      }
    }
    models::EncoderInput in;
    in.input_ids = Tensor::from_ints(ids, {batch, len});
    in.attention_mask = Tensor::from_ints(mask, {batch, len});
    if (type_ids) in.token_type_ids = Tensor::from_ints(types, {batch, len});
    models::EncoderOutput o = m.model->forward(in);

    for (int64_t b = 0; b < batch; ++b) {
      RowOutput& r = out[order[begin + b]];
      const int64_t n = static_cast<int64_t>(rows[order[begin + b]].size());
      const int64_t from = first[b], to = first[b] + n;
      if (head == models::Head::kSequenceClassification) {
        r.values = to_float_vector(o.logits.select(0, b));
        r.rows = 1;
        r.cols = static_cast<int64_t>(r.values.size());
      } else if (head == models::Head::kQuestionAnswering) {
        r.values = to_float_vector(o.start_logits.select(0, b).slice(0, from, to));
        r.values2 = to_float_vector(o.end_logits.select(0, b).slice(0, from, to));
        r.rows = n;
        r.cols = 1;
      } else {
        const Tensor& t = head == models::Head::kBase ? o.last_hidden_state : o.logits;
        r.values = to_float_vector(t.select(0, b).slice(0, from, to));
        r.rows = n;
        r.cols = t.dim(-1);
      }
    }
    begin = end;
  }
  return out;
}

// ---- params -------------------------------------------------------------------------------

const json& Params::get(const char* key) const {
  static const json kNull;
  auto it = merged.find(key);
  return it == merged.end() ? kNull : *it;
}

bool param_bool(const Params& p, const char* key, bool fallback) {
  const json& v = p.get(key);
  if (v.is_null()) return fallback;
  if (!v.is_boolean()) fail(std::string(key) + " must be a boolean");
  return v.get<bool>();
}

int64_t param_int(const Params& p, const char* key, int64_t fallback) {
  const json& v = p.get(key);
  if (v.is_null()) return fallback;
  if (!v.is_number_integer()) fail(std::string(key) + " must be an integer");
  return v.get<int64_t>();
}

std::string param_string(const Params& p, const char* key, const std::string& fallback) {
  const json& v = p.get(key);
  if (v.is_null()) return fallback;
  if (!v.is_string()) fail(std::string(key) + " must be a string");
  return v.get<std::string>();
}

// ---- EncoderPipeline ----------------------------------------------------------------------

EncoderPipeline::EncoderPipeline(std::string task, LoadedModel model, json init)
    : m_(std::move(model)), init_(std::move(init)) {
  task_ = std::move(task);
  if (!init_.is_object()) fail("pipeline init parameters must be a JSON object");
}

json EncoderPipeline::run(const json& input, const json& params) const {
  return run_batch({input}, params).front();
}

namespace {

Params merged_params(const json& init, const json& params) {
  if (!params.is_object() && !params.is_null()) fail("pipeline parameters must be a JSON object");
  Params p;
  p.merged = init;
  if (params.is_object()) {
    p.call = params;
    for (const auto& [k, v] : params.items()) p.merged[k] = v;
  }
  return p;
}

}  // namespace

int64_t EncoderPipeline::count_tokens(const json& input, const json& params) const {
  const Params p = merged_params(init_, params);
  check_params(p);
  const Prepared prepared = prepare(input, p);
  int64_t n = 0;
  for (const tok::Encoding& e : prepared.rows) n += static_cast<int64_t>(e.ids.size());
  return n;
}

std::vector<json> EncoderPipeline::run_batch(const std::vector<json>& inputs,
                                             const json& params) const {
  const Params p = merged_params(init_, params);
  check_params(p);
  std::vector<Prepared> prepared;
  prepared.reserve(inputs.size());
  std::vector<tok::Encoding> rows;
  std::vector<size_t> first_row;
  for (const json& in : inputs) {
    prepared.push_back(prepare(in, p));
    first_row.push_back(rows.size());
    for (const tok::Encoding& e : prepared.back().rows) rows.push_back(e);
  }
  const std::vector<RowOutput> outputs = forward_rows(m_, rows);
  std::vector<json> results;
  results.reserve(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::span<const RowOutput> mine(outputs.data() + first_row[i], prepared[i].rows.size());
    results.push_back(finish(inputs[i], prepared[i], mine, p));
  }
  return results;
}

// ---- math ---------------------------------------------------------------------------------

std::vector<float> softmax(std::span<const float> x) {
  std::vector<float> out(x.size());
  if (x.empty()) return out;
  const float mx = *std::max_element(x.begin(), x.end());
  double sum = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    out[i] = std::exp(x[i] - mx);
    sum += out[i];
  }
  for (float& v : out) v = static_cast<float>(v / sum);
  return out;
}

std::vector<float> sigmoid(std::span<const float> x) {
  std::vector<float> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = 1.0f / (1.0f + std::exp(-x[i]));
  return out;
}

size_t argmax(std::span<const float> x) {
  size_t best = 0;
  for (size_t i = 1; i < x.size(); ++i) {
    if (x[i] > x[best]) best = i;
  }
  return best;
}

// ---- text ---------------------------------------------------------------------------------

CharIndex::CharIndex(std::string_view text) : text_(text) {
  size_t i = 0;
  while (i < text.size()) {
    bytes_.push_back(i);
    i += tok::unicode::utf8_seq_len(static_cast<unsigned char>(text[i]));
  }
  bytes_.push_back(std::min(i, text.size()));
}

std::string CharIndex::slice(int64_t begin, int64_t end) const {
  const int64_t n = static_cast<int64_t>(size());
  // Python slice semantics: negative indices count from the end, then clamp.
  auto norm = [n](int64_t v) { return v < 0 ? std::max<int64_t>(v + n, 0) : std::min(v, n); };
  begin = norm(begin);
  end = norm(end);
  if (end <= begin) return std::string();
  return std::string(text_.substr(bytes_[begin], bytes_[end] - bytes_[begin]));
}

std::string py_lower(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    char32_t c = tok::unicode::decode_utf8(s, i);
    char32_t low[3];
    int n = tok::unicode::to_lowercase(c, low);
    for (int k = 0; k < n; ++k) tok::unicode::append_utf8(out, low[k]);
  }
  return out;
}

namespace {
bool py_isspace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}
}  // namespace

std::string py_strip(std::string_view s) {
  size_t begin = 0, end = s.size();
  while (begin < end) {
    size_t i = begin;
    if (!py_isspace(tok::unicode::decode_utf8(s, i))) break;
    begin = i;
  }
  while (end > begin) {
    size_t start = end - 1;
    while (start > begin && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    size_t i = start;
    if (!py_isspace(tok::unicode::decode_utf8(s, i))) break;
    end = start;
  }
  return std::string(s.substr(begin, end - begin));
}

}  // namespace mlhub::pipelines
