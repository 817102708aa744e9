// BlobStore: content-addressed storage (sha256) for uploaded sources and built artifacts.
//
// Contract: thread-safe. A blob is written to a temporary file, fsync'ed and renamed into place, so readers
// never see a partial blob and a crash leaves at most a stray temporary file (removed at open). Putting
// content that already exists is a cheap no-op. Hashes are lowercase hex sha256 of the content.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace ignite::blob {

class BlobStore {
 public:
  virtual ~BlobStore() = default;
  // Stores `data`; returns its hash. Internal on I/O failure (nothing partial is left behind).
  virtual Result<std::string> Put(std::string_view data) = 0;
  // Stores a copy of the file at `path`; `executable` makes the stored file mode 0555 (for artifacts the
  // runtime executes in place), else 0444. Returns its hash.
  virtual Result<std::string> PutFile(const std::string& path, bool executable) = 0;
  // The content; NotFound for an unknown hash, InvalidArgument for a malformed one.
  virtual Result<std::string> Get(std::string_view hash) = 0;
  // Path of the stored file (it exists only if Contains(hash)). Callers must not modify it.
  virtual std::string PathFor(std::string_view hash) const = 0;
  virtual bool Contains(std::string_view hash) const = 0;
};

}  // namespace ignite::blob
