#include "build/elf_check.h"

#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace ignite::build {
namespace {

// A file holding `content`, removed when the object goes away.
class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    path_ = ::testing::TempDir() + "elf_check_test_XXXXXX";
    int fd = mkstemp(path_.data());
    if (fd < 0) std::abort();
    close(fd);
    std::ofstream(path_, std::ios::binary) << content;
  }
  ~TempFile() { unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(ElfCheck, DynamicBinaryIsRejected) {
  auto facts = ReadElfFacts("/bin/true");
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  EXPECT_TRUE(facts->elf64);
  EXPECT_TRUE(facts->has_interp);
  EXPECT_TRUE(facts->has_dynamic);
  Status st = CheckStaticElf("/bin/true");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("PT_INTERP"), std::string::npos) << st.message();
}

TEST(ElfCheck, UnstrippedStaticBinaryIsRejected) {
  // ignite-gocheck is built with CGO_ENABLED=0 but without -s: static, with a symbol table.
  auto facts = ReadElfFacts(IGNITE_GOCHECK_PATH);
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  EXPECT_TRUE(facts->executable);
  EXPECT_FALSE(facts->has_interp);
  EXPECT_FALSE(facts->has_dynamic);
  EXPECT_TRUE(facts->has_symtab);
  EXPECT_NE(CheckStaticElf(IGNITE_GOCHECK_PATH).message().find(".symtab"), std::string::npos);
}

TEST(ElfCheck, NonElfAndTruncatedFiles) {
  EXPECT_EQ(ReadElfFacts("/nonexistent/binary").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ReadElfFacts(TempFile("#!/bin/sh\necho hi\n").path()).status().code(), StatusCode::kInvalidArgument);
  std::ifstream in("/bin/true", std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string head = ss.str().substr(0, 80);  // ELF header, program headers cut off
  auto st = ReadElfFacts(TempFile(head).path()).status();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("truncated"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace ignite::build
