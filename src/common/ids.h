// Identifiers: execution ids, build ids, replica ids and secrets.
#pragma once

#include <cstdint>
#include <string>

namespace ignite {

// A ULID (26 Crockford base32 chars): 48-bit millisecond timestamp then 80 random bits, so ids sort by
// creation time. Thread-safe. Randomness from OpenSSL.
std::string NewUlid(int64_t unix_ms);
// NewUlid with the system clock.
std::string NewUlid();

// `bytes` cryptographically random bytes, hex-encoded (2*bytes chars). Aborts if the CSPRNG fails.
std::string RandomHex(size_t bytes);

// Lowercase hex sha256 of `data`.
std::string Sha256Hex(std::string_view data);

}  // namespace ignite
