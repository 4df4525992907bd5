// question-answering: transformers' QuestionAnsweringPipeline (pipelines/question_answering.py,
// fast-tokenizer path) over a *ForQuestionAnswering model.
//
// Input: {"question": ..., "context": ...}. Parameters: top_k (1), doc_stride (min(max_seq_len/2,
// 128)), max_seq_len (min(model_max_length, 384)), max_question_len (accepted; the fast path
// ignores it, as transformers does), max_answer_len (15), handle_impossible_answer (false),
// align_to_words (true). A context longer than max_seq_len is split into overlapping spans
// (truncation only_second with stride, overflowing encodings), each run through the model.
// Output: {"score","start","end","answer"} when one answer results, else a list of them.
#include <algorithm>

#include "pipelines/pipeline_internal.h"
#include "pipelines/postprocess.h"

namespace mlhub::pipelines {
namespace {

struct QaState {
  std::string question, context;
  bool question_first = true;
};

// Encoding.word_to_chars(word, sequence_index): the character span of `word` of that sequence.
std::optional<std::pair<size_t, size_t>> word_to_chars(const tok::Encoding& enc, uint32_t word,
                                                       size_t sequence) {
  auto range = enc.sequence_ranges.find(sequence);
  size_t begin = 0, end = enc.size();
  if (range != enc.sequence_ranges.end()) {  // else the whole encoding, as Rust's sequence_range
    begin = range->second.first;
    end = range->second.second;
  }
  std::optional<size_t> first, last;
  for (size_t i = begin; i < end && i < enc.size(); ++i) {
    // Rust's take_while(w <= Some(word)): the scan stops at the first later word.
    if (enc.words[i] && *enc.words[i] > word) break;
    if (enc.words[i] && *enc.words[i] == word) {
      if (!first) first = i;
      last = i;
    }
  }
  if (!first) return std::nullopt;
  return std::make_pair(enc.offsets[*first].first, enc.offsets[*last].second);
}

class QuestionAnswering final : public EncoderPipeline {
 public:
  QuestionAnswering(LoadedModel m, json init)
      : EncoderPipeline("question-answering", std::move(m), std::move(init)) {
    check_params(Params{init_, json::object()});
  }

 protected:
  void check_params(const Params& p) const override {
    const json& top_k = p.get("top_k").is_null() ? p.get("topk") : p.get("top_k");
    if (!top_k.is_null() && (!top_k.is_number_integer() || top_k.get<int64_t>() < 1)) {
      fail("top_k parameter should be >= 1 (got " + top_k.dump() + ")");
    }
    const json& mal = p.get("max_answer_len");
    if (!mal.is_null() && (!mal.is_number_integer() || mal.get<int64_t>() < 1)) {
      fail("max_answer_len parameter should be >= 1 (got " + mal.dump() + ")");
    }
    for (const char* key : {"doc_stride", "max_seq_len", "max_question_len"}) {
      const json& v = p.get(key);
      if (!v.is_null() && (!v.is_number_integer() || v.get<int64_t>() < 0)) {
        fail(std::string(key) + " must be a non-negative integer");
      }
    }
    param_bool(p, "handle_impossible_answer", false);
    param_bool(p, "align_to_words", true);
    const json& padding = p.get("padding");
    if (!padding.is_null() && padding != false && padding != "do_not_pad" && padding != "longest") {
      fail("question-answering supports padding=false/\"do_not_pad\" only");
    }
  }

  Prepared prepare(const json& input, const Params& p) const override {
    if (!input.is_object())
      fail("question-answering expects {\"question\": ..., \"context\": ...}");
    QaState st;
    for (const char* key : {"question", "context"}) {
      if (!input.contains(key)) {
        fail("You need to provide a dictionary with keys {question:..., context:...}");
      }
      const json& v = input[key];
      if (v.is_null()) fail(std::string("`") + key + "` cannot be None");
      if (!v.is_string()) fail(std::string("`") + key + "` must be a string");
      if (v.get_ref<const std::string&>().empty())
        fail(std::string("`") + key + "` cannot be empty");
    }
    st.question = input["question"].get<std::string>();
    st.context = input["context"].get<std::string>();
    st.question_first = m_.tok.info.padding_right;

    const TokenizerInfo& info = m_.tok.info;
    int64_t max_seq_len = param_int(p, "max_seq_len", -1);
    if (max_seq_len < 0) max_seq_len = std::min<int64_t>(info.model_max_length.value_or(384), 384);
    int64_t doc_stride = param_int(p, "doc_stride", -1);
    if (doc_stride < 0) doc_stride = std::min<int64_t>(max_seq_len / 2, 128);
    if (doc_stride > max_seq_len) {
      fail("`doc_stride` (" + std::to_string(doc_stride) + ") is larger than `max_seq_len` (" +
           std::to_string(max_seq_len) + ")");
    }
    tok::TruncationParams trunc;
    trunc.max_length = static_cast<size_t>(max_seq_len);
    trunc.stride = static_cast<size_t>(doc_stride);
    trunc.strategy = st.question_first ? tok::TruncationStrategy::kOnlySecond
                                       : tok::TruncationStrategy::kOnlyFirst;
    trunc.direction =
        info.truncation_right ? tok::TruncationDirection::kRight : tok::TruncationDirection::kLeft;
    const tok::Tokenizer tk = configured(m_.tok.tokenizer, trunc);
    tok::Encoding enc = st.question_first ? encode(tk, st.question, st.context)
                                          : encode(tk, st.context, st.question);
    Prepared out;
    std::vector<tok::Encoding> overflow = std::move(enc.overflowing);
    enc.overflowing.clear();
    out.rows.push_back(std::move(enc));
    for (tok::Encoding& o : overflow) {
      o.overflowing.clear();
      out.rows.push_back(std::move(o));
    }
    out.state = std::move(st);
    return out;
  }

  json finish(const json&, Prepared& prepared, std::span<const RowOutput> outputs,
              const Params& p) const override {
    const QaState& st = std::any_cast<const QaState&>(prepared.state);
    const json& tk_json = p.get("top_k").is_null() ? p.get("topk") : p.get("top_k");
    const int64_t top_k = tk_json.is_null() ? 1 : tk_json.get<int64_t>();
    const bool impossible = param_bool(p, "handle_impossible_answer", false);
    const int64_t max_answer_len = param_int(p, "max_answer_len", 15);
    const bool align = param_bool(p, "align_to_words", true);
    const int64_t pre_topk = align ? top_k * 2 + 10 : top_k;
    const CharIndex context_chars(st.context);
    const size_t sequence_index = st.question_first ? 1 : 0;

    double min_null_score = 1000000;  // large and positive
    json answers = json::array();
    for (size_t r = 0; r < prepared.rows.size(); ++r) {
      const tok::Encoding& enc = prepared.rows[r];
      const auto seq = enc.sequence_ids();
      // p_mask: 1 outside the context (question first), 0 everywhere otherwise; the CLS token
      // stays selectable.
      std::vector<uint8_t> allowed(enc.size());
      for (size_t i = 0; i < enc.size(); ++i) {
        bool masked = st.question_first ? !(seq[i] && *seq[i] == 1) : false;
        if (m_.tok.info.cls_id && enc.ids[i] == *m_.tok.info.cls_id) masked = false;
        const bool attended = enc.attention_mask.empty() || enc.attention_mask[i] != 0;
        allowed[i] = !masked && attended;
      }
      const RowOutput& o = outputs[r];
      const auto spans = select_spans(o.values, o.values2, allowed, pre_topk, impossible,
                                      max_answer_len, min_null_score);
      for (const SpanCandidate& c : spans) {
        auto [start, end] = indices(enc, c.start, c.end, sequence_index, align);
        std::string target = context_chars.slice(start, end);
        const std::string target_lower = py_lower(target);
        bool merged = false;
        for (json& a : answers) {
          if (py_lower(a["answer"].get_ref<const std::string&>()) == target_lower) {
            a["score"] = a["score"].get<double>() + static_cast<double>(c.score);
            merged = true;
            break;
          }
        }
        if (!merged) {
          answers.push_back({{"score", static_cast<double>(c.score)},
                             {"start", start},
                             {"end", end},
                             {"answer", std::move(target)}});
        }
      }
    }
    if (impossible) {
      answers.push_back({{"score", min_null_score}, {"start", 0}, {"end", 0}, {"answer", ""}});
    }
    std::vector<json> sorted(answers.begin(), answers.end());
    std::stable_sort(sorted.begin(), sorted.end(), [](const json& a, const json& b) {
      return a["score"].get<double>() > b["score"].get<double>();
    });
    if (static_cast<int64_t>(sorted.size()) > top_k) sorted.resize(static_cast<size_t>(top_k));
    if (sorted.size() == 1) return sorted.front();
    return json(sorted);
  }

 private:
  // get_indices: the answer's character span, widened to whole words when align_to_words.
  static std::pair<int64_t, int64_t> indices(const tok::Encoding& enc, int64_t s, int64_t e,
                                             size_t sequence_index, bool align) {
    if (align && enc.words[s] && enc.words[e]) {
      auto first = word_to_chars(enc, *enc.words[s], sequence_index);
      auto last = word_to_chars(enc, *enc.words[e], sequence_index);
      if (first && last) return {first->first, last->second};
    }
    return {static_cast<int64_t>(enc.offsets[s].first),
            static_cast<int64_t>(enc.offsets[e].second)};
  }
};

}  // namespace

std::unique_ptr<Pipeline> make_question_answering(const std::filesystem::path& model,
                                                  const json& init) {
  return std::make_unique<QuestionAnswering>(load_model(model, models::Head::kQuestionAnswering),
                                             init);
}

}  // namespace mlhub::pipelines
