#include "build/build_step.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>
#include <vector>

namespace ignite::build {
namespace {

using std::chrono::milliseconds;

SpawnSpec Shell(const std::string& script) {
  SpawnSpec spec;
  spec.argv = {"/bin/sh", "-c", script};
  spec.env = {{"PATH", "/usr/bin:/bin"}};
  return spec;
}

TEST(BuildStepsTest, ReturnsTheResultWithLinesAndOutputTrimmed) {
  BuildSteps steps(milliseconds(30000), nullptr, "/work/b1/src");
  std::vector<std::string> lines;
  auto r = steps.Run(Shell("echo /work/b1/src/main.go:3: bad; echo other >&2; exit 3"), "go build",
                     [&](std::string_view l) { lines.emplace_back(l); });
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(lines, (std::vector<std::string>{"./main.go:3: bad", "other"}));
  EXPECT_EQ(steps.ToolOutput(*r), "./main.go:3: bad\nother");
}

TEST(BuildStepsTest, TheBuildsDeadlineCoversEveryStep) {
  BuildSteps steps(milliseconds(300), nullptr, "");
  auto r = steps.Run(Shell("sleep 5"), "pip install", {});
  ASSERT_EQ(r.status().code(), StatusCode::kDeadlineExceeded) << r.status().message();
  EXPECT_NE(r.status().message().find("during pip install"), std::string::npos) << r.status().message();
  // Nothing more runs once the time is up.
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_EQ(steps.Remaining().count(), 0);
  auto next = steps.Run(Shell("true"), "go build", {});
  EXPECT_EQ(next.status().code(), StatusCode::kDeadlineExceeded);
}

TEST(BuildStepsTest, CancelStopsTheRunningStep) {
  std::atomic<bool> cancel{false};
  BuildSteps steps(milliseconds(30000), &cancel, "");
  std::thread canceller([&] {
    std::this_thread::sleep_for(milliseconds(200));
    cancel = true;
  });
  auto r = steps.Run(Shell("sleep 5"), "go mod tidy", {});
  canceller.join();
  ASSERT_EQ(r.status().code(), StatusCode::kCancelled) << r.status().message();
  EXPECT_NE(r.status().message().find("during go mod tidy"), std::string::npos);
  EXPECT_EQ(steps.Run(Shell("true"), "next", {}).status().code(), StatusCode::kCancelled);
}

TEST(BuildStepsTest, ASignalOrAMissingToolIsInternal) {
  BuildSteps steps(milliseconds(30000), nullptr, "");
  auto killed = steps.Run(Shell("echo dying; kill -9 $$"), "go build", {});
  ASSERT_EQ(killed.status().code(), StatusCode::kInternal);
  EXPECT_NE(killed.status().message().find("killed by signal 9"), std::string::npos) << killed.status().message();
  EXPECT_NE(killed.status().message().find("dying"), std::string::npos);
  SpawnSpec missing;
  missing.argv = {"/nonexistent/tool"};
  EXPECT_EQ(steps.Run(missing, "x", {}).status().code(), StatusCode::kInternal);
}

TEST(ScratchDirTest, IsRemovedWithItsContents) {
  std::string parent = testing::TempDir();
  std::string path;
  {
    auto dir = ScratchDir::Make(parent, "t-");
    ASSERT_TRUE(dir.ok()) << dir.status().message();
    path = dir->path();
    std::filesystem::create_directories(path + "/a/b");
    ASSERT_TRUE(std::filesystem::is_directory(path + "/a/b"));
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_EQ(ScratchDir::Make("/nonexistent-parent", "t-").status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace ignite::build
