#include "archive/scanner.h"

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <optional>

#include <fmt/format.h>

#include "archive/locale_scope.h"
#include "archive/paths.h"

namespace ignite::archive {
namespace {

struct ReadFree {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
using Reader = std::unique_ptr<struct archive, ReadFree>;

std::string LibarchiveError(struct archive* a) {
  const char* msg = archive_error_string(a);
  return msg ? msg : "unknown error";
}

std::string_view KindName(Format f) { return f == Format::kZip ? "zip" : "tar.gz"; }

Status Corrupt(Format f, struct archive* a, std::string_view where) {
  return InvalidArgument(fmt::format(
      "the {} archive is corrupt or truncated, or uses an unsupported feature{}: {}; re-create the archive and "
      "upload it again",
      KindName(f), where, LibarchiveError(a)));
}

Result<Reader> OpenReader(std::string_view data, Format format) {
  Reader r(archive_read_new());
  if (!r) return Internal("libarchive: out of memory");
  if (format == Format::kZip) {
    // The central directory is the authoritative index (what unzip and Go's archive/zip read).
    archive_read_support_format_zip_seekable(r.get());
  } else {
    archive_read_support_filter_gzip(r.get());
    archive_read_support_format_tar(r.get());
    archive_read_support_format_empty(r.get());
  }
  if (archive_read_open_memory(r.get(), data.data(), data.size()) != ARCHIVE_OK) {
    if (format == Format::kTarGz && LibarchiveError(r.get()).find("Unrecognized") != std::string::npos) {
      return InvalidArgument(fmt::format(
          "the gzip data is not a tar.gz archive ({}); upload a .tar.gz made with `tar czf`, a .zip, or a single "
          "source file",
          LibarchiveError(r.get())));
    }
    return Corrupt(format, r.get(), "");
  }
  return r;
}

Status LimitError(std::string what) { return InvalidArgument(std::move(what)); }

class Scanner {
 public:
  Scanner(const Limits& limits, ScanSink* sink) : limits_(limits), sink_(sink) {}

  Result<std::vector<ScannedEntry>> ScanArchive(std::string_view data, Format format) {
    IGNITE_ASSIGN_OR_RETURN(Reader reader, OpenReader(data, format));
    struct archive* a = reader.get();
    for (;;) {
      struct archive_entry* e = nullptr;
      int rc = archive_read_next_header(a, &e);
      if (rc == ARCHIVE_EOF) break;
      if (rc < ARCHIVE_WARN) return Corrupt(format, a, fmt::format(" after {} entries", count_));
      IGNITE_RETURN_IF_ERROR(CountEntry());
      IGNITE_ASSIGN_OR_RETURN(auto entry, Describe(e));
      if (!entry) continue;  // the root directory entry itself
      IGNITE_RETURN_IF_ERROR(Admit(*entry));
      if (sink_) IGNITE_RETURN_IF_ERROR(sink_->Begin(*entry));
      if (entry->kind == EntryKind::kFile) {
        entry->size = 0;
        for (;;) {
          const void* buf = nullptr;
          size_t size = 0;
          la_int64_t offset = 0;
          int drc = archive_read_data_block(a, &buf, &size, &offset);
          if (drc == ARCHIVE_EOF) break;
          if (drc < ARCHIVE_WARN) return Corrupt(format, a, fmt::format(" (in \"{}\")", entry->path));
          uint64_t end = static_cast<uint64_t>(offset) + size;
          if (end > entry->size) {
            total_ += end - entry->size;
            entry->size = end;
          }
          IGNITE_RETURN_IF_ERROR(CheckSizes(*entry));
          if (sink_ && size > 0) IGNITE_RETURN_IF_ERROR(sink_->Data(static_cast<const char*>(buf), size, offset));
        }
      }
      if (sink_) IGNITE_RETURN_IF_ERROR(sink_->End(*entry));
      entries_.push_back(std::move(*entry));
    }
    return Finish();
  }

  Result<std::vector<ScannedEntry>> ScanSingleFile(std::string_view data, std::string_view name) {
    IGNITE_RETURN_IF_ERROR(CountEntry());
    IGNITE_ASSIGN_OR_RETURN(std::string path, NormalizeEntryPath(name));
    if (path.empty() || path.find('/') != std::string::npos) {
      return InvalidArgument(fmt::format("\"{}\" is not a valid name for a single source file", name));
    }
    ScannedEntry entry{path, EntryKind::kFile, data.size(), true, false, {}};
    IGNITE_RETURN_IF_ERROR(Admit(entry));
    total_ = data.size();
    IGNITE_RETURN_IF_ERROR(CheckSizes(entry));
    if (sink_) {
      IGNITE_RETURN_IF_ERROR(sink_->Begin(entry));
      if (!data.empty()) IGNITE_RETURN_IF_ERROR(sink_->Data(data.data(), data.size(), 0));
      IGNITE_RETURN_IF_ERROR(sink_->End(entry));
    }
    entries_.push_back(std::move(entry));
    return Finish();
  }

 private:
  Status CountEntry() {
    if (++count_ > limits_.max_entries) {
      return LimitError(fmt::format(
          "archive has more than {} entries (files and directories); remove files the build does not need "
          "(dependencies are fetched at build time)",
          limits_.max_entries));
    }
    return OkStatus();
  }

  Status CheckSizes(const ScannedEntry& entry) {
    if (entry.size > limits_.max_file_bytes) {
      return LimitError(fmt::format("file \"{}\" unpacks to more than {} (the per-file limit); remove it from the "
                                    "archive",
                                    entry.path, FormatBytes(limits_.max_file_bytes)));
    }
    if (total_ > limits_.max_unpacked_bytes) {
      return LimitError(fmt::format(
          "archive unpacks to more than {}; remove large files the build does not need (the limit is on the "
          "total size of all files)",
          FormatBytes(limits_.max_unpacked_bytes)));
    }
    return OkStatus();
  }

  // Builds the validated description of a header; nullopt for the root entry ("./").
  Result<std::optional<ScannedEntry>> Describe(struct archive_entry* e) {
    const char* raw = archive_entry_pathname(e);
    if (!raw) raw = archive_entry_pathname_utf8(e);
    if (!raw) {
      return InvalidArgument(fmt::format(
          "entry #{} has a name that is not valid UTF-8; rename the file using UTF-8 and re-create the "
          "archive",
          count_));
    }
    IGNITE_ASSIGN_OR_RETURN(std::string path, NormalizeEntryPath(raw));
    ScannedEntry entry;
    entry.path = path;
    const char* hardlink = archive_entry_hardlink(e);
    mode_t type = archive_entry_filetype(e);
    if (hardlink) {
      auto target = NormalizeEntryPath(hardlink);
      if (!target.ok()) {
        return InvalidArgument(fmt::format("hardlink \"{}\" has a target that is not allowed: {}", path,
                                           target.status().message()));
      }
      entry.kind = EntryKind::kHardlink;
      entry.link_target = *target;
    } else if (type == AE_IFREG) {
      entry.kind = EntryKind::kFile;
      entry.size_known = archive_entry_size_is_set(e);
      entry.size = entry.size_known ? static_cast<uint64_t>(archive_entry_size(e)) : 0;
      entry.executable = (archive_entry_perm(e) & 0111) != 0;
    } else if (type == AE_IFDIR) {
      entry.kind = EntryKind::kDir;
    } else if (type == AE_IFLNK) {
      const char* target = archive_entry_symlink(e);
      if (!target) target = archive_entry_symlink_utf8(e);
      if (!target || !IsValidUtf8(target)) {
        return InvalidArgument(fmt::format(
            "symlink \"{}\" has a target that is not valid UTF-8; remove the link and re-create the archive",
            path));
      }
      entry.kind = EntryKind::kSymlink;
      entry.link_target = target;
    } else {
      std::string_view what = type == AE_IFCHR   ? "a character device"
                              : type == AE_IFBLK ? "a block device"
                              : type == AE_IFIFO ? "a named pipe (fifo)"
                              : type == AE_IFSOCK ? "a socket"
                                                  : "a special file";
      return InvalidArgument(fmt::format(
          "entry \"{}\" is {}; archives may contain only regular files, directories and symlinks", path, what));
    }
    if (path.empty()) {
      if (entry.kind == EntryKind::kDir) return std::optional<ScannedEntry>();
      return InvalidArgument("the archive has a non-directory entry for its root (\".\"); re-create the archive");
    }
    if (entry.kind == EntryKind::kFile && entry.size_known) {
      // Fail fast on what the header claims; the data read later is counted again for real.
      ScannedEntry claimed = entry;
      uint64_t saved = total_;
      total_ += entry.size;
      Status st = CheckSizes(claimed);
      total_ = saved;
      IGNITE_RETURN_IF_ERROR(st);
    }
    return std::optional<ScannedEntry>(std::move(entry));
  }

  Status Admit(const ScannedEntry& entry) { return tree_.Add(entry.path, entry.kind, entry.link_target); }

  Result<std::vector<ScannedEntry>> Finish() {
    IGNITE_RETURN_IF_ERROR(tree_.CheckLinks());
    bool any_file = false;
    for (auto& entry : entries_) {
      if (entry.kind == EntryKind::kFile || entry.kind == EntryKind::kHardlink) any_file = true;
    }
    if (!any_file) {
      return InvalidArgument("the archive contains no files; add your source files and upload it again");
    }
    return std::move(entries_);
  }

  const Limits& limits_;
  ScanSink* sink_;
  uint32_t count_ = 0;
  uint64_t total_ = 0;
  EntryTree tree_;
  std::vector<ScannedEntry> entries_;
};

std::string BaseName(std::string_view path) {
  auto slash = path.find_last_of('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

}  // namespace

Result<std::vector<ScannedEntry>> Scan(std::string_view data, std::string_view file_name,
                                       std::string_view single_file_name, const Limits& limits, ScanSink* sink) {
  IGNITE_ASSIGN_OR_RETURN(Format format, DetectFormat(data, file_name));
  Utf8LocaleScope locale;
  Scanner scanner(limits, sink);
  if (format == Format::kSingleFile) {
    std::string name = single_file_name.empty() ? BaseName(file_name) : std::string(single_file_name);
    if (name.empty()) return InvalidArgument("a single source file needs a file name (for example main.go)");
    return scanner.ScanSingleFile(data, name);
  }
  return scanner.ScanArchive(data, format);
}

}  // namespace ignite::archive
