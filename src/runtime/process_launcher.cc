#include "runtime/process_launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "common/process.h"

namespace ignite::runtime {
namespace {

std::string DescribeWait(int status) {
  if (WIFEXITED(status)) return fmt::format("exit status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  return "ended";
}

class SpawnedProcess : public Process {
 public:
  SpawnedProcess(pid_t pid, std::string socket_path) : pid_(pid), socket_path_(std::move(socket_path)) {}
  ~SpawnedProcess() override {
    Stop(0);
    unlink(socket_path_.c_str());
  }
  pid_t pid() const override { return pid_; }
  const std::string& socket_path() const override { return socket_path_; }

  bool Exited(std::string* description) override {
    std::lock_guard<std::mutex> l(mu_);
    if (!reaped_) {
      int status = 0;
      pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_ || (r < 0 && errno == ECHILD)) {
        reaped_ = true;
        how_ = r == pid_ ? DescribeWait(status) : "ended";
      }
    }
    if (reaped_ && description) *description = how_;
    return reaped_;
  }

  void Stop(int grace_ms) override {
    if (Exited(nullptr)) return;
    kill(-pid_, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Exited(nullptr)) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    kill(-pid_, SIGKILL);
    std::lock_guard<std::mutex> l(mu_);
    if (!reaped_) {
      int status = 0;
      while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      reaped_ = true;
      how_ = DescribeWait(status);
    }
  }

 private:
  const pid_t pid_;
  const std::string socket_path_;
  std::mutex mu_;
  bool reaped_ = false;  // guarded by mu_
  std::string how_;      // guarded by mu_
};

}  // namespace

ProcessLauncher::ProcessLauncher(std::string socket_dir, LogCollector* logs)
    : socket_dir_(std::move(socket_dir)), logs_(logs) {}

Result<std::unique_ptr<Process>> ProcessLauncher::Launch(const InstanceSpec& spec, const std::string& replica_id) {
  if (access(spec.binary_path.c_str(), X_OK) != 0) {
    return FailedPrecondition(fmt::format("artifact {} of {} is missing or not executable; publish the app again",
                                          spec.binary_path, spec.app_id));
  }
  std::string path = socket_dir_ + "/" + replica_id + ".sock";
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return Internal("instance socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  unlink(path.c_str());
  int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (lfd < 0) return Internal(fmt::format("socket: {}", std::strerror(errno)));
  if (bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(lfd, 4096) != 0) {
    int err = errno;
    close(lfd);
    return Internal(fmt::format("cannot bind instance socket {}: {}", path, std::strerror(err)));
  }
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(lfd);
    return Internal("pipe failed");
  }
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(lfd);
    close(out[0]);
    close(out[1]);
    return Internal("pipe failed");
  }
  SpawnSpec s;
  s.argv = {spec.binary_path};
  s.env = spec.env;
  s.env["IGNITE_LISTEN_FD"] = "3";
  s.env["IGNITE_REPLICA_ID"] = replica_id;
  s.env["IGNITE_FUNCTION_ID"] = spec.app_id;
  if (!s.env.count("PATH")) s.env["PATH"] = "/usr/local/bin:/usr/bin:/bin";
  s.cwd = "/";
  s.stdout_fd = out[1];
  s.stderr_fd = err[1];
  s.pass_fds = {lfd};
  auto pid = spawner_.Run([&s] { return Spawn(s); });
  // The child holds its own copies now. Closing ours means connections fail fast once the instance dies
  // instead of queueing on a socket nobody will ever accept from.
  close(lfd);
  close(out[1]);
  close(err[1]);
  if (!pid.ok()) {
    close(out[0]);
    close(err[0]);
    unlink(path.c_str());
    return pid.status();
  }
  logs_->Add(out[0], spec.app_id, replica_id, "stdout");
  logs_->Add(err[0], spec.app_id, replica_id, "stderr");
  return std::unique_ptr<Process>(new SpawnedProcess(*pid, path));
}

}  // namespace ignite::runtime
