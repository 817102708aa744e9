// FakeBlobStore: the BlobStore in memory, for unit tests of one module that store or read blobs.
//
// Contract: thread-safe (one mutex). Faithful to blob::FsBlobStore where a caller can tell: hashes are
// lowercase hex sha256 of the content; putting existing content is a no-op; PutFile of content already
// stored read-only with `executable` makes it executable (never the reverse); Get answers NotFound for an
// unknown hash and InvalidArgument for a malformed one; PathFor and Contains treat a malformed hash as
// FsBlobStore does ("" and false).
//
// PathFor returns "/fake-blobs/<hash>", stable for a hash, but nothing exists there: code under test that
// opens or executes the path needs the real FsBlobStore on a temporary directory instead.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "blob/blob_store.h"

namespace ignite::fakes {

class FakeBlobStore : public blob::BlobStore {
 public:
  // The directory PathFor pretends blobs live in.
  static constexpr std::string_view kFakeRoot = "/fake-blobs";

  FakeBlobStore() = default;
  FakeBlobStore(const FakeBlobStore&) = delete;
  FakeBlobStore& operator=(const FakeBlobStore&) = delete;

  Result<std::string> Put(std::string_view data) override;
  // Reads the file at `path` from the real disk now (NotFound when it does not exist).
  Result<std::string> PutFile(const std::string& path, bool executable) override;
  Result<std::string> Get(std::string_view hash) override;
  std::string PathFor(std::string_view hash) const override;
  bool Contains(std::string_view hash) const override;

  // For tests: whether the blob would be stored mode 0555 by FsBlobStore. false for an unknown hash.
  bool executable(std::string_view hash) const;

 private:
  struct Blob {
    std::string content;
    bool executable = false;
  };
  // Stores `content` under `hash` unless already there; upgrades it to executable when asked. Requires mu_.
  void Insert(const std::string& hash, std::string content, bool executable);

  mutable std::mutex mu_;
  std::map<std::string, Blob, std::less<>> blobs_;  // guarded by mu_; by hash.
};

}  // namespace ignite::fakes
