#include "instances/log_collector.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

namespace ignite::instances {
namespace {

TEST(LogCollectorTest, SplitsTheSdkExecutionTag) {
  std::string msg;
  EXPECT_EQ(SplitExecutionTag("\x1e" "exec=01ABC\x1e" "hello", &msg), "01ABC");
  EXPECT_EQ(msg, "hello");
  EXPECT_EQ(SplitExecutionTag("plain line", &msg), "");
  EXPECT_EQ(msg, "plain line");
  EXPECT_EQ(SplitExecutionTag("\x1e" "exec=unterminated", &msg), "");
}

TEST(LogCollectorTest, StoresFiltersAndRotates) {
  auto dir = std::filesystem::temp_directory_path() / ("logs-test-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  FakeClock clock;
  LogCollector logs(dir.string(), &clock, /*max_file_bytes=*/2000);
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  logs.Add(p[0], "org/app", "app-1", "stderr");
  std::string data;
  for (int i = 0; i < 100; ++i) {
    data += (i % 2 ? std::string("\x1e" "exec=E1\x1e") : std::string()) + "line " + std::to_string(i) + "\n";
  }
  ASSERT_EQ(write(p[1], data.data(), data.size()), static_cast<ssize_t>(data.size()));
  close(p[1]);
  std::vector<LogLine> lines;
  for (int i = 0; i < 500; ++i) {
    lines = logs.Read("org/app", 1000);
    if (!lines.empty() && lines.back().message == "line 99") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().message, "line 99");
  EXPECT_EQ(lines.back().execution_id, "E1");
  EXPECT_EQ(lines.back().timestamp_ms, clock.NowUnixMs());
  // Rotation keeps one previous file, so the oldest lines are gone but the newest remain in order.
  EXPECT_LT(lines.size(), 100u);
  for (size_t i = 1; i < lines.size(); ++i) EXPECT_NE(lines[i - 1].message, lines[i].message);
  auto tagged = logs.Read("org/app", 5, "", "E1");
  ASSERT_EQ(tagged.size(), 5u);
  EXPECT_EQ(tagged.front().message, "line 91");
  EXPECT_TRUE(logs.Read("org/app", 10, "other-replica").empty());
  logs.Remove("org/app");
  EXPECT_TRUE(logs.Read("org/app", 10).empty());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ignite::instances
