#include "build/builder.h"

#include <gtest/gtest.h>

namespace ignite::build {
namespace {

class NamedBuilder : public Builder {
 public:
  explicit NamedBuilder(std::string name) : name_(std::move(name)) {}
  Status Check(const Source&, const CheckContext&) const override { return InvalidArgument(name_); }
  Result<BuildOutput> Build(const Source&, const BuildContext&) const override { return InvalidArgument(name_); }
  Result<ArtifactLayout> Layout(const std::string&) const override { return InvalidArgument(name_); }

 private:
  std::string name_;
};

std::string NameOf(const Builder* b) { return b ? b->Check({}, {}).message() : "none"; }

TEST(BuilderRegistryTest, FindsByKeyAndTheFirstRegisteredIsTheDefault) {
  BuilderRegistry r;
  EXPECT_EQ(r.Find(""), nullptr);
  EXPECT_EQ(r.default_key(), "");
  r.Register("zeta", std::make_unique<NamedBuilder>("zeta"));
  r.Register("alpha", std::make_unique<NamedBuilder>("alpha"));
  EXPECT_EQ(NameOf(r.Find("alpha")), "alpha");
  EXPECT_EQ(NameOf(r.Find("zeta")), "zeta");
  EXPECT_EQ(NameOf(r.Find("")), "zeta");
  EXPECT_EQ(r.default_key(), "zeta");
  EXPECT_EQ(r.Find("cobol"), nullptr);
  EXPECT_EQ(r.keys(), (std::vector<std::string>{"alpha", "zeta"}));
}

}  // namespace
}  // namespace ignite::build
