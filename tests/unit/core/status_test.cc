#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>

#include "mlhub/core.h"

namespace mlhub {
namespace {

TEST(Status, OkAndErrors) {
  EXPECT_TRUE(Status().ok());
  Status s = Status::invalid_argument("bad thing");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.to_string(), "InvalidArgument: bad thing");
}

TEST(Result, HoldsValueOrStatus) {
  Result<int> good = 42;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 42);
  Result<int> bad = Status::not_found("nope");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kNotFound);
  EXPECT_THROW(bad.value(), Error);
  // An OK status is not a value: it becomes an internal error rather than an empty result.
  Result<int> odd = Status();
  EXPECT_FALSE(odd.ok());
  EXPECT_EQ(odd.status().code(), StatusCode::kInternal);
}

TEST(CatchErrors, ConvertsExceptions) {
  auto r = catch_errors([]() -> int { throw Error(StatusCode::kCorruption, "broken"); });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_EQ(r.status().message(), "broken");
  auto r2 = catch_errors([]() -> int { throw std::runtime_error("boom"); });
  EXPECT_EQ(r2.status().code(), StatusCode::kInternal);
}

TEST(ThreadPool, ParallelForRunsEveryIndexOnce) {
  ThreadPool pool(3);
  std::vector<std::atomic<int>> hits(1000);
  pool.parallel_for(hits.size(), [&](size_t i) { hits[i]++; });
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
}

TEST(ThreadPool, RethrowsTheFirstError) {
  ThreadPool pool(2);
  std::atomic<int> done{0};
  EXPECT_THROW(pool.parallel_for(100,
                                 [&](size_t i) {
                                   done++;
                                   if (i == 57) throw Error(StatusCode::kInternal, "x");
                                 }),
               Error);
  // Every chunk still ran to its end or to the failing item.
  EXPECT_GE(done.load(), 58);
}

}  // namespace
}  // namespace mlhub
