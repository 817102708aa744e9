#include "testing/fake_blob_store.h"

#include <fmt/format.h>

#include "blob/file_system.h"
#include "blob/fs_blob_store.h"
#include "common/ids.h"

namespace ignite::fakes {
namespace {

// FsBlobStore's message, word for word.
Status MalformedHash(std::string_view hash) {
  constexpr size_t kShown = 80;  // Bounded: the hash may be arbitrary user input.
  std::string shown(hash.substr(0, kShown));
  if (hash.size() > kShown) shown += "...";
  return InvalidArgument(
      fmt::format("malformed blob hash \"{}\": expected 64 lowercase hex digits (a sha256)", shown));
}

}  // namespace

void FakeBlobStore::Insert(const std::string& hash, std::string content, bool executable) {
  auto [it, inserted] = blobs_.try_emplace(hash, Blob{.content = std::move(content), .executable = executable});
  if (!inserted && executable) it->second.executable = true;
}

Result<std::string> FakeBlobStore::Put(std::string_view data) {
  std::string hash = Sha256Hex(data);
  std::lock_guard<std::mutex> lock(mu_);
  Insert(hash, std::string(data), /*executable=*/false);
  return hash;
}

Result<std::string> FakeBlobStore::PutFile(const std::string& path, bool executable) {
  // Read outside the lock: the disk is slow and needs no guarding.
  IGNITE_ASSIGN_OR_RETURN(std::string content, blob::ReadFile(blob::DefaultFileSystem(), path));
  std::string hash = Sha256Hex(content);
  std::lock_guard<std::mutex> lock(mu_);
  Insert(hash, std::move(content), executable);
  return hash;
}

Result<std::string> FakeBlobStore::Get(std::string_view hash) {
  if (!blob::FsBlobStore::IsValidHash(hash)) return MalformedHash(hash);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = blobs_.find(hash);
  if (it == blobs_.end()) return NotFound(fmt::format("blob {} not found", hash));
  return it->second.content;
}

std::string FakeBlobStore::PathFor(std::string_view hash) const {
  if (!blob::FsBlobStore::IsValidHash(hash)) return "";
  return fmt::format("{}/{}", kFakeRoot, hash);
}

bool FakeBlobStore::Contains(std::string_view hash) const {
  std::lock_guard<std::mutex> lock(mu_);
  return blobs_.find(hash) != blobs_.end();
}

bool FakeBlobStore::executable(std::string_view hash) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = blobs_.find(hash);
  return it != blobs_.end() && it->second.executable;
}

}  // namespace ignite::fakes
