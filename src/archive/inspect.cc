// Inspect and ReadFiles: scans that write nothing to disk.
#include <algorithm>

#include "archive/archive.h"
#include "archive/scanner.h"

namespace ignite::archive {
namespace {

// Regular files (and hardlinks, with their target's size), sorted by path.
std::vector<FileEntry> FilesOf(const std::vector<ScannedEntry>& entries) {
  std::map<std::string, uint64_t> sizes;
  for (const auto& e : entries) {
    if (e.kind == EntryKind::kFile) sizes[e.path] = e.size;
  }
  std::vector<FileEntry> files;
  for (const auto& e : entries) {
    if (e.kind == EntryKind::kFile) {
      files.push_back({e.path, e.size});
    } else if (e.kind == EntryKind::kHardlink) {
      // Targets are earlier files (or hardlinks to them); follow until a file.
      std::string target = e.link_target;
      for (int i = 0; i < 64 && !sizes.count(target); ++i) {
        auto it = std::find_if(entries.begin(), entries.end(), [&](const ScannedEntry& x) { return x.path == target; });
        if (it == entries.end()) break;
        target = it->link_target;
      }
      files.push_back({e.path, sizes.count(target) ? sizes[target] : 0});
    }
  }
  std::sort(files.begin(), files.end(), [](const FileEntry& a, const FileEntry& b) { return a.path < b.path; });
  return files;
}

class CollectSink : public ScanSink {
 public:
  explicit CollectSink(const std::set<std::string>& names) : names_(names) {}

  Status Begin(const ScannedEntry& entry) override {
    current_ = nullptr;
    if (entry.kind == EntryKind::kFile && names_.count(entry.path)) current_ = &contents_[entry.path];
    return OkStatus();
  }
  Status Data(const char* buf, size_t size, int64_t offset) override {
    if (current_) {
      auto off = static_cast<size_t>(offset);
      if (current_->size() < off) current_->resize(off, '\0');  // sparse hole
      current_->replace(off, std::min(size, current_->size() - off), buf, size);
    }
    return OkStatus();
  }
  std::map<std::string, std::string> contents_;

 private:
  const std::set<std::string>& names_;
  std::string* current_ = nullptr;
};

}  // namespace

Result<std::vector<FileEntry>> Inspect(std::string_view data, std::string_view file_name,
                                       std::string_view single_file_name, const Limits& limits) {
  IGNITE_ASSIGN_OR_RETURN(auto entries, Scan(data, file_name, single_file_name, limits, nullptr));
  return FilesOf(entries);
}

Result<std::map<std::string, std::string>> ReadFiles(std::string_view data, std::string_view file_name,
                                                     std::string_view single_file_name,
                                                     const std::set<std::string>& names, const Limits& limits) {
  // Hardlinked names are read through their target, so collect targets too.
  CollectSink sink(names);
  IGNITE_ASSIGN_OR_RETURN(auto entries, Scan(data, file_name, single_file_name, limits, &sink));
  std::map<std::string, std::string> out = std::move(sink.contents_);
  std::map<std::string, std::string> links;
  for (const auto& e : entries) {
    if (e.kind == EntryKind::kHardlink) links[e.path] = e.link_target;
  }
  bool need_targets = false;
  for (const auto& name : names) need_targets |= links.count(name) > 0;
  if (need_targets) {
    std::set<std::string> targets;
    for (const auto& name : names) {
      std::string t = name;
      for (int i = 0; i < 64 && links.count(t); ++i) t = links[t];
      if (t != name) targets.insert(t);
    }
    CollectSink target_sink(targets);
    IGNITE_RETURN_IF_ERROR(Scan(data, file_name, single_file_name, limits, &target_sink).status());
    for (const auto& name : names) {
      std::string t = name;
      for (int i = 0; i < 64 && links.count(t); ++i) t = links[t];
      auto it = target_sink.contents_.find(t);
      if (t != name && it != target_sink.contents_.end()) out[name] = it->second;
    }
  }
  return out;
}

}  // namespace ignite::archive
