#include "blob/file_system_posix.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>
#include <vector>

#include "common/ids.h"

namespace ignite::blob {
namespace {

constexpr size_t kReadChunkBytes = 1 << 20;

// strerror is not thread-safe; error_code's message is.
std::string ErrnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

Status ErrnoError(std::string_view what, int err) { return Internal(fmt::format("{}: {}", what, ErrnoText(err))); }

std::string DirName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Makes `dir`'s entries (a rename or mkdir inside it) durable.
Status SyncDir(PosixFileSystem& fs, const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(fmt::format("opening directory {}", dir), errno);
  int rc = fs.SysFsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoError(fmt::format("fsync of directory {}", dir), err);
  return OkStatus();
}

// Creates one directory whose parent exists, fsyncing the parent so the new entry survives a crash.
Status CreateDir(PosixFileSystem& fs, const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) {
    if (::mkdir(dir.c_str(), 0755) == 0) return SyncDir(fs, DirName(dir));
    if (errno != EEXIST) return ErrnoError(fmt::format("creating directory {}", dir), errno);
    if (::stat(dir.c_str(), &st) != 0) return ErrnoError(fmt::format("creating directory {}", dir), errno);
    // Lost a race with another creator: fine if it made a directory.
  }
  if (!S_ISDIR(st.st_mode)) {
    return Internal(fmt::format("creating directory {}: a file that is not a directory is in the way", dir));
  }
  return OkStatus();
}

class PosixPendingFile : public PendingFile {
 public:
  PosixPendingFile(PosixFileSystem& fs, std::string temp_path, int fd, mode_t mode)
      : fs_(fs), temp_path_(std::move(temp_path)), fd_(fd), mode_(mode) {}

  ~PosixPendingFile() override {
    if (fd_ >= 0) ::close(fd_);
    if (!renamed_) ::unlink(temp_path_.c_str());
  }

  Status Append(std::string_view data) override {
    if (fd_ < 0) return Internal(fmt::format("writing {}: the file was already committed", temp_path_));
    while (!data.empty()) {
      ssize_t n = fs_.SysWrite(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoError(fmt::format("writing {}", temp_path_), errno);
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return OkStatus();
  }

  Status Commit(const std::string& path) override {
    if (fd_ < 0) return Internal(fmt::format("committing {}: already committed", temp_path_));
    // The mode is set on the descriptor rather than at open so the umask cannot change it.
    if (::fchmod(fd_, mode_) != 0) return ErrnoError(fmt::format("setting the mode of {}", temp_path_), errno);
    if (fs_.SysFsync(fd_) != 0) return ErrnoError(fmt::format("fsync of {}", temp_path_), errno);
    int fd = fd_;
    fd_ = -1;
    // Linux releases the descriptor even when close fails, so it is never retried; a failure may still
    // report a lost write (network file systems).
    if (::close(fd) != 0) return ErrnoError(fmt::format("closing {}", temp_path_), errno);
    if (fs_.SysRename(temp_path_.c_str(), path.c_str()) != 0) {
      return ErrnoError(fmt::format("renaming {} to {}", temp_path_, path), errno);
    }
    renamed_ = true;
    Status synced = SyncDir(fs_, DirName(path));
    if (!synced.ok()) {
      // The new name may not survive a crash. Take it away rather than leave a file that a later writer of
      // the same content would trust as durable.
      ::unlink(path.c_str());
      return synced;
    }
    return OkStatus();
  }

 private:
  PosixFileSystem& fs_;
  const std::string temp_path_;
  int fd_;  // -1 once closed by Commit.
  const mode_t mode_;
  bool renamed_ = false;  // The temporary name is gone (moved to the final path).
};

}  // namespace

Result<std::unique_ptr<PendingFile>> PosixFileSystem::CreatePending(const std::string& dir, mode_t mode) {
  // 64 random bits: a clash with a concurrent writer is negligible, and O_EXCL turns one into an error
  // instead of two writers sharing a file.
  std::string temp = fmt::format("{}/.pending{}{}", dir, kTempFileMarker, RandomHex(8));
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError(fmt::format("creating {}", temp), errno);
  return std::unique_ptr<PendingFile>(std::make_unique<PosixPendingFile>(*this, std::move(temp), fd, mode));
}

Status PosixFileSystem::ReadChunks(const std::string& path, const std::function<Status(std::string_view)>& sink) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFound(fmt::format("{} does not exist", path));
    return ErrnoError(fmt::format("opening {}", path), errno);
  }
  std::vector<char> buf(kReadChunkBytes);
  Status st;
  while (st.ok()) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      st = ErrnoError(fmt::format("reading {}", path), errno);
    } else if (n == 0) {
      break;
    } else {
      st = sink(std::string_view(buf.data(), static_cast<size_t>(n)));
    }
  }
  ::close(fd);
  return st;
}

std::optional<mode_t> PosixFileSystem::ModeOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return st.st_mode & 07777;
}

Status PosixFileSystem::CreateDirs(const std::string& path) {
  // Walk down from the top so each newly made directory's parent exists and can be fsynced.
  for (size_t end = path.find('/', 1); ; end = path.find('/', end + 1)) {
    std::string prefix = path.substr(0, end);
    if (!prefix.empty() && prefix.back() != '/') IGNITE_RETURN_IF_ERROR(CreateDir(*this, prefix));
    if (end == std::string::npos) break;
  }
  return OkStatus();
}

Result<int> PosixFileSystem::RemoveTempFiles(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  // Collected first: removing entries while a directory iterator walks them is unspecified.
  std::vector<fs::path> temps;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename().string().find(kTempFileMarker) != std::string::npos) temps.push_back(it->path());
  }
  if (ec) return Internal(fmt::format("listing {}: {}", dir, ec.message()));
  for (const fs::path& p : temps) {
    if (!fs::remove(p, ec) && ec) return Internal(fmt::format("removing {}: {}", p.string(), ec.message()));
  }
  return static_cast<int>(temps.size());
}

ssize_t PosixFileSystem::SysWrite(int fd, const void* buf, size_t n) { return ::write(fd, buf, n); }
int PosixFileSystem::SysFsync(int fd) { return ::fsync(fd); }
int PosixFileSystem::SysRename(const char* from, const char* to) { return ::rename(from, to); }

FileSystem& DefaultFileSystem() {
  static PosixFileSystem fs;
  return fs;
}

}  // namespace ignite::blob
