#include "testing/toy_code_path.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <thread>

#include <fmt/format.h>

namespace ignite::fakes {
namespace {

// One toy instance: an accept loop and a thread per connection, all stopped (bounded) by Stop.
class ToyProcess : public instances::Process {
 public:
  ToyProcess(int listen_fd, std::string socket_path, std::string answer)
      : listen_fd_(listen_fd), socket_path_(std::move(socket_path)), answer_(std::move(answer)) {
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~ToyProcess() override { Stop(0); }

  pid_t pid() const override { return 0; }
  const std::string& socket_path() const override { return socket_path_; }
  bool Exited(std::string* description) override {
    if (stopped_ && description) *description = "stopped";
    return stopped_;
  }
  void Stop(int) override {
    std::lock_guard<std::mutex> l(stop_mu_);
    if (stopped_.exchange(true)) return;
    shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    close(listen_fd_);
    unlink(socket_path_.c_str());
    std::vector<std::thread> workers;
    {
      std::lock_guard<std::mutex> c(conns_mu_);
      for (int fd : conns_) shutdown(fd, SHUT_RDWR);
      workers.swap(workers_);
    }
    for (auto& t : workers) t.join();
  }
  bool Ready() override { return true; }

 private:
  void Accept() {
    while (!stopped_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::lock_guard<std::mutex> c(conns_mu_);
      conns_.push_back(fd);
      workers_.emplace_back([this, fd] { Serve(fd); });
    }
  }
  // HTTP/1.1 with Content-Length bodies (what the gateway sends for a buffered payload), keep-alive.
  void Serve(int fd) {
    std::string in;
    char buf[4096];
    for (;;) {
      size_t head_end;
      while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) return Close(fd);
        in.append(buf, static_cast<size_t>(n));
      }
      std::string head = in.substr(0, head_end);
      size_t length = 0;
      for (const char* name : {"content-length:", "Content-Length:"}) {
        if (auto at = head.find(name); at != std::string::npos) length = std::stoul(head.substr(at + std::strlen(name)));
      }
      while (in.size() < head_end + 4 + length) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) return Close(fd);
        in.append(buf, static_cast<size_t>(n));
      }
      std::string body = answer_ + "|" + in.substr(head_end + 4, length);
      in.erase(0, head_end + 4 + length);
      std::string out = fmt::format("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{}",
                                    body.size(), body);
      if (write(fd, out.data(), out.size()) != static_cast<ssize_t>(out.size())) return Close(fd);
    }
  }
  void Close(int fd) {
    std::lock_guard<std::mutex> c(conns_mu_);
    std::erase(conns_, fd);
    close(fd);
  }

  const int listen_fd_;
  const std::string socket_path_;
  const std::string answer_;
  std::atomic<bool> stopped_{false};
  std::mutex stop_mu_;
  std::thread acceptor_;
  std::mutex conns_mu_;
  std::vector<int> conns_;             // guarded by conns_mu_
  std::vector<std::thread> workers_;   // guarded by conns_mu_
};

}  // namespace

Status ToyBuilder::Check(const build::Source& source, const build::CheckContext&) const {
  if (source.archive.rfind("toy:", 0) != 0) {
    return InvalidArgument(fmt::format("{} is not toy code: start it with \"toy:\"", source.file_name));
  }
  return OkStatus();
}

Result<build::BuildOutput> ToyBuilder::Build(const build::Source& source, const build::BuildContext& ctx) const {
  ++builds_;
  if (ctx.on_log) ctx.on_log(fmt::format("toy: building {} bytes", source.archive.size()));
  if (source.archive.rfind("toy:fail", 0) == 0) return InvalidArgument("toy: the code asked to fail");
  build::BuildOutput out;
  out.artifact_path = ctx.work_dir + "/toy.out";
  std::ofstream(out.artifact_path, std::ios::binary) << source.archive;
  out.executable = false;
  out.artifact_size = source.archive.size();
  out.sdk_version = "toy-sdk 1";
  out.toolchain_version = "toy 1";
  return out;
}

Result<ArtifactLayout> ToyBuilder::Layout(const std::string& artifact_path) const {
  ArtifactLayout l;
  l.launcher = kToyLauncher;
  l.binds.push_back({artifact_path, "/app/toy"});
  l.argv = {"/app/toy"};
  l.working_dir = "/app";
  return l;
}

Result<std::unique_ptr<instances::Process>> ToyLauncher::Launch(const instances::InstanceSpec& spec,
                                                                const std::string& replica_id) {
  const ArtifactLayout& layout = spec.layout;
  if (layout.launcher != kToyLauncher || layout.binds.empty()) {
    return FailedPrecondition(fmt::format("the toy launcher cannot run a '{}' layout", layout.launcher));
  }
  const std::string& source = layout.binds.front().source;
  IGNITE_ASSIGN_OR_RETURN(std::string artifact, blobs_->Get(source.substr(source.rfind('/') + 1)));
  {
    std::lock_guard<std::mutex> l(mu_);
    launched_.push_back(layout);
  }
  std::string path = socket_dir_ + "/" + replica_id + ".sock";
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return Internal("toy socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  unlink(path.c_str());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Internal("socket failed");
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 64) != 0) {
    close(fd);
    return Internal(fmt::format("cannot bind {}: {}", path, std::strerror(errno)));
  }
  return std::unique_ptr<instances::Process>(new ToyProcess(fd, path, std::move(artifact)));
}

std::vector<ArtifactLayout> ToyLauncher::launched() const {
  std::lock_guard<std::mutex> l(mu_);
  return launched_;
}

}  // namespace ignite::fakes
