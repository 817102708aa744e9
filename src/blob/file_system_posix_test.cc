#include "blob/file_system_posix.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace ignite::blob {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class PosixFileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "ignite-fs-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  size_t EntriesIn(const std::string& dir) {
    return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
  }

  PosixFileSystem fs_;
  std::string dir_;
};

TEST_F(PosixFileSystemTest, CommittedFileAppearsWhole) {
  auto file = fs_.CreatePending(dir_, 0444);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_TRUE((*file)->Append("hello ").ok());
  ASSERT_TRUE((*file)->Append("world").ok());
  EXPECT_EQ(EntriesIn(dir_), 1u);  // Only the temporary file so far.
  ASSERT_TRUE((*file)->Commit(dir_ + "/out").ok());
  file->reset();
  EXPECT_EQ(EntriesIn(dir_), 1u);
  EXPECT_EQ(*ReadFile(fs_, dir_ + "/out"), "hello world");
  EXPECT_EQ(fs_.ModeOf(dir_ + "/out"), std::optional<mode_t>(0444));
  EXPECT_EQ(fs_.ModeOf(dir_ + "/missing"), std::nullopt);
}

TEST_F(PosixFileSystemTest, UncommittedFileIsRemoved) {
  {
    auto file = fs_.CreatePending(dir_, 0444);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Append("partial").ok());
    std::string name = fs::directory_iterator(dir_)->path().filename().string();
    EXPECT_THAT(name, HasSubstr(std::string(kTempFileMarker)));
  }
  EXPECT_EQ(EntriesIn(dir_), 0u);
}

TEST_F(PosixFileSystemTest, CreatePendingInAMissingDirectoryFails) {
  auto file = fs_.CreatePending(dir_ + "/nope", 0444);
  EXPECT_EQ(file.status().code(), StatusCode::kInternal);
  EXPECT_THAT(file.status().message(), HasSubstr("No such file or directory"));
}

TEST_F(PosixFileSystemTest, ReadChunksReportsMissingFilesAndSinkErrors) {
  EXPECT_EQ(ReadFile(fs_, dir_ + "/missing").status().code(), StatusCode::kNotFound);
  std::ofstream(dir_ + "/f") << "data";
  Status st = fs_.ReadChunks(dir_ + "/f", [](std::string_view) { return Aborted("stop"); });
  EXPECT_EQ(st.code(), StatusCode::kAborted);
}

TEST_F(PosixFileSystemTest, CreateDirsMakesNestedDirectoriesIdempotently) {
  const std::string nested = dir_ + "/a/b/c";
  ASSERT_TRUE(fs_.CreateDirs(nested).ok());
  EXPECT_TRUE(fs::is_directory(nested));
  EXPECT_TRUE(fs_.CreateDirs(nested).ok());
  EXPECT_TRUE(fs_.CreateDirs(nested + "/").ok());

  std::ofstream(dir_ + "/file") << "x";
  Status st = fs_.CreateDirs(dir_ + "/file/sub");
  EXPECT_EQ(st.code(), StatusCode::kInternal);
  EXPECT_THAT(st.message(), HasSubstr("not a directory"));
}

TEST_F(PosixFileSystemTest, RemoveTempFilesRemovesOnlyTemporaryFiles) {
  ASSERT_TRUE(fs_.CreateDirs(dir_ + "/x/y").ok());
  std::ofstream(dir_ + "/keep") << "k";
  std::ofstream(dir_ + "/x/.pending.tmp-00") << "t";
  std::ofstream(dir_ + "/x/y/.pending.tmp-11") << "t";
  auto removed = fs_.RemoveTempFiles(dir_);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 2);
  EXPECT_TRUE(fs::exists(dir_ + "/keep"));
  EXPECT_EQ(EntriesIn(dir_ + "/x/y"), 0u);
}

}  // namespace
}  // namespace ignite::blob
