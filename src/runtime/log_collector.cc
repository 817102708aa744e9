#include "runtime/log_collector.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace ignite::runtime {

LogCollector::LogCollector(std::string dir) : dir_(std::move(dir)) {
  if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) wake_[0] = wake_[1] = -1;
  thread_ = std::thread([this] { Run(); });
}

LogCollector::~LogCollector() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  if (wake_[1] >= 0 && write(wake_[1], "x", 1) < 0) {
  }
  thread_.join();
  close(wake_[0]);
  close(wake_[1]);
}

void LogCollector::Add(int fd, const std::string& app_id, const std::string& replica_id, const std::string& stream) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  {
    std::lock_guard<std::mutex> l(mu_);
    pending_.push_back(Source{fd, app_id, replica_id, stream, ""});
  }
  if (write(wake_[1], "x", 1) < 0) {
  }
}

std::string LogCollector::PathFor(const std::string& app_id) const { return dir_ + "/" + app_id + ".log"; }

void LogCollector::Emit(Source& s, std::string_view line) {
  auto now = std::chrono::system_clock::now();
  std::string path = PathFor(s.app_id);
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  std::ofstream out(path, std::ios::app);
  out << fmt::format("{:%Y-%m-%dT%H:%M:%S}Z {} {} {}\n", std::chrono::floor<std::chrono::milliseconds>(now),
                     s.replica_id, s.stream, line);
}

void LogCollector::Run() {
  std::vector<Source> sources;
  char buf[16384];
  for (;;) {
    bool stopping;
    {
      std::lock_guard<std::mutex> l(mu_);
      for (auto& s : pending_) sources.push_back(std::move(s));
      pending_.clear();
      stopping = stop_;
    }
    std::vector<pollfd> fds;
    fds.push_back({wake_[0], POLLIN, 0});
    for (auto& s : sources) fds.push_back({s.fd, POLLIN, 0});
    int n = poll(fds.data(), fds.size(), stopping ? 0 : 1000);
    if (n < 0) continue;
    if (fds[0].revents) {
      while (read(wake_[0], buf, sizeof buf) > 0) {
      }
    }
    for (size_t i = sources.size(); i-- > 0;) {
      auto& s = sources[i];
      if (!fds[i + 1].revents) continue;
      ssize_t r = read(s.fd, buf, sizeof buf);
      if (r > 0) {
        s.partial.append(buf, static_cast<size_t>(r));
        size_t pos;
        while ((pos = s.partial.find('\n')) != std::string::npos) {
          Emit(s, std::string_view(s.partial).substr(0, pos));
          s.partial.erase(0, pos + 1);
        }
        // A single line longer than 64 KiB is split rather than buffered without bound.
        if (s.partial.size() > 65536) {
          Emit(s, s.partial);
          s.partial.clear();
        }
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        if (!s.partial.empty()) Emit(s, s.partial);
        close(s.fd);
        sources.erase(sources.begin() + static_cast<long>(i));
      }
    }
    if (stopping && n == 0) break;
  }
  for (auto& s : sources) close(s.fd);
}

}  // namespace ignite::runtime
