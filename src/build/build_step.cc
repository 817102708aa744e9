#include "build/build_step.h"

#include <fmt/format.h>
#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "build/tool_text.h"

namespace ignite::build {
namespace {

constexpr size_t kMaxMessageOutput = 16 << 10;  // of a tool's output in an error message
constexpr size_t kMaxCapturedOutput = 4 << 20;  // of a tool's output kept in memory

}  // namespace

BuildSteps::BuildSteps(std::chrono::milliseconds timeout, const std::atomic<bool>* cancel, std::string trim_dir)
    : timeout_(timeout),
      deadline_(std::chrono::steady_clock::now() + timeout),
      cancel_(cancel),
      trim_dir_(std::move(trim_dir)) {}

std::chrono::milliseconds BuildSteps::Remaining(std::chrono::milliseconds cap) const {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - std::chrono::steady_clock::now());
  return std::max(std::chrono::milliseconds(0), std::min(left, cap));
}

Result<CommandResult> BuildSteps::Run(const SpawnSpec& spec, std::string_view step,
                                      const std::function<void(std::string_view)>& on_line) {
  auto timeout = Remaining();
  if (timeout.count() <= 0) return TimedOut(step);
  if (cancel_ && cancel_->load()) return Cancelled(step);
  std::function<void(std::string_view)> trimmed;
  if (on_line) trimmed = [&](std::string_view line) { on_line(TrimSourceDir(line, trim_dir_)); };
  auto r = RunCommand(spec, timeout, trimmed, kMaxCapturedOutput, cancel_);
  if (!r.ok()) {
    return Internal(fmt::format("cannot run {}: {}", spec.argv.empty() ? "" : spec.argv[0], r.status().message()));
  }
  if (r->timed_out) return TimedOut(step);
  if (r->cancelled) return Cancelled(step);
  if (r->exit_code == 125 && r->output.find(kJoinCgroupFailed) != std::string::npos) {
    return Internal(fmt::format("{} could not be limited: {}", step, ToolOutput(*r)));
  }
  if (r->term_signal != 0) {
    return Internal(
        fmt::format("{} was killed by signal {} (out of memory?): {}", step, r->term_signal, ToolOutput(*r)));
  }
  return r;
}

Status BuildSteps::TimedOut(std::string_view step) const {
  return DeadlineExceeded(fmt::format(
      "build exceeded the {} limit (during {}); make the build lighter or split the app", FormatGoDuration(timeout_),
      step));
}

Status BuildSteps::Cancelled(std::string_view step) const {
  return Status(StatusCode::kCancelled, fmt::format("build cancelled (during {})", step));
}

std::string BuildSteps::ToolOutput(const CommandResult& r) const {
  return CapForMessage(TrimSpace(TrimSourceDir(r.output, trim_dir_)), kMaxMessageOutput);
}

Result<ScratchDir> ScratchDir::Make(const std::string& parent, std::string_view prefix) {
  std::string tmpl = fmt::format("{}/{}XXXXXX", parent, prefix);
  if (!mkdtemp(tmpl.data())) {
    return Internal(fmt::format("cannot create a temporary directory in {}: {}", parent, std::strerror(errno)));
  }
  return ScratchDir(std::move(tmpl));
}

ScratchDir::~ScratchDir() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace ignite::build
