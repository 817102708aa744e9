#include "common/ids.h"

#include <gtest/gtest.h>

#include <set>

namespace ignite {
namespace {

TEST(UlidTest, IsSortableAndUnique) {
  std::string a = NewUlid(1'000);
  std::string b = NewUlid(2'000);
  EXPECT_EQ(a.size(), 26u);
  EXPECT_LT(a, b);
  // Known timestamp encoding: the first 10 chars encode the 48-bit time.
  EXPECT_EQ(NewUlid(0).substr(0, 10), "0000000000");
  EXPECT_EQ(NewUlid(1).substr(0, 10), "0000000001");
  EXPECT_EQ(NewUlid(32).substr(0, 10), "0000000010");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(NewUlid(5));
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(HashTest, Sha256MatchesKnownVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(RandomHex(16).size(), 32u);
  EXPECT_NE(RandomHex(16), RandomHex(16));
}

}  // namespace
}  // namespace ignite
