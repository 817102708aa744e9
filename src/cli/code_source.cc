#include "cli/code_source.h"

#include <fmt/format.h>

#include "archive/archive.h"
#include "cli/commands.h"
#include "cli/errors.h"

namespace ignite::cli {
namespace {
std::string BaseName(const std::string& path) {
  std::string trimmed = path;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  size_t slash = trimmed.rfind('/');
  return slash == std::string::npos ? trimmed : trimmed.substr(slash + 1);
}
}  // namespace

const std::vector<std::string>& PackSkipNames() {
  static const std::vector<std::string> names = {".git", "node_modules", "__pycache__", "target", ".venv"};
  return names;
}

DirectoryPacker ArchivePacker() {
  return [](const std::string& dir, const std::vector<std::string>& skip_names) {
    return archive::PackDirectory(dir, skip_names);
  };
}

Result<CodeUpload> LoadCode(const std::string& path, const FileSystem& fs, const DirectoryPacker& pack) {
  if (path.empty()) return LocalError("--code is empty: give a directory, a .zip or .tar.gz archive, or a file");
  CodeUpload upload;
  if (fs.IsDirectory(path)) {
    auto packed = pack(path, PackSkipNames());
    if (!packed.ok()) return LocalError(fmt::format("cannot pack directory {}: {}", path, packed.status().message()));
    upload.bytes = std::move(packed).value();
    upload.file_name = "code.tar.gz";
    upload.packed_directory = true;
    return upload;
  }
  if (!fs.IsRegularFile(path)) {
    return LocalError(fmt::format(
        "code path {} does not exist (or is not a regular file or directory): give a directory, a .zip or "
        ".tar.gz archive, or a single .go file",
        path));
  }
  std::optional<std::string> content = fs.ReadFile(path);
  if (!content) return LocalError(fmt::format("cannot read {}", path));
  upload.bytes = std::move(*content);
  upload.file_name = BaseName(path);
  return upload;
}

Result<dodil::ignite::v1::CodeSource> CodeSourceFromFlags(const SourceFlags& flags, const FileSystem& fs,
                                                          const DirectoryPacker& pack, CodeUpload* upload) {
  dodil::ignite::v1::CodeSource source;
  if (flags.code.empty() == flags.image_ref.empty()) {
    return LocalError(flags.code.empty()
                          ? "give the code with --code <dir|file>, or a container image with --image-ref <ref>"
                          : "--code and --image-ref are two different sources: give one of them");
  }
  if (!flags.image_ref.empty()) {
    if (!flags.runtime.empty()) {
      return LocalError("--runtime does not apply to --image-ref: an image brings its own server");
    }
    auto* image = source.mutable_image()->mutable_prebuilt();
    image->set_image_ref(flags.image_ref);
    image->set_registry_secret_ref(flags.registry_secret_ref);
    return source;
  }
  if (!flags.registry_secret_ref.empty()) return LocalError("--registry-secret-ref goes with --image-ref");
  IGNITE_ASSIGN_OR_RETURN(CodeUpload loaded, LoadCode(flags.code, fs, pack));
  auto* compile = source.mutable_compile();
  if (!flags.runtime.empty()) {
    IGNITE_ASSIGN_OR_RETURN(dodil::ignite::v1::Runtime runtime, RuntimeFromFlag(flags.runtime));
    *compile->mutable_runtime() = runtime;
  }
  compile->set_file_name(loaded.file_name);
  compile->set_source_code(loaded.bytes);
  if (upload) *upload = std::move(loaded);
  return source;
}

}  // namespace ignite::cli
