#include "instances/log_collector.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

namespace ignite::instances {

std::string SplitExecutionTag(std::string_view raw, std::string* message) {
  constexpr std::string_view kOpen = "\x1e" "exec=";
  if (raw.substr(0, kOpen.size()) == kOpen) {
    size_t end = raw.find('\x1e', kOpen.size());
    if (end != std::string_view::npos && end - kOpen.size() <= 64) {
      *message = std::string(raw.substr(end + 1));
      return std::string(raw.substr(kOpen.size(), end - kOpen.size()));
    }
  }
  *message = std::string(raw);
  return "";
}

LogCollector::LogCollector(std::string dir, const Clock* clock, size_t max_file_bytes)
    : dir_(std::move(dir)), clock_(clock), max_file_bytes_(max_file_bytes) {
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
  for (auto& [app, f] : files_) fclose(f);
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

void LogCollector::Emit(Source& s, std::string_view raw) {
  LogLine line;
  line.execution_id = SplitExecutionTag(raw, &line.message);
  FILE*& f = files_[s.app_id];
  std::string path = PathFor(s.app_id);
  if (f && ftell(f) > static_cast<long>(max_file_bytes_)) {
    fclose(f);
    f = nullptr;
    std::rename(path.c_str(), (path + ".1").c_str());
  }
  if (!f) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    f = fopen(path.c_str(), "ae");
    if (!f) return;
  }
  nlohmann::json j = {{"ts", clock_->NowUnixMs()}, {"replica", s.replica_id}, {"stream", s.stream},
                      {"exec", line.execution_id}, {"msg", line.message}};
  std::string text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text.push_back('\n');
  fwrite(text.data(), 1, text.size(), f);
  if (!followers_.empty()) {
    line.timestamp_ms = j["ts"].get<int64_t>();
    line.replica_id = s.replica_id;
    line.stream = s.stream;
    for (auto& [id, follower] : followers_) {
      if (follower.app_id == s.app_id) follower.on_line(line);
    }
  }
}

void LogCollector::Note(const std::string& app_id, const std::string& replica_id, const std::string& execution_id,
                        std::string_view message) {
  Source s{-1, app_id, replica_id, "platform", ""};
  std::string raw = execution_id.empty() ? std::string(message) : "\x1e" "exec=" + execution_id + "\x1e" + std::string(message);
  std::lock_guard<std::mutex> l(mu_);
  Emit(s, raw);
  if (auto it = files_.find(app_id); it != files_.end() && it->second) fflush(it->second);
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
    std::lock_guard<std::mutex> l(mu_);
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
    for (auto& [app, f] : files_) {
      if (f) fflush(f);
    }
    if (stopping && n == 0) break;
  }
  for (auto& s : sources) close(s.fd);
}

std::vector<LogLine> LogCollector::Read(const std::string& app_id, size_t limit, const std::string& replica_id,
                                        const std::string& execution_id) {
  std::lock_guard<std::mutex> l(mu_);
  return ReadLocked(app_id, limit, replica_id, execution_id);
}

LogCollector::Followed LogCollector::Follow(const std::string& app_id, size_t limit, const std::string& replica_id,
                                            const std::string& execution_id,
                                            std::function<void(const LogLine&)> on_line) {
  std::lock_guard<std::mutex> l(mu_);
  Followed f{next_follower_++,
             limit > 0 ? ReadLocked(app_id, limit, replica_id, execution_id) : std::vector<LogLine>{}};
  followers_[f.id] = Follower{app_id, std::move(on_line)};
  return f;
}

void LogCollector::Unfollow(uint64_t id) {
  std::lock_guard<std::mutex> l(mu_);
  followers_.erase(id);
}

std::vector<LogLine> LogCollector::ReadLocked(const std::string& app_id, size_t limit, const std::string& replica_id,
                                              const std::string& execution_id) {
  if (auto it = files_.find(app_id); it != files_.end() && it->second) fflush(it->second);
  std::deque<LogLine> out;
  std::string path = PathFor(app_id);
  for (const std::string& p : {path + ".1", path}) {
    std::ifstream in(p);
    std::string text;
    while (std::getline(in, text)) {
      auto j = nlohmann::json::parse(text, nullptr, false);
      if (j.is_discarded() || !j.is_object()) continue;
      LogLine line{j.value("ts", int64_t{0}), j.value("replica", ""), j.value("stream", ""), j.value("exec", ""),
                   j.value("msg", "")};
      if (!replica_id.empty() && line.replica_id != replica_id) continue;
      if (!execution_id.empty() && line.execution_id != execution_id) continue;
      out.push_back(std::move(line));
      if (out.size() > limit) out.pop_front();
    }
  }
  return {out.begin(), out.end()};
}

void LogCollector::Remove(const std::string& app_id) {
  std::lock_guard<std::mutex> l(mu_);
  if (auto it = files_.find(app_id); it != files_.end()) {
    if (it->second) fclose(it->second);
    files_.erase(it);
  }
  std::error_code ec;
  std::filesystem::remove(PathFor(app_id), ec);
  std::filesystem::remove(PathFor(app_id) + ".1", ec);
}

}  // namespace ignite::instances
