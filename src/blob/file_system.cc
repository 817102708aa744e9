#include "blob/file_system.h"

namespace ignite::blob {

Result<std::string> ReadFile(FileSystem& fs, const std::string& path) {
  std::string content;
  IGNITE_RETURN_IF_ERROR(fs.ReadChunks(path, [&](std::string_view chunk) {
    content.append(chunk);
    return OkStatus();
  }));
  return content;
}

}  // namespace ignite::blob
