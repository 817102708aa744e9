#include "cli/code_source.h"

#include <gtest/gtest.h>

#include "cli/test_fakes.h"

namespace ignite::cli {
namespace {

using fakes::FakeFileSystem;

TEST(LoadCode, PacksDirectoriesWithTheSkipList) {
  FakeFileSystem fs;
  fs.AddDir("./src");
  std::vector<std::string> skipped;
  DirectoryPacker pack = [&](const std::string& dir, const std::vector<std::string>& skip) -> Result<std::string> {
    EXPECT_EQ(dir, "./src");
    skipped = skip;
    return std::string("TARGZ");
  };
  auto upload = LoadCode("./src", fs, pack);
  ASSERT_TRUE(upload.ok()) << upload.status().ToString();
  EXPECT_EQ(upload->bytes, "TARGZ");
  EXPECT_EQ(upload->file_name, "code.tar.gz");
  EXPECT_TRUE(upload->packed_directory);
  EXPECT_EQ(skipped, (std::vector<std::string>{".git", "node_modules", "__pycache__", "target", ".venv"}));
}

TEST(LoadCode, SendsFilesAsTheyAre) {
  FakeFileSystem fs;
  fs.AddFile("/tmp/x/code.zip", std::string("PK\x03\x04zip", 7));
  fs.AddFile("main.go", "package main\n");
  DirectoryPacker never = [](const std::string&, const std::vector<std::string>&) -> Result<std::string> {
    ADD_FAILURE() << "files must not be packed";
    return std::string();
  };
  auto zip = LoadCode("/tmp/x/code.zip", fs, never);
  ASSERT_TRUE(zip.ok());
  EXPECT_EQ(zip->bytes, std::string("PK\x03\x04zip", 7));
  EXPECT_EQ(zip->file_name, "code.zip");
  EXPECT_FALSE(zip->packed_directory);

  auto go = LoadCode("main.go", fs, never);
  ASSERT_TRUE(go.ok());
  EXPECT_EQ(go->file_name, "main.go");
}

TEST(LoadCode, MissingPathAndPackFailuresAreLocalErrors) {
  FakeFileSystem fs;
  DirectoryPacker pack = [](const std::string&, const std::vector<std::string>&) -> Result<std::string> {
    return InvalidArgument("directory holds no regular file");
  };
  auto missing = LoadCode("./nope", fs, pack);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(ExitCodeFor(missing.status().code()), 1);
  EXPECT_NE(missing.status().message().find("./nope does not exist"), std::string::npos);

  fs.AddDir("empty");
  auto empty = LoadCode("empty", fs, pack);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(ExitCodeFor(empty.status().code()), 1);
  EXPECT_NE(empty.status().message().find("no regular file"), std::string::npos);
}

}  // namespace
}  // namespace ignite::cli
