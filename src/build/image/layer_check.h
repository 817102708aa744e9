// Checks an image layer (a tar stream, gzip-compressed or not) before anything of it is stored or
// unpacked: every entry is read with libarchive without writing anything, and a layer that could write
// outside the image root or exhaust the disk is rejected. Whiteout entries (".wh.<name>", ".wh..wh..opq")
// are ordinary names here; applying them is the unpacker's job (umoci). Reentrant; blocks the caller.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace ignite::build::image {

struct LayerLimits {
  uint64_t max_file_bytes = 2ull << 30;    // any single regular file, as decompressed
  uint64_t max_image_bytes = 8ull << 30;   // all layers of one image together, decompressed
  uint64_t max_entries = 500'000;          // all layers of one image together
};

struct LayerSummary {
  uint64_t entries = 0;
  uint64_t bytes = 0;       // regular file contents, decompressed
  std::string sha256;       // lowercase hex of the layer blob as stored (the compressed bytes)
  std::string diff_id;      // lowercase hex of the decompressed tar stream (the config's rootfs.diff_ids)
};

// Reads the layer blob at `path`, hashing the blob and its decompressed stream as it goes. `used` is what
// earlier layers of the same image already counted (entries, bytes), so the image-wide limits hold across
// layers. InvalidArgument naming the layer (`digest`, as "sha256:<first 12 hex>") and the entry for: an
// absolute path, a path with a ".." component, a hard link whose target is absolute or has a ".."
// component, a regular file over max_file_bytes, the image over max_image_bytes or max_entries, and
// corrupt or truncated data (libarchive's message). Symbolic links may point anywhere: the unpacker
// resolves them inside the root, and at run time the root is the instance's "/". Leading "./" and "/"
// are not the same thing: "./etc/passwd" is fine, "/etc/passwd" is rejected. Internal when the file cannot
// be read.
Result<LayerSummary> CheckLayer(const std::string& path, std::string_view digest, const LayerLimits& limits,
                                const LayerSummary& used);

}  // namespace ignite::build::image
