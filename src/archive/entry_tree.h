// EntryTree: the shape of an archive (files, directories, links) built entry by entry, so that conflicts and
// link escapes can be judged against the whole archive. Pure logic, no I/O. Not thread-safe (one per scan).
#pragma once

#include <map>
#include <string>

#include "common/status.h"

namespace ignite::archive {

enum class EntryKind { kFile, kDir, kSymlink, kHardlink };

class EntryTree {
 public:
  // Records an entry at a normalized path (see NormalizeEntryPath; never ""). `link_target` is the symlink's
  // target as stored, or the hardlink's normalized target path. InvalidArgument naming the entry for: a
  // duplicate path; a path beneath a file or a symlink; a file or symlink where an earlier entry needs a
  // directory; an absolute or empty symlink target; a hardlink whose target is not an earlier regular file.
  Status Add(const std::string& path, EntryKind kind, const std::string& link_target = {});

  // To be called once every entry is added: checks that each symlink resolves inside the root, following
  // the archive's other symlinks the way the kernel would (at most 40 hops, else InvalidArgument as a loop).
  Status CheckLinks() const;

  // The kind recorded at `path` (explicit entries only), or nullptr.
  const EntryKind* Find(const std::string& path) const;

 private:
  Status Resolve(const std::string& link, const std::string& target) const;

  std::map<std::string, EntryKind> explicit_;      // every entry added
  std::map<std::string, std::string> symlinks_;    // path -> target
  std::map<std::string, std::string> implicit_dirs_;  // dir path -> the first entry that needed it
};

}  // namespace ignite::archive
