#include "archive/entry_tree.h"

#include <deque>
#include <vector>

#include <fmt/format.h>

#include "archive/paths.h"

namespace ignite::archive {
namespace {

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += '/';
    out += p;
  }
  return out;
}

}  // namespace

const EntryKind* EntryTree::Find(const std::string& path) const {
  auto it = explicit_.find(path);
  return it == explicit_.end() ? nullptr : &it->second;
}

Status EntryTree::Add(const std::string& path, EntryKind kind, const std::string& link_target) {
  if (explicit_.count(path)) {
    return InvalidArgument(fmt::format(
        "the archive contains \"{}\" more than once; remove the duplicate and re-create the archive", path));
  }
  // Every parent must be (or become) a directory.
  auto parts = SplitPath(path);
  std::string prefix;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (!prefix.empty()) prefix += '/';
    prefix += parts[i];
    auto it = explicit_.find(prefix);
    if (it != explicit_.end() && it->second != EntryKind::kDir) {
      if (it->second == EntryKind::kSymlink) {
        return InvalidArgument(fmt::format(
            "entry \"{}\" is placed beneath \"{}\", which is a symlink; archives may not put entries inside "
            "symlinked directories",
            path, prefix));
      }
      return InvalidArgument(fmt::format(
          "entry \"{}\" needs \"{}\" to be a directory, but the archive has a file there; re-create the archive",
          path, prefix));
    }
  }
  if (kind != EntryKind::kDir) {
    auto it = implicit_dirs_.find(path);
    if (it != implicit_dirs_.end()) {
      return InvalidArgument(fmt::format(
          "entry \"{}\" is not a directory, but \"{}\" is placed inside it; re-create the archive", path,
          it->second));
    }
  }
  if (kind == EntryKind::kSymlink) {
    if (link_target.empty()) {
      return InvalidArgument(fmt::format("symlink \"{}\" has an empty target; remove it from the archive", path));
    }
    if (link_target.front() == '/') {
      return InvalidArgument(fmt::format(
          "symlink \"{}\" points to the absolute path \"{}\"; links must stay inside the archive (use a relative "
          "target or copy the file in)",
          path, link_target));
    }
  }
  if (kind == EntryKind::kHardlink) {
    auto it = explicit_.find(link_target);
    if (it == explicit_.end() || (it->second != EntryKind::kFile && it->second != EntryKind::kHardlink)) {
      return InvalidArgument(fmt::format(
          "hardlink \"{}\" points to \"{}\", which is not a regular file earlier in the archive; re-create the "
          "archive without hardlinks",
          path, QuoteName(link_target)));
    }
  }
  prefix.clear();
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (!prefix.empty()) prefix += '/';
    prefix += parts[i];
    implicit_dirs_.emplace(prefix, path);
  }
  explicit_.emplace(path, kind);
  if (kind == EntryKind::kSymlink) symlinks_.emplace(path, link_target);
  return OkStatus();
}

Status EntryTree::CheckLinks() const {
  for (const auto& [path, target] : symlinks_) IGNITE_RETURN_IF_ERROR(Resolve(path, target));
  return OkStatus();
}

Status EntryTree::Resolve(const std::string& link, const std::string& target) const {
  auto escape = [&] {
    return InvalidArgument(fmt::format(
        "symlink \"{}\" points to \"{}\", which is outside the archive; links must stay inside the archive "
        "root",
        link, target));
  };
  // `stack` is the physical directory reached so far; `pending` the components still to walk.
  std::vector<std::string> stack = SplitPath(link);
  stack.pop_back();  // a symlink's target is relative to the directory holding it
  std::deque<std::string> pending;
  for (auto& p : SplitPath(target)) pending.push_back(std::move(p));
  int hops = 0;
  while (!pending.empty()) {
    std::string c = std::move(pending.front());
    pending.pop_front();
    if (c == ".") continue;
    if (c == "..") {
      if (stack.empty()) return escape();
      stack.pop_back();
      continue;
    }
    stack.push_back(c);
    auto it = symlinks_.find(Join(stack));
    if (it == symlinks_.end()) continue;
    if (++hops > 40) {
      return InvalidArgument(fmt::format(
          "symlink \"{}\" is part of a symlink loop; remove the loop from the archive", link));
    }
    stack.pop_back();
    auto parts = SplitPath(it->second);
    for (auto p = parts.rbegin(); p != parts.rend(); ++p) pending.push_front(*p);
    // Absolute targets were rejected by Add, so resolution always continues from the link's directory.
  }
  return OkStatus();
}

}  // namespace ignite::archive
