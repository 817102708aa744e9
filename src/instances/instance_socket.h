// The listening socket of one instance (docs/instance-protocol.md, "Listener"): ignited binds it before the
// instance exists, so connections made before the instance accepts wait in the kernel backlog.
#pragma once

#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace ignite::instances {

// Binds and listens on a Unix stream socket at `path` (close-on-exec; a stale file at `path` is replaced).
// Errors: Internal naming the path and errno text; the path is too long for a Unix socket (107 bytes).
Result<UniqueFd> BindInstanceSocket(const std::string& path);

}  // namespace ignite::instances
