// A made-up code path for unit tests of the API's seams, with no toolchain and no real process: the "toy"
// Builder accepts sources that start with "toy:" and builds them into an artifact holding the source's text;
// its layout names the "toy" launcher, whose instances are in-process HTTP servers on a Unix socket that
// answer every request with "<artifact>|<request body>". Together they prove a code path plugs in through
// build::BuilderRegistry and instances::DispatchingLauncher alone.
//
// Thread-safe. The launcher's instances run on their own threads until stopped or destroyed.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "blob/blob_store.h"
#include "build/builder.h"
#include "instances/launcher.h"

namespace ignite::fakes {

inline constexpr char kToyLauncher[] = "toy";

class ToyBuilder : public build::Builder {
 public:
  // InvalidArgument unless the source starts with "toy:".
  Status Check(const build::Source& source, const build::CheckContext& ctx) const override;
  // Writes the source to <work_dir>/toy.out and logs one line; "toy:fail..." fails with InvalidArgument.
  Result<build::BuildOutput> Build(const build::Source& source, const build::BuildContext& ctx) const override;
  // The artifact at /app/toy, run as /app/toy by the toy launcher.
  Result<ArtifactLayout> Layout(const std::string& artifact_path) const override;

  int builds() const { return builds_; }

 private:
  mutable std::atomic<int> builds_{0};
};

// Launches toy instances: a Unix socket under `socket_dir` served by a thread that answers each HTTP/1.1
// request (keep-alive) with 200 and "<artifact content>|<request body>". The artifact's content is read from
// `blobs` by the hash that ends the layout's bind source (BlobStore::PathFor's last path element).
class ToyLauncher : public instances::Launcher {
 public:
  // `blobs` must outlive the launcher.
  ToyLauncher(std::string socket_dir, blob::BlobStore* blobs) : socket_dir_(std::move(socket_dir)), blobs_(blobs) {}
  Result<std::unique_ptr<instances::Process>> Launch(const instances::InstanceSpec& spec,
                                                     const std::string& replica_id) override;

  // The layouts launched so far, in order.
  std::vector<ArtifactLayout> launched() const;

 private:
  const std::string socket_dir_;
  blob::BlobStore* const blobs_;
  mutable std::mutex mu_;
  std::vector<ArtifactLayout> launched_;  // guarded by mu_
};

}  // namespace ignite::fakes
