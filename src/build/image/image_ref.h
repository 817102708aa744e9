// Image references as users write them ("127.0.0.1:5000/acme/app:1.0", "ghcr.io/acme/app@sha256:...",
// "busybox"), parsed and normalised the way the Docker and OCI tools read them. Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace ignite::build::image {

struct ImageRef {
  // "127.0.0.1:5000", "ghcr.io", "docker.io" (a first component without '.', ':' or "localhost" is a
  // repository path on Docker Hub, as docker reads it).
  std::string registry;
  // "acme/app"; a one-component name on Docker Hub gets "library/" ("busybox" -> "library/busybox").
  std::string repository;
  std::string tag;     // "1.0"; "latest" when the reference names neither a tag nor a digest
  std::string digest;  // "sha256:<64 lowercase hex>", or "" when none was given

  // registry/repository[:tag][@digest]; the tag is left out when a digest is given.
  std::string ToString() const;
  // registry/repository@<digest>: the reference a version pins.
  std::string Pinned(std::string_view digest) const;
  bool operator==(const ImageRef&) const = default;
};

// Parses `ref`. InvalidArgument (saying what a valid reference looks like) for: empty or longer than 512
// bytes, whitespace or control characters, a scheme ("docker://", "https://"), upper case in the repository,
// path components that are not [a-z0-9]+ joined by '.', '_', '__' or '-'+, a tag that is not
// [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}, a digest that is not sha256:<64 hex>, a port that is not 1..65535.
Result<ImageRef> ParseImageRef(std::string_view ref);

// Whether the registry host is this machine's loopback ("localhost", "127.x.y.z", "[::1]", each with an
// optional port): the only registries pulled from without TLS verification unless the operator lists
// others (ignited --insecure-registry).
bool IsLoopbackRegistry(std::string_view registry);

}  // namespace ignite::build::image
