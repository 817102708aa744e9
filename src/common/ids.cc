#include "common/ids.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cstdlib>
#include <cstring>

#include "common/clock.h"

namespace ignite {
namespace {
constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

void RandomBytes(unsigned char* out, size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) std::abort();
}

// The random part of ULIDs, drawn from the same generator but a few KiB at a time: ids are minted on every
// invocation, and one RAND_bytes call per id showed in profiles. Each thread has its own buffer, so ids stay
// unpredictable and no lock is taken.
void UlidRandomBytes(unsigned char* out, size_t n) {
  thread_local std::array<unsigned char, 4096> pool;
  thread_local size_t used = pool.size();
  if (used + n > pool.size()) {
    RandomBytes(pool.data(), pool.size());
    used = 0;
  }
  std::memcpy(out, pool.data() + used, n);
  std::memset(pool.data() + used, 0, n);  // drawn bytes are not kept around
  used += n;
}

std::string Hex(const unsigned char* data, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[data[i] >> 4];
    out[2 * i + 1] = kHex[data[i] & 0xf];
  }
  return out;
}
}  // namespace

std::string NewUlid(int64_t unix_ms) {
  // 128 bits: 48 time + 80 random, written as 26 base32 digits (the top 2 bits of the first digit are 0).
  std::array<unsigned char, 16> bits{};
  uint64_t t = static_cast<uint64_t>(unix_ms);
  for (int i = 5; i >= 0; --i) {
    bits[i] = static_cast<unsigned char>(t & 0xff);
    t >>= 8;
  }
  UlidRandomBytes(bits.data() + 6, 10);
  std::string out(26, '0');
  // Read 5 bits at a time from a 130-bit big-endian number whose two leading bits are zero.
  for (int i = 0; i < 26; ++i) {
    int bit = i * 5 - 2;  // position in the 128-bit string of this digit's first bit
    int v = 0;
    for (int b = 0; b < 5; ++b) {
      int pos = bit + b;
      int set = 0;
      if (pos >= 0) set = (bits[pos / 8] >> (7 - pos % 8)) & 1;
      v = (v << 1) | set;
    }
    out[i] = kCrockford[v];
  }
  return out;
}

std::string NewUlid() { return NewUlid(SystemClock().NowUnixMs()); }

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  RandomBytes(reinterpret_cast<unsigned char*>(raw.data()), bytes);
  return Hex(reinterpret_cast<const unsigned char*>(raw.data()), bytes);
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1) std::abort();
  return Hex(md, len);
}

}  // namespace ignite
