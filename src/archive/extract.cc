// ExtractTo: Inspect, then a second scan whose sink writes through libarchive's archive_write_disk.
#include <archive.h>
#include <archive_entry.h>

#include <filesystem>
#include <memory>
#include <mutex>

#include <fmt/format.h>

#include "archive/archive.h"
#include "archive/scanner.h"

namespace ignite::archive {
namespace {

struct WriteFree {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct EntryFree {
  void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};

// archive_write_disk_new() reads the umask by setting it to 0 and back; serialize our calls to it.
std::mutex& DiskWriterMutex() {
  static std::mutex m;
  return m;
}

class DiskSink : public ScanSink {
 public:
  DiskSink(struct archive* disk, std::string root) : disk_(disk), root_(std::move(root)) {}

  Status Begin(const ScannedEntry& entry) override {
    std::unique_ptr<struct archive_entry, EntryFree> e(archive_entry_new());
    std::string full = root_ + "/" + entry.path;
    archive_entry_set_pathname(e.get(), full.c_str());
    switch (entry.kind) {
      case EntryKind::kFile:
        archive_entry_set_filetype(e.get(), AE_IFREG);
        archive_entry_set_perm(e.get(), entry.executable ? 0755 : 0644);
        if (entry.size_known) archive_entry_set_size(e.get(), static_cast<la_int64_t>(entry.size));
        break;
      case EntryKind::kDir:
        archive_entry_set_filetype(e.get(), AE_IFDIR);
        archive_entry_set_perm(e.get(), 0755);
        break;
      case EntryKind::kSymlink:
        archive_entry_set_filetype(e.get(), AE_IFLNK);
        archive_entry_set_perm(e.get(), 0777);
        archive_entry_set_symlink(e.get(), entry.link_target.c_str());
        break;
      case EntryKind::kHardlink: {
        std::string target = root_ + "/" + entry.link_target;
        archive_entry_set_filetype(e.get(), AE_IFREG);
        archive_entry_set_perm(e.get(), 0644);
        archive_entry_set_hardlink(e.get(), target.c_str());
        archive_entry_set_size(e.get(), 0);
        break;
      }
    }
    int rc = archive_write_header(disk_, e.get());
    if (rc < ARCHIVE_WARN) return WriteError(entry.path, rc);
    return OkStatus();
  }

  Status Data(const char* buf, size_t size, int64_t offset) override {
    la_ssize_t rc = archive_write_data_block(disk_, buf, size, offset);
    if (rc < ARCHIVE_WARN) return WriteError("file data", static_cast<int>(rc));
    return OkStatus();
  }

  Status End(const ScannedEntry& entry) override {
    int rc = archive_write_finish_entry(disk_);
    if (rc < ARCHIVE_WARN) return WriteError(entry.path, rc);
    return OkStatus();
  }

 private:
  Status WriteError(const std::string& what, int rc) {
    const char* msg = archive_error_string(disk_);
    return Internal(fmt::format("extracting \"{}\" failed: {}", what, msg ? msg : "unknown error"));
  }

  struct archive* disk_;
  std::string root_;
};

}  // namespace

Status ExtractTo(std::string_view data, std::string_view file_name, std::string_view single_file_name,
                 const std::string& dest, const Limits& limits) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dest, ec) || !fs::is_empty(dest, ec) || ec) {
    return FailedPrecondition(fmt::format("extraction directory {} must exist and be empty", dest));
  }
  // Entries are written as <real dest>/<checked relative path>: archive_write_disk resolves relative paths
  // against the process-wide working directory, which a multi-threaded server must not change.
  fs::path root = fs::canonical(dest, ec);
  if (ec) return Internal(fmt::format("cannot resolve {}: {}", dest, ec.message()));

  // Validate everything before writing anything.
  IGNITE_RETURN_IF_ERROR(Scan(data, file_name, single_file_name, limits, nullptr).status());

  std::unique_ptr<struct archive, WriteFree> disk;
  {
    std::lock_guard<std::mutex> lock(DiskWriterMutex());
    disk.reset(archive_write_disk_new());
  }
  if (!disk) return Internal("libarchive: out of memory");
  // NOABSOLUTEPATHS is not set: every path here is absolute by construction (root + checked relative path);
  // absolute entry names were already rejected by the scan.
  archive_write_disk_set_options(disk.get(), ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                                 ARCHIVE_EXTRACT_NO_OVERWRITE);
  DiskSink sink(disk.get(), root.string());
  IGNITE_RETURN_IF_ERROR(Scan(data, file_name, single_file_name, limits, &sink).status());
  if (archive_write_close(disk.get()) != ARCHIVE_OK) {
    const char* msg = archive_error_string(disk.get());
    return Internal(fmt::format("finishing extraction into {} failed: {}", dest, msg ? msg : "unknown error"));
  }
  return OkStatus();
}

}  // namespace ignite::archive
