// LogCollector: captures instance stdout/stderr line by line into per-app log files, each line stamped with
// time, replica id and stream. One background thread polls every pipe, so a chatty instance never blocks and
// no thread per instance is needed.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ignite::runtime {

class LogCollector {
 public:
  // Log files go to <dir>/<org>/<app>.log.
  explicit LogCollector(std::string dir);
  ~LogCollector();  // Drains what is readable and joins the thread.

  // Takes ownership of `fd` (the read end of a pipe). Lines are attributed to app_id/replica_id.
  void Add(int fd, const std::string& app_id, const std::string& replica_id, const std::string& stream);
  // Path of an app's log file.
  std::string PathFor(const std::string& app_id) const;

 private:
  struct Source {
    int fd;
    std::string app_id, replica_id, stream, partial;
  };
  void Run();
  void Emit(Source& s, std::string_view line);

  std::string dir_;
  int wake_[2] = {-1, -1};
  std::mutex mu_;
  std::vector<Source> pending_;  // guarded by mu_: added, not yet polled.
  bool stop_ = false;            // guarded by mu_
  std::thread thread_;
};

}  // namespace ignite::runtime
