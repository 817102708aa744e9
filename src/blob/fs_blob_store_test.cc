#include "blob/fs_blob_store.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "blob/fake_file_system.h"
#include "common/ids.h"

namespace ignite::blob {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using namespace std::string_literals;

constexpr char kAbcSha256[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

mode_t ModeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

// Every regular file under `dir`, relative to it.
std::vector<std::string> FilesUnder(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(fs::relative(e.path(), dir).string());
  }
  return out;
}

// Content several read chunks long, different for each `seed`.
std::string BigContent(int seed) {
  std::string s;
  s.reserve(2'500'000);
  while (s.size() < 2'500'000) s += fmt::format("{}-{};", seed, s.size());
  return s;
}

class FsBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "ignite-blob-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A store in a new, empty root under the test's directory.
  std::unique_ptr<FsBlobStore> OpenFresh(FileSystem* fs = nullptr) {
    std::string root = fmt::format("{}/root{}", dir_, ++roots_);
    auto store = FsBlobStore::Open(root, fs);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  std::string WriteSource(const std::string& name, const std::string& content) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  std::string dir_;
  int roots_ = 0;
};

TEST_F(FsBlobStoreTest, RoundTrip) {
  auto store = OpenFresh();
  const std::string content = "binary\0content\xff"s;
  auto hash = store->Put(content);
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_EQ(*hash, Sha256Hex(content));
  EXPECT_TRUE(store->Contains(*hash));
  auto got = store->Get(*hash);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, content);

  auto empty = store->Put("");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*store->Get(*empty), "");
}

TEST_F(FsBlobStoreTest, SameContentSameHashAndLayout) {
  auto store = OpenFresh();
  auto first = store->Put("abc");
  auto second = store->Put("abc");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*first, kAbcSha256);
  EXPECT_EQ(*second, kAbcSha256);
  EXPECT_EQ(store->PathFor(kAbcSha256), store->root() + "/sha256/ba/" + std::string(kAbcSha256 + 2));
  EXPECT_TRUE(fs::exists(store->PathFor(kAbcSha256)));
  EXPECT_EQ(ModeOf(store->PathFor(kAbcSha256)), 0444u);
  EXPECT_EQ(FilesUnder(store->root()).size(), 1u);
}

TEST_F(FsBlobStoreTest, PutFileStreamsAndSetsTheMode) {
  auto store = OpenFresh();
  const std::string big = BigContent(1);
  auto exec = store->PutFile(WriteSource("tool", big), /*executable=*/true);
  ASSERT_TRUE(exec.ok()) << exec.status().ToString();
  EXPECT_EQ(*exec, Sha256Hex(big));
  EXPECT_EQ(ModeOf(store->PathFor(*exec)), 0555u);
  EXPECT_EQ(*store->Get(*exec), big);

  auto plain = store->PutFile(WriteSource("src.zip", "zip bytes"), /*executable=*/false);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(ModeOf(store->PathFor(*plain)), 0444u);

  // Already stored read-only, now wanted executable: the stored copy becomes executable.
  auto upgraded = store->PutFile(WriteSource("same", "zip bytes"), /*executable=*/true);
  ASSERT_TRUE(upgraded.ok());
  EXPECT_EQ(*upgraded, *plain);
  EXPECT_EQ(ModeOf(store->PathFor(*plain)), 0555u);
  // Asking for read-only does not take execute away.
  ASSERT_TRUE(store->PutFile(WriteSource("again", "zip bytes"), false).ok());
  EXPECT_EQ(ModeOf(store->PathFor(*plain)), 0555u);
  EXPECT_EQ(FilesUnder(store->root()).size(), 2u);  // No staged copies left over.
}

TEST_F(FsBlobStoreTest, PutFileOfAMissingFileIsNotFoundAndLeavesNothing) {
  auto store = OpenFresh();
  auto hash = store->PutFile(dir_ + "/missing", false);
  EXPECT_EQ(hash.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(hash.status().message(), HasSubstr("missing"));
  EXPECT_TRUE(FilesUnder(store->root()).empty());
}

TEST_F(FsBlobStoreTest, UnknownHashIsNotFound) {
  auto store = OpenFresh();
  const std::string unknown = Sha256Hex("never stored");
  EXPECT_FALSE(store->Contains(unknown));
  auto got = store->Get(unknown);
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(got.status().message(), "blob " + unknown + " not found");
}

TEST_F(FsBlobStoreTest, MalformedHashesAreRejected) {
  auto store = OpenFresh();
  ASSERT_TRUE(store->Put("abc").ok());
  const std::string upper = "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD";
  for (const std::string& bad : {std::string(), std::string("abc"), upper, std::string(kAbcSha256) + "0",
                                 std::string(kAbcSha256).substr(0, 63) + "g", "../../" + std::string(58, 'a'),
                                 std::string(kAbcSha256).substr(0, 63)}) {
    auto got = store->Get(bad);
    EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_FALSE(store->Contains(bad)) << bad;
    EXPECT_EQ(store->PathFor(bad), "") << bad;
  }
}

TEST_F(FsBlobStoreTest, OpenRemovesLeftoverTemporaryFiles) {
  std::string root = dir_ + "/root";
  {
    auto store = FsBlobStore::Open(root);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Put("abc").ok());
  }
  // What crashed writers leave: staged files at the top and in a fan-out directory.
  WriteSource("root/sha256/.pending.tmp-0123456789abcdef", "partial");
  WriteSource("root/sha256/ba/.pending.tmp-fedcba9876543210", "partial");
  ASSERT_EQ(FilesUnder(root).size(), 3u);

  auto store = FsBlobStore::Open(root + "/");
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(FilesUnder(root), std::vector<std::string>{"sha256/ba/" + std::string(kAbcSha256 + 2)});
  EXPECT_EQ(*(*store)->Get(kAbcSha256), "abc");
}

TEST_F(FsBlobStoreTest, OpenFailsWhenTheRootIsAFile) {
  std::string file = WriteSource("not-a-dir", "x");
  auto store = FsBlobStore::Open(file);
  EXPECT_EQ(store.status().code(), StatusCode::kInternal);
  EXPECT_THAT(store.status().message(), HasSubstr("not-a-dir"));
  EXPECT_EQ(FsBlobStore::Open("").status().code(), StatusCode::kInvalidArgument);
}

// Fails the n-th write, fsync or rename of a Put for n = 1, 2, ... until the Put no longer reaches an n-th
// call, checking each time that the failure is reported and leaves no file at all.
struct FaultCase {
  FakeFileSystem::Op op;
  bool put_file;
  int min_steps;  // The fewest calls of `op` a write must make (guards against the loop testing nothing).
};

class FsBlobStoreFaultTest : public FsBlobStoreTest, public ::testing::WithParamInterface<FaultCase> {};

TEST_P(FsBlobStoreFaultTest, FailureAtAnyStepLeavesNothingBehind) {
  const FaultCase c = GetParam();
  const std::string content = BigContent(7);  // Several chunks, so PutFile makes several writes.
  const std::string source = WriteSource("source", content);
  const std::string hash = Sha256Hex(content);
  int injected = 0;
  for (int n = 1;; ++n) {
    FakeFileSystem fake;
    auto store = OpenFresh(&fake);  // A fresh root: the fan-out directory must be created every time.
    ASSERT_NE(store, nullptr);
    fake.FailNth(c.op, n);
    Result<std::string> put = c.put_file ? store->PutFile(source, true) : store->Put(content);
    if (!fake.fired()) {
      ASSERT_TRUE(put.ok()) << put.status().ToString();
      break;
    }
    ++injected;
    EXPECT_EQ(put.status().code(), StatusCode::kInternal) << "failing call " << n;
    EXPECT_THAT(put.status().message(), HasSubstr("Input/output error"));
    EXPECT_FALSE(store->Contains(hash)) << "failing call " << n;
    EXPECT_TRUE(FilesUnder(store->root()).empty()) << "failing call " << n;
    // The failure is not sticky: the same write then succeeds.
    Result<std::string> retry = c.put_file ? store->PutFile(source, true) : store->Put(content);
    ASSERT_TRUE(retry.ok()) << retry.status().ToString();
    EXPECT_EQ(*store->Get(hash), content);
  }
  EXPECT_GE(injected, c.min_steps);
}

INSTANTIATE_TEST_SUITE_P(
    Steps, FsBlobStoreFaultTest,
    ::testing::Values(FaultCase{FakeFileSystem::Op::kWrite, false, 1},
                      // fsyncs: the new fan-out directory's parent, the file, the blob's directory.
                      FaultCase{FakeFileSystem::Op::kFsync, false, 3},
                      FaultCase{FakeFileSystem::Op::kRename, false, 1},
                      FaultCase{FakeFileSystem::Op::kWrite, true, 3},
                      FaultCase{FakeFileSystem::Op::kFsync, true, 3},
                      FaultCase{FakeFileSystem::Op::kRename, true, 1}),
    [](const ::testing::TestParamInfo<FaultCase>& info) {
      const char* op = info.param.op == FakeFileSystem::Op::kWrite   ? "Write"
                       : info.param.op == FakeFileSystem::Op::kFsync ? "Fsync"
                                                                      : "Rename";
      return std::string(info.param.put_file ? "PutFile" : "Put") + op;
    });

TEST_F(FsBlobStoreTest, ConcurrentPutsOfSameAndDifferentContent) {
  auto store = OpenFresh();
  const std::string shared = BigContent(0);
  const std::string shared_file = WriteSource("shared", shared);
  constexpr int kThreads = 8;
  constexpr int kRounds = 10;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        auto a = store->Put(shared);
        auto b = store->PutFile(shared_file, i % 2 == 0);
        auto c = store->Put(fmt::format("thread {} round {}", t, i));
        if (!a.ok() || !b.ok() || !c.ok() || *a != *b) ++failures;
        auto back = store->Get(Sha256Hex(shared));
        if (!back.ok() || *back != shared) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(FilesUnder(store->root()).size(), static_cast<size_t>(1 + kThreads * kRounds));
  for (const auto& f : FilesUnder(store->root())) EXPECT_EQ(f.find(".tmp-"), std::string::npos) << f;
}

}  // namespace
}  // namespace ignite::blob
