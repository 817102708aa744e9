#include "instances/cgroups.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace ignite::instances {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kCpuPeriodUs = 100000;
constexpr uint64_t kMinCpuQuotaUs = 1000;  // The kernel rejects smaller quotas.

std::string ErrnoText(int err) { return std::strerror(err); }

// One value per open: cgroupfs parses each write() on its own. O_CREAT|O_TRUNC is harmless there and lets
// unit tests run the same code on a plain directory tree.
Status WriteFile(const std::string& path, std::string_view value) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Internal(fmt::format("cannot open {}: {}", path, ErrnoText(errno)));
  ssize_t n = write(fd, value.data(), value.size());
  int err = errno;
  close(fd);
  if (n != static_cast<ssize_t>(value.size())) {
    return Internal(fmt::format("cannot write '{}' to {}: {}", value, path, n < 0 ? ErrnoText(err) : "short write"));
  }
  return OkStatus();
}

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// mkdir; an existing directory is fine when `exist_ok`.
Status MakeDir(const std::string& path, bool exist_ok) {
  if (mkdir(path.c_str(), 0755) == 0) return OkStatus();
  int err = errno;
  std::error_code ec;
  if (exist_ok && err == EEXIST && fs::is_directory(path, ec)) return OkStatus();
  return Internal(fmt::format("cannot create {}: {}", path, ErrnoText(err)));
}

// The number after `key` on a "key value" line of `text` (memory.events, memory.oom_control), if any.
std::optional<uint64_t> KeyedValue(std::string_view text, std::string_view key) {
  std::istringstream in{std::string(text)};
  std::string k;
  uint64_t v;
  while (in >> k >> v) {
    if (k == key) return v;
  }
  return std::nullopt;
}

// A group name is one path component.
bool ValidName(const std::string& name) {
  return !name.empty() && name.size() <= 255 && name != "." && name != ".." &&
         name.find_first_of(std::string_view("/\0", 2)) == std::string::npos;
}

// True when `name` ends in digits that are the pid of a live process (owner names like "d<pid>").
bool EndsInLivePid(const std::string& name) {
  size_t start = name.find_last_not_of("0123456789") + 1;  // npos + 1 == 0: all digits.
  if (start == name.size() || name.size() - start > 9) return false;
  pid_t pid = std::stoi(name.substr(start));
  return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

// Mount points in mountinfo escape space, tab, newline and backslash as \ooo.
std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    bool octal = s[i] == '\\' && i + 3 < s.size() &&
                 std::all_of(s.begin() + i + 1, s.begin() + i + 4, [](char c) { return c >= '0' && c <= '7'; });
    if (octal) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

struct V1Mount {
  std::string point;
  bool memory = false, cpu = false, pids = false;
};

// The cgroup v1 mounts under `fs_root` in a mountinfo text that carry memory, cpu or pids, one per
// hierarchy (a hierarchy mounted twice counts once).
std::vector<V1Mount> ParseV1Mounts(const std::string& text, const std::string& fs_root) {
  std::vector<V1Mount> mounts;
  std::vector<std::string> seen_devices;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream in(line);
    std::vector<std::string> f;
    for (std::string word; in >> word;) f.push_back(word);
    // id parent dev root point options [optional...] - fstype source super-options
    size_t dash = 6;
    while (dash < f.size() && f[dash] != "-") ++dash;
    if (dash + 3 >= f.size() || f[dash + 1] != "cgroup") continue;
    V1Mount m{Unescape(f[4])};
    if (m.point.rfind(fs_root + "/", 0) != 0) continue;
    std::istringstream opts(f[dash + 3]);
    for (std::string opt; std::getline(opts, opt, ',');) {
      m.memory |= opt == "memory";
      m.cpu |= opt == "cpu";
      m.pids |= opt == "pids";
    }
    if (!(m.memory || m.cpu || m.pids)) continue;
    if (std::find(seen_devices.begin(), seen_devices.end(), f[2]) != seen_devices.end()) continue;
    seen_devices.push_back(f[2]);
    mounts.push_back(std::move(m));
  }
  return mounts;
}

// SIGKILLs the pids listed in a cgroup.procs file (never ourselves, never a non-positive pid).
void KillListed(const std::string& procs_path) {
  auto text = ReadFile(procs_path);
  if (!text) return;
  std::istringstream in(*text);
  for (long pid; in >> pid;) {
    if (pid > 0 && pid != getpid()) kill(static_cast<pid_t>(pid), SIGKILL);
  }
}

}  // namespace

std::string_view LimitModeName(LimitMode mode) {
  switch (mode) {
    case LimitMode::kCgroupV2: return "cgroup-v2";
    case LimitMode::kCgroupV1: return "cgroup-v1";
    case LimitMode::kRlimit: return "rlimit";
  }
  return "unknown";
}

// ---- Cgroup ----

Cgroup::Cgroup(LimitMode mode, ResourceLimits limits) : mode_(mode), limits_(limits) {}

void Cgroup::KillAll() const {
  for (const std::string& dir : dirs_) {
    // cgroup.kill (v2, Linux 5.14+) also catches tasks forked while we kill; without it, the retries in the
    // destructor do.
    std::string kill_file = dir + "/cgroup.kill";
    if (mode_ == LimitMode::kCgroupV2 && access(kill_file.c_str(), F_OK) == 0 && WriteFile(kill_file, "1").ok()) {
      continue;
    }
    KillListed(dir + "/cgroup.procs");
  }
}

Cgroup::~Cgroup() {
  for (int fd : procs_fds_) close(fd);
  if (dirs_.empty()) return;
  KillAll();
  // Killed tasks leave the group a moment after SIGKILL (rmdir says EBUSY until then): retry with short
  // pauses for about a second in all, killing again in case something forked in between.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  auto pause = std::chrono::milliseconds(2);
  std::vector<std::string> left = dirs_;
  int err = 0;
  for (;;) {
    std::vector<std::string> busy;
    for (const std::string& dir : left) {
      if (rmdir(dir.c_str()) == 0 || errno == ENOENT) continue;
      err = errno;
      if (err == EBUSY) {
        busy.push_back(dir);
      } else {
        spdlog::warn("cannot remove cgroup {}: {}; left behind", dir, ErrnoText(err));
      }
    }
    left = std::move(busy);
    if (left.empty() || std::chrono::steady_clock::now() + pause > deadline) break;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(100));
    KillAll();
  }
  for (const std::string& dir : left) {
    spdlog::warn("cannot remove cgroup {}: {} (tasks still in it a second after SIGKILL); left behind", dir,
                 ErrnoText(err));
  }
}

bool Cgroup::OomKilled() const {
  if (memory_dir_.empty()) return false;
  if (mode_ == LimitMode::kCgroupV2) {
    auto events = ReadFile(memory_dir_ + "/memory.events");
    return events && KeyedValue(*events, "oom_kill").value_or(0) > 0;
  }
  // v1: the oom_kill line exists since Linux 4.13; before, a hit limit (failcnt) is the best hint we have.
  if (auto control = ReadFile(memory_dir_ + "/memory.oom_control")) {
    if (auto kills = KeyedValue(*control, "oom_kill")) return *kills > 0;
  }
  auto failcnt = ReadFile(memory_dir_ + "/memory.failcnt");
  return failcnt && std::strtoull(failcnt->c_str(), nullptr, 10) > 0;
}

// ---- CgroupManager ----

std::unique_ptr<CgroupManager> CgroupManager::Detect(const std::string& fs_root, const std::string& mountinfo_path,
                                                     const std::string& owner) {
  std::unique_ptr<CgroupManager> m(new CgroupManager());
  m->fs_root_ = fs::path(fs_root).lexically_normal().string();
  if (m->fs_root_.size() > 1 && m->fs_root_.back() == '/') m->fs_root_.pop_back();
  m->owner_ = owner;
  if (!ValidName(owner)) {
    m->note_ = fmt::format("owner name '{}' is not a single path component", owner);
    return m;
  }
  std::string parent_suffix = "/ignite/" + owner;

  std::vector<Hierarchy> candidates;
  LimitMode mode;
  if (auto controllers = ReadFile(m->fs_root_ + "/cgroup.controllers")) {
    mode = LimitMode::kCgroupV2;
    Hierarchy h{m->fs_root_, m->fs_root_ + parent_suffix};
    std::istringstream in(*controllers);
    for (std::string c; in >> c;) {
      h.memory |= c == "memory";
      h.cpu |= c == "cpu";
      h.pids |= c == "pids";
    }
    if (!(h.memory || h.cpu || h.pids)) {
      m->note_ = fmt::format("{}/cgroup.controllers offers none of memory, cpu, pids", m->fs_root_);
      return m;
    }
    candidates.push_back(h);
  } else {
    mode = LimitMode::kCgroupV1;
    auto mountinfo = ReadFile(mountinfo_path);
    if (!mountinfo) {
      m->note_ = fmt::format("no {}/cgroup.controllers (cgroup v2) and cannot read {}", m->fs_root_, mountinfo_path);
      return m;
    }
    for (V1Mount& mount : ParseV1Mounts(*mountinfo, m->fs_root_)) {
      Hierarchy h{mount.point, mount.point + parent_suffix};
      h.memory = mount.memory;
      h.cpu = mount.cpu;
      h.pids = mount.pids;
      candidates.push_back(h);
    }
    if (candidates.empty()) {
      m->note_ = fmt::format("no cgroup v2 at {} and {} lists no cgroup v1 mount under it with memory, cpu or pids",
                             m->fs_root_, mountinfo_path);
      return m;
    }
  }

  m->mode_ = mode;  // PrepareParent depends on it.
  std::vector<std::string> skipped;
  for (Hierarchy& h : candidates) {
    Status st = m->PrepareParent(h);
    if (!st.ok()) {
      skipped.push_back(st.message());
      continue;
    }
    h.swap_file = access((h.parent + (mode == LimitMode::kCgroupV2 ? "/memory.swap.max"
                                                                   : "/memory.memsw.limit_in_bytes")).c_str(),
                         F_OK) == 0;
    m->hierarchies_.push_back(h);
  }
  m->note_ = fmt::format("{}", fmt::join(skipped, "; "));
  if (m->hierarchies_.empty()) {
    m->mode_ = LimitMode::kRlimit;
    return m;
  }
  if (!skipped.empty()) m->note_ = "skipped: " + m->note_;
  m->RemoveLeftovers();
  return m;
}

Status CgroupManager::PrepareParent(const Hierarchy& h) const {
  std::string ignite_dir = h.root + "/ignite";
  if (mode_ == LimitMode::kCgroupV1) {
    IGNITE_RETURN_IF_ERROR(MakeDir(ignite_dir, true));
    return MakeDir(h.parent, true);
  }
  // v2: a child can use a controller only when every ancestor lists it in cgroup.subtree_control.
  std::vector<std::string> enable;
  if (h.memory) enable.push_back("+memory");
  if (h.cpu) enable.push_back("+cpu");
  if (h.pids) enable.push_back("+pids");
  std::string value = fmt::format("{}", fmt::join(enable, " "));
  IGNITE_RETURN_IF_ERROR(WriteFile(h.root + "/cgroup.subtree_control", value));
  IGNITE_RETURN_IF_ERROR(MakeDir(ignite_dir, true));
  IGNITE_RETURN_IF_ERROR(WriteFile(ignite_dir + "/cgroup.subtree_control", value));
  IGNITE_RETURN_IF_ERROR(MakeDir(h.parent, true));
  return WriteFile(h.parent + "/cgroup.subtree_control", value);
}

void CgroupManager::RemoveLeftovers() const {
  int removed = 0;
  for (const Hierarchy& h : hierarchies_) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(h.root + "/ignite", ec)) {
      std::string name = entry.path().filename().string();
      if (!entry.is_directory(ec) || name == owner_ || EndsInLivePid(name)) continue;
      // rmdir only succeeds on empty groups: a group with tasks (or a child with tasks) stays.
      for (const auto& child : fs::directory_iterator(entry.path(), ec)) {
        if (child.is_directory(ec)) rmdir(child.path().c_str());
      }
      if (rmdir(entry.path().c_str()) == 0) ++removed;
    }
  }
  if (removed > 0) spdlog::info("removed {} empty cgroup(s) left by earlier daemons", removed);
}

CgroupManager::~CgroupManager() {
  for (const Hierarchy& h : hierarchies_) {
    if (rmdir(h.parent.c_str()) != 0 && errno != ENOENT) {
      spdlog::warn("cannot remove cgroup {}: {}; left behind", h.parent, ErrnoText(errno));
    }
  }
}

std::string CgroupManager::Describe() const {
  if (mode_ == LimitMode::kRlimit) {
    return fmt::format("rlimit (memory as RLIMIT_DATA, no cpu or pids limits): {}", note_);
  }
  std::vector<std::string> controllers;
  auto any = [&](bool Hierarchy::*flag) {
    return std::any_of(hierarchies_.begin(), hierarchies_.end(), [&](const Hierarchy& h) { return h.*flag; });
  };
  if (any(&Hierarchy::memory)) controllers.push_back("memory");
  if (any(&Hierarchy::cpu)) controllers.push_back("cpu");
  if (any(&Hierarchy::pids)) controllers.push_back("pids");
  std::string where;
  bool all_top_level = std::all_of(hierarchies_.begin(), hierarchies_.end(), [&](const Hierarchy& h) {
    return fs::path(h.root).parent_path() == fs_root_;
  });
  if (mode_ == LimitMode::kCgroupV2) {
    where = hierarchies_[0].parent;
  } else if (all_top_level) {
    where = fs_root_ + "/*/ignite/" + owner_;
  } else {
    std::vector<std::string> parents;
    for (const Hierarchy& h : hierarchies_) parents.push_back(h.parent);
    where = fmt::format("{}", fmt::join(parents, ", "));
  }
  std::string line = fmt::format("{} ({}) under {}", LimitModeName(mode_), fmt::join(controllers, ", "), where);
  if (!note_.empty()) line += "; " + note_;
  return line;
}

Status CgroupManager::WriteLimits(const Hierarchy& h, const std::string& dir, const ResourceLimits& limits) const {
  auto file = [&](const char* name) { return dir + "/" + name; };
  uint64_t quota = std::max<uint64_t>(uint64_t{limits.cpu_millicores} * kCpuPeriodUs / 1000, kMinCpuQuotaUs);
  if (mode_ == LimitMode::kCgroupV1) {
    if (h.memory && limits.memory_bytes > 0) {
      // memsw (memory + swap) must never be below the memory limit: lift it first (the group may hold a
      // lower limit from before, see SetLimits), then set memory, then memsw.
      if (h.swap_file) IGNITE_RETURN_IF_ERROR(WriteFile(file("memory.memsw.limit_in_bytes"), "-1"));
      IGNITE_RETURN_IF_ERROR(WriteFile(file("memory.limit_in_bytes"), std::to_string(limits.memory_bytes)));
      if (h.swap_file) {
        IGNITE_RETURN_IF_ERROR(WriteFile(file("memory.memsw.limit_in_bytes"), std::to_string(limits.memory_bytes)));
      }
    }
    if (h.cpu && limits.cpu_millicores > 0) {
      IGNITE_RETURN_IF_ERROR(WriteFile(file("cpu.cfs_period_us"), std::to_string(kCpuPeriodUs)));
      IGNITE_RETURN_IF_ERROR(WriteFile(file("cpu.cfs_quota_us"), std::to_string(quota)));
    }
  } else {
    if (h.memory && limits.memory_bytes > 0) {
      IGNITE_RETURN_IF_ERROR(WriteFile(file("memory.max"), std::to_string(limits.memory_bytes)));
      if (h.swap_file) IGNITE_RETURN_IF_ERROR(WriteFile(file("memory.swap.max"), "0"));
    }
    if (h.cpu && limits.cpu_millicores > 0) {
      IGNITE_RETURN_IF_ERROR(WriteFile(file("cpu.max"), fmt::format("{} {}", quota, kCpuPeriodUs)));
    }
  }
  if (h.pids && limits.pids > 0) IGNITE_RETURN_IF_ERROR(WriteFile(file("pids.max"), std::to_string(limits.pids)));
  return OkStatus();
}

Status CgroupManager::SetLimits(Cgroup& group, const ResourceLimits& limits) {
  if (group.dirs_.size() == hierarchies_.size()) {
    for (size_t i = 0; i < hierarchies_.size(); ++i) {
      IGNITE_RETURN_IF_ERROR(WriteLimits(hierarchies_[i], group.dirs_[i], limits));
    }
  }
  group.limits_ = limits;
  group.rlimits_.clear();
  if (limits.memory_bytes > 0 && group.memory_dir_.empty()) {
    group.rlimits_.emplace_back(RLIMIT_DATA, static_cast<rlim_t>(limits.memory_bytes));
  }
  return OkStatus();
}

Status CgroupManager::MoveThread(pid_t tid, Cgroup* group) {
  if (mode_ != LimitMode::kCgroupV1) return Unimplemented("only cgroup v1 moves single threads");
  for (size_t i = 0; i < hierarchies_.size(); ++i) {
    std::string dir = group && i < group->dirs_.size() ? group->dirs_[i] : hierarchies_[i].parent;
    IGNITE_RETURN_IF_ERROR(WriteFile(dir + "/tasks", std::to_string(tid)));
  }
  return OkStatus();
}

Result<std::unique_ptr<Cgroup>> CgroupManager::Create(const std::string& name, const ResourceLimits& limits) {
  if (!ValidName(name)) {
    return InvalidArgument(fmt::format("cgroup name '{}' must be a single path component", name));
  }
  std::unique_ptr<Cgroup> cg(new Cgroup(mode_, limits));
  // On an error below, destroying `cg` removes the directories made so far.
  for (const Hierarchy& h : hierarchies_) {
    std::string dir = h.parent + "/" + name;
    int rc = mkdir(dir.c_str(), 0755);
    if (rc != 0 && errno == ENOENT) {
      // Our parent was empty while another daemon started and cleaned up leftovers: make it again.
      IGNITE_RETURN_IF_ERROR(PrepareParent(h));
      rc = mkdir(dir.c_str(), 0755);
    }
    if (rc != 0) {
      int err = errno;
      if (err == EEXIST) return AlreadyExists(fmt::format("cgroup {} already exists", dir));
      return Internal(fmt::format("cannot create cgroup {}: {}", dir, ErrnoText(err)));
    }
    cg->dirs_.push_back(dir);
    IGNITE_RETURN_IF_ERROR(WriteLimits(h, dir, limits));
    if (h.memory) cg->memory_dir_ = dir;
    std::string procs = dir + "/cgroup.procs";
    int fd = open(procs.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Internal(fmt::format("cannot open {}: {}", procs, ErrnoText(errno)));
    cg->procs_fds_.push_back(fd);
    cg->procs_paths_.push_back(procs);
  }
  if (limits.memory_bytes > 0 && cg->memory_dir_.empty()) {
    // Without a memory controller: RLIMIT_DATA caps private writable mappings (the heap), unlike RLIMIT_AS
    // it does not count the address space a garbage-collected runtime reserves up front.
    cg->rlimits_.emplace_back(RLIMIT_DATA, static_cast<rlim_t>(limits.memory_bytes));
  }
  return cg;
}

}  // namespace ignite::instances
