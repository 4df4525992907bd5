// Timings of ops::linear with ggml-quantized weights (docs/kernels.md "Quantized weights"): the
// matrix shapes of SmolLM2-135M ([out, in] = 576x576, 192x576, 1536x576, 576x1536, 49152x576) at
// m = 1 (token generation: memory-bound, reported as GB/s of weight bytes read) and m = 512
// (prompt processing: compute-bound, GFLOP/s = 2 m out in / time), for Q4_1, Q8_0, Q4_0, Q4_K and
// Q6_K, plus the F32 linear() of the same shape as a yardstick. Threads: the global pool, so run
//   MLHUB_NUM_THREADS=1 quant_bench   and   MLHUB_NUM_THREADS=2 quant_bench
// Weights are random blocks with finite scales (the timing does not depend on the values).
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "mlhub/ops.h"

namespace {

using mlhub::DType;
using mlhub::Tensor;

Tensor random_weight(DType type, int64_t out, int64_t in) {
  std::mt19937 rng(1);
  const size_t bytes = mlhub::dtype_row_bytes(type, in) * static_cast<size_t>(out);
  std::vector<uint8_t> raw(bytes);
  for (auto& b : raw) b = static_cast<uint8_t>(rng());
  // Any finite scales do: the f16 fields (block layout offsets) are set to 0x2000, a small half.
  const size_t bb = mlhub::dtype_block_bytes(type);
  std::vector<size_t> fields = {0};
  if (type == DType::kQ4_1 || type == DType::kQ4_K) fields = {0, 2};
  if (type == DType::kQ6_K) fields = {208};
  for (size_t i = 0; i < bytes / bb; ++i)
    for (size_t f : fields) raw[i * bb + f] = 0x00, raw[i * bb + f + 1] = 0x20;
  return Tensor::from_bytes(type, {out, in}, raw.data());
}

Tensor random_input(int64_t m, int64_t in) {
  std::mt19937 rng(2);
  std::normal_distribution<float> d;
  std::vector<float> v(static_cast<size_t>(m * in));
  for (auto& x : v) x = d(rng);
  return Tensor::from_floats(v, {m, in});
}

void bm_linear(benchmark::State& state, DType type) {
  const int64_t m = state.range(0), out = state.range(1), in = state.range(2);
  if (in % mlhub::dtype_block_elems(type) != 0) {  // K-quants need in % 256 == 0 (not 576)
    state.SkipWithError("in is not a multiple of the block size");
    return;
  }
  const Tensor w = type == DType::kF32 ? random_input(out, in) : random_weight(type, out, in);
  const Tensor x = random_input(m, in);
  for (auto _ : state) benchmark::DoNotOptimize(mlhub::ops::linear(x, w, Tensor()));
  const double wbytes = type == DType::kF32 ? 4.0 * out * in
                                            : static_cast<double>(mlhub::dtype_row_bytes(type, in)) * out;
  const double it = static_cast<double>(state.iterations());
  state.counters["GB/s"] = benchmark::Counter(wbytes * it / 1e9, benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * m * out * in * it / 1e9, benchmark::Counter::kIsRate);
}

void shapes(benchmark::internal::Benchmark* b) {
  for (int64_t m : {1, 512})
    for (auto [o, i] : {std::pair<int64_t, int64_t>{576, 576}, {192, 576}, {1536, 576},
                        {576, 1536}, {49152, 576}, {1536, 512}})
      if (!(m == 512 && o == 49152)) b->Args({m, o, i});
  b->Args({512, 49152, 576});
  b->Args({1, 184320, 576});  // all 30 layers of SmolLM2-135M in one matrix: streams from DRAM
  b->ArgNames({"m", "out", "in"})->UseRealTime()->Unit(benchmark::kMicrosecond);
}

BENCHMARK_CAPTURE(bm_linear, Q4_1, DType::kQ4_1)->Apply(shapes);
BENCHMARK_CAPTURE(bm_linear, Q8_0, DType::kQ8_0)->Apply(shapes);
BENCHMARK_CAPTURE(bm_linear, Q4_0, DType::kQ4_0)->Apply(shapes);
BENCHMARK_CAPTURE(bm_linear, Q4_K, DType::kQ4_K)->Apply(shapes);
BENCHMARK_CAPTURE(bm_linear, Q6_K, DType::kQ6_K)->Apply(shapes);
BENCHMARK_CAPTURE(bm_linear, F32, DType::kF32)->Apply(shapes);

}  // namespace

BENCHMARK_MAIN();
