// SecretBox: authenticated encryption of small values (user secrets: git credentials, registry passwords)
// under one 256-bit key, so the metadata store only ever holds ciphertext.
//
// Sealed format (version 1), all binary:
//   0x01 || nonce (12 random bytes) || AES-256-GCM ciphertext (as long as the plaintext) || tag (16 bytes)
// The GCM additional authenticated data is the version byte followed by the caller's `aad`, so a sealed value
// opens only under the same key, the same format version and the same `aad`. Callers pass as `aad` where the
// value is stored (e.g. "<org_id>/<name>"): a sealed value copied to another org or name does not open.
//
// Thread-safety: a SecretBox is immutable after construction; every method is const and may be called
// concurrently from any number of threads (each call uses its own OpenSSL context). Copyable and movable;
// the key bytes are wiped when a SecretBox is destroyed.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace ignite {

class SecretBox {
 public:
  static constexpr size_t kKeySize = 32;    // AES-256.
  static constexpr size_t kNonceSize = 12;  // The GCM standard nonce.
  static constexpr size_t kTagSize = 16;
  // Bytes Seal adds to the plaintext: version byte, nonce and tag.
  static constexpr size_t kOverhead = 1 + kNonceSize + kTagSize;

  // Loads the key from `key_file`, which holds exactly kKeySize raw bytes. When the file does not exist it
  // is created with a fresh random key: parent directories are created as needed, the key is written to a
  // temporary file (mode 0600) in the same directory, fsynced, and moved into place without replacing a file
  // another process created meanwhile (then that file's key is used), and the directory is fsynced.
  // Returns InvalidArgument when the file exists but is not exactly kKeySize bytes, Internal (naming the
  // path and the errno text) on I/O errors.
  static Result<SecretBox> OpenKeyFile(const std::string& key_file);

  // REQUIRES: key.size() == kKeySize (aborts otherwise: a wrong-size key is a bug, not an input error; use
  // OpenKeyFile for keys read from outside).
  explicit SecretBox(std::string key);

  SecretBox(const SecretBox&) = default;
  SecretBox& operator=(const SecretBox&) = default;
  SecretBox(SecretBox&&) = default;
  SecretBox& operator=(SecretBox&&) = default;
  ~SecretBox();

  // Encrypts `plaintext` (any bytes, empty allowed) with a fresh random nonce, bound to `aad`, and returns
  // the sealed value (format above; plaintext.size() + kOverhead bytes). Sealing the same plaintext twice
  // gives different results. Aborts if OpenSSL's random generator or cipher fails (they do not, short of
  // memory exhaustion), like RandomHex.
  std::string Seal(std::string_view plaintext, std::string_view aad) const;

  // The plaintext `sealed` was made from. Returns DataLoss ("the stored secret cannot be decrypted: wrong key
  // or damaged data") when the value is shorter than kOverhead, its version byte is unknown, or the tag does
  // not verify (another key, another `aad`, or any byte changed); Internal if OpenSSL cannot set up the
  // cipher.
  Result<std::string> Open(std::string_view sealed, std::string_view aad) const;

 private:
  std::string key_;  // kKeySize bytes.
};

}  // namespace ignite
