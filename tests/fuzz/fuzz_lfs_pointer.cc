// libFuzzer target: git-lfs pointer parsing (parse_lfs_pointer) and the repo path / ref name
// validators, which all run on untrusted bytes from clients.
//
// Oracles: a parsed pointer has a 64-lowercase-hex oid and came from at most 1024 bytes;
// re-formatting it gives back exactly the input (only the canonical form parses; a size-0
// pointer formats as "", as git-lfs does); an accepted path or ref name never contains the
// byte patterns the validators promise to reject.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mlhub/store.h"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
  std::abort();
}

#define CHECK(cond) \
  do {              \
    if (!(cond)) fail(#cond); \
  } while (0)

bool has_control(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto pointer = mlhub::store::parse_lfs_pointer(text)) {
    CHECK(size <= 1024);
    CHECK(mlhub::is_lower_hex(pointer->oid, 64));
    if (pointer->size > 0) CHECK(mlhub::store::format_lfs_pointer(*pointer) == text);
    else CHECK(mlhub::store::format_lfs_pointer(*pointer).empty());
  }

  if (mlhub::store::validate_repo_path(text).ok()) {
    CHECK(!text.empty() && text.size() <= 4096);
    CHECK(!has_control(text));
    CHECK(text.front() != '/' && text.back() != '/');
    CHECK(text.find('\\') == std::string_view::npos);
    CHECK(text.find("//") == std::string_view::npos);
    const std::string wrapped = "/" + std::string(text) + "/";
    CHECK(wrapped.find("/../") == std::string::npos && wrapped.find("/./") == std::string::npos);
    CHECK(wrapped.find("/.git/") == std::string::npos);
  }

  if (mlhub::store::validate_ref_name(text).ok()) {
    CHECK(!text.empty() && !has_control(text));
    CHECK(text.find("..") == std::string_view::npos && text.find("@{") == std::string_view::npos);
    CHECK(text.find_first_of(" ~^:?*[\\") == std::string_view::npos);
    CHECK(text.front() != '/' && text.back() != '/' && text.back() != '.' && text.front() != '-');
    CHECK(text.size() < 5 || text.substr(text.size() - 5) != ".lock");
  }
  return 0;
}
