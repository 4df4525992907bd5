// Shared by the pipeline golden tests: a walk over a pipeline's JSON result and transformers'
// recorded one that lists the differences (floats within a tolerance, integers, strings, keys
// and shapes exact).
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlhub::testing {

// Walks both values; appends "path: message" for each difference (at most a few).
inline void compare(const nlohmann::json& got, const nlohmann::json& want, const std::string& path,
                    std::vector<std::string>& diffs, double tolerance = 1e-4) {
  if (diffs.size() >= 5) return;
  if (want.is_number() && got.is_number()) {
    if (want.is_number_float() || got.is_number_float()) {
      const double g = got.get<double>(), w = want.get<double>();
      if (!(std::fabs(g - w) <= tolerance)) {
        diffs.push_back(path + ": got " + got.dump() + ", want " + want.dump());
      }
    } else if (got.get<int64_t>() != want.get<int64_t>()) {
      diffs.push_back(path + ": got " + got.dump() + ", want " + want.dump());
    }
    return;
  }
  if (got.type() != want.type()) {
    diffs.push_back(path + ": got " + got.dump().substr(0, 200) + ", want " +
                    want.dump().substr(0, 200));
    return;
  }
  if (want.is_array()) {
    if (got.size() != want.size()) {
      diffs.push_back(path + ": got " + std::to_string(got.size()) + " elements, want " +
                      std::to_string(want.size()) + " (got " + got.dump().substr(0, 300) +
                      ", want " + want.dump().substr(0, 300) + ")");
      return;
    }
    for (size_t i = 0; i < want.size(); ++i) {
      compare(got[i], want[i], path + "[" + std::to_string(i) + "]", diffs, tolerance);
    }
    return;
  }
  if (want.is_object()) {
    for (const auto& [k, v] : want.items()) {
      if (!got.contains(k)) {
        diffs.push_back(path + "." + k + ": missing");
      } else {
        compare(got[k], v, path + "." + k, diffs, tolerance);
      }
    }
    for (const auto& [k, v] : got.items()) {
      if (!want.contains(k)) diffs.push_back(path + "." + k + ": unexpected");
    }
    return;
  }
  if (got != want) diffs.push_back(path + ": got " + got.dump() + ", want " + want.dump());
}

inline std::string describe(const std::vector<std::string>& diffs) {
  std::string s;
  for (const auto& d : diffs) s += "\n  " + d;
  return s;
}

}  // namespace mlhub::testing
