// Safe reading, extraction and packing of uploaded code: zip, tar.gz, or a single source file.
//
// Everything an archive says is treated as hostile. Every entry is validated before anything is written to
// disk (paths, links, file types, names, sizes, counts), and extraction writes only below the destination.
// All reading and writing goes through libarchive.
//
// Thread-safety: every function is reentrant and may be called from several threads at once (each call uses
// its own libarchive objects). The functions run in the calling thread and block it while they work.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace ignite::archive {

enum class Format { kTarGz, kZip, kSingleFile };

// Upper bounds on what an archive may unpack to. Exceeding any of them is InvalidArgument naming the limit.
struct Limits {
  uint64_t max_unpacked_bytes = 256ull << 20;  // total of all regular files
  uint32_t max_entries = 5000;                  // files + dirs (every entry of the archive counts)
  uint64_t max_file_bytes = 128ull << 20;       // any single regular file
};

struct FileEntry {
  std::string path;  // normalized, relative to the archive root: "main.go", "pkg/util.go"
  uint64_t size = 0;
};

// Detects the format from the magic bytes: gzip (1f 8b) -> tar.gz, "PK\x03\x04" (or the empty zip
// "PK\x05\x06") -> zip; otherwise, if the data is valid UTF-8 text without NUL bytes (nor other control
// characters than tab, CR, LF, FF, VT) -> a single source file.
// Empty data, and anything else, is InvalidArgument ("not a zip or tar.gz archive, nor a source file"). If
// `file_name` is non-empty and its suffix (.zip, .tar.gz/.tgz, or a source extension such as .go) disagrees
// with the content, InvalidArgument naming both. Other suffixes (or none) are not checked.
Result<Format> DetectFormat(std::string_view data, std::string_view file_name);

// Validates every entry WITHOUT writing anything to disk and returns the regular files (normalized relative
// paths, sorted bytewise). A hardlink counts as a regular file with its target's size.
// InvalidArgument naming the offending entry for: absolute paths; any ".." component; backslashes or control
// characters in a name; names that are not valid UTF-8; symlinks whose target is absolute or resolves outside
// the root (following the archive's other symlinks); entries placed beneath a symlink; hardlinks whose target
// is not an earlier regular file of the archive; device/fifo/socket entries; duplicate paths (or a path used
// both as a file and as a directory); exceeding any limit (naming the limit and its value, e.g. "archive
// unpacks to more than 256 MiB", "archive has more than 5000 entries"); an archive without any regular file;
// corrupt or truncated data (with libarchive's message). A single source file becomes one entry named
// `single_file_name` (if empty, the base name of `file_name`).
// Sizes are counted from the data actually decompressed, not from what headers claim.
Result<std::vector<FileEntry>> Inspect(std::string_view data, std::string_view file_name,
                                       std::string_view single_file_name, const Limits& limits);

// Extracts into `dest` (an existing empty directory; FailedPrecondition otherwise) after running the same
// checks as Inspect, with libarchive's archive_write_disk and ARCHIVE_EXTRACT_SECURE_NODOTDOT |
// ARCHIVE_EXTRACT_SECURE_SYMLINKS. No owner, ACL, xattr or time restoration: regular files become 0755 when
// any execute bit was set and 0644 otherwise, directories 0755 (the process umask still applies). Symlinks
// inside the root are created as they are. On failure `dest` may hold partial files; the caller removes it.
// Write errors (disk full, permissions) are Internal.
Status ExtractTo(std::string_view data, std::string_view file_name, std::string_view single_file_name,
                 const std::string& dest, const Limits& limits);

// Validates like Inspect and returns the contents of the named regular files (normalized paths relative to
// the root, e.g. "go.mod") without extracting anything. Names not in the archive are simply absent.
Result<std::map<std::string, std::string>> ReadFiles(std::string_view data, std::string_view file_name,
                                                     std::string_view single_file_name,
                                                     const std::set<std::string>& names, const Limits& limits);

// Packs a directory into a tar.gz in memory: regular files, directories and symlinks that stay inside `dir`,
// with relative paths, skipping every file or directory whose name is in `skip_names` (at any depth).
// Deterministic: entries sorted by path, zero mtime/uid/gid, no user/group names, modes normalized to
// 0644/0755, no gzip timestamp, so the same tree always packs to the same bytes.
// NotFound if `dir` does not exist; InvalidArgument if it is not a directory, holds a symlink leading outside
// it or a special file (socket, fifo, device), or holds no regular file after the skips; PermissionDenied or
// Internal when a file cannot be read.
Result<std::string> PackDirectory(const std::string& dir, const std::vector<std::string>& skip_names);

// Packs one file's content into a tar.gz with a single 0644 entry `name` (deterministic like PackDirectory).
// InvalidArgument if `name` is not a valid relative path.
Result<std::string> PackSingleFile(std::string_view content, std::string_view name);

}  // namespace ignite::archive
