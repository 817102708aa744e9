#include "archive/paths.h"

#include <gtest/gtest.h>

namespace ignite::archive {
namespace {

TEST(Utf8, AcceptsWellFormed) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("main.go"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9"));
  EXPECT_TRUE(IsValidUtf8("\xe2\x82\xac"));
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x94\xa5"));
}

TEST(Utf8, RejectsMalformed) {
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("a\x80"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // truncated
}

TEST(FormatBytes, UsesExactUnits) {
  EXPECT_EQ(FormatBytes(256ull << 20), "256 MiB");
  EXPECT_EQ(FormatBytes(4096), "4 KiB");
  EXPECT_EQ(FormatBytes(1000), "1000 bytes");
  EXPECT_EQ(FormatBytes(0), "0 bytes");
}

TEST(NormalizeEntryPath, Normalizes) {
  EXPECT_EQ(*NormalizeEntryPath("./main.go"), "main.go");
  EXPECT_EQ(*NormalizeEntryPath("a//b/./c/"), "a/b/c");
  EXPECT_EQ(*NormalizeEntryPath("./"), "");
  EXPECT_EQ(*NormalizeEntryPath("."), "");
  EXPECT_EQ(*NormalizeEntryPath("dir/"), "dir");
}

TEST(NormalizeEntryPath, RejectsDangerousNames) {
  for (const char* bad : {"../evil", "a/../../evil", "a/..", "/etc/passwd", "a\\..\\b", "bad\nname", ""}) {
    auto r = NormalizeEntryPath(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  auto r = NormalizeEntryPath("bad\xff.go");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("bad\\xff.go"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("UTF-8"), std::string::npos);
  EXPECT_NE(NormalizeEntryPath("/etc/x").status().message().find("absolute"), std::string::npos);
}

TEST(SplitPath, DropsEmpty) {
  EXPECT_EQ(SplitPath("a//b/"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(SplitPath("").empty());
}

}  // namespace
}  // namespace ignite::archive
