// Sha256Hasher: incremental sha256, for content streamed in chunks (common/ids.h Sha256Hex needs it whole).
#pragma once

#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace ignite::blob {

// Not thread-safe. Aborts if OpenSSL fails, like Sha256Hex: that only happens when the library is broken.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  void Update(std::string_view data);
  // Lowercase hex digest of everything passed to Update. Call once; the hasher is spent afterwards.
  std::string FinalHex();

 private:
  evp_md_ctx_st* ctx_;  // Owned.
};

}  // namespace ignite::blob
