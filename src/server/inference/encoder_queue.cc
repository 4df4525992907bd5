// EncoderQueue: dynamic batching for the encoder tasks, as text-embeddings-inference forms its
// batches (core/src/queue.rs): no timer, a batch is whatever queued while the previous one ran.
// One worker thread takes the oldest request, then every later request with the same parameters
// that fits the token and input budgets, runs them as one Pipeline::run_batch and hands each
// request its slice of the results.
#include <algorithm>
#include <atomic>

#include <fmt/format.h>

#include "server/inference/engine.h"

namespace mlhub::inference {
namespace {

using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// The size of one input as the budgets count it: a string's bytes, else its JSON text.
size_t input_bytes(const json& input) {
  return input.is_string() ? input.get_ref<const std::string&>().size() : input.dump().size();
}

// A cheap token estimate (about 3 bytes per token for English BPE/WordPiece, plus the special
// tokens): batching only needs a bound, and counting exactly would tokenize every input twice.
size_t estimate_tokens(const json& input) {
  return input_bytes(input) / 3 + 2;
}

// The pipeline's errors as the routes report them.
InferenceError to_inference_error(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const InferenceError& ie) {
    return ie;
  } catch (const Error& err) {
    if (err.code() == StatusCode::kInvalidArgument) {
      return InferenceError(ErrorKind::kValidation, err.what());
    }
    return InferenceError(ErrorKind::kGeneration, err.what());
  } catch (const std::bad_alloc&) {
    return InferenceError(ErrorKind::kGeneration, "out of memory while running the model");
  } catch (const std::exception& ex) {
    return InferenceError(ErrorKind::kGeneration, ex.what());
  } catch (...) {
    return InferenceError(ErrorKind::kGeneration, "unknown error while running the model");
  }
}

}  // namespace

struct EncoderQueue::Impl {
  struct Request {
    std::vector<json> inputs;
    const json* params = nullptr;  // owned by the waiting caller
    std::string key;               // params dump: only equal parameters share a batch
    size_t tokens = 0;             // estimate
    const std::function<bool()>* gone = nullptr;
    Clock::time_point queued_at;
    // Set by the worker under mu.
    bool started = false, done = false;
    std::vector<json> results;
    std::optional<InferenceError> error;
    double queue_ms = 0, compute_ms = 0;
    size_t batch_size = 0;
  };

  std::shared_ptr<const Pipeline> pipeline;
  QueueOptions options;
  mutable std::mutex mu;
  std::condition_variable work_cv;  // the worker waits for requests
  std::condition_variable done_cv;  // callers wait for their results
  std::deque<Request*> queue;
  bool stopping = false;
  size_t callers = 0;  // threads inside run(); the destructor waits for them to leave
  std::thread worker;

  void run_worker();
  std::vector<Request*> take_batch();
  void execute(const std::vector<Request*>& batch);
  // Runs the requests' inputs as one run_batch; on success every request gets its slice.
  bool run_together(const std::vector<Request*>& batch, std::exception_ptr* failure);
  void finish(Request* r);
};

// Called with mu held: the oldest request plus every compatible one that fits.
std::vector<EncoderQueue::Impl::Request*> EncoderQueue::Impl::take_batch() {
  std::vector<Request*> batch{queue.front()};
  queue.pop_front();
  size_t tokens = batch[0]->tokens, inputs = batch[0]->inputs.size();
  for (auto it = queue.begin(); it != queue.end();) {
    Request* r = *it;
    if (r->key == batch[0]->key && tokens + r->tokens <= options.max_batch_tokens &&
        inputs + r->inputs.size() <= options.max_batch_requests) {
      tokens += r->tokens;
      inputs += r->inputs.size();
      batch.push_back(r);
      it = queue.erase(it);
    } else {
      ++it;
    }
  }
  for (Request* r : batch) r->started = true;
  return batch;
}

void EncoderQueue::Impl::run_worker() {
  std::unique_lock lock(mu);
  while (true) {
    work_cv.wait(lock, [&] { return stopping || !queue.empty(); });
    if (stopping) return;
    std::vector<Request*> batch = take_batch();
    lock.unlock();
    execute(batch);
    lock.lock();
  }
}

void EncoderQueue::Impl::finish(Request* r) {
  std::lock_guard lock(mu);
  r->done = true;
  done_cv.notify_all();
}

bool EncoderQueue::Impl::run_together(const std::vector<Request*>& batch,
                                      std::exception_ptr* failure) {
  std::vector<json> inputs;
  for (Request* r : batch) inputs.insert(inputs.end(), r->inputs.begin(), r->inputs.end());
  const Clock::time_point start = Clock::now();
  std::vector<json> results;
  try {
    results = pipeline->run_batch(inputs, *batch[0]->params);
    if (results.size() != inputs.size()) {
      throw Error(StatusCode::kInternal,
                  fmt::format("the pipeline returned {} results for {} inputs", results.size(),
                              inputs.size()));
    }
  } catch (...) {
    *failure = std::current_exception();
    return false;
  }
  const Clock::time_point end = Clock::now();
  if (options.on_batch) {
    try {
      options.on_batch(inputs.size(), ms_between(start, end) / 1000.0);
    } catch (const std::exception& e) {  // metrics must not fail requests or kill the worker
      log(LogLevel::kError, std::string("inference: on_batch: ") + e.what());
    }
  }
  size_t at = 0;
  for (Request* r : batch) {
    const size_t n = r->inputs.size();
    r->results.assign(std::make_move_iterator(results.begin() + static_cast<std::ptrdiff_t>(at)),
                      std::make_move_iterator(results.begin() +
                                              static_cast<std::ptrdiff_t>(at + n)));
    at += n;
    r->queue_ms = ms_between(r->queued_at, start);
    r->compute_ms = ms_between(start, end);
    r->batch_size = inputs.size();
  }
  return true;
}

void EncoderQueue::Impl::execute(const std::vector<Request*>& selected) {
  // Drop the requests whose clients left while they waited: nobody would read their results.
  std::vector<Request*> batch;
  for (Request* r : selected) {
    if (*r->gone && (*r->gone)()) {
      r->error = InferenceError(ErrorKind::kUnavailable, "the client closed the connection");
      finish(r);
    } else {
      batch.push_back(r);
    }
  }
  if (batch.empty()) return;
  std::exception_ptr failure;
  if (run_together(batch, &failure)) {
    for (Request* r : batch) finish(r);
    return;
  }
  if (batch.size() == 1) {
    batch[0]->error = to_inference_error(failure);
    finish(batch[0]);
    return;
  }
  // One request's bad input must not fail the others: run each alone, so only the culprit
  // gets the error.
  for (Request* r : batch) {
    std::exception_ptr own;
    if (!run_together({r}, &own)) r->error = to_inference_error(own);
    finish(r);
  }
}

EncoderQueue::EncoderQueue(std::shared_ptr<const Pipeline> pipeline, QueueOptions options)
    : pipeline_(std::move(pipeline)), impl_(std::make_unique<Impl>()) {
  impl_->pipeline = pipeline_;
  impl_->options = std::move(options);
  impl_->worker = std::thread([impl = impl_.get()] { impl->run_worker(); });
}

EncoderQueue::~EncoderQueue() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
    // Waiting callers own their requests; they see `done` with the error and return.
    for (Impl::Request* r : impl_->queue) {
      r->error = InferenceError(ErrorKind::kUnavailable, "the model is being unloaded", 1);
      r->done = true;
    }
    impl_->queue.clear();
    impl_->work_cv.notify_all();
    impl_->done_cv.notify_all();
  }
  impl_->worker.join();
  // Woken callers must be out of our mutex and condition variable before they are destroyed.
  std::unique_lock lock(impl_->mu);
  impl_->done_cv.wait(lock, [&] { return impl_->callers == 0; });
}

std::vector<json> EncoderQueue::run(std::vector<json> inputs, const json& params,
                                    const std::function<bool()>& gone, RunStats* stats) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    const size_t bytes = input_bytes(inputs[i]);
    if (bytes > impl_->options.max_input_chars) {
      throw InferenceError(
          ErrorKind::kValidation,
          fmt::format("Input validation error: input {} has {} bytes, at most {} are allowed", i,
                      bytes, impl_->options.max_input_chars));
    }
  }
  if (inputs.empty()) return {};
  Impl::Request req;
  req.inputs = std::move(inputs);
  req.params = &params;
  req.key = params.dump();
  for (const json& in : req.inputs) req.tokens += estimate_tokens(in);
  req.gone = &gone;
  req.queued_at = Clock::now();
  {
    std::unique_lock lock(impl_->mu);
    ++impl_->callers;
    struct Leave {
      Impl* impl;
      ~Leave() {  // runs with the lock held (declared after it)
        if (--impl->callers == 0 && impl->stopping) impl->done_cv.notify_all();
      }
    } leave{impl_.get()};
    if (impl_->stopping) {
      throw InferenceError(ErrorKind::kUnavailable, "the model is being unloaded", 1);
    }
    if (impl_->queue.size() >= impl_->options.max_queued_requests) {
      throw InferenceError(ErrorKind::kOverloaded,
                           fmt::format("Model is overloaded: {} requests are queued",
                                       impl_->queue.size()),
                           1);
    }
    impl_->queue.push_back(&req);
    impl_->work_cv.notify_one();
    while (!req.done) {
      impl_->done_cv.wait_for(lock, std::chrono::milliseconds(50));
      if (!req.started && !req.done && gone && gone()) {
        impl_->queue.erase(std::find(impl_->queue.begin(), impl_->queue.end(), &req));
        throw InferenceError(ErrorKind::kUnavailable, "the client closed the connection");
      }
    }
  }
  if (req.error) throw *req.error;
  if (stats) {
    stats->queue_ms = req.queue_ms;
    stats->compute_ms = req.compute_ms;
    stats->batch_size = req.batch_size;
    stats->input_tokens = 0;
    for (const json& in : req.inputs) {
      int64_t n = -1;
      try {
        n = pipeline_->count_tokens(in, params);
      } catch (const std::exception&) {
      }
      if (n < 0) {
        stats->input_tokens = -1;
        break;
      }
      stats->input_tokens += n;
    }
  }
  return std::move(req.results);
}

size_t EncoderQueue::queued() const {
  std::lock_guard lock(impl_->mu);
  return impl_->queue.size();
}

}  // namespace mlhub::inference
