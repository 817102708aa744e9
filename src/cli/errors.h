// How CLI failures become exit codes (decisions.md "CLI exit codes").
//
// Every failure is a Status. Errors answered by ignited keep their gRPC code, so ExitCodeFor gives the
// reference's table (2 InvalidArgument ... 10 Internal). Problems found on this side (bad flag values, a
// missing file, no organization configured, ignited unreachable) are reported with a code that ExitCodeFor
// maps to 1; bad app or organization names are InvalidArgument (2), as the server would say.
#pragma once

#include <string>

#include "common/status.h"

namespace ignite::cli {

// A problem found locally, before or instead of talking to ignited: exit code 1.
inline Status LocalError(std::string message) {
  return Status(StatusCode::kFailedPrecondition, std::move(message));
}

// The process exit code for a command's final status.
inline int ExitCodeForStatus(const Status& status) { return ExitCodeFor(status.code()); }

}  // namespace ignite::cli
