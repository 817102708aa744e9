// PackDirectory / PackSingleFile: deterministic tar.gz of a local tree (used by the CLI).
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "archive/archive.h"
#include "archive/entry_tree.h"
#include "archive/memory_writer.h"
#include "archive/paths.h"

namespace ignite::archive {
namespace {

namespace fs = std::filesystem;

struct LocalEntry {
  std::string rel;  // relative path, '/'-separated
  EntryKind kind;
  mode_t perm = 0644;
  std::string symlink;
};

Status ReadFileContent(const fs::path& p, std::string* out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    int err = errno;
    std::string msg = fmt::format("cannot read {}: {}", p.string(), std::strerror(err));
    return err == EACCES ? PermissionDenied(msg) : Internal(msg);
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Internal(fmt::format("cannot read {}", p.string()));
  *out = std::move(ss).str();
  return OkStatus();
}

// Walks `dir` in sorted order without following symlinks, collecting entries.
Status Walk(const fs::path& root, const std::string& rel_dir, const std::vector<std::string>& skip,
            std::vector<LocalEntry>* out) {
  std::error_code ec;
  fs::path dir = rel_dir.empty() ? root : root / rel_dir;
  std::vector<std::string> names;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    names.push_back(it->path().filename().string());
  }
  if (ec) {
    std::string msg = fmt::format("cannot list {}: {}", dir.string(), ec.message());
    return ec == std::errc::permission_denied ? PermissionDenied(msg) : Internal(msg);
  }
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    if (std::find(skip.begin(), skip.end(), name) != skip.end()) continue;
    std::string rel = rel_dir.empty() ? name : rel_dir + "/" + name;
    fs::path p = root / rel;
    struct stat st;
    if (lstat(p.c_str(), &st) != 0) return Internal(fmt::format("cannot stat {}: {}", p.string(), std::strerror(errno)));
    if (S_ISDIR(st.st_mode)) {
      out->push_back({rel, EntryKind::kDir, 0755, {}});
      IGNITE_RETURN_IF_ERROR(Walk(root, rel, skip, out));
    } else if (S_ISREG(st.st_mode)) {
      out->push_back({rel, EntryKind::kFile, static_cast<mode_t>((st.st_mode & 0111) ? 0755 : 0644), {}});
    } else if (S_ISLNK(st.st_mode)) {
      std::string target = fs::read_symlink(p, ec).string();
      if (ec) return Internal(fmt::format("cannot read symlink {}: {}", p.string(), ec.message()));
      out->push_back({rel, EntryKind::kSymlink, 0777, target});
    } else {
      return InvalidArgument(fmt::format(
          "{} is not a regular file, directory or symlink (a socket, fifo or device); remove it or move it out "
          "of {}",
          p.string(), root.string()));
    }
  }
  return OkStatus();
}

}  // namespace

Result<std::string> PackDirectory(const std::string& dir, const std::vector<std::string>& skip_names) {
  std::error_code ec;
  auto status = fs::status(dir, ec);
  if (!fs::exists(status)) return NotFound(fmt::format("directory {} does not exist", dir));
  if (!fs::is_directory(status)) return InvalidArgument(fmt::format("{} is not a directory", dir));
  std::vector<LocalEntry> entries;
  IGNITE_RETURN_IF_ERROR(Walk(fs::path(dir), "", skip_names, &entries));

  // The same rules the server applies: names must be valid, links must stay inside.
  EntryTree tree;
  bool any_file = false;
  for (const auto& e : entries) {
    auto norm = NormalizeEntryPath(e.rel);
    if (!norm.ok()) return InvalidArgument(fmt::format("cannot pack {}: {}", dir, norm.status().message()));
    Status st = tree.Add(*norm, e.kind, e.symlink);
    if (!st.ok()) return InvalidArgument(fmt::format("cannot pack {}: {}", dir, st.message()));
    any_file |= e.kind == EntryKind::kFile;
  }
  Status links = tree.CheckLinks();
  if (!links.ok()) {
    return InvalidArgument(fmt::format("cannot pack {}: {} (replace the link with a copy of the file)", dir,
                                       links.message()));
  }
  if (!any_file) {
    return InvalidArgument(fmt::format("{} has no files to upload (after skipping {})", dir,
                                       fmt::join(skip_names, ", ")));
  }

  IGNITE_ASSIGN_OR_RETURN(auto writer, MemoryWriter::Create(MemoryWriter::Kind::kTarGz));
  for (const auto& e : entries) {
    switch (e.kind) {
      case EntryKind::kDir:
        IGNITE_RETURN_IF_ERROR(writer->AddDir(e.rel));
        break;
      case EntryKind::kSymlink:
        IGNITE_RETURN_IF_ERROR(writer->AddSymlink(e.rel, e.symlink));
        break;
      default: {
        std::string content;
        IGNITE_RETURN_IF_ERROR(ReadFileContent(fs::path(dir) / e.rel, &content));
        IGNITE_RETURN_IF_ERROR(writer->AddFile(e.rel, content, e.perm));
      }
    }
  }
  return writer->Finish();
}

Result<std::string> PackSingleFile(std::string_view content, std::string_view name) {
  IGNITE_ASSIGN_OR_RETURN(std::string path, NormalizeEntryPath(name));
  if (path.empty()) return InvalidArgument(fmt::format("\"{}\" is not a valid file name", name));
  IGNITE_ASSIGN_OR_RETURN(auto writer, MemoryWriter::Create(MemoryWriter::Kind::kTarGz));
  IGNITE_RETURN_IF_ERROR(writer->AddFile(path, content, 0644));
  return writer->Finish();
}

}  // namespace ignite::archive
