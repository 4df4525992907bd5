// Private helpers shared by the store's source files.
#pragma once

#include <utility>

#include "mlhub/core.h"

namespace mlhub::store {

// catch_errors for bodies that return a Status (Result<Status> would be ambiguous): runs `fn`
// and turns an escaping mlhub::Error or std::exception into the Status it stands for.
template <typename Fn>
Status status_of(Fn&& fn) {
  Result<bool> r = catch_errors([&] {
    Status s = fn();
    if (!s.ok()) throw Error(s);
    return true;
  });
  return r.status();
}

}  // namespace mlhub::store
