// FsBlobStore: the BlobStore as read-only files on a local file system.
//
// Layout: <root>/sha256/<first 2 hex digits>/<other 62 digits>. The two-digit fan-out keeps directories
// small. A blob is written through FileSystem::CreatePending and renamed into place, so a reader sees a
// whole blob or none; temporary files a crash left behind are removed by Open.
//
// Thread-safety: all methods are thread-safe; the store keeps no mutable state. Writers of the same content
// race harmlessly (each renames an identical file into place). One ignited process per root.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "blob/blob_store.h"
#include "blob/file_system.h"
#include "common/result.h"

namespace ignite::blob {

class FsBlobStore : public BlobStore {
 public:
  // Creates <root>/sha256 if missing and removes leftover temporary files under it. `fs` is not owned and
  // must outlive the store; nullptr means the real file system. InvalidArgument for an empty root,
  // Internal when the directories cannot be created or cleaned.
  static Result<std::unique_ptr<FsBlobStore>> Open(std::string root, FileSystem* fs = nullptr);

  // As BlobStore. Put stores mode 0444. PutFile returns NotFound when `path` does not exist, and streams the
  // file (hashing while copying) so memory use does not grow with its size; the file must not be written
  // while it is being stored. When the content is already stored read-only and `executable` is asked for,
  // the stored file is replaced by an executable copy.
  Result<std::string> Put(std::string_view data) override;
  Result<std::string> PutFile(const std::string& path, bool executable) override;
  Result<std::string> Get(std::string_view hash) override;
  // "" for a malformed hash, so a bad hash can never name a file outside the store.
  std::string PathFor(std::string_view hash) const override;
  // false for a malformed hash.
  bool Contains(std::string_view hash) const override;

  // Whether `hash` is 64 lowercase hex digits.
  static bool IsValidHash(std::string_view hash);

  const std::string& root() const { return root_; }

 private:
  FsBlobStore(std::string root, FileSystem* fs);
  // Directory holding blobs whose hash starts with `hash`'s first two digits.
  std::string FanOutDir(std::string_view hash) const;

  const std::string root_;
  const std::string blobs_dir_;  // <root>/sha256; also where PutFile stages data before its hash is known.
  FileSystem* const fs_;         // Not owned.
};

}  // namespace ignite::blob
