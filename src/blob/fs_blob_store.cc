#include "blob/fs_blob_store.h"

#include <fmt/format.h>

#include <algorithm>

#include "blob/sha256_hasher.h"
#include "common/ids.h"

namespace ignite::blob {
namespace {

constexpr mode_t kReadOnly = 0444;
constexpr mode_t kExecutable = 0555;
constexpr size_t kHashLength = 64;

Status MalformedHash(std::string_view hash) {
  // Bounded: the hash may be arbitrary user input.
  constexpr size_t kShown = 80;
  std::string shown(hash.substr(0, kShown));
  if (hash.size() > kShown) shown += "...";
  return InvalidArgument(
      fmt::format("malformed blob hash \"{}\": expected 64 lowercase hex digits (a sha256)", shown));
}

bool IsExecutable(mode_t mode) { return (mode & 0111) == 0111; }

}  // namespace

bool FsBlobStore::IsValidHash(std::string_view hash) {
  return hash.size() == kHashLength &&
         std::all_of(hash.begin(), hash.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Result<std::unique_ptr<FsBlobStore>> FsBlobStore::Open(std::string root, FileSystem* fs) {
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  if (root.empty()) return InvalidArgument("blob store root directory is empty");
  std::unique_ptr<FsBlobStore> store(new FsBlobStore(std::move(root), fs != nullptr ? fs : &DefaultFileSystem()));
  IGNITE_RETURN_IF_ERROR(store->fs_->CreateDirs(store->blobs_dir_));
  // Safe only because no write can be in flight yet: a temporary file now is a crashed writer's.
  IGNITE_RETURN_IF_ERROR(store->fs_->RemoveTempFiles(store->blobs_dir_).status());
  return store;
}

FsBlobStore::FsBlobStore(std::string root, FileSystem* fs)
    : root_(std::move(root)), blobs_dir_(root_ == "/" ? "/sha256" : root_ + "/sha256"), fs_(fs) {}

std::string FsBlobStore::FanOutDir(std::string_view hash) const {
  return fmt::format("{}/{}", blobs_dir_, hash.substr(0, 2));
}

std::string FsBlobStore::PathFor(std::string_view hash) const {
  if (!IsValidHash(hash)) return "";
  return fmt::format("{}/{}", FanOutDir(hash), hash.substr(2));
}

bool FsBlobStore::Contains(std::string_view hash) const {
  return IsValidHash(hash) && fs_->ModeOf(PathFor(hash)).has_value();
}

Result<std::string> FsBlobStore::Put(std::string_view data) {
  std::string hash = Sha256Hex(data);
  const std::string path = PathFor(hash);
  if (fs_->ModeOf(path).has_value()) return hash;
  const std::string dir = FanOutDir(hash);
  IGNITE_RETURN_IF_ERROR(fs_->CreateDirs(dir));
  // Staged in the blob's own directory, so the rename and the directory fsync touch one directory.
  IGNITE_ASSIGN_OR_RETURN(std::unique_ptr<PendingFile> file, fs_->CreatePending(dir, kReadOnly));
  IGNITE_RETURN_IF_ERROR(file->Append(data));
  IGNITE_RETURN_IF_ERROR(file->Commit(path));
  return hash;
}

Result<std::string> FsBlobStore::PutFile(const std::string& path, bool executable) {
  const mode_t mode = executable ? kExecutable : kReadOnly;
  // The hash, and so the final directory, is known only at the end: stage at the top and rename across.
  IGNITE_ASSIGN_OR_RETURN(std::unique_ptr<PendingFile> file, fs_->CreatePending(blobs_dir_, mode));
  Sha256Hasher hasher;
  // One pass hashes exactly the bytes stored, so the name always matches the content.
  IGNITE_RETURN_IF_ERROR(fs_->ReadChunks(path, [&](std::string_view chunk) {
    hasher.Update(chunk);
    return file->Append(chunk);
  }));
  std::string hash = hasher.FinalHex();
  const std::string blob_path = PathFor(hash);
  std::optional<mode_t> existing = fs_->ModeOf(blob_path);
  // Destroying `file` removes the staged copy.
  if (existing.has_value() && (!executable || IsExecutable(*existing))) return hash;
  IGNITE_RETURN_IF_ERROR(fs_->CreateDirs(FanOutDir(hash)));
  IGNITE_RETURN_IF_ERROR(file->Commit(blob_path));
  return hash;
}

Result<std::string> FsBlobStore::Get(std::string_view hash) {
  if (!IsValidHash(hash)) return MalformedHash(hash);
  Result<std::string> content = ReadFile(*fs_, PathFor(hash));
  if (!content.ok() && content.status().code() == StatusCode::kNotFound) {
    return NotFound(fmt::format("blob {} not found", hash));
  }
  return content;
}

}  // namespace ignite::blob
