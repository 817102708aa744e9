#include "api/code_paths.h"

#include <fmt/format.h>

namespace ignite::api {

std::string CodePathKey(const pb::Runtime& r) {
  if (r.kind_case() == pb::Runtime::KIND_NOT_SET) return "";
  return pb::Runtime::descriptor()->FindFieldByNumber(r.kind_case())->name();
}

void SetCodePath(const std::string& key, pb::Runtime* r) {
  if (const auto* field = pb::Runtime::descriptor()->FindFieldByName(key)) {
    r->GetReflection()->MutableMessage(r, field);
  }
}

std::string KnownCodePaths(const build::BuilderRegistry* builders) {
  std::string out;
  if (!builders) return out;
  for (const auto& k : builders->keys()) out += (out.empty() ? "" : ", ") + k;
  return out;
}

Result<const build::Builder*> StoredCodePath(const build::BuilderRegistry* builders, const std::string& runtime_bytes) {
  pb::Runtime runtime;
  runtime.ParseFromString(runtime_bytes);
  const std::string key = CodePathKey(runtime);
  const build::Builder* builder = builders ? builders->Find(key) : nullptr;
  if (!builder) {
    return FailedPrecondition(fmt::format("this code is for the {} runtime, which this platform no longer builds; "
                                          "save the code again for one of: {}",
                                          key.empty() ? "default" : key, KnownCodePaths(builders)));
  }
  return builder;
}

std::string PinnedRuntime(const std::string& runtime_bytes, const std::string& source_ref) {
  pb::Runtime r;
  if (source_ref.empty() || !r.ParseFromString(runtime_bytes) || !r.has_image()) return runtime_bytes;
  r.mutable_image()->set_image_ref(source_ref);
  return r.SerializeAsString();
}

pb::CodeKind CodeKindOf(const pb::Runtime& r) {
  if (r.has_image()) return r.image().code_kind() ? r.image().code_kind() : pb::CODE_KIND_PREBUILT;
  return pb::CODE_KIND_SDK;
}

}  // namespace ignite::api
