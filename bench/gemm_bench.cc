// GEMM library comparison at the shapes BERT-like encoders run (docs/kernels.md has the table and
// the choice it led to), plus the mlhub ops built on the winner.
//
//   gemm_bench [--benchmark_filter=REGEX] [--benchmark_min_time=0.2s]
//   MLHUB_NUM_THREADS=1 gemm_bench --benchmark_filter=mlhub   # ops at the pool's thread count
//
// Every product is C[M, N] = A[M, K] x W[N, K]^T, the nn.Linear layout, FP32, row-major. The
// libraries are dlopen'ed one by one (RTLD_DEEPBIND, so BLIS's CBLAS layer cannot bind to
// OpenBLAS's Fortran symbols that mlhub_ops brings in) and each is measured two ways:
//   self:T  the library threads itself with T threads;
//   pool:T  the library runs single-threaded and the product is split over an mlhub ThreadPool
//           of T lanes (rows when M >= 64 T, else 16-column blocks), as ops::linear does.
// GFLOP/s is the "FLOPS" counter (2 M N K per product).
#include <dlfcn.h>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/kernels.h"
#include "mlhub/core.h"
#include "mlhub/ops.h"

namespace {

enum CblasLayout { kRowMajor = 101 };
enum CblasTrans { kNoTrans = 111, kTrans = 112 };
using CblasSgemm = void (*)(int, int, int, int, int, int, float, const float*, int, const float*,
                            int, float, float*, int);
using DnnlSgemm = int (*)(char, char, int64_t, int64_t, int64_t, float, const float*, int64_t,
                          const float*, int64_t, float, float*, int64_t);
using SetThreads = void (*)(int);

struct Library {
  std::string name;
  CblasSgemm cblas = nullptr;
  DnnlSgemm dnnl = nullptr;
  SetThreads set_threads = nullptr;  // the library's own thread count (global)
  bool omp = false;                  // thread count is OpenMP's per-thread ICV
  bool own = false;                  // mlhub's sgemm (src/kernels/cpu/sgemm.cc)

  void gemm(int64_t m, int64_t n, int64_t k, const float* a, const float* w, float* c,
            int64_t ldc) const {
    if (own)
      mlhub::kernels::sgemm(m, n, k, a, k, w, k, true, c, ldc);
    else if (cblas)
      cblas(kRowMajor, kNoTrans, kTrans, static_cast<int>(m), static_cast<int>(n),
            static_cast<int>(k), 1.0f, a, static_cast<int>(k), w, static_cast<int>(k), 0.0f, c,
            static_cast<int>(ldc));
    else
      dnnl('N', 'T', m, n, k, 1.0f, a, k, w, k, 0.0f, c, ldc);
  }
};

void* open_library(const char* path) {
  void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
  if (!h) std::fprintf(stderr, "gemm_bench: skipping %s (%s)\n", path, dlerror());
  return h;
}

std::vector<Library>& libraries() {
  static std::vector<Library> libs = [] {
    std::vector<Library> out;
    Library own;
    own.name = "mlhub";
    own.set_threads = [](int) {};
    own.own = true;
    out.push_back(own);
    const char* dir = "/usr/lib/x86_64-linux-gnu/";
    SetThreads omp_set = nullptr;
    if (void* gomp = open_library("libgomp.so.1"))
      omp_set = reinterpret_cast<SetThreads>(dlsym(gomp, "omp_set_num_threads"));
    if (void* h = open_library((std::string(dir) + "openblas-pthread/libopenblas.so.0").c_str())) {
      using CoreName = char* (*)();
      auto core = reinterpret_cast<CoreName>(dlsym(h, "openblas_get_corename"));
      std::fprintf(stderr, "openblas core: %s\n", core ? core() : "?");
      out.push_back({"openblas", reinterpret_cast<CblasSgemm>(dlsym(h, "cblas_sgemm")), nullptr,
                     reinterpret_cast<SetThreads>(dlsym(h, "openblas_set_num_threads")), false});
    }
    for (const char* variant : {"pthread", "openmp"}) {
      const std::string path = std::string(dir) + "blis-" + variant + "/libblis.so.4";
      if (void* h = open_library(path.c_str())) {
        using ArchId = int (*)();
        using ArchName = char* (*)(int);
        auto id = reinterpret_cast<ArchId>(dlsym(h, "bli_arch_query_id"));
        auto name = reinterpret_cast<ArchName>(dlsym(h, "bli_arch_string"));
        std::fprintf(stderr, "blis-%s arch: %s\n", variant, id && name ? name(id()) : "?");
        out.push_back({std::string("blis_") + variant,
                       reinterpret_cast<CblasSgemm>(dlsym(h, "cblas_sgemm")), nullptr,
                       reinterpret_cast<SetThreads>(dlsym(h, "bli_thread_set_num_threads")),
                       false});
      }
    }
    if (void* h = open_library("libdnnl.so.2"))
      out.push_back({"onednn", nullptr, reinterpret_cast<DnnlSgemm>(dlsym(h, "dnnl_sgemm")),
                     omp_set, true});
    return out;
  }();
  return libs;
}

struct Operands {
  std::vector<float> a, w, c;
  Operands(int64_t m, int64_t n, int64_t k) : a(m * k), w(n * k), c(m * n) {
    std::mt19937 rng(42);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    for (float& x : a) x = dist(rng);
    for (float& x : w) x = dist(rng);
  }
};

void set_flops(benchmark::State& state, int64_t m, int64_t n, int64_t k) {
  state.counters["FLOPS"] = benchmark::Counter(2.0 * static_cast<double>(m * n * k),
                                               benchmark::Counter::kIsIterationInvariantRate,
                                               benchmark::Counter::kIs1000);
}

// The library threads itself.
void bm_self(benchmark::State& state, const Library* lib, int threads) {
  const int64_t m = state.range(0), n = state.range(1), k = state.range(2);
  Operands ops(m, n, k);
  lib->set_threads(threads);
  for (auto _ : state) {
    lib->gemm(m, n, k, ops.a.data(), ops.w.data(), ops.c.data(), n);
    benchmark::DoNotOptimize(ops.c.data());
  }
  set_flops(state, m, n, k);
}

// Single-threaded library calls split over an mlhub ThreadPool (the caller is one lane).
void bm_pool(benchmark::State& state, const Library* lib, int lanes) {
  const int64_t m = state.range(0), n = state.range(1), k = state.range(2);
  Operands ops(m, n, k);
  static std::unique_ptr<mlhub::ThreadPool> pool;
  if (!pool || pool->lanes() != static_cast<size_t>(lanes))
    pool = std::make_unique<mlhub::ThreadPool>(lanes - 1);
  lib->set_threads(1);
  const bool by_rows = m >= 64 * lanes;
  const int64_t items = by_rows ? m : (n + 15) / 16;
  auto chunk = [&](size_t lane) {
    if (lib->omp) lib->set_threads(1);  // OpenMP's count is per calling thread
    const int64_t i0 = items * static_cast<int64_t>(lane) / lanes;
    const int64_t i1 = items * static_cast<int64_t>(lane + 1) / lanes;
    if (by_rows) {
      lib->gemm(i1 - i0, n, k, ops.a.data() + i0 * k, ops.w.data(), ops.c.data() + i0 * n, n);
    } else {
      const int64_t c0 = i0 * 16, c1 = std::min(n, i1 * 16);
      if (c1 > c0)
        lib->gemm(m, c1 - c0, k, ops.a.data(), ops.w.data() + c0 * k, ops.c.data() + c0, n);
    }
  };
  for (auto _ : state) {
    pool->parallel_for(static_cast<size_t>(lanes), chunk);
    benchmark::DoNotOptimize(ops.c.data());
  }
  set_flops(state, m, n, k);
}

// ops::linear as the models call it (global pool: MLHUB_NUM_THREADS).
void bm_linear(benchmark::State& state) {
  const int64_t m = state.range(0), n = state.range(1), k = state.range(2);
  const mlhub::Tensor x = mlhub::Tensor::full({m, k}, 0.5f);
  const mlhub::Tensor w = mlhub::Tensor::full({n, k}, 0.25f);
  for (const Library& lib : libraries()) lib.set_threads(1);  // undo the self:2 runs
  for (auto _ : state) benchmark::DoNotOptimize(mlhub::ops::linear(x, w, mlhub::Tensor()));
  set_flops(state, m, n, k);
}

// Fused attention, [B, T, H*D], no padding. Args: B, T, H, D.
void bm_attention(benchmark::State& state) {
  const int64_t b = state.range(0), t = state.range(1), h = state.range(2), d = state.range(3);
  std::vector<float> v(b * t * h * d);
  std::mt19937 rng(1);
  std::normal_distribution<float> dist;
  for (float& x : v) x = dist(rng);
  const mlhub::Tensor q = mlhub::Tensor::from_floats(v, {b, t, h * d});
  for (auto _ : state)
    benchmark::DoNotOptimize(
        mlhub::ops::attention(q, q, q, static_cast<int>(h), mlhub::Tensor(), mlhub::Tensor(),
                              0.125f));
  set_flops(state, b * h * t, t, 2 * d);
}

// Round trip of an (almost) empty parallel_for on the global pool: the dispatch cost every
// parallel op pays.
void bm_pool_dispatch(benchmark::State& state) {
  mlhub::ThreadPool& pool = mlhub::ThreadPool::global();
  std::vector<int> sink(pool.lanes());
  for (auto _ : state) {
    pool.parallel_for(pool.lanes(), [&](size_t i) { sink[i]++; });
    benchmark::DoNotOptimize(sink.data());
  }
  state.counters["lanes"] = static_cast<double>(pool.lanes());
}

void register_all() {
  const int64_t ms[] = {16, 128, 512, 4096};
  const std::pair<int64_t, int64_t> nks[] = {{384, 384},  {1536, 384}, {384, 1536},
                                             {768, 768},  {3072, 768}, {768, 3072}};
  auto shapes = [&](benchmark::internal::Benchmark* b) {
    for (int64_t m : ms)
      for (auto [n, k] : nks) b->Args({m, n, k});
    b->ArgNames({"M", "N", "K"})->Unit(benchmark::kMicrosecond)->UseRealTime();
  };
  for (const Library& lib : libraries()) {
    const std::string prefix = "gemm/" + lib.name;
    for (int t : {1, 2})
      if (t == 1 || !lib.own)
        shapes(benchmark::RegisterBenchmark((prefix + "/self:" + std::to_string(t)).c_str(),
                                            bm_self, &lib, t));
    shapes(benchmark::RegisterBenchmark((prefix + "/pool:2").c_str(), bm_pool, &lib, 2));
  }
  shapes(benchmark::RegisterBenchmark("mlhub/linear", bm_linear));
  auto* att = benchmark::RegisterBenchmark("mlhub/attention", bm_attention);
  for (auto [b, t] : {std::pair<int64_t, int64_t>{1, 16}, {1, 128}, {8, 16}, {32, 128}})
    att->Args({b, t, 12, 32});
  att->Args({8, 128, 12, 64});
  att->ArgNames({"B", "T", "H", "D"})->Unit(benchmark::kMicrosecond)->UseRealTime();
  benchmark::RegisterBenchmark("mlhub/pool_dispatch", bm_pool_dispatch)
      ->Unit(benchmark::kMicrosecond)
      ->UseRealTime();
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
