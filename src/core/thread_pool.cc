#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <latch>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "mlhub/core.h"

namespace mlhub {

ThreadPool::ThreadPool(size_t num_threads) {
  if (num_threads == 0) num_threads = std::max(1u, std::thread::hardware_concurrency());
  workers_.reserve(num_threads);
  for (size_t i = 0; i < num_threads; ++i) workers_.emplace_back([this] { worker_loop(); });
  max_lanes_ = num_threads + 1;
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

namespace {

// How long an idle worker polls for the next job before it sleeps. Ops of a forward pass follow
// each other within microseconds, so workers stay awake through a pass: a 2-lane parallel_for
// round trip measured 0.4-0.5 us instead of 4.7-6 us through the condition variable (2-core
// Zen4 VM; bench/gemm_bench.cc mlhub/pool_dispatch). When the cores are oversubscribed the
// yielding poll costs about 1 us more per dispatch than sleeping would.
constexpr auto kSpinTime = std::chrono::microseconds(50);

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

// Polls `ready` for up to kSpinTime: a short pause-spin, then yields between polls so that a
// polling thread never holds a core that the thread it waits for (or anyone else) needs.
// Returns whether `ready` held.
template <typename Ready>
bool spin_until(Ready ready) {
  std::chrono::steady_clock::time_point until{};
  for (int i = 0; !ready(); ++i) {
    if (i < 64) {
      cpu_relax();
      continue;
    }
    if (i == 64) until = std::chrono::steady_clock::now() + kSpinTime;
    std::this_thread::yield();
    if (i % 16 == 0 && std::chrono::steady_clock::now() > until) return false;
  }
  return true;
}

}  // namespace

void ThreadPool::submit(std::function<void()> job) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.push_back(std::move(job));
    pending_.fetch_add(1, std::memory_order_release);
    wake = sleeping_ > 0;
  }
  if (wake) cv_.notify_one();
}

void ThreadPool::worker_loop() {
  for (;;) {
    const bool woke = spin_until([this] { return pending_.load(std::memory_order_acquire) != 0; });
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (woke && jobs_.empty() && !stop_) continue;  // another worker took it: poll again
      ++sleeping_;
      cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
      --sleeping_;
      if (jobs_.empty()) return;  // stop_ and nothing left
      job = std::move(jobs_.front());
      jobs_.pop_front();
      pending_.fetch_sub(1, std::memory_order_relaxed);
    }
    job();
  }
}

void ThreadPool::parallel_for(size_t n, const std::function<void(size_t)>& fn) {
  if (n == 0) return;
  // The caller takes one chunk itself, so a pool of k workers gives k + 1 lanes; with one
  // item or one worker there is nothing to gain from handing work over.
  const size_t lanes = std::min(n, max_lanes_);
  if (lanes <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::mutex err_mu;
  std::exception_ptr first_error;
  auto run_chunk = [&](size_t lane) {
    const size_t begin = n * lane / lanes, end = n * (lane + 1) / lanes;
    try {
      for (size_t i = begin; i < end; ++i) fn(i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(err_mu);
      if (!first_error) first_error = std::current_exception();
    }
  };
  std::latch done(static_cast<std::ptrdiff_t>(lanes - 1));
  for (size_t lane = 1; lane < lanes; ++lane) {
    submit([&, lane] {
      run_chunk(lane);
      done.count_down();
    });
  }
  run_chunk(0);
  // The other chunks usually end within microseconds of ours: poll (pausing, then yielding the
  // core in case a worker shares it) before blocking, as the workers do.
  spin_until([&] { return done.try_wait(); });
  done.wait();
  if (first_error) std::rethrow_exception(first_error);
}

ThreadPool& ThreadPool::global() {
  static const size_t want = [] {
    const char* v = std::getenv("MLHUB_NUM_THREADS");
    const long n = v ? std::strtol(v, nullptr, 10) : 0;
    return n > 0 ? static_cast<size_t>(n) : size_t{std::max(1u, std::thread::hardware_concurrency())};
  }();
  // The caller of parallel_for is one lane, so the pool holds one worker fewer than wanted
  // (and MLHUB_NUM_THREADS=1 runs everything on the calling thread).
  static ThreadPool pool(want > 1 ? want - 1 : size_t{1});
  static const bool limited = [] {
    pool.max_lanes_ = want;
    return true;
  }();
  (void)limited;
  return pool;
}

}  // namespace mlhub
