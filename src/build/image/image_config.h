// The parts of an OCI image configuration (image-spec config.md; Docker's is the same JSON for these
// fields) an instance runs with, validated against the platform's container contract
// (shared/spec/platform-reference.md 5.5). Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ignite::build::image {

struct ImageConfig {
  std::vector<std::string> entrypoint;  // config.Entrypoint
  std::vector<std::string> cmd;         // config.Cmd
  std::vector<std::string> env;         // config.Env, "KEY=VALUE" each, in order
  std::string working_dir;              // config.WorkingDir; "/" when unset
  uint32_t uid = 0;                     // from config.User
  uint32_t gid = 0;                     // from config.User; the uid when the user names no group
  std::vector<uint16_t> exposed_ports;  // config.ExposedPorts "8080/tcp" keys (tcp only), ascending
  std::string architecture;             // "amd64", ...
  std::string os;                       // "linux", ...

  // Entrypoint followed by Cmd: what the instance execs.
  std::vector<std::string> Argv() const;
};

// Parses an image config blob. InvalidArgument with a message that says how to fix the image, for:
// JSON that does not parse or is not an object; os other than "linux" or architecture other than "amd64"
// (when present); neither Entrypoint nor Cmd; a User that is empty or missing (the image would run as root),
// names a user or a group instead of numbers, or is uid 0. The user messages follow the reference:
//   "the image runs as a named user (\"app\"); the platform cannot verify it is non-root: use a numeric
//    USER such as `USER 65534` or `USER 1000:1000`"
//   "the image runs as root (USER 0); use a numeric non-root USER such as `USER 65534`"
//   "the image sets no USER, so it would run as root; add a numeric non-root USER such as `USER 65534`"
// Env entries without '=' are kept as "KEY=" (Docker's behaviour).
Result<ImageConfig> ParseImageConfig(std::string_view json);

}  // namespace ignite::build::image
