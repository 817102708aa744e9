// Runs the real Go toolchain against a throwaway SDK. The build and module caches live in the build tree
// (IGNITE_TEST_GO_CACHE), shared by every test process, so only the very first run compiles the runtime.
// No network: GOPROXY=off everywhere.
#include "build/go/go_builder.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "archive/memory_writer.h"
#include "build/elf_check.h"
#include "build/go/go_sandbox.h"
#include "build/go/go_env.h"
#include "common/process.h"

namespace ignite::build {
namespace {

namespace fs = std::filesystem;
using archive::MemoryWriter;

std::string MakeTempDir(const std::string& prefix) {
  std::string tmpl = (fs::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (!mkdtemp(tmpl.data())) std::abort();
  return tmpl;
}

void WriteFile(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

constexpr const char* kSdkMarker = "ignite-test-sdk-7f3a";

// A stand-in for sdk/go: same module path and API shape; Start runs the handler once on $PAYLOAD.
class TestSdk : public ::testing::Environment {
 public:
  void SetUp() override {
    dir_ = MakeTempDir("build_test-sdk");
    WriteFile(dir_ + "/go.mod", "module ignite\n\ngo 1.26\n");
    WriteFile(dir_ + "/VERSION", "9.9.9-test\n");
    WriteFile(dir_ + "/ignite.go", std::string(R"(package ignite

import "os"

type Context struct {
	ExecutionID, FunctionID, OrganizationID string
	Headers                                 map[string][]string
}

type Handler func(payload []byte, ctx *Context) ([]byte, error)

func Start(h Handler) {
	out, err := h([]byte(os.Getenv("PAYLOAD")), &Context{ExecutionID: ")") + kSdkMarker + R"("})
	if err != nil {
		os.Stderr.WriteString(err.Error())
		os.Exit(1)
	}
	os.Stdout.Write(out)
}
)");
    std::map<std::string, std::string> env = {
        {"PATH", fs::path(IGNITE_TEST_GO_BINARY).parent_path().string() + ":/usr/bin:/bin"},
        {"GOPROXY", "off"},
        {"GOSUMDB", "off"},
        {"HOME", dir_ + "/home"}};
    auto tc = DefaultGoToolchain(dir_, IGNITE_TEST_GO_CACHE, env);
    ASSERT_TRUE(tc.ok()) << tc.status().ToString();
    tc_ = *tc;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  static GoToolchain tc_;
  static std::string dir_;
};
GoToolchain TestSdk::tc_;
std::string TestSdk::dir_;
[[maybe_unused]] auto* const kSdkEnv = ::testing::AddGlobalTestEnvironment(new TestSdk);

const char* kHelloMain = R"(package main

import (
	"strings"

	"ignite"
)

func handler(payload []byte, ctx *ignite.Context) ([]byte, error) {
	return []byte("Hello, " + strings.ToUpper(string(payload)) + " from " + ctx.ExecutionID), nil
}

func main() {
	ignite.Start(handler)
}
)";

struct Files : std::vector<std::pair<std::string, std::string>> {
  using vector::vector;
};

std::string TarGz(const Files& files) {
  auto w = MemoryWriter::Create(MemoryWriter::Kind::kTarGz).value();
  for (const auto& [path, content] : files) EXPECT_TRUE(w->AddFile(path, content).ok());
  return w->Finish().value();
}
std::string Zip(const Files& files) {
  auto w = MemoryWriter::Create(MemoryWriter::Kind::kZip).value();
  for (const auto& [path, content] : files) EXPECT_TRUE(w->AddFile(path, content).ok());
  return w->Finish().value();
}

class GoBuilderTest : public ::testing::Test {
 protected:
  void SetUp() override { scratch_ = MakeTempDir("build_test"); }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(scratch_, ec);
  }
  const GoToolchain& tc() const { return TestSdk::tc_; }

  // A fresh work dir per build.
  GoBuildOptions Options(const std::string& app = "hello") {
    GoBuildOptions opts;
    opts.app_name = app;
    opts.work_dir = scratch_ + "/work" + std::to_string(++builds_);
    fs::create_directories(opts.work_dir);
    return opts;
  }

  Result<GoBuildOutput> Build(const std::string& archive, const std::string& name, const GoBuildOptions& opts) {
    auto start = std::chrono::steady_clock::now();
    auto out = BuildGo(tc(), archive, name, opts);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    RecordProperty("build_ms_" + std::to_string(builds_), static_cast<int>(ms.count()));
    std::cerr << "[ build ] " << name << " took " << ms.count() << " ms\n";
    return out;
  }

  Status Check(const std::string& archive, const std::string& name = "code.tar.gz") {
    return CheckGoSource(tc(), archive, name, scratch_, {});
  }

  // Runs a built binary with PAYLOAD set; returns its output.
  std::string RunBinary(const std::string& path, const std::string& payload) {
    SpawnSpec spec;
    spec.argv = {path};
    spec.env = {{"PAYLOAD", payload}};
    auto r = RunCommand(spec, std::chrono::seconds(10));
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r->exit_code, 0) << r->output;
    return r->output;
  }

  std::string scratch_;
  int builds_ = 0;
};

void ExpectInvalid(const Status& st, const std::string& needle) {
  if (getenv("SHOW_MESSAGES")) std::cerr << "[ message ] " << st.ToString() << "\n";
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  EXPECT_NE(st.message().find(needle), std::string::npos) << "message: " << st.message() << "\nneedle: " << needle;
}

TEST_F(GoBuilderTest, HelloBuildsStaticStrippedBinary) {
  std::vector<std::string> lines;
  auto opts = Options();
  opts.on_log = [&](std::string_view line) { lines.emplace_back(line); };
  auto out = Build(TarGz({{"main.go", kHelloMain}, {"go.mod", "module hello\n\ngo 1.26\n"}}), "code.tar.gz", opts);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->binary_path, fs::canonical(opts.work_dir).string() + "/out/app");
  EXPECT_EQ(out->sdk_version, "9.9.9-test");
  EXPECT_EQ(out->go_version.rfind("go1.", 0), 0u) << out->go_version;
  EXPECT_EQ(out->binary_size, fs::file_size(out->binary_path));
  EXPECT_EQ(out->binary_sha256.size(), 64u);

  EXPECT_TRUE(CheckStaticElf(out->binary_path).ok()) << CheckStaticElf(out->binary_path).ToString();
  auto facts = ReadElfFacts(out->binary_path);
  ASSERT_TRUE(facts.ok());
  EXPECT_TRUE(facts->elf64 && facts->x86_64 && facts->executable);
  EXPECT_FALSE(facts->has_interp || facts->has_dynamic || facts->has_symtab);
  if (access("/usr/bin/file", X_OK) == 0) {  // an independent opinion
    SpawnSpec spec;
    spec.argv = {"/usr/bin/file", "-b", out->binary_path};
    auto r = RunCommand(spec, std::chrono::seconds(10));
    ASSERT_TRUE(r.ok());
    EXPECT_NE(r->output.find("ELF 64-bit LSB executable, x86-64"), std::string::npos) << r->output;
    EXPECT_NE(r->output.find("statically linked"), std::string::npos) << r->output;
    EXPECT_NE(r->output.find(", stripped"), std::string::npos) << r->output;
  }

  EXPECT_EQ(RunBinary(out->binary_path, "world"), std::string("Hello, WORLD from ") + kSdkMarker);

  // The log has every step, and on_log saw the same lines.
  for (const char* step : {"==> extracting the source", "==> checking the source layout",
                           "==> using the bundled Ignite SDK 9.9.9-test",
                           "==> no third-party imports or requirements: go mod tidy is not needed", "==> go build",
                           "==> checking the binary", "==> built a static linux/amd64 binary"}) {
    EXPECT_NE(out->log.find(step), std::string::npos) << step << "\n" << out->log;
  }
  std::string joined;
  for (const auto& l : lines) joined += l + "\n";
  EXPECT_EQ(joined, out->log);
}

TEST_F(GoBuilderTest, SameSourceGivesByteIdenticalBinaries) {
  std::string code = TarGz({{"main.go", kHelloMain}, {"go.mod", "module hello\n\ngo 1.26\n"}});
  auto a = Build(code, "code.tar.gz", Options());
  auto b = Build(code, "code.tar.gz", Options());
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(a->binary_sha256, b->binary_sha256);
  EXPECT_EQ(ReadAll(a->binary_path), ReadAll(b->binary_path));
}

TEST_F(GoBuilderTest, SdkLocationDoesNotChangeTheBinary) {
  std::string code = TarGz({{"main.go", kHelloMain}, {"go.mod", "module hello\n\ngo 1.26\n"}});
  auto a = Build(code, "code.tar.gz", Options());
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  std::string elsewhere = scratch_ + "/installed/elsewhere/sdk";
  fs::create_directories(elsewhere);
  fs::copy(tc().sdk_dir, elsewhere, fs::copy_options::recursive);
  GoToolchain moved = tc();
  moved.sdk_dir = elsewhere;
  auto b = BuildGo(moved, code, "code.tar.gz", Options());
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(a->binary_sha256, b->binary_sha256);
  EXPECT_EQ(ReadAll(a->binary_path).find(tc().sdk_dir), std::string::npos) << "SDK path leaked into the binary";
}

TEST_F(GoBuilderTest, ConcurrentBuildsShareTheCache) {
  std::string code = Zip({{"main.go", kHelloMain}, {"go.mod", "module hello\n\ngo 1.26\n"}});
  auto o1 = Options(), o2 = Options();
  auto f1 = std::async(std::launch::async, [&] { return BuildGo(tc(), code, "code.zip", o1); });
  auto f2 = std::async(std::launch::async, [&] { return BuildGo(tc(), code, "code.zip", o2); });
  auto a = f1.get(), b = f2.get();
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(a->binary_sha256, b->binary_sha256);
}

TEST_F(GoBuilderTest, MissingGoModIsCreated) {
  auto opts = Options("hello-app");
  auto out = Build(Zip({{"main.go", kHelloMain}}), "code.zip", opts);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_NE(ReadAll(opts.work_dir + "/src/go.mod").find("module hello-app"), std::string::npos);
  EXPECT_NE(out->log.find("go mod init hello-app"), std::string::npos);
  EXPECT_EQ(RunBinary(out->binary_path, "x"), std::string("Hello, X from ") + kSdkMarker);
}

TEST_F(GoBuilderTest, SingleGoFileBuilds) {
  auto out = Build(kHelloMain, "hello.go", Options());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(RunBinary(out->binary_path, "go"), std::string("Hello, GO from ") + kSdkMarker);
}

TEST_F(GoBuilderTest, SeveralFilesAndLocalSubPackages) {
  auto out = Build(TarGz({{"go.mod", "module example.com/app\n\ngo 1.26\n"},
                          {"main.go", R"(package main

import (
	"example.com/app/internal/greet"
	"ignite"
)

func main() { ignite.Start(handle) }

var _ = greet.Hello
)"},
                          {"handler.go", R"(package main

import (
	"example.com/app/internal/greet"
	"ignite"
)

func handle(p []byte, ctx *ignite.Context) ([]byte, error) { return []byte(greet.Hello(string(p))), nil }
)"},
                          {"internal/greet/greet.go", "package greet\n\nfunc Hello(n string) string { return \"hi \" + n }\n"}}),
                   "code.tar.gz", Options());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(RunBinary(out->binary_path, "bob"), "hi bob");
}

TEST_F(GoBuilderTest, CompileErrorShowsFileAndLine) {
  std::string bad = std::string(kHelloMain) + "\nfunc broken() int { return undefinedThing }\n";
  auto out = Build(TarGz({{"main.go", bad}, {"go.mod", "module hello\n"}}), "code.tar.gz", Options());
  ASSERT_FALSE(out.ok());
  ExpectInvalid(out.status(), "build failed:");
  ExpectInvalid(out.status(), "./main.go:17:28: undefined: undefinedThing");
  EXPECT_EQ(out.status().message().find(scratch_), std::string::npos) << out.status().message();
}

TEST_F(GoBuilderTest, SyntaxErrorShowsFileAndLine) {
  std::string bad = "package main\n\nimport \"ignite\"\n\nfunc main() {\n\tignite.Start(nil\n}\n";
  auto out = Build(TarGz({{"main.go", bad}}), "code.tar.gz", Options());
  ExpectInvalid(out.status(), "./main.go:6:");
  ExpectInvalid(out.status(), "syntax error");
  ExpectInvalid(Check(TarGz({{"main.go", bad}})), "./main.go:6:");
}

TEST_F(GoBuilderTest, UnknownModuleFailsResolvingDependencies) {
  auto out = Build(TarGz({{"go.mod", "module hello\n\ngo 1.26\n\nrequire example.com/does/not/exist v1.0.0\n"},
                          {"main.go", R"(package main

import (
	"example.com/does/not/exist"
	"ignite"
)

func main() { exist.Do(); ignite.Start(nil) }
)"}}),
                   "code.tar.gz", Options());
  ExpectInvalid(out.status(), "resolving dependencies failed: ");
  ExpectInvalid(out.status(), "example.com/does/not/exist");
}

TEST_F(GoBuilderTest, UserGoModMentioningIgniteUsesBundledSdk) {
  auto out = Build(TarGz({{"go.mod", "module hello\n\ngo 1.21\n\nrequire ignite v1.2.3\n\n"
                                     "replace ignite => ../somewhere/else\n\nreplace ignite v1.2.3 => ./vendored\n"},
                          {"main.go", kHelloMain}}),
                   "code.tar.gz", Options());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(RunBinary(out->binary_path, "sdk"), std::string("Hello, SDK from ") + kSdkMarker);
}

// A handler that imports a local module replaced into ./lib.
Files LocalModuleFiles() {
  return {{"go.mod", "module hello\n\ngo 1.26\n\nrequire example.com/lib v0.0.0\n\n"
                     "replace example.com/lib => ./lib\n"},
          {"lib/go.mod", "module example.com/lib\n\ngo 1.26\n"},
          {"lib/lib.go", "package lib\n\nfunc Name() string { return \"lib\" }\n"},
          {"main.go", R"(package main

import (
	"example.com/lib"
	"ignite"
)

func main() {
	ignite.Start(func(p []byte, ctx *ignite.Context) ([]byte, error) { return []byte(lib.Name()), nil })
}
)"}};
}

TEST_F(GoBuilderTest, LocalReplaceInsideTheSourceBuildsOutsideIsRejected) {
  Files files = LocalModuleFiles();
  auto out = Build(TarGz(files), "code.tar.gz", Options());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(RunBinary(out->binary_path, ""), "lib");

  files[0].second = "module hello\n\ngo 1.26\n\nrequire example.com/lib v0.0.0\n\nreplace example.com/lib => ../../other\n";
  ExpectInvalid(Build(TarGz(files), "code.tar.gz", Options()).status(),
                "go.mod replaces example.com/lib with the directory \"../../other\", which is outside the uploaded source");
}

TEST_F(GoBuilderTest, InvalidGoModIsExplained) {
  auto out = Build(TarGz({{"go.mod", "module hello\n\nfrobnicate everything\n"}, {"main.go", kHelloMain}}),
                   "code.tar.gz", Options());
  ExpectInvalid(out.status(), "go.mod is invalid: ");
  ExpectInvalid(out.status(), "./go.mod:3");
}

TEST_F(GoBuilderTest, UnsafeArchiveIsRejectedBeforeBuilding) {
  auto opts = Options();
  auto w = MemoryWriter::Create(MemoryWriter::Kind::kZip).value();
  ASSERT_TRUE(w->AddFile("main.go", kHelloMain).ok());
  ASSERT_TRUE(w->AddFile("../../evil.go", "package main").ok());
  auto out = Build(w->Finish().value(), "code.zip", opts);
  ExpectInvalid(out.status(), "\"../../evil.go\" contains a \"..\"");
  EXPECT_FALSE(fs::exists(opts.work_dir + "/out/app"));
}

TEST_F(GoBuilderTest, TimeoutIsDeadlineExceeded) {
  // A module proxy that accepts connections and never answers: `go mod tidy` hangs until the deadline.
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 16), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  GoToolchain hanging = tc();
  hanging.base_env["GOPROXY"] = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  auto opts = Options();
  opts.timeout = std::chrono::milliseconds(1500);
  auto start = std::chrono::steady_clock::now();
  auto out = BuildGo(hanging, TarGz({{"go.mod", "module hello\n\ngo 1.26\n\nrequire example.com/slow v1.0.0\n"},
                                     {"main.go", "package main\n\nimport (\n\t\"example.com/slow\"\n\t\"ignite\"\n)\n\n"
                                                 "func main() { slow.Do(); ignite.Start(nil) }\n"}}),
                     "code.tar.gz", opts);
  close(fd);
  ASSERT_EQ(out.status().code(), StatusCode::kDeadlineExceeded) << out.status().ToString();
  EXPECT_NE(out.status().message().find("build exceeded the 1.5s limit (during go mod tidy)"), std::string::npos)
      << out.status().message();
  // Not a timing measurement: only shows that the hung child was killed rather than waited for.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));

  auto instant = Options();
  instant.timeout = std::chrono::milliseconds(1);
  usleep(2000);
  auto early = BuildGo(tc(), kHelloMain, "main.go", instant);
  ASSERT_EQ(early.status().code(), StatusCode::kDeadlineExceeded) << early.status().ToString();
  EXPECT_NE(early.status().message().find("build exceeded the 1ms limit"), std::string::npos);
}

TEST_F(GoBuilderTest, MissingToolchainIsFailedPrecondition) {
  GoToolchain broken = tc();
  broken.go_binary = "/nonexistent/go/bin/go";
  auto out = BuildGo(broken, kHelloMain, "main.go", Options());
  EXPECT_EQ(out.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(out.status().message().find("/nonexistent/go/bin/go"), std::string::npos);
  auto missing_sdk = DefaultGoToolchain("/nonexistent/sdk", scratch_, {});
  EXPECT_EQ(missing_sdk.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(missing_sdk.status().message().find("/nonexistent/sdk"), std::string::npos);
}

TEST_F(GoBuilderTest, CheckAcceptsValidSource) {
  Status st = Check(TarGz({{"main.go", kHelloMain}, {"go.mod", "module hello\n"}}));
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_TRUE(Check(kHelloMain, "main.go").ok());
  EXPECT_TRUE(fs::is_empty(scratch_)) << "the temp dir must be removed";
}

TEST_F(GoBuilderTest, CheckRejectsPackageNotMain) {
  ExpectInvalid(Check(TarGz({{"main.go", "package foo\n\nimport \"ignite\"\n\nfunc main() { ignite.Start(nil) }\n"}})),
                "./main.go:1:9: main.go must declare `package main` (found `package foo`)");
}

TEST_F(GoBuilderTest, CheckRejectsMissingStart) {
  ExpectInvalid(Check(TarGz({{"main.go", "package main\n\nimport \"ignite\"\n\nvar _ ignite.Handler\n\nfunc main() {}\n"}})),
                "./main.go:7:6: func main() does not call ignite.Start");
  ExpectInvalid(Check(TarGz({{"main.go", "package main\n\nfunc helper() {}\n"}})), "has no `func main()`");
  ExpectInvalid(Check(TarGz({{"main.go", "package main\n\nfunc main() {}\n"}})), "imports \"ignite\"");
}

TEST_F(GoBuilderTest, CheckRejectsMissingMainGo) {
  ExpectInvalid(Check(TarGz({{"hello/main.go", kHelloMain}, {"hello/go.mod", "module hello\n"}})),
                "no main.go at the archive root");
  ExpectInvalid(Check(TarGz({{"hello/main.go", kHelloMain}})), "found hello/main.go");
  ExpectInvalid(Check(TarGz({{"app.go", kHelloMain}})), "no main.go at the archive root");
}

TEST_F(GoBuilderTest, CheckRejectsCgo) {
  ExpectInvalid(Check(TarGz({{"main.go", "package main\n\n// #include <stdio.h>\nimport \"C\"\nimport \"ignite\"\n\n"
                                         "func main() { ignite.Start(nil) }\n"}})),
                "cgo is not supported (import \"C\")");
}

TEST_F(GoBuilderTest, CheckListsEveryProblem) {
  Status st = Check(TarGz({{"main.go", "package foo\n\nimport \"C\"\n\nfunc main() {}\n"}}));
  ExpectInvalid(st, "the source has 3 problems:");
  ExpectInvalid(st, "cgo is not supported");
  ExpectInvalid(st, "`package main`");
  ExpectInvalid(st, "imports \"ignite\"");
}

TEST_F(GoBuilderTest, CheckRejectsBadArchives) {
  ExpectInvalid(Check("\x7f\x01\x02 not an archive", "code.zip"), "not a zip or tar.gz archive");
  archive::Limits tiny;
  tiny.max_entries = 2;
  ExpectInvalid(CheckGoSource(tc(), TarGz({{"main.go", kHelloMain}, {"a", "1"}, {"b", "2"}}), "c.tar.gz", scratch_, tiny),
                "more than 2 entries");
}

// ---- The build sandbox (build/sandbox.h) with real processes. ----

// bwrap when this host can run the build sandbox, else "" (the test is skipped, saying why).
std::string SandboxOrSkipReason(std::string* why) {
  auto bwrap = DetectBuildSandbox();
  if (!bwrap.ok()) *why = bwrap.status().message();
  return bwrap.ok() ? *bwrap : "";
}

#define REQUIRE_SANDBOX(var)                 \
  std::string why_##var;                     \
  std::string var = SandboxOrSkipReason(&why_##var); \
  if (var.empty()) GTEST_SKIP() << why_##var

// A listener on the host's loopback; Reachable() tells whether a command could connect to it.
class LoopbackListener {
 public:
  LoopbackListener() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd_, 16) != 0) std::abort();
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~LoopbackListener() { close(fd_); }
  int port() const { return port_; }

 private:
  int fd_;
  int port_;
};

TEST_F(GoBuilderTest, SandboxedBuildGivesTheSameBinaryAndJoinsTheGroups) {
  REQUIRE_SANDBOX(bwrap);
  std::string code = Zip({{"main.go", kHelloMain}});  // no go.mod: go mod init, edit, build
  auto plain = Build(code, "code.zip", Options("hello-app"));
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();

  auto opts = Options("hello-app");
  opts.sandbox_bwrap = bwrap;
  // Plain files stand in for cgroup.procs (process_test.cc joins a real group): every step writes "0".
  std::string procs = scratch_ + "/cgroup.procs";
  std::ofstream(procs).close();
  opts.cgroup_procs = {procs};
  auto boxed = Build(code, "code.zip", opts);
  ASSERT_TRUE(boxed.ok()) << boxed.status().ToString();
  EXPECT_EQ(ReadAll(procs), "0\n");
  EXPECT_EQ(boxed->binary_sha256, plain->binary_sha256);
  EXPECT_EQ(RunBinary(boxed->binary_path, "box"), std::string("Hello, BOX from ") + kSdkMarker);
  EXPECT_NE(boxed->log.find("go mod init hello-app"), std::string::npos) << boxed->log;
  // The go command's files in the work dir belong to the server's user, as without the sandbox.
  struct stat st;
  ASSERT_EQ(stat((opts.work_dir + "/src/go.mod").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, getuid());
}

TEST_F(GoBuilderTest, SandboxedBuildWithALocalModuleAndAFailingCompile) {
  REQUIRE_SANDBOX(bwrap);
  Files files = LocalModuleFiles();
  auto opts = Options();
  opts.sandbox_bwrap = bwrap;
  auto out = Build(TarGz(files), "code.tar.gz", opts);  // runs go mod tidy (a requirement), offline here
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_NE(out->log.find("==> go mod tidy"), std::string::npos) << out->log;
  EXPECT_EQ(RunBinary(out->binary_path, ""), "lib");

  std::string bad = std::string(kHelloMain) + "\nfunc broken() int { return undefinedThing }\n";
  auto failed = Options();
  failed.sandbox_bwrap = bwrap;
  ExpectInvalid(Build(TarGz({{"main.go", bad}, {"go.mod", "module hello\n"}}), "code.tar.gz", failed).status(),
                "./main.go:17:28: undefined: undefinedThing");
  // The checker runs in the sandbox too, before and outside builds.
  EXPECT_TRUE(CheckGoSource(tc(), kHelloMain, "main.go", scratch_, {}, bwrap).ok());
  ExpectInvalid(CheckGoSource(tc(), TarGz({{"main.go", "package foo\n"}}), "c.tar.gz", scratch_, {}, bwrap),
                "`package main`");
}

TEST_F(GoBuilderTest, SandboxedTidyReachesTheProxyOnTheHostNetwork) {
  REQUIRE_SANDBOX(bwrap);
  // A proxy on the host's loopback that never answers: tidy hangs on it (it has the host's network) until
  // the deadline; without network it would fail at once with "connection refused" instead.
  LoopbackListener proxy;
  GoToolchain hanging = tc();
  hanging.base_env["GOPROXY"] = "http://127.0.0.1:" + std::to_string(proxy.port());
  auto opts = Options();
  opts.sandbox_bwrap = bwrap;
  opts.timeout = std::chrono::milliseconds(3000);
  auto out = BuildGo(hanging, TarGz({{"go.mod", "module hello\n\ngo 1.26\n\nrequire example.com/slow v1.0.0\n"},
                                     {"main.go", "package main\n\nimport (\n\t\"example.com/slow\"\n\t\"ignite\"\n)\n\n"
                                                 "func main() { slow.Do(); ignite.Start(nil) }\n"}}),
                     "code.tar.gz", opts);
  ASSERT_EQ(out.status().code(), StatusCode::kDeadlineExceeded) << out.status().ToString();
  EXPECT_NE(out.status().message().find("(during go mod tidy)"), std::string::npos) << out.status().message();
}

TEST_F(GoBuilderTest, AGroupThatCannotBeJoinedFailsTheBuild) {
  auto opts = Options();
  opts.cgroup_procs = {scratch_ + "/no/such/group/cgroup.procs"};
  auto out = Build(kHelloMain, "main.go", opts);
  ASSERT_EQ(out.status().code(), StatusCode::kInternal) << out.status().ToString();
  EXPECT_NE(out.status().message().find("could not be limited"), std::string::npos) << out.status().message();
}

// What a go step sees, checked from inside with a shell: a fake data dir with a database, blobs and two builds.
TEST_F(GoBuilderTest, ASandboxedStepSeesOnlyItsOwnBuild) {
  REQUIRE_SANDBOX(bwrap);
  std::string data = scratch_ + "/data";
  WriteFile(data + "/ignite.db", "secret");
  WriteFile(data + "/blobs/sha256/ab/cdef", "artifact");
  WriteFile(data + "/builds/B2/src/main.go", "other build");
  WriteFile(data + "/builds/B1/src/main.go", "own build");
  GoToolchain t = tc();
  t.cache_dir = data + "/cache";
  auto env = GoCommandEnv(t, data + "/builds/B1");
  AdaptEnvForSandbox(&env, data + "/builds/B1/home", [](const std::string&) { return false; });
  for (const char* key : {"GOCACHE", "GOMODCACHE", "XDG_CONFIG_HOME"}) fs::create_directories(env[key]);
  WriteFile(data + "/cache/gopath/secret", "not a cache the go command writes");
  LoopbackListener listener;

  for (bool network : {false, true}) {
    SCOPED_TRACE(network ? "with network" : "without network");
    SpawnSpec spec;
    spec.sandbox_prefix = BuildSandboxArgv(
        bwrap, GoStepView(t, env, GoRoot(t.go_binary), data + "/builds/B1", data + "/builds/B1/src", network),
        ProbeHostPath);
    std::string script = fmt::format(
        "echo \"start: $(pwd)\"; cd {data} && echo \"data: $(ls -A | tr '\\n' ' ')\"; echo \"builds: $(ls -A builds | tr '\\n' ' ')\"; "
        "echo \"cache: $(ls -A cache | tr '\\n' ' ')\"; "
        "cat ignite.db 2>/dev/null && echo LEAK-db; cat builds/B2/src/main.go 2>/dev/null && echo LEAK-build; "
        "echo \"own: $(cat builds/B1/src/main.go)\"; "
        "touch builds/B1/new && echo wrote-build; touch \"$GOCACHE/new\" && echo wrote-cache; "
        "touch {sdk}/x 2>/dev/null && echo LEAK-sdk-writable; touch {goroot}/x 2>/dev/null && echo LEAK-goroot-writable; "
        "touch /usr/x 2>/dev/null && echo LEAK-usr-writable; "
        "test -w /proc/sys/kernel/core_pattern && echo LEAK-proc-writable; "
        "grep CapEff /proc/self/status; grep NoNewPrivs /proc/self/status; "
        "(echo > /dev/tcp/127.0.0.1/{port}) 2>/dev/null && echo net-yes || echo net-no; "
        "ls -A /sys 2>/dev/null | head -1; echo pid=$$",
        fmt::arg("data", data), fmt::arg("sdk", t.sdk_dir), fmt::arg("goroot", GoRoot(t.go_binary)),
        fmt::arg("port", listener.port()));
    spec.argv = {"/bin/bash", "-c", script};
    spec.env = env;
    auto r = RunCommand(spec, std::chrono::seconds(30));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const std::string& o = r->output;
    EXPECT_NE(o.find("data: builds cache \n"), std::string::npos) << o;
    EXPECT_NE(o.find("builds: B1 \n"), std::string::npos) << o;
    EXPECT_NE(o.find("cache: config go-build gomod \n"), std::string::npos) << o;
    EXPECT_NE(o.find("start: " + data + "/builds/B1/src\n"), std::string::npos) << o;
    EXPECT_NE(o.find("own: own build\n"), std::string::npos) << o;
    EXPECT_NE(o.find("wrote-build\nwrote-cache\n"), std::string::npos) << o;
    EXPECT_EQ(o.find("LEAK"), std::string::npos) << o;
    EXPECT_NE(o.find("CapEff:\t0000000000000000\nNoNewPrivs:\t1\n"), std::string::npos) << o;
    // The host's loopback only with network; nothing listed under /sys (not mounted); its own PID namespace
    // (bwrap is pid 1, the shell 2).
    EXPECT_NE(o.find(network ? "net-yes\npid=2\n" : "net-no\npid=2\n"), std::string::npos) << o;
  }
  EXPECT_TRUE(fs::exists(data + "/builds/B1/new"));
  EXPECT_EQ(ReadAll(data + "/ignite.db"), "secret");
}

}  // namespace
}  // namespace ignite::build
