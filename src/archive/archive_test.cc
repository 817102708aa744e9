#include "archive/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <cstring>
#include <random>

#include <gtest/gtest.h>

#include "archive/memory_writer.h"

namespace ignite::archive {
namespace {

namespace fs = std::filesystem;
using Kind = MemoryWriter::Kind;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "archive_test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

std::string Make(Kind kind, const std::vector<RawEntry>& entries) {
  auto w = MemoryWriter::Create(kind);
  EXPECT_TRUE(w.ok());
  for (const auto& e : entries) {
    Status st = (*w)->Add(e);
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  auto out = (*w)->Finish();
  EXPECT_TRUE(out.ok());
  return *out;
}

RawEntry File(std::string path, std::string content, mode_t perm = 0644) {
  RawEntry e;
  e.path = std::move(path);
  e.content = std::move(content);
  e.perm = perm;
  return e;
}
RawEntry Dir(std::string path) {
  RawEntry e;
  e.path = std::move(path);
  e.type = AE_IFDIR;
  e.perm = 0755;
  return e;
}
RawEntry Symlink(std::string path, std::string target) {
  RawEntry e;
  e.path = std::move(path);
  e.type = AE_IFLNK;
  e.perm = 0777;
  e.symlink = std::move(target);
  return e;
}
RawEntry Hardlink(std::string path, std::string target) {
  RawEntry e;
  e.path = std::move(path);
  e.hardlink = std::move(target);
  return e;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

const char* kMain = "package main\n\nimport \"ignite\"\n\nfunc main() { ignite.Start(nil) }\n";

std::vector<RawEntry> NormalTree() {
  return {Dir("app/"), File("main.go", kMain), File("go.mod", "module hello\n"), Dir("pkg/"),
          File("pkg/util.go", "package pkg\n"), File("run.sh", "#!/bin/sh\n", 0755),
          Symlink("pkg/link.go", "util.go"), Symlink("up", "pkg/../main.go"), File("late/x.go", "package late\n"),
          Dir("late/")};
}

void ExpectInvalid(const Status& st, const std::string& needle) {
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  EXPECT_NE(st.message().find(needle), std::string::npos) << "message: " << st.message() << "\nneedle: " << needle;
}

// Rejected by Inspect, ReadFiles and ExtractTo alike, and ExtractTo writes nothing.
void ExpectRejected(const std::string& data, const std::string& name, const std::string& needle,
                    const Limits& limits = {}) {
  SCOPED_TRACE(name + " / " + needle);
  ExpectInvalid(Inspect(data, name, "main.go", limits).status(), needle);
  ExpectInvalid(ReadFiles(data, name, "main.go", {"main.go"}, limits).status(), needle);
  TempDir parent;
  fs::create_directory(parent / "dest");
  ExpectInvalid(ExtractTo(data, name, "main.go", parent / "dest", limits), needle);
  EXPECT_TRUE(fs::is_empty(parent / "dest"));
  EXPECT_EQ(std::distance(fs::directory_iterator(parent.path()), fs::directory_iterator()), 1);
}

class BothFormats : public ::testing::TestWithParam<Kind> {
 protected:
  std::string Name() const { return GetParam() == Kind::kZip ? "code.zip" : "code.tar.gz"; }
  std::string Build(const std::vector<RawEntry>& entries) const { return Make(GetParam(), entries); }
};

TEST_P(BothFormats, RoundTrip) {
  std::string data = Build(NormalTree());
  auto format = DetectFormat(data, Name());
  ASSERT_TRUE(format.ok()) << format.status().ToString();
  EXPECT_EQ(*format, GetParam() == Kind::kZip ? Format::kZip : Format::kTarGz);

  auto files = Inspect(data, Name(), "main.go", {});
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  std::vector<std::string> paths;
  for (const auto& f : *files) paths.push_back(f.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"go.mod", "late/x.go", "main.go", "pkg/util.go", "run.sh"}));
  EXPECT_EQ((*files)[2].size, std::string(kMain).size());

  auto contents = ReadFiles(data, Name(), "main.go", {"go.mod", "main.go", "missing.txt"}, {});
  ASSERT_TRUE(contents.ok()) << contents.status().ToString();
  EXPECT_EQ(contents->size(), 2u);
  EXPECT_EQ(contents->at("go.mod"), "module hello\n");
  EXPECT_EQ(contents->at("main.go"), kMain);

  TempDir dest;
  Status st = ExtractTo(data, Name(), "main.go", dest.path(), {});
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(ReadAll(dest / "main.go"), kMain);
  EXPECT_EQ(ReadAll(dest / "pkg/util.go"), "package pkg\n");
  EXPECT_EQ(ReadAll(dest / "pkg/link.go"), "package pkg\n");
  EXPECT_TRUE(fs::is_symlink(dest / "pkg/link.go"));
  EXPECT_EQ(ReadAll(dest / "up"), kMain);
  EXPECT_TRUE(fs::is_directory(dest / "app"));
  struct stat st_exec, st_plain;
  ASSERT_EQ(stat((dest / "run.sh").c_str(), &st_exec), 0);
  ASSERT_EQ(stat((dest / "main.go").c_str(), &st_plain), 0);
  EXPECT_NE(st_exec.st_mode & 0100, 0u);
  EXPECT_EQ(st_plain.st_mode & 0111, 0u);
  EXPECT_NE(st_plain.st_mode & 0200, 0u);
}

TEST_P(BothFormats, RejectsZipSlip) {
  ExpectRejected(Build({File("main.go", kMain), File("../evil", "x")}), Name(), "\"../evil\" contains a \"..\"");
  ExpectRejected(Build({File("a/../../evil", "x")}), Name(), "\"..\"");
}

TEST_P(BothFormats, RejectsAbsolutePath) {
  ExpectRejected(Build({File("main.go", kMain), File("/etc/x", "x")}), Name(), "\"/etc/x\" has an absolute path");
}

TEST_P(BothFormats, RejectsSymlinkToAbsolutePath) {
  ExpectRejected(Build({File("main.go", kMain), Symlink("passwd", "/etc/passwd")}), Name(),
                 "symlink \"passwd\" points to the absolute path \"/etc/passwd\"");
}

TEST_P(BothFormats, RejectsSymlinkEscapingRoot) {
  ExpectRejected(Build({File("main.go", kMain), Symlink("a", "../../x")}), Name(),
                 "symlink \"a\" points to \"../../x\", which is outside the archive");
}

TEST_P(BothFormats, RejectsEntryThroughSymlink) {
  ExpectRejected(Build({File("main.go", kMain), Symlink("l", "."), File("l/x", "x")}), Name(),
                 "beneath \"l\", which is a symlink");
}

TEST_P(BothFormats, RejectsTooManyEntries) {
  std::vector<RawEntry> entries;
  for (int i = 0; i < 10; ++i) entries.push_back(File("f" + std::to_string(i), "x"));
  Limits limits;
  limits.max_entries = 5;
  ExpectRejected(Build(entries), Name(), "archive has more than 5 entries", limits);
}

TEST_P(BothFormats, RejectsTenThousandTinyFilesWithDefaultLimits) {
  std::vector<RawEntry> entries;
  for (int i = 0; i < 10000; ++i) entries.push_back(File("f/" + std::to_string(i) + ".txt", "x"));
  ExpectRejected(Build(entries), Name(), "archive has more than 5000 entries");
}

TEST_P(BothFormats, RejectsZipBomb) {
  // 32 MiB of zeros compresses to a few tens of KiB.
  std::string data = Build({File("main.go", kMain), File("bomb.bin", std::string(32 << 20, '\0'))});
  EXPECT_LT(data.size(), 1u << 20);
  Limits limits;
  limits.max_unpacked_bytes = 4 << 20;
  ExpectRejected(data, Name(), "archive unpacks to more than 4 MiB", limits);
  Limits per_file;
  per_file.max_file_bytes = 1 << 20;
  ExpectRejected(data, Name(), "file \"bomb.bin\" unpacks to more than 1 MiB", per_file);
}

TEST_P(BothFormats, RejectsInvalidUtf8Name) {
  ExpectRejected(Build({File("main.go", kMain), File("bad\xff\xfe.go", "x")}), Name(), "not valid UTF-8");
}

TEST_P(BothFormats, RejectsDuplicates) {
  ExpectRejected(Build({File("main.go", kMain), File("./main.go", "again")}), Name(),
                 "contains \"main.go\" more than once");
}

TEST_P(BothFormats, RejectsArchiveWithoutFiles) {
  ExpectRejected(Build({Dir("empty/")}), Name(), "contains no files");
}

TEST_P(BothFormats, RejectsTruncatedAndCorrupted) {
  std::string data = Build({File("main.go", kMain), File("big.txt", std::string(200000, 'q') + "tail")});
  ExpectRejected(data.substr(0, data.size() / 2), Name(), "corrupt or truncated");
  std::string flipped = data;
  for (size_t i = data.size() / 3; i < data.size() / 3 + 64; ++i) flipped[i] = static_cast<char>(flipped[i] ^ 0x5a);
  auto st = Inspect(flipped, Name(), "main.go", {}).status();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
}

INSTANTIATE_TEST_SUITE_P(Archive, BothFormats, ::testing::Values(Kind::kTarGz, Kind::kZip),
                         [](const auto& info) { return info.param == Kind::kZip ? "Zip" : "TarGz"; });

TEST(Archive, RejectsHardlinkEscaping) {
  ExpectRejected(Make(Kind::kTarGz, {File("main.go", kMain), Hardlink("h", "../../etc/passwd")}), "code.tar.gz",
                 "hardlink \"h\" has a target that is not allowed: entry \"../../etc/passwd\" contains a \"..\"");
  ExpectRejected(Make(Kind::kTarGz, {File("main.go", kMain), Hardlink("h", "/etc/passwd")}), "code.tar.gz",
                 "absolute path");
  ExpectRejected(Make(Kind::kTarGz, {File("main.go", kMain), Hardlink("h", "nothere")}), "code.tar.gz",
                 "not a regular file earlier in the archive");
}

TEST(Archive, HardlinkInsideRootExtracts) {
  std::string data = Make(Kind::kTarGz, {File("main.go", kMain), Hardlink("copy.go", "main.go")});
  auto files = Inspect(data, "x.tar.gz", "", {});
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].path, "copy.go");
  EXPECT_EQ((*files)[0].size, std::string(kMain).size());
  auto contents = ReadFiles(data, "x.tar.gz", "", {"copy.go"}, {});
  ASSERT_TRUE(contents.ok());
  EXPECT_EQ(contents->at("copy.go"), kMain);
  TempDir dest;
  ASSERT_TRUE(ExtractTo(data, "x.tar.gz", "", dest.path(), {}).ok());
  EXPECT_EQ(ReadAll(dest / "copy.go"), kMain);
}

TEST(Archive, RejectsDeviceEntries) {
  RawEntry dev;
  dev.path = "null";
  dev.type = AE_IFCHR;
  dev.perm = 0666;
  dev.rdev = makedev(1, 3);
  ExpectRejected(Make(Kind::kTarGz, {File("main.go", kMain), dev}), "code.tar.gz",
                 "\"null\" is a character device");
  RawEntry fifo;
  fifo.path = "pipe";
  fifo.type = AE_IFIFO;
  ExpectRejected(Make(Kind::kTarGz, {File("main.go", kMain), fifo}), "code.tar.gz", "named pipe");
}

TEST(Archive, RejectsNonArchives) {
  std::mt19937 rng(42);
  std::string random(4096, '\0');
  for (auto& c : random) c = static_cast<char>(rng());
  random[0] = '\x7f';  // not accidentally gzip or zip
  ExpectRejected(random, "code.zip", "not a zip or tar.gz archive, nor a source file");
  ExpectRejected(random, "", "not a zip or tar.gz archive, nor a source file");
  ExpectInvalid(DetectFormat("", "x.zip").status(), "empty");
}

TEST(Archive, HintsAtUncompressedTar) {
  std::string tar(1024, '\0');
  memcpy(&tar[257], "ustar", 5);
  ExpectInvalid(DetectFormat(tar, "code.tar").status(), "uncompressed tar");
}

TEST(Archive, RejectsWrongTypeForName) {
  std::string zip = Make(Kind::kZip, {File("main.go", kMain)});
  std::string tgz = Make(Kind::kTarGz, {File("main.go", kMain)});
  ExpectRejected(zip, "x.tar.gz", "\"x.tar.gz\" is named like a tar.gz archive but its content is a zip archive");
  ExpectRejected(tgz, "x.zip", "\"x.zip\" is named like a zip archive but its content is a tar.gz archive");
  ExpectRejected(zip, "main.go", "named like a single source file but its content is a zip archive");
  ExpectRejected(kMain, "code.tgz", "named like a tar.gz archive but its content is a single source file");
  EXPECT_TRUE(DetectFormat(zip, "upload").ok());  // unknown suffix: content decides
  EXPECT_TRUE(DetectFormat(tgz, "CODE.TGZ").ok());
}

TEST(Archive, ZipCountsInflatedBytesNotHeaders) {
  RawEntry big = File("big.bin", std::string(8 << 20, 'a'));
  big.omit_size = true;  // streamed entry: sizes only in the data descriptor / central directory
  Limits limits;
  limits.max_unpacked_bytes = 1 << 20;
  ExpectRejected(Make(Kind::kZip, {big}), "code.zip", "unpacks to more than 1 MiB", limits);
}

TEST(Archive, GzipThatIsNotTar) {
  // A gzip stream of plain text, as `gzip main.go` makes.
  struct archive* a = archive_write_new();
  archive_write_set_format_raw(a);
  archive_write_add_filter_gzip(a);
  std::string out(1 << 16, '\0');
  size_t used = 0;
  ASSERT_EQ(archive_write_open_memory(a, out.data(), out.size(), &used), ARCHIVE_OK);
  struct archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, "main.go");
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_size(e, static_cast<la_int64_t>(strlen(kMain)));
  archive_write_header(a, e);
  archive_write_data(a, kMain, strlen(kMain));
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
  out.resize(used);
  ExpectRejected(out, "main.tar.gz", "not a tar.gz archive");
  std::string garbage = std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10) + "garbage garbage garbage";
  EXPECT_EQ(Inspect(garbage, "x.tar.gz", "", {}).status().code(), StatusCode::kInvalidArgument);
}

TEST(Archive, SingleSourceFile) {
  auto files = Inspect(kMain, "hello.go", "main.go", {});
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].path, "main.go");
  EXPECT_EQ(*DetectFormat(kMain, "hello.go"), Format::kSingleFile);
  auto contents = ReadFiles(kMain, "hello.go", "main.go", {"main.go"}, {});
  ASSERT_TRUE(contents.ok());
  EXPECT_EQ(contents->at("main.go"), kMain);
  TempDir dest;
  ASSERT_TRUE(ExtractTo(kMain, "hello.go", "main.go", dest.path(), {}).ok());
  EXPECT_EQ(ReadAll(dest / "main.go"), kMain);
  // Without single_file_name the upload's own name is used.
  auto named = Inspect(kMain, "dir/hello.go", "", {});
  ASSERT_TRUE(named.ok());
  EXPECT_EQ((*named)[0].path, "hello.go");
  Limits small;
  small.max_file_bytes = 10;
  ExpectInvalid(Inspect(kMain, "hello.go", "main.go", small).status(), "per-file limit");
}

TEST(Archive, ExtractToNeedsEmptyDirectory) {
  std::string data = Make(Kind::kTarGz, {File("main.go", kMain)});
  TempDir dest;
  std::ofstream(dest / "existing") << "x";
  EXPECT_EQ(ExtractTo(data, "x.tar.gz", "", dest.path(), {}).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ExtractTo(data, "x.tar.gz", "", dest / "missing", {}).code(), StatusCode::kFailedPrecondition);
}

void WriteFile(const std::string& path, const std::string& content) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

TEST(Pack, DirectorySkipsNamesAndIsDeterministic) {
  TempDir src;
  WriteFile(src / "main.go", kMain);
  WriteFile(src / "go.mod", "module hello\n");
  WriteFile(src / "pkg/util.go", "package pkg\n");
  WriteFile(src / ".git/config", "[core]\n");
  WriteFile(src / "node_modules/x/index.js", "x");
  WriteFile(src / "pkg/__pycache__/x.pyc", "x");
  WriteFile(src / "target", "a file named like a skipped dir");
  fs::create_symlink("pkg/util.go", src / "link.go");
  std::vector<std::string> skip = {".git", "node_modules", "__pycache__", "target", ".venv"};

  auto first = PackDirectory(src.path(), skip);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  // Touch every file (new mtimes) and pack again: identical bytes.
  sleep(1);
  for (auto& p : fs::recursive_directory_iterator(src.path())) {
    if (p.is_regular_file() && !p.is_symlink()) fs::last_write_time(p.path(), fs::file_time_type::clock::now());
  }
  auto second = PackDirectory(src.path(), skip);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, *second);

  auto files = Inspect(*first, "code.tar.gz", "", {});
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  std::vector<std::string> paths;
  for (const auto& f : *files) paths.push_back(f.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"go.mod", "main.go", "pkg/util.go"}));
  TempDir dest;
  ASSERT_TRUE(ExtractTo(*first, "code.tar.gz", "", dest.path(), {}).ok());
  EXPECT_TRUE(fs::is_symlink(dest / "link.go"));
  EXPECT_EQ(ReadAll(dest / "link.go"), "package pkg\n");
}

TEST(Pack, DirectoryErrors) {
  EXPECT_EQ(PackDirectory("/nonexistent/ignite-test-dir", {}).status().code(), StatusCode::kNotFound);
  TempDir only_skipped;
  WriteFile(only_skipped / ".git/HEAD", "ref");
  auto empty = PackDirectory(only_skipped.path(), {".git"});
  ExpectInvalid(empty.status(), "has no files to upload");
  TempDir outside;
  WriteFile(outside / "main.go", kMain);
  fs::create_symlink("/etc/passwd", outside / "passwd");
  ExpectInvalid(PackDirectory(outside.path(), {}).status(), "absolute path \"/etc/passwd\"");
  TempDir escaping;
  WriteFile(escaping / "main.go", kMain);
  fs::create_symlink("../../x", escaping / "up");
  ExpectInvalid(PackDirectory(escaping.path(), {}).status(), "outside the archive");
}

TEST(Pack, SingleFile) {
  auto packed = PackSingleFile(kMain, "main.go");
  ASSERT_TRUE(packed.ok());
  auto again = PackSingleFile(kMain, "main.go");
  EXPECT_EQ(*packed, *again);
  auto contents = ReadFiles(*packed, "main.tar.gz", "", {"main.go"}, {});
  ASSERT_TRUE(contents.ok());
  EXPECT_EQ(contents->at("main.go"), kMain);
  EXPECT_FALSE(PackSingleFile(kMain, "../main.go").ok());
}

}  // namespace
}  // namespace ignite::archive
