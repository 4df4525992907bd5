#include <openssl/evp.h>

#include "mlhub/core.h"

namespace mlhub {

Hasher::Hasher(Algorithm algorithm) {
  auto* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) throw std::bad_alloc();
  EVP_DigestInit_ex(ctx, algorithm == Algorithm::kSha256 ? EVP_sha256() : EVP_sha1(), nullptr);
  ctx_ = ctx;
}

Hasher::~Hasher() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Hasher::update(const void* data, size_t size) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data, size);
}

std::string Hasher::hex_digest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), digest, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(len * 2, '0');
  for (unsigned int i = 0; i < len; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 15];
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  Hasher h(Hasher::Algorithm::kSha256);
  h.update(data);
  return h.hex_digest();
}

std::string git_blob_sha1_hex(std::string_view data) {
  Hasher h(Hasher::Algorithm::kSha1);
  const std::string header = "blob " + std::to_string(data.size());
  h.update(header.data(), header.size() + 1);  // including the NUL
  h.update(data);
  return h.hex_digest();
}

bool is_lower_hex(std::string_view s, size_t n) {
  if (s.empty() || (n != 0 && s.size() != n)) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace mlhub
