#include "common/secret_box.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

namespace ignite {
namespace {

using namespace std::string_literals;

constexpr std::string_view kCannotDecrypt = "the stored secret cannot be decrypted: wrong key or damaged data";

std::string Key(char fill) { return std::string(SecretBox::kKeySize, fill); }

void ExpectDataLoss(const Result<std::string>& r) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(r.status().message(), kCannotDecrypt);
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A fresh temporary directory per test, removed afterwards.
class SecretBoxFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ignite-secret-box-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::permissions(dir_ + "/ro", std::filesystem::perms::owner_all, ec);
    std::filesystem::remove_all(dir_);
  }
  std::string dir_;
};

TEST(SecretBoxTest, SealThenOpenRoundTrips) {
  SecretBox box(Key('k'));
  const std::string plaintext = "ghp_0123456789abcdef";
  std::string sealed = box.Seal(plaintext, "org1/git");
  EXPECT_EQ(sealed.size(), plaintext.size() + SecretBox::kOverhead);
  EXPECT_EQ(sealed[0], '\x01');
  EXPECT_EQ(sealed.find(plaintext), std::string::npos);
  auto opened = box.Open(sealed, "org1/git");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, plaintext);
}

TEST(SecretBoxTest, BinaryAndEmptyPlaintextsRoundTrip) {
  SecretBox box(Key('k'));
  for (const std::string& plaintext : {""s, "\x00\xff\x00"s, std::string(100000, 'x')}) {
    std::string sealed = box.Seal(plaintext, "o/n");
    EXPECT_EQ(sealed.size(), plaintext.size() + SecretBox::kOverhead);
    auto opened = box.Open(sealed, "o/n");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(*opened, plaintext);
  }
  // An empty aad is an aad like any other.
  auto opened = box.Open(box.Seal("v", ""), "");
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, "v");
}

TEST(SecretBoxTest, EveryTamperedByteIsDataLoss) {
  SecretBox box(Key('k'));
  const std::string sealed = box.Seal("hunter2", "o/n");
  // Each position: the version byte, the nonce, the ciphertext and the tag.
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string tampered = sealed;
    tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
    ExpectDataLoss(box.Open(tampered, "o/n"));
  }
}

TEST(SecretBoxTest, WrongAadIsDataLoss) {
  SecretBox box(Key('k'));
  const std::string sealed = box.Seal("hunter2", "org1/git");
  ExpectDataLoss(box.Open(sealed, "org2/git"));
  ExpectDataLoss(box.Open(sealed, "org1/gi"));
  ExpectDataLoss(box.Open(sealed, ""));
}

TEST(SecretBoxTest, WrongKeyIsDataLoss) {
  const std::string sealed = SecretBox(Key('a')).Seal("hunter2", "o/n");
  ExpectDataLoss(SecretBox(Key('b')).Open(sealed, "o/n"));
}

TEST(SecretBoxTest, ShortTruncatedOrUnknownVersionIsDataLoss) {
  SecretBox box(Key('k'));
  const std::string sealed = box.Seal("hunter2", "o/n");
  ExpectDataLoss(box.Open("", "o/n"));
  ExpectDataLoss(box.Open(sealed.substr(0, SecretBox::kOverhead - 1), "o/n"));
  ExpectDataLoss(box.Open(sealed.substr(0, sealed.size() - 1), "o/n"));
  ExpectDataLoss(box.Open(sealed + "x", "o/n"));
  std::string v2 = sealed;
  v2[0] = '\x02';
  ExpectDataLoss(box.Open(v2, "o/n"));
}

TEST(SecretBoxTest, SealingTwiceGivesDifferentValues) {
  SecretBox box(Key('k'));
  const std::string a = box.Seal("same", "o/n");
  const std::string b = box.Seal("same", "o/n");
  EXPECT_NE(a, b);
  EXPECT_NE(a.substr(1, SecretBox::kNonceSize), b.substr(1, SecretBox::kNonceSize));  // Fresh nonces.
  EXPECT_EQ(*box.Open(a, "o/n"), "same");
  EXPECT_EQ(*box.Open(b, "o/n"), "same");
}

TEST(SecretBoxTest, CopiesShareTheKeyAndConcurrentUseIsSafe) {
  SecretBox box(Key('k'));
  SecretBox copy = box;
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const std::string value = "v" + std::to_string(t * 1000 + i);
        auto opened = copy.Open(box.Seal(value, "o/n"), "o/n");
        if (!opened.ok() || *opened != value) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

TEST_F(SecretBoxFileTest, OpenKeyFileCreatesAPrivateKeyAndReopensTheSameKey) {
  const std::string path = dir_ + "/new/nested/secret.key";  // Parents do not exist yet.
  auto first = SecretBox::OpenKeyFile(path);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, static_cast<off_t>(SecretBox::kKeySize));
  const std::string key = ReadAll(path);
  EXPECT_NE(key, std::string(SecretBox::kKeySize, '\0'));
  // Nothing left behind but the key file.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_ + "/new/nested"),
                          std::filesystem::directory_iterator()),
            1);

  auto second = SecretBox::OpenKeyFile(path);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(ReadAll(path), key);  // Not replaced.
  auto opened = second->Open(first->Seal("hunter2", "o/n"), "o/n");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, "hunter2");
  // And the key is the file's bytes.
  EXPECT_EQ(*SecretBox(key).Open(second->Seal("x", "o/n"), "o/n"), "x");
}

TEST_F(SecretBoxFileTest, DifferentKeyFilesHaveDifferentKeys) {
  auto a = SecretBox::OpenKeyFile(dir_ + "/a.key");
  auto b = SecretBox::OpenKeyFile(dir_ + "/b.key");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(ReadAll(dir_ + "/a.key"), ReadAll(dir_ + "/b.key"));
  EXPECT_EQ(b->Open(a->Seal("x", "o/n"), "o/n").status().code(), StatusCode::kDataLoss);
}

TEST_F(SecretBoxFileTest, AWrongSizeKeyFileIsInvalidArgument) {
  for (size_t size : {size_t{0}, size_t{31}, size_t{33}, size_t{4096}}) {
    const std::string path = dir_ + "/bad-" + std::to_string(size) + ".key";
    std::ofstream(path, std::ios::binary) << std::string(size, 'k');
    auto box = SecretBox::OpenKeyFile(path);
    ASSERT_FALSE(box.ok()) << size;
    EXPECT_EQ(box.status().code(), StatusCode::kInvalidArgument) << size;
    EXPECT_NE(box.status().message().find(path), std::string::npos) << box.status().message();
    EXPECT_NE(box.status().message().find(std::to_string(size) + " bytes"), std::string::npos)
        << box.status().message();
    EXPECT_EQ(ReadAll(path), std::string(size, 'k'));  // Left alone.
  }
}

TEST_F(SecretBoxFileTest, AnExistingKeyFileIsUsedAsIs) {
  const std::string path = dir_ + "/given.key";
  std::ofstream(path, std::ios::binary) << Key('g');
  auto box = SecretBox::OpenKeyFile(path);
  ASSERT_TRUE(box.ok()) << box.status().ToString();
  EXPECT_EQ(*SecretBox(Key('g')).Open(box->Seal("x", "o/n"), "o/n"), "x");
}

TEST_F(SecretBoxFileTest, IoErrorsAreInternalAndNameThePath) {
  // A directory where the key file should be.
  const std::string as_dir = dir_ + "/is-a-dir.key";
  std::filesystem::create_directory(as_dir);
  auto box = SecretBox::OpenKeyFile(as_dir);
  ASSERT_FALSE(box.ok());
  EXPECT_EQ(box.status().code(), StatusCode::kInternal);
  EXPECT_NE(box.status().message().find(as_dir), std::string::npos) << box.status().message();

  // A parent that is a regular file.
  std::ofstream(dir_ + "/file") << "x";
  box = SecretBox::OpenKeyFile(dir_ + "/file/secret.key");
  ASSERT_FALSE(box.ok());
  EXPECT_EQ(box.status().code(), StatusCode::kInternal);
  EXPECT_NE(box.status().message().find(dir_ + "/file/secret.key"), std::string::npos) << box.status().message();

  if (geteuid() != 0) {  // root ignores directory permissions.
    std::filesystem::create_directory(dir_ + "/ro");
    std::filesystem::permissions(dir_ + "/ro", std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
    box = SecretBox::OpenKeyFile(dir_ + "/ro/secret.key");
    ASSERT_FALSE(box.ok());
    EXPECT_EQ(box.status().code(), StatusCode::kInternal);
    EXPECT_NE(box.status().message().find("Permission denied"), std::string::npos) << box.status().message();
  }
}

}  // namespace
}  // namespace ignite
