// PosixFileSystem: the FileSystem on POSIX calls.
//
// The calls that can fail partway through publishing a file (write, fsync, rename) go through virtual hooks,
// so FakeFileSystem can fail any one of them while every other step stays real.
#pragma once

#include <sys/types.h>

#include "blob/file_system.h"

namespace ignite::blob {

// Thread-safe: it keeps no state.
class PosixFileSystem : public FileSystem {
 public:
  Result<std::unique_ptr<PendingFile>> CreatePending(const std::string& dir, mode_t mode) override;
  Status ReadChunks(const std::string& path, const std::function<Status(std::string_view)>& sink) override;
  std::optional<mode_t> ModeOf(const std::string& path) override;
  Status CreateDirs(const std::string& path) override;
  Result<int> RemoveTempFiles(const std::string& dir) override;

  // Failure-injection hooks with the POSIX calls' contracts (-1 and errno on failure). Public so the pending
  // file can call them; only FakeFileSystem overrides them.
  virtual ssize_t SysWrite(int fd, const void* buf, size_t n);
  virtual int SysFsync(int fd);
  virtual int SysRename(const char* from, const char* to);
};

}  // namespace ignite::blob
