// MemoryWriter: builds a tar.gz or zip in memory through libarchive, deterministically (zero times and ids, no
// user/group names, no gzip timestamp). Used by PackDirectory/PackSingleFile and by tests to craft archives,
// including hostile ones: it writes names and link targets exactly as given. Not thread-safe (one per
// archive being built).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

struct archive;

namespace ignite::archive {

struct RawEntry {
  std::string path;          // written as is (may be absolute, contain "..", invalid UTF-8, ...)
  mode_t type = 0100000;     // AE_IFREG; AE_IFDIR 0040000, AE_IFLNK 0120000, AE_IFCHR 0020000, ...
  mode_t perm = 0644;
  std::string content;       // regular files
  std::string symlink;       // AE_IFLNK target
  std::string hardlink;      // if non-empty: a hardlink entry to this path
  dev_t rdev = 0;            // devices
  bool omit_size = false;    // leave the size unset in the header
};

class MemoryWriter {
 public:
  enum class Kind { kTarGz, kZip };
  // Internal on libarchive failure.
  static Result<std::unique_ptr<MemoryWriter>> Create(Kind kind);
  ~MemoryWriter();

  // Appends an entry. Internal with libarchive's message if it refuses the entry.
  Status Add(const RawEntry& entry);
  Status AddFile(std::string_view path, std::string_view content, mode_t perm = 0644);
  Status AddDir(std::string_view path);
  Status AddSymlink(std::string_view path, std::string_view target);
  // Closes the archive and returns its bytes. The writer must not be used afterwards.
  Result<std::string> Finish();

 private:
  MemoryWriter() = default;
  struct archive* a_ = nullptr;
  std::string out_;
  bool finished_ = false;
};

}  // namespace ignite::archive
