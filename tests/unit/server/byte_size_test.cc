// parse_byte_size / format_byte_size (include/mlhub/server.h).
#include <gtest/gtest.h>

#include "mlhub/server.h"

namespace mlhub::server {
namespace {

TEST(ByteSizeTest, Parses) {
  EXPECT_EQ(*parse_byte_size("0"), 0u);
  EXPECT_EQ(*parse_byte_size("123"), 123u);
  EXPECT_EQ(*parse_byte_size("500MB"), 500'000'000u);
  EXPECT_EQ(*parse_byte_size("500 mb"), 500'000'000u);
  EXPECT_EQ(*parse_byte_size("500M"), 500'000'000u);
  EXPECT_EQ(*parse_byte_size("1.5GB"), 1'500'000'000u);
  EXPECT_EQ(*parse_byte_size(" 2GiB "), 2ull << 30);
  EXPECT_EQ(*parse_byte_size("512Ki"), 512u * 1024);
  EXPECT_EQ(*parse_byte_size("1TB"), 1'000'000'000'000u);
  EXPECT_EQ(*parse_byte_size("10kB"), 10'000u);
}

TEST(ByteSizeTest, RejectsWithAReason) {
  for (const char* bad : {"", "MB", "-5MB", "5XB", "5 M B", "1e9", "abc", "99999999999TB"}) {
    auto r = parse_byte_size(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("invalid size '" + std::string(bad) + "'"), std::string::npos)
        << r.status().message();
  }
  EXPECT_NE(parse_byte_size("5XB").status().message().find("unknown unit 'xb'"), std::string::npos);
}

TEST(ByteSizeTest, Formats) {
  EXPECT_EQ(format_byte_size(0), "0 B");
  EXPECT_EQ(format_byte_size(999), "999 B");
  EXPECT_EQ(format_byte_size(1000), "1 kB");
  EXPECT_EQ(format_byte_size(500'000'000), "500 MB");
  EXPECT_EQ(format_byte_size(1'234'000'000), "1.2 GB");
  EXPECT_EQ(format_byte_size(2'000'000'000), "2 GB");
  EXPECT_EQ(format_byte_size(12'345'000'000), "12 GB");
  EXPECT_EQ(format_byte_size(3'500'000'000'000), "3.5 TB");
}

}  // namespace
}  // namespace mlhub::server
