#include "instances/instance_socket.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace ignite::instances {

Result<UniqueFd> BindInstanceSocket(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return Internal("instance socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  unlink(path.c_str());
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return Internal(fmt::format("socket: {}", std::strerror(errno)));
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd.get(), 4096) != 0) {
    return Internal(fmt::format("cannot bind instance socket {}: {}", path, std::strerror(errno)));
  }
  return fd;
}

}  // namespace ignite::instances
