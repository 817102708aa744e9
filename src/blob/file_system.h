// FileSystem: the blob store's seam to the disk (in the style of LevelDB's Env), so tests can make any step
// of a write fail and check what is left behind.
//
// Files are published atomically: content goes to a temporary file named "<random>.tmp-<hex>" that only a
// successful PendingFile::Commit renames into place. A temporary file survives only a crash; RemoveTempFiles
// cleans them up at the next start.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace ignite::blob {

// The suffix (followed by random hex) of every temporary file the seam creates.
inline constexpr std::string_view kTempFileMarker = ".tmp-";

// A file being written, invisible under its final name until Commit. Destroying it without a successful
// Commit closes and removes the temporary file. Not thread-safe; one writer owns it.
class PendingFile {
 public:
  virtual ~PendingFile() = default;
  // Appends `data`. Internal with the errno text on failure.
  virtual Status Append(std::string_view data) = 0;
  // Makes the content durable under `path`: sets the mode, fsyncs, closes, renames over `path` (replacing
  // any existing file), then fsyncs `path`'s directory. Internal on failure, in which case neither the
  // temporary file nor `path` created by this call is left. Call at most once.
  virtual Status Commit(const std::string& path) = 0;
};

// All methods are thread-safe in the real implementation. Paths are absolute or relative to the cwd.
class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Starts a file in directory `dir` (which must exist and be on the file system of the final path) that
  // will have permission bits `mode` once committed. Internal on failure.
  virtual Result<std::unique_ptr<PendingFile>> CreatePending(const std::string& dir, mode_t mode) = 0;
  // Calls `sink` with successive chunks of the file at `path` (bounded memory for large files); stops at the
  // first non-OK status from `sink` and returns it. NotFound when the file does not exist, Internal on
  // other errors.
  virtual Status ReadChunks(const std::string& path, const std::function<Status(std::string_view)>& sink) = 0;
  // The permission bits (e.g. 0444) of the file at `path`; nullopt when it does not exist or cannot be
  // examined.
  virtual std::optional<mode_t> ModeOf(const std::string& path) = 0;
  // mkdir -p, making each directory it creates durable. Internal on failure (including when a component
  // exists and is not a directory).
  virtual Status CreateDirs(const std::string& path) = 0;
  // Removes every temporary file (see kTempFileMarker) under `dir`, recursively. Only call when no write
  // can be in progress under `dir` (at start-up). Returns how many were removed; Internal on failure.
  virtual Result<int> RemoveTempFiles(const std::string& dir) = 0;
};

// The real POSIX file system. Lives for the whole program.
FileSystem& DefaultFileSystem();

// The whole content of the file at `path` (errors as ReadChunks).
Result<std::string> ReadFile(FileSystem& fs, const std::string& path);

}  // namespace ignite::blob
