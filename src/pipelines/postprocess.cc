// Pure post-processing of token classification, question answering and zero-shot
// classification, written from transformers 4.57.3 pipelines/*.py (see postprocess.h).
#include "pipelines/postprocess.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <numeric>

#include "mlhub/core.h"

namespace mlhub::pipelines {
namespace {

size_t first_argmax(std::span<const float> x) {
  size_t best = 0;
  for (size_t i = 1; i < x.size(); ++i) {
    if (x[i] > x[best]) best = i;
  }
  return best;
}

const std::string& label_of(const std::vector<std::string>& id2label, size_t i) {
  if (i >= id2label.size()) {
    throw Error(StatusCode::kInvalidArgument, "the model predicts label " + std::to_string(i) +
                                                  " but config.json's id2label has " +
                                                  std::to_string(id2label.size()) + " labels");
  }
  return id2label[i];
}

// get_tag: ("B"|"I", tag) from "B-TAG" / "I-TAG"; any other label is an "I" of itself.
std::pair<char, std::string> get_tag(const std::string& name) {
  if (name.rfind("B-", 0) == 0) return {'B', name.substr(2)};
  if (name.rfind("I-", 0) == 0) return {'I', name.substr(2)};
  return {'I', name};
}

Entity group_sub_entities(const std::vector<Entity>& group, const TokensToString& to_string) {
  Entity out;
  const std::string& first = group.front().entity;
  const size_t dash = first.find('-');
  out.entity = dash == std::string::npos ? first : first.substr(dash + 1);
  out.grouped = true;
  double sum = 0;
  size_t n = 0;
  std::vector<std::string> words;
  for (const Entity& e : group) {
    if (!std::isnan(e.score)) {  // np.nanmean
      sum += e.score;
      ++n;
    }
    words.push_back(e.word);
  }
  out.score = n ? sum / n : std::nan("");
  out.word = to_string(words);
  out.start = group.front().start;
  out.end = group.back().end;
  return out;
}

std::vector<Entity> group_entities(const std::vector<Entity>& entities,
                                   const TokensToString& to_string) {
  std::vector<Entity> groups;
  std::vector<Entity> current;
  for (const Entity& e : entities) {
    if (current.empty()) {
      current.push_back(e);
      continue;
    }
    auto [bi, tag] = get_tag(e.entity);
    auto [last_bi, last_tag] = get_tag(current.back().entity);
    if (tag == last_tag && bi != 'B') {
      current.push_back(e);
    } else {
      groups.push_back(group_sub_entities(current, to_string));
      current = {e};
    }
  }
  if (!current.empty()) groups.push_back(group_sub_entities(current, to_string));
  return groups;
}

Entity aggregate_word(const std::vector<const PreEntity*>& tokens, Aggregation strategy,
                      const std::vector<std::string>& id2label, const TokensToString& to_string) {
  std::vector<std::string> words;
  for (const PreEntity* t : tokens) words.push_back(t->word);
  Entity out;
  out.word = to_string(words);
  if (strategy == Aggregation::kFirst) {
    const auto& s = tokens.front()->scores;
    size_t idx = first_argmax(s);
    out.score = s[idx];
    out.entity = label_of(id2label, idx);
  } else if (strategy == Aggregation::kMax) {
    const PreEntity* best = tokens.front();
    float best_max = *std::max_element(best->scores.begin(), best->scores.end());
    for (const PreEntity* t : tokens) {
      float m = *std::max_element(t->scores.begin(), t->scores.end());
      if (m > best_max) {
        best = t;
        best_max = m;
      }
    }
    size_t idx = first_argmax(best->scores);
    out.score = best->scores[idx];
    out.entity = label_of(id2label, idx);
  } else {  // kAverage: np.nanmean over the word's tokens, in float32
    const size_t n_labels = tokens.front()->scores.size();
    std::vector<float> avg(n_labels);
    for (size_t l = 0; l < n_labels; ++l) {
      double sum = 0;
      size_t n = 0;
      for (const PreEntity* t : tokens) {
        if (!std::isnan(t->scores[l])) {
          sum += t->scores[l];
          ++n;
        }
      }
      avg[l] = n ? static_cast<float>(sum / n) : std::nanf("");
    }
    size_t idx = first_argmax(avg);
    out.score = avg[idx];
    out.entity = label_of(id2label, idx);
  }
  out.start = tokens.front()->start;
  out.end = tokens.back()->end;
  return out;
}

}  // namespace

Aggregation parse_aggregation(const std::string& name) {
  std::string n;
  for (char c : name) n += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (n == "none") return Aggregation::kNone;
  if (n == "simple") return Aggregation::kSimple;
  if (n == "first") return Aggregation::kFirst;
  if (n == "average") return Aggregation::kAverage;
  if (n == "max") return Aggregation::kMax;
  throw Error(StatusCode::kInvalidArgument,
              "aggregation_strategy must be one of none, simple, first, average, max (got \"" +
                  name + "\")");
}

nlohmann::json entity_to_json(const Entity& e) {
  nlohmann::json j = nlohmann::json::object();
  j[e.grouped ? "entity_group" : "entity"] = e.entity;
  j["score"] = e.score;
  if (e.index) j["index"] = *e.index;
  j["word"] = e.word;
  j["start"] = e.start ? nlohmann::json(*e.start) : nlohmann::json(nullptr);
  j["end"] = e.end ? nlohmann::json(*e.end) : nlohmann::json(nullptr);
  return j;
}

std::vector<Entity> aggregate_entities(const std::vector<PreEntity>& pre, Aggregation strategy,
                                       const std::vector<std::string>& id2label,
                                       const TokensToString& tokens_to_string) {
  std::vector<Entity> entities;
  if (strategy == Aggregation::kNone || strategy == Aggregation::kSimple) {
    for (const PreEntity& p : pre) {
      Entity e;
      size_t idx = first_argmax(p.scores);
      e.entity = label_of(id2label, idx);
      e.score = p.scores[idx];
      e.index = p.index;
      e.word = p.word;
      e.start = p.start;
      e.end = p.end;
      entities.push_back(std::move(e));
    }
    if (strategy == Aggregation::kNone) return entities;
    return group_entities(entities, tokens_to_string);
  }
  // aggregate_words: a word is a first token and the subword tokens after it.
  std::vector<const PreEntity*> word;
  for (const PreEntity& p : pre) {
    if (!word.empty() && !p.is_subword) {
      entities.push_back(aggregate_word(word, strategy, id2label, tokens_to_string));
      word.clear();
    }
    word.push_back(&p);
  }
  if (!word.empty()) entities.push_back(aggregate_word(word, strategy, id2label, tokens_to_string));
  return group_entities(entities, tokens_to_string);
}

std::vector<Entity> filter_entities(std::vector<Entity> entities,
                                    const std::vector<std::string>& ignore_labels) {
  std::vector<Entity> out;
  for (Entity& e : entities) {
    if (std::find(ignore_labels.begin(), ignore_labels.end(), e.entity) == ignore_labels.end()) {
      out.push_back(std::move(e));
    }
  }
  return out;
}

std::vector<Entity> aggregate_overlapping_entities(std::vector<Entity> entities) {
  if (entities.empty()) return entities;
  std::stable_sort(entities.begin(), entities.end(), [](const Entity& a, const Entity& b) {
    return a.start.value_or(0) < b.start.value_or(0);
  });
  std::vector<Entity> out;
  Entity previous = entities.front();
  for (const Entity& e : entities) {
    const int64_t s = e.start.value_or(0), t = e.end.value_or(0);
    const int64_t ps = previous.start.value_or(0), pt = previous.end.value_or(0);
    if (ps <= s && s < pt) {
      const int64_t len = t - s, prev_len = pt - ps;
      if (len > prev_len || (len == prev_len && e.score > previous.score)) previous = e;
    } else {
      out.push_back(previous);
      previous = e;
    }
  }
  out.push_back(previous);
  return out;
}

// ---- question answering -------------------------------------------------------------------

namespace {

// Softmax (float32, as numpy) of `logits` with disallowed tokens set to -10000.
std::vector<float> masked_probs(std::span<const float> logits, std::span<const uint8_t> allowed) {
  std::vector<float> v(logits.size());
  for (size_t i = 0; i < v.size(); ++i) v[i] = allowed[i] ? logits[i] : -10000.0f;
  const float mx = *std::max_element(v.begin(), v.end());
  double sum = 0;
  for (float& x : v) {
    x = std::exp(x - mx);
    sum += x;
  }
  for (float& x : v) x = static_cast<float>(x / sum);
  return v;
}

}  // namespace

std::vector<SpanCandidate> select_spans(std::span<const float> start_logits,
                                        std::span<const float> end_logits,
                                        std::span<const uint8_t> allowed, int64_t top_k,
                                        bool handle_impossible_answer, int64_t max_answer_len,
                                        double& min_null_score) {
  const int64_t n = static_cast<int64_t>(start_logits.size());
  if (n == 0 || end_logits.size() != start_logits.size() || allowed.size() != start_logits.size()) {
    throw Error(StatusCode::kInternal, "select_spans: logits and mask sizes differ");
  }
  std::vector<float> start = masked_probs(start_logits, allowed);
  std::vector<float> end = masked_probs(end_logits, allowed);
  if (handle_impossible_answer) {
    min_null_score = std::min(min_null_score, static_cast<double>(start[0] * end[0]));
  }
  start[0] = end[0] = 0.0f;

  // decode_spans: scores of start <= end < start + max_answer_len, the rest are 0. Candidates
  // in score order, ties in flat (start * n + end) order.
  struct Flat {
    float score;
    int64_t index;
  };
  std::vector<Flat> positive;
  for (int64_t s = 0; s < n; ++s) {
    for (int64_t e = s; e < n && e < s + max_answer_len; ++e) {
      const float v = start[s] * end[e];
      if (v > 0) positive.push_back({v, s * n + e});
    }
  }
  const size_t k = static_cast<size_t>(std::min<int64_t>(top_k, n * n));
  auto better = [](const Flat& a, const Flat& b) {
    return a.score > b.score || (a.score == b.score && a.index < b.index);
  };
  if (positive.size() > k) {
    std::partial_sort(positive.begin(), positive.begin() + k, positive.end(), better);
    positive.resize(k);
  } else {
    std::sort(positive.begin(), positive.end(), better);
    // Fewer positive candidates than asked: zero-score spans fill up, in flat order.
    std::vector<bool> taken(static_cast<size_t>(n * n), false);
    for (const Flat& f : positive) taken[f.index] = true;
    for (int64_t i = 0; i < n * n && positive.size() < k; ++i) {
      if (!taken[i]) positive.push_back({0.0f, i});
    }
  }
  // np.isin(starts, undesired_tokens.nonzero()): nonzero() of the [1, n] mask also yields its
  // row indices (all 0), so index 0 passes whenever any token is allowed.
  bool any_allowed = false;
  for (uint8_t a : allowed) any_allowed = any_allowed || a;
  auto desired = [&](int64_t i) { return allowed[i] || (i == 0 && any_allowed); };
  std::vector<SpanCandidate> out;
  for (const Flat& f : positive) {
    const int64_t s = f.index / n, e = f.index % n;
    if (desired(s) && desired(e)) out.push_back({s, e, f.score});
  }
  return out;
}

// ---- zero-shot ----------------------------------------------------------------------------

std::vector<float> zero_shot_scores(const std::vector<std::vector<float>>& logits,
                                    int64_t entailment_id, bool multi_label) {
  std::vector<float> scores(logits.size());
  if (logits.empty()) return scores;
  const int64_t cols = static_cast<int64_t>(logits.front().size());
  auto column = [cols](int64_t id) { return id < 0 ? cols + id : id; };
  const int64_t entail = column(entailment_id);
  if (entail < 0 || entail >= cols) {
    throw Error(StatusCode::kInvalidArgument, "entailment label id out of range of the logits");
  }
  if (multi_label || logits.size() == 1) {
    const int64_t contradiction = column(entailment_id == 0 ? -1 : 0);
    for (size_t i = 0; i < logits.size(); ++i) {
      const float c = logits[i][contradiction], e = logits[i][entail];
      const float m = std::max(c, e);
      const float ec = std::exp(c - m), ee = std::exp(e - m);
      scores[i] = ee / (ec + ee);
    }
    return scores;
  }
  float m = logits[0][entail];
  for (const auto& row : logits) m = std::max(m, row[entail]);
  double sum = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    scores[i] = std::exp(logits[i][entail] - m);
    sum += scores[i];
  }
  for (float& s : scores) s = static_cast<float>(s / sum);
  return scores;
}

std::vector<size_t> zero_shot_order(const std::vector<float>& scores) {
  std::vector<size_t> idx(scores.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(),
                   [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  std::reverse(idx.begin(), idx.end());
  return idx;
}

}  // namespace mlhub::pipelines
