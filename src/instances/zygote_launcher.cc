#include "instances/zygote_launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/unique_fd.h"
#include "instances/instance_socket.h"

namespace ignite::instances {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr auto kForkAnswerTimeout = std::chrono::seconds(5);
// How long Exited waits for the zygote's report of how a child ended.
// Short: Exited is called under the supervisor's lock, and the report follows the exit within a millisecond.
constexpr auto kExitReportWait = std::chrono::milliseconds(20);
// A zygote that failed to start is not started again for the same spec before this: each try costs an
// interpreter start and its imports, and the code will fail the same way.
constexpr auto kFailedStartBackoff = std::chrono::seconds(2);

int PidfdOpen(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

// Whether `fd` is readable within `timeout` (0: now). A pidfd is readable once its process has exited.
bool Readable(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  int n;
  while ((n = poll(&p, 1, static_cast<int>(timeout.count()))) < 0 && errno == EINTR) {
  }
  return n > 0;
}

int MillisLeft(SteadyClock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

// Moves process `pid` (all its threads) into `group`: one write per hierarchy. Rlimit mode: nothing to do.
Status MoveProcess(pid_t pid, const Cgroup& group) {
  std::string text = std::to_string(pid);
  for (int fd : group.procs_fds()) {
    if (write(fd, text.data(), text.size()) < 0) {
      return Internal(fmt::format("cannot move the zygote (pid {}) into its next cgroup: {}", pid,
                                  std::strerror(errno)));
    }
  }
  return OkStatus();
}

// The fields of a spec that shape its zygote's process.
bool SameProcess(const InstanceSpec& a, const InstanceSpec& b) {
  return a.layout == b.layout && a.env == b.env && a.memory_mb == b.memory_mb &&
         a.cpu_millicores == b.cpu_millicores;
}

ResourceLimits LimitsOf(const InstanceSpec& spec) {
  ResourceLimits l;
  l.memory_bytes = uint64_t{spec.memory_mb} << 20;
  l.cpu_millicores = spec.cpu_millicores;
  l.pids = ProcessLauncher::kPidsPerInstance;
  return l;
}

// One message from the zygote: its text and, when the kernel attached them, the sender's credentials.
struct Message {
  std::string text;
  pid_t sender_pid = 0;  // in ignited's pid namespace
};

}  // namespace

// A running zygote and the control socket to it. Forks and reads of the socket are serialised by mu_.
class Zygote {
 public:
  Zygote(InstanceSpec spec, std::unique_ptr<Process> process, UniqueFd control)
      : spec_(std::move(spec)), process_(std::move(process)), control_(std::move(control)) {}
  ~Zygote() {
    // Its instances are gone (each holds a reference): nothing of it is needed any more.
    process_->Stop(2000);
  }

  const InstanceSpec& spec() const { return spec_; }
  pid_t pid() const { return process_->pid(); }
  bool Exited(std::string* how) { return process_->Exited(how); }

  // Sends "fork <replica_id>" with the instance's four descriptors and waits for the child's answer.
  // Returns the child's pid in ignited's namespace and in the zygote's.
  Result<std::pair<pid_t, pid_t>> Fork(const std::string& replica_id, const int fds[4], const std::string& app_id) {
    std::string text = "fork " + replica_id;
    iovec iov{text.data(), text.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(4 * sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(4 * sizeof(int));
    std::memcpy(CMSG_DATA(c), fds, 4 * sizeof(int));
    ssize_t sent;
    while ((sent = sendmsg(control_.get(), &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
    }
    if (sent < 0) return Internal(fmt::format("{}: cannot reach its zygote: {}", app_id, std::strerror(errno)));
    auto deadline = SteadyClock::now() + kForkAnswerTimeout;
    const std::string child = "child " + replica_id + " ";
    const std::string error = "error " + replica_id + " ";
    for (;;) {
      IGNITE_ASSIGN_OR_RETURN(std::optional<Message> m, Receive(MillisLeft(deadline)));
      if (!m) {
        std::string how;
        if (process_->Exited(&how)) {
          return Internal(fmt::format("{}: its zygote ended ({}) while forking {}", app_id, how, replica_id));
        }
        return Internal(fmt::format("{}: its zygote did not fork {} within {} s", app_id, replica_id,
                                    kForkAnswerTimeout.count()));
      }
      if (m->text.rfind(child, 0) == 0) {
        pid_t inner = static_cast<pid_t>(std::atoi(m->text.c_str() + child.size()));
        if (m->sender_pid <= 0 || inner <= 0) {
          return Internal(fmt::format("{}: its zygote's child {} sent no credentials", app_id, replica_id));
        }
        return std::make_pair(m->sender_pid, inner);
      }
      if (m->text.rfind(error, 0) == 0) {
        return Internal(fmt::format("{}: its zygote could not fork {}: {}", app_id, replica_id,
                                    m->text.substr(error.size())));
      }
      Record(*m);
    }
  }

  // How the child with zygote-namespace pid `inner` ended, as its zygote reported it; waits up to `wait` for
  // the report. "" when none came.
  std::string TakeExit(pid_t inner, std::chrono::milliseconds wait) {
    std::unique_lock<std::timed_mutex> l(mu_, std::defer_lock);
    if (!l.try_lock_for(wait)) return "";
    auto deadline = SteadyClock::now() + wait;
    for (;;) {
      if (auto it = exits_.find(inner); it != exits_.end()) {
        std::string how = std::move(it->second);
        exits_.erase(it);
        return how;
      }
      auto m = Receive(MillisLeft(deadline));
      if (!m.ok() || !*m) return "";
      Record(**m);
    }
  }

  std::timed_mutex& mu() { return mu_; }
  // The group the zygote waits in (its next child's), guarded by mu_.
  std::unique_ptr<Cgroup>& next_group() { return next_group_; }
  // Set while the mover is placing the zygote; Launch waits for it. Guarded by move_mu_.
  void BeginMove() {
    std::lock_guard<std::mutex> l(move_mu_);
    moving_ = true;
  }
  void EndMove() {
    {
      std::lock_guard<std::mutex> l(move_mu_);
      moving_ = false;
    }
    move_cv_.notify_all();
  }
  void AwaitMove() {
    std::unique_lock<std::mutex> l(move_mu_);
    move_cv_.wait(l, [this] { return !moving_; });
  }

 private:
  // One message, waiting up to `timeout_ms`; nullopt on timeout or when the zygote closed the socket.
  Result<std::optional<Message>> Receive(int timeout_ms) {
    if (!Readable(control_.get(), std::chrono::milliseconds(timeout_ms))) return std::optional<Message>();
    char buf[512];
    iovec iov{buf, sizeof buf};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(4 * sizeof(int))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n;
    while ((n = recvmsg(control_.get(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return std::optional<Message>();
    if (n <= 0) return std::optional<Message>();
    Message m;
    m.text.assign(buf, static_cast<size_t>(n));
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET) continue;
      if (c->cmsg_type == SCM_CREDENTIALS) {
        ucred cred;
        std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
        m.sender_pid = cred.pid;
      } else if (c->cmsg_type == SCM_RIGHTS) {  // never sent by a zygote; do not leak them
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
          int fd;
          std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
          close(fd);
        }
      }
    }
    return std::optional<Message>(std::move(m));
  }

  // Keeps an "exit <pid> <how>" report for TakeExit; anything else is logged.
  void Record(const Message& m) {
    if (m.text.rfind("exit ", 0) == 0) {
      size_t space = m.text.find(' ', 5);
      pid_t inner = static_cast<pid_t>(std::atoi(m.text.c_str() + 5));
      if (inner > 0) {
        exits_[inner] = space == std::string::npos ? "ended" : m.text.substr(space + 1);
        return;
      }
    }
    spdlog::warn("{}: unexpected message from its zygote: {}", spec_.app_id, m.text.substr(0, 200));
  }

  const InstanceSpec spec_;
  const std::unique_ptr<Process> process_;
  const UniqueFd control_;
  std::timed_mutex mu_;
  std::map<pid_t, std::string> exits_;  // guarded by mu_: reported exits not yet taken, by zygote pid
  std::unique_ptr<Cgroup> next_group_;  // guarded by mu_
  std::mutex move_mu_;
  std::condition_variable move_cv_;
  bool moving_ = false;  // guarded by move_mu_
};

namespace {

// An instance forked by a zygote. Not ignited's child: it is watched through a pidfd, and its zygote says how
// it ended.
class ZygoteChild : public Process {
 public:
  ZygoteChild(std::shared_ptr<Zygote> zygote, pid_t pid, pid_t inner_pid, UniqueFd pidfd, std::string socket_path,
              std::unique_ptr<Cgroup> cgroup, UniqueFd ready)
      : zygote_(std::move(zygote)),
        pid_(pid),
        inner_pid_(inner_pid),
        pidfd_(std::move(pidfd)),
        socket_path_(std::move(socket_path)),
        cgroup_(std::move(cgroup)),
        ready_(std::move(ready)) {}
  ~ZygoteChild() override {
    Stop(0);
    unlink(socket_path_.c_str());
  }

  pid_t pid() const override { return pid_; }
  const std::string& socket_path() const override { return socket_path_; }
  bool OutOfMemory() const override { return cgroup_ && cgroup_->OomKilled(); }

  bool Ready() override {
    std::lock_guard<std::mutex> l(mu_);
    if (ready_said_ || !ready_) return ready_said_;
    char c;
    ssize_t n = read(ready_.get(), &c, 1);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return false;
    ready_said_ = n == 1;
    ready_.reset();
    return ready_said_;
  }

  bool Exited(std::string* description) override {
    std::lock_guard<std::mutex> l(mu_);
    if (!ended_ && Readable(pidfd_.get(), std::chrono::milliseconds(0))) {
      ended_ = true;
      how_ = zygote_->TakeExit(inner_pid_, kExitReportWait);
      if (how_.empty()) {
        std::string zygote_how;
        how_ = zygote_->Exited(&zygote_how) ? "ended with its zygote (" + zygote_how + ")" : "ended";
      }
    }
    if (ended_ && description) *description = how_;
    return ended_;
  }

  void Stop(int grace_ms) override {
    if (Exited(nullptr)) return;
    // While the pidfd is not readable the process exists, so its pid (and process group, from setsid) still
    // names it.
    kill(-pid_, SIGTERM);
    if (!Readable(pidfd_.get(), std::chrono::milliseconds(grace_ms))) {
      syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
      kill(-pid_, SIGKILL);
      Readable(pidfd_.get(), std::chrono::milliseconds(5000));
    }
    Exited(nullptr);
  }

 private:
  const std::shared_ptr<Zygote> zygote_;  // kept alive while this instance is: its pid namespace holds us
  const pid_t pid_;
  const pid_t inner_pid_;
  const UniqueFd pidfd_;
  const std::string socket_path_;
  const std::unique_ptr<Cgroup> cgroup_;
  std::mutex mu_;
  UniqueFd ready_;          // guarded by mu_
  bool ready_said_ = false;  // guarded by mu_
  bool ended_ = false;       // guarded by mu_
  std::string how_;          // guarded by mu_
};

std::atomic<uint64_t> next_group_serial{0};

}  // namespace

ZygoteLauncher::ZygoteLauncher(ProcessLauncher* processes, std::string socket_dir, LogCollector* logs,
                               CgroupManager* cgroups)
    : processes_(processes), socket_dir_(std::move(socket_dir)), logs_(logs), cgroups_(cgroups) {}

ZygoteLauncher::~ZygoteLauncher() {
  std::lock_guard<std::mutex> l(mu_);
  zygotes_.clear();
}

int ZygoteLauncher::ZygoteCount() {
  std::lock_guard<std::mutex> l(mu_);
  return static_cast<int>(zygotes_.size());
}

void ZygoteLauncher::Retire(const std::string& key) {
  std::shared_ptr<Zygote> gone;
  {
    std::lock_guard<std::mutex> l(mu_);
    failed_.erase(key);
    starting_.erase(key);
    auto it = zygotes_.find(key);
    if (it == zygotes_.end()) return;
    gone = std::move(it->second);
    zygotes_.erase(it);
  }
  // `gone` stops the zygote here unless instances it forked still hold it.
}

Result<std::shared_ptr<Zygote>> ZygoteLauncher::ZygoteFor(const InstanceSpec& spec, const std::string& replica_id) {
  // The zygote of spec.key that can fork for this spec, when it runs. Requires mu_.
  auto current = [&]() -> std::shared_ptr<Zygote> {
    auto it = zygotes_.find(spec.key);
    if (it == zygotes_.end() || it->second->Exited(nullptr) || !SameProcess(it->second->spec(), spec)) return nullptr;
    return it->second;
  };
  std::shared_ptr<std::mutex> starting;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (auto z = current()) return z;
    auto& m = starting_[spec.key];
    if (!m) m = std::make_shared<std::mutex>();
    starting = m;
  }
  // One start per key at a time: callers arriving meanwhile wait for it instead of starting their own.
  std::lock_guard<std::mutex> one(*starting);
  std::shared_ptr<Zygote> replaced;  // stopped outside mu_, once its instances are gone
  {
    std::lock_guard<std::mutex> l(mu_);
    if (auto z = current()) return z;
    if (auto f = failed_.find(spec.key); f != failed_.end()) {
      if (SameProcess(f->second.spec, spec) && SteadyClock::now() - f->second.at < kFailedStartBackoff) {
        return f->second.status;
      }
      failed_.erase(f);
    }
    if (auto it = zygotes_.find(spec.key); it != zygotes_.end()) {
      replaced = std::move(it->second);
      zygotes_.erase(it);
    }
  }
  replaced.reset();
  auto started = StartZygote(spec, replica_id);
  std::lock_guard<std::mutex> l(mu_);
  if (!started.ok()) {
    failed_[spec.key] = FailedStart{spec, started.status(), SteadyClock::now()};
    return started.status();
  }
  zygotes_[spec.key] = *started;
  return *started;
}

Result<std::shared_ptr<Zygote>> ZygoteLauncher::StartZygote(const InstanceSpec& spec, const std::string& replica_id) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    return Internal(fmt::format("socketpair: {}", std::strerror(errno)));
  }
  UniqueFd ours(sv[0]), theirs(sv[1]);
  int on = 1;
  if (setsockopt(ours.get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0) {
    return Internal(fmt::format("SO_PASSCRED: {}", std::strerror(errno)));
  }
  std::string zygote_id = "zygote-" + replica_id;
  IGNITE_ASSIGN_OR_RETURN(std::unique_ptr<Process> process, processes_->LaunchZygote(spec, zygote_id, theirs.get()));
  theirs.reset();
  // Ready once it has imported everything; an import error ends it instead (its traceback is in the logs).
  auto deadline = SteadyClock::now() + spec.start_timeout;
  while (!process->Ready()) {
    std::string how;
    if (process->Exited(&how)) {
      return Unavailable(WithHint(fmt::format("{}: its code failed to load ({})", spec.app_id, how),
                                  spec.hints.logs));
    }
    if (SteadyClock::now() >= deadline) {
      process->Stop(0);
      return Unavailable(WithHint(fmt::format("{}: its code did not finish loading within {} ms", spec.app_id,
                                              spec.start_timeout.count()),
                                  spec.hints.not_ready));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return std::make_shared<Zygote>(spec, std::move(process), std::move(ours));
}

Status ZygoteLauncher::Prepare(const InstanceSpec& spec) {
  return ZygoteFor(spec, fmt::format("{}-{}", spec.app_id.substr(spec.app_id.find('/') + 1), ++prepared_)).status();
}

Result<std::unique_ptr<Process>> ZygoteLauncher::Launch(const InstanceSpec& spec, const std::string& replica_id) {
  if (spec.layout.listen != Listen::kInheritedSocket || spec.layout.argv.empty()) {
    return FailedPrecondition(fmt::format("{}: the zygote launcher runs layouts with a program and an inherited "
                                          "socket only", spec.app_id));
  }
  IGNITE_ASSIGN_OR_RETURN(std::shared_ptr<Zygote> zygote, ZygoteFor(spec, replica_id));
  zygote->AwaitMove();
  std::unique_lock<std::timed_mutex> l(zygote->mu());
  const ResourceLimits limits = LimitsOf(spec);
  // The child's cgroup: the one the zygote waits in, or (none prepared, other limits) a new one it moves to.
  std::unique_ptr<Cgroup> group;
  if (cgroups_) {
    auto& next = zygote->next_group();
    if (next && next->limits() == limits) {
      group = std::move(next);
    } else {
      next.reset();
      IGNITE_ASSIGN_OR_RETURN(group, cgroups_->Create(replica_id, limits));
      IGNITE_RETURN_IF_ERROR(MoveProcess(zygote->pid(), *group));
    }
  }
  std::string path = socket_dir_ + "/" + replica_id + ".sock";
  IGNITE_ASSIGN_OR_RETURN(UniqueFd lfd, BindInstanceSocket(path));
  Pipe out, err, ready;
  if (!out.Open(O_CLOEXEC) || !err.Open(O_CLOEXEC) || !ready.Open(O_CLOEXEC) ||
      fcntl(ready.read.get(), F_SETFL, O_NONBLOCK) != 0) {
    unlink(path.c_str());
    return Internal(fmt::format("pipe failed: {}", std::strerror(errno)));
  }
  const int fds[4] = {lfd.get(), ready.write.get(), out.write.get(), err.write.get()};
  auto forked = zygote->Fork(replica_id, fds, spec.app_id);
  lfd.reset();
  ready.write.reset();
  out.write.reset();
  err.write.reset();
  if (!forked.ok()) {
    unlink(path.c_str());
    return forked.status();
  }
  auto [pid, inner] = *forked;
  UniqueFd pidfd(PidfdOpen(pid));
  if (!pidfd) {
    kill(-pid, SIGKILL);
    unlink(path.c_str());
    return Internal(fmt::format("{}: pidfd_open of instance {} (pid {}): {}", spec.app_id, replica_id, pid,
                                std::strerror(errno)));
  }
  if (cgroups_) {
    // Off this start's path: the zygote moves on into a fresh group for its next child. Until then it is
    // counted in this child's group.
    zygote->BeginMove();
    std::weak_ptr<Zygote> weak = zygote;
    CgroupManager* cgroups = cgroups_;
    mover_.Post([weak, limits, cgroups] {
      auto z = weak.lock();
      if (!z) return;
      {
        std::lock_guard<std::timed_mutex> zl(z->mu());
        auto made = cgroups->Create(fmt::format("zn{}", ++next_group_serial), limits);
        Status moved = made.ok() ? MoveProcess(z->pid(), **made) : made.status();
        if (moved.ok()) {
          z->next_group() = std::move(*made);
        } else {
          spdlog::warn("{}: {}; its next instance waits for the move", z->spec().app_id, moved.message());
        }
      }
      z->EndMove();
    });
  }
  logs_->Add(out.read.release(), spec.app_id, replica_id, "stdout");
  logs_->Add(err.read.release(), spec.app_id, replica_id, "stderr");
  return std::unique_ptr<Process>(
      new ZygoteChild(zygote, pid, inner, std::move(pidfd), path, std::move(group), std::move(ready.read)));
}

}  // namespace ignite::instances
