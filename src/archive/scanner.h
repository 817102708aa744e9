// Scan: the one loop that reads an upload entry by entry (through libarchive, or the single-file case) and
// enforces every rule of archive.h before handing the entry to a sink. Inspect, ReadFiles and ExtractTo are
// all a Scan with a different sink. Internal to the archive module.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "archive/archive.h"
#include "archive/entry_tree.h"
#include "common/result.h"

namespace ignite::archive {

struct ScannedEntry {
  std::string path;          // normalized, never "" (the root entry "./" is counted but not reported)
  EntryKind kind = EntryKind::kFile;
  uint64_t size = 0;         // kFile: bytes actually read (in Begin: the header's size, if it has one)
  bool size_known = false;   // in Begin: whether the header gave a size
  bool executable = false;   // kFile: any execute bit was set
  std::string link_target;   // kSymlink: target as stored; kHardlink: normalized target path
};

// Receives validated entries in archive order. Any non-OK Status stops the scan and is returned by Scan.
class ScanSink {
 public:
  virtual ~ScanSink() = default;
  virtual Status Begin(const ScannedEntry& entry) { return OkStatus(); }
  // Data of the current regular file, in order; `offset` is where it belongs in the file.
  virtual Status Data(const char* buf, size_t size, int64_t offset) { return OkStatus(); }
  virtual Status End(const ScannedEntry& entry) { return OkStatus(); }
};

// Reads and validates every entry, passing each to `sink` (may be null), then checks links across the whole
// archive. Returns all entries (files, dirs, links) with final sizes. Errors as described for Inspect.
Result<std::vector<ScannedEntry>> Scan(std::string_view data, std::string_view file_name,
                                       std::string_view single_file_name, const Limits& limits, ScanSink* sink);

}  // namespace ignite::archive
