// The API's view of the code paths (build/builder.h): which registered Builder a draft or version belongs
// to, from its Runtime. The registry key is the name of the Runtime oneof field that is set ("python",
// "rust", ...); the API never compares it with a language itself.
#pragma once

#include <string>

#include "build/builder.h"
#include "common/result.h"
#include "dodil/ignite/v1/ignite_compute.pb.h"

namespace ignite::api {

namespace pb = ::dodil::ignite::v1;

// The code path key of a runtime: the set oneof field's name, "" when none is (the registry's default).
std::string CodePathKey(const pb::Runtime& r);
// Sets the Runtime oneof field named `key`, keeping its settings when already set.
void SetCodePath(const std::string& key, pb::Runtime* r);
// "python, rust": the registered keys, for messages.
std::string KnownCodePaths(const build::BuilderRegistry* builders);
// The builder of a stored runtime (serialized pb::Runtime); FailedPrecondition naming what this platform
// builds when it has none for it.
Result<const build::Builder*> StoredCodePath(const build::BuilderRegistry* builders, const std::string& runtime_bytes);

// The stored runtime of a version built from `runtime_bytes`, with what its build pinned (BuildRecord::
// source_ref): an image's reference becomes the digest that was pulled. Unchanged when nothing was pinned.
std::string PinnedRuntime(const std::string& runtime_bytes, const std::string& source_ref);
// The CodeKind of a stored runtime: an image's own, else SDK (the compile path).
pb::CodeKind CodeKindOf(const pb::Runtime& r);

}  // namespace ignite::api
