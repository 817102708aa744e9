#include "testing/fake_blob_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/ids.h"

namespace ignite::fakes {
namespace {

// A fresh temporary directory for files PutFile reads, removed afterwards.
class FakeBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ignite-fake-blob-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string WriteFile(const std::string& name, const std::string& content) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  std::string dir_;
  FakeBlobStore blobs_;
};

TEST_F(FakeBlobStoreTest, PutReturnsTheSha256AndGetReturnsTheContent) {
  const std::string content("bytes\0with nul", 14);
  auto hash = blobs_.Put(content);
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_EQ(*hash, Sha256Hex(content));
  EXPECT_TRUE(blobs_.Contains(*hash));
  auto got = blobs_.Get(*hash);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, content);
  EXPECT_FALSE(blobs_.executable(*hash));
  // The well-known digest of "": the helper is the real sha256.
  EXPECT_EQ(*blobs_.Put(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_F(FakeBlobStoreTest, GetTellsUnknownFromMalformedHashes) {
  const std::string unknown = Sha256Hex("never stored");
  Status missing = blobs_.Get(unknown).status();
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.message(), "blob " + unknown + " not found");
  EXPECT_FALSE(blobs_.Contains(unknown));
  EXPECT_EQ(blobs_.Get("../etc/passwd").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(blobs_.Get(std::string(64, 'A')).status().code(), StatusCode::kInvalidArgument);  // Uppercase.
  EXPECT_FALSE(blobs_.Contains("xyz"));
}

TEST_F(FakeBlobStoreTest, PathForIsStableAndFakeAndEmptyForAMalformedHash) {
  auto hash = blobs_.Put("data");
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(blobs_.PathFor(*hash), "/fake-blobs/" + *hash);
  EXPECT_EQ(blobs_.PathFor(*hash), blobs_.PathFor(*hash));
  EXPECT_FALSE(std::filesystem::exists(blobs_.PathFor(*hash)));  // Documented: nothing is there.
  // Unknown but well-formed hashes have a path too, as in FsBlobStore.
  EXPECT_EQ(blobs_.PathFor(Sha256Hex("x")), "/fake-blobs/" + Sha256Hex("x"));
  EXPECT_EQ(blobs_.PathFor("../../etc"), "");
}

TEST_F(FakeBlobStoreTest, PutFileReadsTheFileAndRecordsTheExecutableFlag) {
  const std::string path = WriteFile("app.bin", "ELF...");
  auto hash = blobs_.PutFile(path, /*executable=*/true);
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_EQ(*hash, Sha256Hex("ELF..."));
  EXPECT_EQ(*blobs_.Get(*hash), "ELF...");
  EXPECT_TRUE(blobs_.executable(*hash));

  auto plain = blobs_.PutFile(WriteFile("src.zip", "zip"), /*executable=*/false);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(blobs_.executable(*plain));
  EXPECT_FALSE(blobs_.executable(Sha256Hex("unknown")));

  Status missing = blobs_.PutFile(dir_ + "/missing", false).status();
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
}

TEST_F(FakeBlobStoreTest, ExecutableIsAddedByALaterPutFileButNeverTakenAway) {
  // As FsBlobStore: read-only content asked for as executable is replaced by an executable copy; existing
  // executable content stays executable whatever later puts ask.
  auto hash = blobs_.Put("same");
  ASSERT_TRUE(hash.ok());
  const std::string path = WriteFile("same", "same");
  ASSERT_TRUE(blobs_.PutFile(path, /*executable=*/false).ok());
  EXPECT_FALSE(blobs_.executable(*hash));
  ASSERT_TRUE(blobs_.PutFile(path, /*executable=*/true).ok());
  EXPECT_TRUE(blobs_.executable(*hash));
  ASSERT_TRUE(blobs_.PutFile(path, /*executable=*/false).ok());
  ASSERT_TRUE(blobs_.Put("same").ok());
  EXPECT_TRUE(blobs_.executable(*hash));
  EXPECT_EQ(*blobs_.Get(*hash), "same");
}

TEST_F(FakeBlobStoreTest, ConcurrentPutsAndGetsAreSafe) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const std::string content = "blob " + std::to_string(i % 50);  // Threads race on the same content.
        auto hash = blobs_.Put(content);
        ASSERT_TRUE(hash.ok());
        EXPECT_EQ(*blobs_.Get(*hash), content) << "thread " << t;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(blobs_.Contains(Sha256Hex("blob " + std::to_string(i))));
}

}  // namespace
}  // namespace ignite::fakes
