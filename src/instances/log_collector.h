// LogCollector: captures instance stdout/stderr line by line into per-app log files and serves them back.
//
// One background thread polls every pipe, so a chatty instance never blocks and no thread per instance is
// needed. Each line is stored as one JSON object {ts, replica, stream, exec, msg} in <dir>/<org>/<app>.log.
// The execution id comes from the SDK, which tags lines its `log` output writes while exactly one execution
// is in flight on the instance (prefix "\x1e" "exec=<id>" "\x1e"); untagged lines have none. Files rotate at
// `max_file_bytes` (one previous file kept), so logs survive scale-to-zero with bounded disk use.
// Thread-safe.
#pragma once

#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"

namespace ignite::instances {

struct LogLine {
  int64_t timestamp_ms = 0;
  std::string replica_id;
  std::string stream;  // "stdout", "stderr"
  std::string execution_id;
  std::string message;
};

// Splits the SDK's execution tag off a raw line. Returns the execution id ("" if untagged).
std::string SplitExecutionTag(std::string_view raw, std::string* message);

class LogCollector {
 public:
  LogCollector(std::string dir, const Clock* clock, size_t max_file_bytes = 8 << 20);
  ~LogCollector();  // Drains what is readable and joins the thread.

  // Takes ownership of `fd` (the read end of a pipe). Lines are attributed to app_id/replica_id.
  void Add(int fd, const std::string& app_id, const std::string& replica_id, const std::string& stream);
  // A line from the platform itself about an instance (stream "platform"), e.g. why it was stopped; tagged
  // with `execution_id` when not empty. Written at once.
  void Note(const std::string& app_id, const std::string& replica_id, const std::string& execution_id,
            std::string_view message);
  // The newest `limit` lines of an app (oldest first), optionally only of one replica or execution.
  std::vector<LogLine> Read(const std::string& app_id, size_t limit, const std::string& replica_id = "",
                            const std::string& execution_id = "");
  // Follows an app's log: returns the newest `limit` lines (as Read, unfiltered) and, atomically with that,
  // registers `on_line` for every later line of the app, so nothing is missed or repeated in between.
  // on_line runs on the collector's thread under its lock: it must only queue the line. Unfollow(id) stops
  // it; once Unfollow returns, on_line is not called again.
  struct Followed {
    uint64_t id;
    std::vector<LogLine> tail;
  };
  // The tail is filtered like Read; live lines are not (the caller filters).
  Followed Follow(const std::string& app_id, size_t limit, const std::string& replica_id,
                  const std::string& execution_id, std::function<void(const LogLine&)> on_line);
  void Unfollow(uint64_t id);
  // Forgets an app's logs (app deleted).
  void Remove(const std::string& app_id);

 private:
  struct Source {
    int fd;
    std::string app_id, replica_id, stream, partial;
  };
  void Run();
  void Emit(Source& s, std::string_view line);  // requires mu_
  std::string PathFor(const std::string& app_id) const;
  std::vector<LogLine> ReadLocked(const std::string& app_id, size_t limit, const std::string& replica_id,
                                  const std::string& execution_id);  // requires mu_

  const std::string dir_;
  const Clock* clock_;
  const size_t max_file_bytes_;
  int wake_[2] = {-1, -1};
  std::mutex mu_;
  std::vector<Source> pending_;          // guarded by mu_: added, not yet polled.
  std::map<std::string, FILE*> files_;   // guarded by mu_: open log files by app.
  bool stop_ = false;                    // guarded by mu_
  struct Follower {
    std::string app_id;
    std::function<void(const LogLine&)> on_line;
  };
  std::map<uint64_t, Follower> followers_;  // guarded by mu_
  uint64_t next_follower_ = 1;             // guarded by mu_
  std::thread thread_;
};

}  // namespace ignite::instances
