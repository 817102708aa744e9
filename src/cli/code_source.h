// What `draft save -c PATH` uploads: a directory packed as a deterministic tar.gz, or a file (a .zip, .tar.gz
// or .tgz archive, or a single source file such as main.go) sent byte for byte.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "cli/config.h"
#include "common/result.h"
#include "dodil/ignite/v1/ignite_common.pb.h"

namespace ignite::cli {

// Names skipped at any depth when a directory is packed (reference 3.6).
const std::vector<std::string>& PackSkipNames();

// Packs a directory into tar.gz bytes; archive::PackDirectory in the program, a fake in tests.
using DirectoryPacker =
    std::function<Result<std::string>(const std::string& dir, const std::vector<std::string>& skip_names)>;
DirectoryPacker ArchivePacker();

struct CodeUpload {
  std::string bytes;
  // What the server is told it received: "code.tar.gz" for a packed directory, else the file's base name.
  std::string file_name;
  bool packed_directory = false;
};

// Reads `path` for upload. A missing path, an unreadable file, or a directory that cannot be packed (empty
// after the skips, a link leading outside it, ...) is a local error (exit 1) naming the path.
Result<CodeUpload> LoadCode(const std::string& path, const FileSystem& fs, const DirectoryPacker& pack);

// The source flags of `draft save` and `app deploy` (reference 3.6): exactly one of --code and --image-ref.
struct SourceFlags {
  std::string code;                 // -c, --code
  std::string image_ref;            // --image-ref
  std::string registry_secret_ref;  // --registry-secret-ref
  std::string runtime;              // --runtime (compile path only)
};

// The draft's code for the flags given; `upload` (may be null) gets what --code read. Local error (exit 1)
// when neither or both sources are given, or a flag of one source comes with the other (--runtime or
// --registry-secret-ref with the wrong one); LoadCode's errors.
Result<dodil::ignite::v1::CodeSource> CodeSourceFromFlags(const SourceFlags& flags, const FileSystem& fs,
                                                          const DirectoryPacker& pack, CodeUpload* upload);

}  // namespace ignite::cli
