#include "archive/entry_tree.h"

#include <gtest/gtest.h>

namespace ignite::archive {
namespace {

TEST(EntryTree, AcceptsOrdinaryTree) {
  EntryTree t;
  EXPECT_TRUE(t.Add("main.go", EntryKind::kFile).ok());
  EXPECT_TRUE(t.Add("pkg/util.go", EntryKind::kFile).ok());
  EXPECT_TRUE(t.Add("pkg", EntryKind::kDir).ok());  // explicit dir after an implicit one
  EXPECT_TRUE(t.Add("link", EntryKind::kSymlink, "pkg/util.go").ok());
  EXPECT_TRUE(t.Add("pkg/up", EntryKind::kSymlink, "../main.go").ok());
  EXPECT_TRUE(t.Add("hard", EntryKind::kHardlink, "main.go").ok());
  EXPECT_TRUE(t.CheckLinks().ok());
}

TEST(EntryTree, RejectsDuplicatesAndConflicts) {
  EntryTree t;
  ASSERT_TRUE(t.Add("a", EntryKind::kFile).ok());
  EXPECT_FALSE(t.Add("a", EntryKind::kFile).ok());
  EXPECT_FALSE(t.Add("a/b", EntryKind::kFile).ok());  // beneath a file
  EntryTree t2;
  ASSERT_TRUE(t2.Add("d/x", EntryKind::kFile).ok());
  EXPECT_FALSE(t2.Add("d", EntryKind::kFile).ok());  // d must be a directory
}

TEST(EntryTree, RejectsEntriesBeneathSymlinks) {
  EntryTree t;
  ASSERT_TRUE(t.Add("l", EntryKind::kSymlink, "sub").ok());
  auto st = t.Add("l/x", EntryKind::kFile);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("symlink"), std::string::npos);
  EntryTree t2;  // other order
  ASSERT_TRUE(t2.Add("l/x", EntryKind::kFile).ok());
  EXPECT_FALSE(t2.Add("l", EntryKind::kSymlink, "sub").ok());
}

TEST(EntryTree, RejectsEscapingSymlinks) {
  for (const char* target : {"..", "../x", "../../x", "a/../../x", "./../x"}) {
    EntryTree t;
    ASSERT_TRUE(t.Add("l", EntryKind::kSymlink, target).ok());
    EXPECT_FALSE(t.CheckLinks().ok()) << target;
  }
  EntryTree t;
  EXPECT_FALSE(t.Add("l", EntryKind::kSymlink, "/etc/passwd").ok());
  EntryTree inside;
  ASSERT_TRUE(inside.Add("d/l", EntryKind::kSymlink, "../x").ok());
  EXPECT_TRUE(inside.CheckLinks().ok());
}

TEST(EntryTree, FollowsOtherSymlinksLikeTheKernel) {
  // s -> sub, sub -> . ; t -> s/.. : lexically "." but physically the parent of the root.
  EntryTree t;
  ASSERT_TRUE(t.Add("sub", EntryKind::kSymlink, ".").ok());
  ASSERT_TRUE(t.Add("s", EntryKind::kSymlink, "sub").ok());
  ASSERT_TRUE(t.Add("t", EntryKind::kSymlink, "s/..").ok());
  EXPECT_FALSE(t.CheckLinks().ok());

  EntryTree deep;  // d/l -> .. is the root; x -> d/l/.. escapes
  ASSERT_TRUE(deep.Add("d/l", EntryKind::kSymlink, "..").ok());
  ASSERT_TRUE(deep.Add("x", EntryKind::kSymlink, "d/l/..").ok());
  EXPECT_FALSE(deep.CheckLinks().ok());
}

TEST(EntryTree, DetectsLoops) {
  EntryTree t;
  ASSERT_TRUE(t.Add("a", EntryKind::kSymlink, "b").ok());
  ASSERT_TRUE(t.Add("b", EntryKind::kSymlink, "a").ok());
  auto st = t.CheckLinks();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("loop"), std::string::npos);
}

TEST(EntryTree, HardlinkMustTargetEarlierFile) {
  EntryTree t;
  EXPECT_FALSE(t.Add("h", EntryKind::kHardlink, "later").ok());
  ASSERT_TRUE(t.Add("dir", EntryKind::kDir).ok());
  EXPECT_FALSE(t.Add("h2", EntryKind::kHardlink, "dir").ok());
}

}  // namespace
}  // namespace ignite::archive
