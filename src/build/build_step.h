// What every code path's build shares: one clock and cancel flag for all of a build's steps, the way a
// step's command is run and how its end becomes the build's status, and a scratch directory that is removed
// with its owner. Not thread-safe: one build runs its steps one after another on its own thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "common/process.h"
#include "common/result.h"

namespace ignite::build {

class BuildSteps {
 public:
  // The build may run for `timeout` from now; `cancel` (may be null) stops it when it becomes true. Tool
  // output shows paths under `trim_dir` relative to it (TrimSourceDir).
  BuildSteps(std::chrono::milliseconds timeout, const std::atomic<bool>* cancel, std::string trim_dir);

  // What is left of the build's time, at most `cap`; never negative.
  std::chrono::milliseconds Remaining(std::chrono::milliseconds cap = std::chrono::milliseconds::max()) const;

  // Runs one step's command for at most the time left, each output line (trimmed) to `on_line` (may be
  // empty). Returns DeadlineExceeded when the build's time is up (before or during the step), Cancelled
  // when the cancel flag is set, Internal when the command could not start, could not join its cgroups or
  // was killed by a signal; otherwise the result, whose exit code the caller judges. `step` names the step
  // in those messages ("go build", "pip install").
  Result<CommandResult> Run(const SpawnSpec& spec, std::string_view step,
                            const std::function<void(std::string_view)>& on_line);

  Status TimedOut(std::string_view step) const;
  Status Cancelled(std::string_view step) const;
  // A command's output as shown in an error message: trimmed and capped.
  std::string ToolOutput(const CommandResult& r) const;
  // Where tool output is trimmed from from now on (the build learns its canonical work dir after it starts).
  void set_trim_dir(std::string dir) { trim_dir_ = std::move(dir); }
  const std::string& trim_dir() const { return trim_dir_; }

 private:
  const std::chrono::milliseconds timeout_;
  const std::chrono::steady_clock::time_point deadline_;
  const std::atomic<bool>* const cancel_;
  std::string trim_dir_;
};

// A fresh directory `<parent>/<prefix>XXXXXX`, removed with everything in it when this goes away.
class ScratchDir {
 public:
  // Internal (naming parent and errno) when the directory cannot be made.
  static Result<ScratchDir> Make(const std::string& parent, std::string_view prefix);
  ScratchDir(ScratchDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  ScratchDir& operator=(ScratchDir&&) = delete;
  ~ScratchDir();
  const std::string& path() const { return path_; }

 private:
  explicit ScratchDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace ignite::build
