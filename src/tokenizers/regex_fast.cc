// Hand-written matchers for hot regexes; see regex_fast.h.
#include "tokenizers/regex_fast.h"

namespace mlhub::tok {

FastMatcher fast_matcher_for(std::string_view pattern) { return FastMatcher::kNone; }

void fast_find_all(FastMatcher m, std::string_view text,
                   std::vector<std::pair<size_t, size_t>>& out) {}

}  // namespace mlhub::tok
