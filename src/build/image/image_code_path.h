// The container image path as a Builder (build/builder.h), registered by ignited under the key "image".
//
// The "code" of an image draft is a small JSON document (ImageSourceJson): {"imageRef": "...",
// "registrySecretRef": "..."}. Checking it (at save) reads the image's configuration from its registry and
// applies the container contract (a numeric non-root USER, a command to run). Building it pulls the image:
//   1. skopeo inspect --raw: the manifest as the registry serves it; its sha256 is the digest the version
//      pins (a tag may move later; the version does not);
//   2. skopeo copy docker://<repo>@<digest> oci:<work>/oci: every blob fetched and verified by digest;
//   3. each layer checked (image/layer_check.h) before anything is kept: no path escapes, size limits;
//   4. the artifact: a descriptor (kind, reference, pinned reference, manifest, config and layer digests),
//      with the manifest, config and layers stored beside it as blobs of their own (BuildOutput::blobs), so
//      versions and apps that share layers share their blobs.
// Layout unpacks the image once per manifest into `roots_dir`/<manifest sha256> with umoci (whiteouts,
// ownership, links resolved inside the root), from an OCI layout linked to the stored blobs, then makes the
// mount points the sandbox needs (instances/sandbox.h, SandboxSpawn::root). The instance runs the image's
// Entrypoint + Cmd as its USER in its WorkingDir with its Env, in its own network namespace, and serves on
// the port the app names (Routing fills ArtifactLayout::port and health_path).
//
// Registries are reached over TLS with verification, except loopback ones and those the operator lists as
// insecure. Thread-safe (Layout serialises unpacks of one image through the file system: a temporary
// directory renamed into place).
#pragma once

#include <functional>
#include <set>
#include <string>

#include "build/builder.h"
#include "build/image/layer_check.h"

namespace ignite::build::image {

struct ImageTools {
  std::string skopeo = "skopeo";  // paths (or names looked up in PATH) of the tools
  std::string umoci = "umoci";
  std::set<std::string> insecure_registries;  // "host:port" pulled from without TLS verification
  LayerLimits limits;
};

// The draft code of an image source.
std::string ImageSourceJson(const std::string& image_ref, const std::string& registry_secret_ref);

class ImageCodePath : public Builder {
 public:
  // `blob_path` maps a stored blob's sha256 (hex) to its file (blob::BlobStore::PathFor); `roots_dir` is
  // where images are unpacked (created when missing).
  ImageCodePath(ImageTools tools, std::function<std::string(std::string_view)> blob_path, std::string roots_dir)
      : tools_(std::move(tools)), blob_path_(std::move(blob_path)), roots_dir_(std::move(roots_dir)) {}

  // FailedPrecondition when skopeo is missing; InvalidArgument for a bad reference, an image the registry
  // does not have (with skopeo's message), or a configuration the contract refuses.
  Status Check(const Source& source, const CheckContext& ctx) const override;
  Result<BuildOutput> Build(const Source& source, const BuildContext& ctx) const override;
  // Unpacks on first use (seconds for a large image). FailedPrecondition when the descriptor or a blob is
  // missing or umoci fails.
  Result<ArtifactLayout> Layout(const std::string& artifact_path) const override;

  // Whether this machine has the tools ("" when it has), for start-up and health reports.
  std::string Missing() const;

 private:
  const ImageTools tools_;
  const std::function<std::string(std::string_view)> blob_path_;
  const std::string roots_dir_;
};

}  // namespace ignite::build::image
