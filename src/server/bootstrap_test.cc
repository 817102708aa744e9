#include "server/bootstrap.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace ignite::server {
namespace {

std::string Read(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(CliConfigPathTest, FollowsTheCliSearchOrder) {
  EXPECT_EQ(CliConfigPath({{"DODIL_CONFIG_DIR", "/a"}, {"IGNITE_CONFIG_DIR", "/b"}, {"HOME", "/h"}}), "/a/config.yaml");
  EXPECT_EQ(CliConfigPath({{"IGNITE_CONFIG_DIR", "/b"}, {"HOME", "/h"}}), "/b/config.yaml");
  EXPECT_EQ(CliConfigPath({{"HOME", "/h"}}), "/h/.config/unified-cli/config.yaml");
}

TEST(WriteCliConfigTest, WritesOnlyFilesItOwns) {
  auto dir = std::filesystem::temp_directory_path() / ("cfg-test-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::string path = (dir / "sub" / "config.yaml").string();
  BootstrapResult b{"org", "ign_a_b", "/x"};
  auto wrote = WriteCliConfig(path, "http://127.0.0.1:1", b);
  ASSERT_TRUE(wrote.ok());
  EXPECT_TRUE(*wrote);
  std::string text = Read(path);
  EXPECT_NE(text.find("api_endpoint: http://127.0.0.1:1"), std::string::npos) << text;
  EXPECT_NE(text.find("token: ign_a_b"), std::string::npos);
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::others_read,
            std::filesystem::perms::none);
  // Its own file is updated on the next start.
  ASSERT_TRUE(*WriteCliConfig(path, "http://127.0.0.1:2", b));
  EXPECT_NE(Read(path).find("127.0.0.1:2"), std::string::npos);
  // A user's own file is left alone.
  { std::ofstream(path) << "ignite:\n  token: mine\n"; }
  ASSERT_FALSE(*WriteCliConfig(path, "http://127.0.0.1:3", b));
  EXPECT_EQ(Read(path), "ignite:\n  token: mine\n");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ignite::server
