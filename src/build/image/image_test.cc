#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "build/image/image_config.h"
#include "build/image/image_ref.h"
#include "build/image/layer_check.h"
#include "common/ids.h"

namespace ignite::build::image {
namespace {

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// ---------------------------------------------------------------------------------------------------------
// ParseImageRef / IsLoopbackRegistry

ImageRef MustParse(std::string_view ref) {
  auto r = ParseImageRef(ref);
  EXPECT_TRUE(r.ok()) << ref << ": " << r.status().ToString();
  return r.ok() ? *r : ImageRef{};
}

TEST(ImageRef, DockerHubShortNames) {
  EXPECT_EQ(MustParse("busybox"), (ImageRef{"docker.io", "library/busybox", "latest", ""}));
  EXPECT_EQ(MustParse("busybox:1.36"), (ImageRef{"docker.io", "library/busybox", "1.36", ""}));
  EXPECT_EQ(MustParse("acme/app:1.0"), (ImageRef{"docker.io", "acme/app", "1.0", ""}));
  EXPECT_EQ(MustParse("docker.io/busybox"), (ImageRef{"docker.io", "library/busybox", "latest", ""}));
  EXPECT_EQ(MustParse("index.docker.io/acme/app"), (ImageRef{"docker.io", "acme/app", "latest", ""}));
  EXPECT_EQ(MustParse("busybox").ToString(), "docker.io/library/busybox:latest");
}

TEST(ImageRef, RegistryIsFirstComponentOnlyWhenItLooksLikeAHost) {
  EXPECT_EQ(MustParse("127.0.0.1:5000/acme/app:1.0"), (ImageRef{"127.0.0.1:5000", "acme/app", "1.0", ""}));
  EXPECT_EQ(MustParse("localhost/app"), (ImageRef{"localhost", "app", "latest", ""}));
  EXPECT_EQ(MustParse("localhost:5000/app"), (ImageRef{"localhost:5000", "app", "latest", ""}));
  EXPECT_EQ(MustParse("ghcr.io/acme/app"), (ImageRef{"ghcr.io", "acme/app", "latest", ""}));
  EXPECT_EQ(MustParse("[::1]:5000/app:v2"), (ImageRef{"[::1]:5000", "app", "v2", ""}));
  // No '/': the ':' is a tag, as docker reads it.
  EXPECT_EQ(MustParse("localhost:5000"), (ImageRef{"docker.io", "library/localhost", "5000", ""}));
  // A first component without '.', ':' or "localhost" is a Docker Hub namespace.
  EXPECT_EQ(MustParse("myhost/app"), (ImageRef{"docker.io", "myhost/app", "latest", ""}));
}

TEST(ImageRef, Digests) {
  const std::string hex(64, 'a');
  ImageRef r = MustParse("ghcr.io/acme/app@sha256:" + hex);
  EXPECT_EQ(r, (ImageRef{"ghcr.io", "acme/app", "", "sha256:" + hex}));
  EXPECT_EQ(r.ToString(), "ghcr.io/acme/app@sha256:" + hex);
  ImageRef both = MustParse("ghcr.io/acme/app:1.0@sha256:" + hex);
  EXPECT_EQ(both.tag, "1.0");
  EXPECT_EQ(both.ToString(), "ghcr.io/acme/app@sha256:" + hex);  // the tag is left out with a digest
  std::string pin = "sha256:" + std::string(64, 'b');
  EXPECT_EQ(MustParse("127.0.0.1:5000/acme/app:1.0").Pinned(pin), "127.0.0.1:5000/acme/app@" + pin);
  EXPECT_EQ(MustParse("127.0.0.1:5000/acme/app:1.0").ToString(), "127.0.0.1:5000/acme/app:1.0");
}

TEST(ImageRef, SeparatorsAndTags) {
  EXPECT_TRUE(ParseImageRef("a/b.c_d__e---f:_T.a-g").ok());
  EXPECT_TRUE(ParseImageRef("app:" + std::string(128, 'x')).ok());
  EXPECT_FALSE(ParseImageRef("app:" + std::string(129, 'x')).ok());
}

TEST(ImageRef, Rejects) {
  const std::string hex(64, 'a');
  const std::vector<std::string> bad_refs = {
      "", " busybox", "busy box", "busybox\n", "Busybox", "acme/App", "acme//app", "acme/app/", "/acme/app",
      "acme/-app", "acme/app-", "acme/a...b", "acme/a___b", "app:", "app:.x", "app:-x", "app:a+b", "app@",
      "app@sha256:abc", "app@sha512:" + hex, "app@sha256:" + std::string(64, 'A'),
      "app@sha256:" + hex + "@sha256:" + hex, "host:0/app", "host:65536/app", "host:/app", "host:abc/app",
      "ho_st.io/app", "-host.io/app", "[::1/app", "[zz]:5000/app", ":1.0", std::string(513, 'a')};
  for (const std::string& bad : bad_refs) {
    auto r = ParseImageRef(bad);
    EXPECT_FALSE(r.ok()) << "accepted \"" << bad << "\"";
    if (r.ok()) continue;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(Contains(r.status().message(), "a valid image reference looks like")) << r.status().message();
  }
  EXPECT_TRUE(ParseImageRef(std::string(512, 'a')).ok());
}

TEST(ImageRef, SchemeIsRejectedWithAHint) {
  for (std::string_view ref : {"docker://busybox", "https://ghcr.io/acme/app:1.0"}) {
    auto r = ParseImageRef(ref);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(Contains(r.status().message(), "drop the scheme")) << r.status().message();
  }
  EXPECT_TRUE(Contains(ParseImageRef("docker://busybox").status().message(), "\"busybox\""));
}

TEST(ImageRef, UpperCaseMessageSaysLowerCase) {
  auto r = ParseImageRef("ghcr.io/Acme/app");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.status().message(), "lower case")) << r.status().message();
  EXPECT_TRUE(ParseImageRef("GHCR.io/acme/app").ok());  // host names are case-insensitive
}

TEST(ImageRef, Loopback) {
  for (std::string_view r : {"localhost", "localhost:5000", "127.0.0.1", "127.0.0.1:5000", "127.1.2.3",
                             "127.255.255.255:443", "[::1]", "[::1]:5000"}) {
    EXPECT_TRUE(IsLoopbackRegistry(r)) << r;
  }
  for (std::string_view r : {"", "docker.io", "ghcr.io", "10.0.0.1:5000", "128.0.0.1", "127.0.0.1.nip.io",
                             "localhost.example.com", "127.0.0.256", "127.1", "::1", "[::2]", "[::1]x",
                             "localhost:", "localhost:99999", "127.0.0.1:abc", "[::1"}) {
    EXPECT_FALSE(IsLoopbackRegistry(r)) << r;
  }
}

// ---------------------------------------------------------------------------------------------------------
// ParseImageConfig

std::string ConfigWithUser(std::string_view user) {
  return "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"User\":\"" + std::string(user) +
         "\",\"Cmd\":[\"/app\"]}}";
}

TEST(ImageConfig, FullConfig) {
  auto c = ParseImageConfig(R"({
    "architecture": "amd64", "os": "linux",
    "config": {
      "User": "1000:2000",
      "Env": ["PATH=/usr/bin", "EMPTY", "A=b=c"],
      "Entrypoint": ["/bin/server", "--flag"],
      "Cmd": ["serve"],
      "WorkingDir": "/srv",
      "ExposedPorts": {"9090/tcp": {}, "8080/tcp": {}, "53/udp": {}, "7070": {}, "8080": {}}
    },
    "rootfs": {"type": "layers", "diff_ids": []}
  })");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->uid, 1000u);
  EXPECT_EQ(c->gid, 2000u);
  EXPECT_EQ(c->env, (std::vector<std::string>{"PATH=/usr/bin", "EMPTY=", "A=b=c"}));
  EXPECT_EQ(c->Argv(), (std::vector<std::string>{"/bin/server", "--flag", "serve"}));
  EXPECT_EQ(c->working_dir, "/srv");
  EXPECT_EQ(c->exposed_ports, (std::vector<uint16_t>{7070, 8080, 9090}));
  EXPECT_EQ(c->architecture, "amd64");
  EXPECT_EQ(c->os, "linux");
}

TEST(ImageConfig, Defaults) {
  auto c = ParseImageConfig(R"({"config": {"User": "65534", "Entrypoint": ["/app"], "Env": null}})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->uid, 65534u);
  EXPECT_EQ(c->gid, 65534u);  // the uid when no group is named
  EXPECT_EQ(c->working_dir, "/");
  EXPECT_TRUE(c->env.empty());
  EXPECT_TRUE(c->exposed_ports.empty());
  EXPECT_EQ(c->Argv(), (std::vector<std::string>{"/app"}));
  EXPECT_EQ(c->architecture, "");
}

TEST(ImageConfig, NumericUsers) {
  for (auto [user, uid, gid] : std::vector<std::tuple<std::string, uint32_t, uint32_t>>{
           {"1000", 1000, 1000}, {"1000:1000", 1000, 1000}, {"1:0", 1, 0}, {"4294967294", 4294967294u, 4294967294u}}) {
    auto c = ParseImageConfig(ConfigWithUser(user));
    ASSERT_TRUE(c.ok()) << user << ": " << c.status().ToString();
    EXPECT_EQ(c->uid, uid) << user;
    EXPECT_EQ(c->gid, gid) << user;
  }
}

TEST(ImageConfig, RootAndNamedUsersAreRejected) {
  struct Case {
    std::string user;
    std::string_view message;
  };
  const std::string_view kRoot = "the image runs as root (USER";
  const std::string_view kNamed = "the platform cannot verify it is non-root";
  const std::string_view kNone = "the image sets no USER, so it would run as root";
  const std::string_view kInvalid = "is not a valid uid[:gid]";
  for (const auto& c : std::vector<Case>{{"0", kRoot},
                                         {"0:0", kRoot},
                                         {"0:1000", kRoot},
                                         {"00", kRoot},
                                         {"root", kNamed},
                                         {"app", kNamed},
                                         {"1000:staff", kNamed},
                                         {"app:1000", kNamed},
                                         {"-1", kNamed},
                                         {"", kNone},
                                         {"4294967295", kInvalid},
                                         {"99999999999", kInvalid},
                                         {"1000:", kInvalid},
                                         {":1000", kInvalid}}) {
    auto r = ParseImageConfig(ConfigWithUser(c.user));
    ASSERT_FALSE(r.ok()) << "accepted USER \"" << c.user << "\"";
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(Contains(r.status().message(), c.message)) << c.user << ": " << r.status().message();
  }
  EXPECT_EQ(ParseImageConfig(ConfigWithUser("app")).status().message(),
            "the image runs as a named user (\"app\"); the platform cannot verify it is non-root: use a numeric "
            "USER such as `USER 65534` or `USER 1000:1000`");
  EXPECT_EQ(ParseImageConfig(ConfigWithUser("0")).status().message(),
            "the image runs as root (USER 0); use a numeric non-root USER such as `USER 65534`");
  auto missing = ParseImageConfig(R"({"config": {"Cmd": ["/app"]}})");
  EXPECT_EQ(missing.status().message(),
            "the image sets no USER, so it would run as root; add a numeric non-root USER such as `USER 65534`");
}

TEST(ImageConfig, RejectsBadDocuments) {
  struct Case {
    std::string json;
    std::string_view message;
  };
  for (const auto& c : std::vector<Case>{
           {"", "not a JSON object"},
           {"{", "not a JSON object"},
           {"[]", "not a JSON object"},
           {"\"x\"", "not a JSON object"},
           {R"({"config": null})", "neither ENTRYPOINT nor CMD"},
           {"{}", "neither ENTRYPOINT nor CMD"},
           {R"({"config": {"User": "1000", "Cmd": []}})", "neither ENTRYPOINT nor CMD"},
           {R"({"os": "windows", "config": {"User": "1000", "Cmd": ["/a"]}})", "linux/amd64"},
           {R"({"architecture": "arm64", "config": {"User": "1000", "Cmd": ["/a"]}})", "linux/amd64"},
           {R"({"architecture": 5, "config": {"User": "1000", "Cmd": ["/a"]}})", "architecture is not a string"},
           {R"({"config": []})", "is not an object"},
           {R"({"config": {"User": "1000", "Cmd": "/a"}})", "config.Cmd is not an array of strings"},
           {R"({"config": {"User": "1000", "Cmd": ["/a", 1]}})", "config.Cmd is not an array of strings"},
           {R"({"config": {"User": 1000, "Cmd": ["/a"]}})", "config.User is not a string"},
           {R"({"config": {"User": "1000", "Cmd": ["/a"], "Env": "A=b"}})", "config.Env is not an array"},
           {R"({"config": {"User": "1000", "Cmd": ["/a"], "ExposedPorts": {"http/tcp": {}}}})", "EXPOSE"},
           {R"({"config": {"User": "1000", "Cmd": ["/a"], "ExposedPorts": {"0/tcp": {}}}})", "EXPOSE"},
           {R"({"config": {"User": "1000", "Cmd": ["/a"], "ExposedPorts": {"65536/tcp": {}}}})", "EXPOSE"},
           {R"({"config": {"User": "1000", "Cmd": ["/a"], "ExposedPorts": ["8080/tcp"]}})", "ExposedPorts"},
       }) {
    auto r = ParseImageConfig(c.json);
    ASSERT_FALSE(r.ok()) << "accepted " << c.json;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(Contains(r.status().message(), c.message)) << c.json << ": " << r.status().message();
  }
}

// ---------------------------------------------------------------------------------------------------------
// CheckLayer

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return std::move(ss).str();
}

// A file path under the test temp dir, removed when the object goes away.
class TempPath {
 public:
  TempPath() {
    path_ = ::testing::TempDir() + "image_test_XXXXXX";
    int fd = mkstemp(path_.data());
    if (fd < 0) std::abort();
    close(fd);
  }
  ~TempPath() { unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct Entry {
  std::string path;
  mode_t type = AE_IFREG;
  std::string data;      // regular files
  std::string link;      // symlink target (AE_IFLNK) or hard link target (hardlink = true)
  bool hardlink = false;
  dev_t rdev = 0;        // device nodes
};

Entry File(std::string path, std::string data = "") {
  Entry e;
  e.path = std::move(path);
  e.data = std::move(data);
  return e;
}
Entry Dir(std::string path) {
  Entry e;
  e.path = std::move(path);
  e.type = AE_IFDIR;
  return e;
}
Entry Symlink(std::string path, std::string target) {
  Entry e;
  e.path = std::move(path);
  e.type = AE_IFLNK;
  e.link = std::move(target);
  return e;
}
Entry Hardlink(std::string path, std::string target) {
  Entry e;
  e.path = std::move(path);
  e.link = std::move(target);
  e.hardlink = true;
  return e;
}
Entry Device(std::string path, mode_t type, dev_t rdev) {
  Entry e;
  e.path = std::move(path);
  e.type = type;
  e.rdev = rdev;
  return e;
}

enum class Compression { kNone, kGzip, kZstd };

// Writes `entries` as a pax tar to `path`.
void WriteLayer(const std::string& path, const std::vector<Entry>& entries,
                Compression compression = Compression::kGzip) {
  struct archive* a = archive_write_new();
  if (compression == Compression::kGzip) {
    ASSERT_EQ(archive_write_add_filter_gzip(a), ARCHIVE_OK);
  } else if (compression == Compression::kZstd) {
    ASSERT_EQ(archive_write_add_filter_zstd(a), ARCHIVE_OK);
  }
  ASSERT_EQ(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
  ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK) << archive_error_string(a);
  for (const auto& in : entries) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, in.path.c_str());
    archive_entry_set_filetype(e, in.type);
    archive_entry_set_perm(e, in.type == AE_IFDIR ? 0755 : 0644);
    archive_entry_set_mtime(e, 1700000000, 0);  // fixed, so the gzip and plain streams match
    if (in.hardlink) archive_entry_set_hardlink(e, in.link.c_str());
    if (in.type == AE_IFLNK) archive_entry_set_symlink(e, in.link.c_str());
    if (in.type == AE_IFCHR || in.type == AE_IFBLK) archive_entry_set_rdev(e, in.rdev);
    archive_entry_set_size(e, static_cast<la_int64_t>(in.data.size()));
    ASSERT_EQ(archive_write_header(a, e), ARCHIVE_OK) << archive_error_string(a);
    if (!in.data.empty()) {
      ASSERT_EQ(archive_write_data(a, in.data.data(), in.data.size()), static_cast<la_ssize_t>(in.data.size()));
    }
    archive_entry_free(e);
  }
  ASSERT_EQ(archive_write_close(a), ARCHIVE_OK) << archive_error_string(a);
  archive_write_free(a);
}

const std::string kDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

std::vector<Entry> NormalEntries() {
  return {
      Dir("./"),
      Dir("./etc/"),
      File("./etc/hostname", "box\n"),
      File("app/server", std::string(5000, 'x')),
      File("app/.wh.old"),
      File("app/.wh..wh..opq"),
      Symlink("app/link", "../../../../etc/passwd"),
      Symlink("app/abs-link", "/etc/passwd"),
      Hardlink("app/hard", "app/server"),
      Hardlink("app/hard2", "./app/server"),
      Device("dev/null", AE_IFCHR, makedev(1, 3)),
      Device("dev/loop0", AE_IFBLK, makedev(7, 0)),
      Device("run/fifo", AE_IFIFO, 0),
      File("dir../file..x", "ok"),  // ".." inside a name is not a ".." component
  };
}

Status Check(const std::vector<Entry>& entries, const LayerLimits& limits = {}, const LayerSummary& used = {}) {
  TempPath file;
  WriteLayer(file.path(), entries);
  return CheckLayer(file.path(), kDigest, limits, used).status();
}

TEST(LayerCheck, NormalLayer) {
  TempPath gz, plain;
  WriteLayer(gz.path(), NormalEntries(), Compression::kGzip);
  WriteLayer(plain.path(), NormalEntries(), Compression::kNone);
  auto s = CheckLayer(gz.path(), kDigest, {}, {});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->entries, NormalEntries().size());
  EXPECT_EQ(s->bytes, 4u + 5000u + 2u);
  EXPECT_EQ(s->sha256, Sha256Hex(ReadAll(gz.path())));
  EXPECT_EQ(s->diff_id, Sha256Hex(ReadAll(plain.path())));
  EXPECT_NE(s->sha256, s->diff_id);

  // An uncompressed layer: blob and diff_id are the same bytes.
  auto p = CheckLayer(plain.path(), kDigest, {}, {});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->sha256, Sha256Hex(ReadAll(plain.path())));
  EXPECT_EQ(p->diff_id, p->sha256);
  EXPECT_EQ(p->entries, s->entries);
  EXPECT_EQ(p->bytes, s->bytes);

  // tar+zstd, the other compressed OCI layer type.
  TempPath zst;
  WriteLayer(zst.path(), NormalEntries(), Compression::kZstd);
  auto z = CheckLayer(zst.path(), kDigest, {}, {});
  ASSERT_TRUE(z.ok()) << z.status().ToString();
  EXPECT_EQ(z->sha256, Sha256Hex(ReadAll(zst.path())));
  EXPECT_EQ(z->diff_id, s->diff_id);
  EXPECT_EQ(z->bytes, s->bytes);
}

TEST(LayerCheck, LargeLayerHashesMatch) {
  // Several read chunks' worth, so the hashing across callbacks and the final drain are exercised.
  std::string big;
  for (uint64_t i = 0; i < 300000; ++i) big += static_cast<char>('a' + (i * 7919) % 26);
  std::vector<Entry> entries = {File("a", big), File("b", big + big)};
  TempPath gz, plain;
  WriteLayer(gz.path(), entries, Compression::kGzip);
  WriteLayer(plain.path(), entries, Compression::kNone);
  auto s = CheckLayer(gz.path(), kDigest, {}, {});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->bytes, 3 * big.size());
  EXPECT_EQ(s->sha256, Sha256Hex(ReadAll(gz.path())));
  EXPECT_EQ(s->diff_id, Sha256Hex(ReadAll(plain.path())));
}

TEST(LayerCheck, EmptyTarIsAccepted) {
  TempPath gz;
  WriteLayer(gz.path(), {});
  auto s = CheckLayer(gz.path(), kDigest, {}, {});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->entries, 0u);
  EXPECT_EQ(s->bytes, 0u);
  // Two zero blocks: Docker's well-known empty layer diff_id.
  EXPECT_EQ(s->diff_id, "5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef");

  // A zero-byte blob has no tar in it: libarchive's empty format reads it as no entries.
  TempPath empty;
  auto e = CheckLayer(empty.path(), kDigest, {}, {});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->entries, 0u);
  EXPECT_EQ(e->sha256, Sha256Hex(""));
  EXPECT_EQ(e->diff_id, Sha256Hex(""));
}

void ExpectRejected(const Status& st, std::vector<std::string_view> parts) {
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  EXPECT_TRUE(Contains(st.message(), "sha256:0123456789ab")) << st.message();
  EXPECT_FALSE(Contains(st.message(), "sha256:0123456789abc")) << st.message();  // 12 hex digits shown
  for (auto part : parts) EXPECT_TRUE(Contains(st.message(), part)) << st.message();
}

TEST(LayerCheck, EscapingPathsAreRejected) {
  ExpectRejected(Check({File("../escape", "x")}), {"\"../escape\"", "\"..\" component"});
  ExpectRejected(Check({File("a/../../escape", "x")}), {"\"..\" component"});
  ExpectRejected(Check({Dir("./a/..")}), {"\"..\" component"});
  ExpectRejected(Check({File("/abs", "x")}), {"\"/abs\"", "absolute path"});
  ExpectRejected(Check({File("ok", "x"), File("/etc/passwd", "root")}), {"\"/etc/passwd\""});
}

TEST(LayerCheck, EscapingHardLinksAreRejected) {
  ExpectRejected(Check({Hardlink("link", "../x")}), {"hard link \"link\"", "\"../x\"", "\"..\""});
  ExpectRejected(Check({Hardlink("link", "/etc/shadow")}), {"\"/etc/shadow\"", "absolute path"});
}

TEST(LayerCheck, FileOverTheLimit) {
  LayerLimits limits;
  limits.max_file_bytes = 1000;
  EXPECT_TRUE(Check({File("small", std::string(1000, 'x'))}, limits).ok());
  ExpectRejected(Check({File("small", "x"), File("big", std::string(2000, 'x'))}, limits),
                 {"\"big\"", "1000 bytes per file"});
}

TEST(LayerCheck, ImageBudgetAcrossLayers) {
  LayerLimits limits;
  limits.max_image_bytes = 3000;
  limits.max_entries = 5;
  TempPath first, second;
  WriteLayer(first.path(), {File("a", std::string(2000, 'x')), Dir("d/")});
  WriteLayer(second.path(), {File("b", std::string(1500, 'y'))});
  auto one = CheckLayer(first.path(), kDigest, limits, {});
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(one->entries, 2u);
  EXPECT_EQ(one->bytes, 2000u);
  // Alone the second layer fits; after the first it does not.
  EXPECT_TRUE(CheckLayer(second.path(), kDigest, limits, {}).ok());
  ExpectRejected(CheckLayer(second.path(), kDigest, limits, *one).status(), {"all layers together", "\"b\""});

  // Entries: 2 used + 4 here > 5.
  TempPath many;
  WriteLayer(many.path(), {Dir("1"), Dir("2"), Dir("3")});
  EXPECT_TRUE(CheckLayer(many.path(), kDigest, limits, *one).ok());
  WriteLayer(many.path(), {Dir("1"), Dir("2"), Dir("3"), Dir("4")});
  ExpectRejected(CheckLayer(many.path(), kDigest, limits, *one).status(), {"more than 5 entries", "\"4/\""});
}

TEST(LayerCheck, CorruptDataIsRejected) {
  TempPath gz;
  WriteLayer(gz.path(), {File("a", RandomHex(50000)), File("b", "tail")});
  std::string data = ReadAll(gz.path());
  TempPath cut;
  std::ofstream(cut.path(), std::ios::binary) << data.substr(0, data.size() / 2);
  ExpectRejected(CheckLayer(cut.path(), kDigest, {}, {}).status(), {"corrupt or truncated", "push the image"});

  // Only the gzip trailer missing: the tar reader may finish, the full-stream pass must not.
  TempPath trailer;
  std::ofstream(trailer.path(), std::ios::binary) << data.substr(0, data.size() - 4);
  ExpectRejected(CheckLayer(trailer.path(), kDigest, {}, {}).status(), {"corrupt or truncated"});

  TempPath junk;
  std::ofstream(junk.path(), std::ios::binary) << "this is not a tar archive at all, just text; " << RandomHex(600);
  ExpectRejected(CheckLayer(junk.path(), kDigest, {}, {}).status(), {"not a tar archive"});

  // bzip2 is not an OCI layer compression.
  TempPath bz;
  struct archive* w = archive_write_new();
  ASSERT_EQ(archive_write_add_filter_bzip2(w), ARCHIVE_OK);
  ASSERT_EQ(archive_write_set_format_pax_restricted(w), ARCHIVE_OK);
  ASSERT_EQ(archive_write_open_filename(w, bz.path().c_str()), ARCHIVE_OK);
  ASSERT_EQ(archive_write_close(w), ARCHIVE_OK);
  archive_write_free(w);
  ExpectRejected(CheckLayer(bz.path(), kDigest, {}, {}).status(), {"not a tar archive (uncompressed, gzip or zstd)"});
}

// `data` gzip-compressed as is (libarchive's raw writer), at `path`.
void WriteGzip(const std::string& path, const std::string& data) {
  struct archive* w = archive_write_new();
  ASSERT_EQ(archive_write_add_filter_gzip(w), ARCHIVE_OK);
  ASSERT_EQ(archive_write_set_format_raw(w), ARCHIVE_OK);
  ASSERT_EQ(archive_write_open_filename(w, path.c_str()), ARCHIVE_OK);
  struct archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, "data");
  archive_entry_set_filetype(e, AE_IFREG);
  ASSERT_EQ(archive_write_header(w, e), ARCHIVE_OK) << archive_error_string(w);
  ASSERT_EQ(archive_write_data(w, data.data(), data.size()), static_cast<la_ssize_t>(data.size()));
  archive_entry_free(e);
  ASSERT_EQ(archive_write_close(w), ARCHIVE_OK);
  archive_write_free(w);
}

TEST(LayerCheck, DataAfterTheTarEnd) {
  TempPath plain;
  WriteLayer(plain.path(), {File("a", "hello")}, Compression::kNone);
  std::string tar = ReadAll(plain.path());

  // A little: part of the stream, so part of the diff_id.
  TempPath some;
  WriteGzip(some.path(), tar + std::string(4096, '\0'));
  auto s = CheckLayer(some.path(), kDigest, {}, {});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->entries, 1u);
  EXPECT_EQ(s->diff_id, Sha256Hex(tar + std::string(4096, '\0')));
  EXPECT_EQ(s->sha256, Sha256Hex(ReadAll(some.path())));

  // A lot (a decompression bomb hidden after the end-of-archive blocks): rejected.
  TempPath bomb;
  WriteGzip(bomb.path(), tar + std::string(4 << 20, '\0'));
  ExpectRejected(CheckLayer(bomb.path(), kDigest, {}, {}).status(), {"data after the end of the tar archive"});
}

TEST(LayerCheck, UnreadableFileIsInternal) {
  auto r = CheckLayer("/nonexistent/layer.tar.gz", kDigest, {}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_TRUE(Contains(r.status().message(), "/nonexistent/layer.tar.gz")) << r.status().message();
}

}  // namespace
}  // namespace ignite::build::image
