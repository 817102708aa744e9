#include "cli/compile_logs.h"

#include <sstream>

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "cli/api_client.h"
#include "cli/errors.h"
#include "cli/test_fakes.h"

namespace ignite::cli {
namespace {

namespace v1 = dodil::ignite::v1;
using fakes::FakeTransport;

v1::CompileLogEntry Entry(v1::BuildStatus status, const std::string& line, uint32_t position = 0,
                          int64_t ts = 1716900000123) {
  v1::CompileLogEntry e;
  e.set_timestamp_ms(ts);
  e.set_line(line);
  e.set_status(status);
  e.set_queue_position(position);
  return e;
}

std::string ResultLine(const v1::CompileLogEntry& entry) {
  std::string json;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(entry, &json).ok());
  return "{\"result\":" + json + "}\n";
}

v1::CompileLogEntry Failed(const std::string& error, int code) {
  v1::CompileLogEntry e = Entry(v1::BUILD_STATUS_FAILED, "");
  e.set_error(error);
  e.set_error_code(code);
  return e;
}

// A whole build: queued, running with compiler output (UTF-8, quotes, a tab, backslashes), failed.
std::vector<v1::CompileLogEntry> BuildEntries() {
  return {Entry(v1::BUILD_STATUS_PENDING, "", 2),
          Entry(v1::BUILD_STATUS_PENDING, "", 1),
          Entry(v1::BUILD_STATUS_RUNNING, "go: downloading github.com/google/uuid v1.6.0"),
          Entry(v1::BUILD_STATUS_RUNNING, "# café\t\"main\" C:\\path"),
          Entry(v1::BUILD_STATUS_RUNNING,
                "./main.go:3:1: syntax error: non-declaration statement outside function body"),
          Failed("./main.go:3:1: syntax error: non-declaration statement outside function body", 3)};
}

std::string Stream(const std::vector<v1::CompileLogEntry>& entries) {
  std::string out;
  for (const auto& e : entries) out += ResultLine(e);
  return out;
}

struct Collected {
  std::vector<v1::CompileLogEntry> entries;
  CompileLogDecoder::OnEntry Handler() {
    return [this](const v1::CompileLogEntry& e) { entries.push_back(e); };
  }
};

void ExpectSameEntries(const std::vector<v1::CompileLogEntry>& got, const std::vector<v1::CompileLogEntry>& want,
                       const std::string& where) {
  ASSERT_EQ(got.size(), want.size()) << where;
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].SerializeAsString(), want[i].SerializeAsString()) << where << " entry " << i;
  }
}

TEST(CompileLogDecoder, AnySplitGivesTheSameEntries) {
  const auto want = BuildEntries();
  const std::string stream = Stream(want);
  for (size_t piece : {1u, 2u, 3u, 5u, 13u, 64u, 4096u}) {
    Collected c;
    CompileLogDecoder decoder(c.Handler());
    for (size_t i = 0; i < stream.size(); i += piece) {
      ASSERT_TRUE(decoder.Feed(stream.substr(i, piece)).ok()) << "piece " << piece;
    }
    ASSERT_TRUE(decoder.Finish().ok()) << "piece " << piece;
    ExpectSameEntries(c.entries, want, "piece " + std::to_string(piece));
    EXPECT_TRUE(decoder.finished());
    EXPECT_EQ(decoder.final_entry().status(), v1::BUILD_STATUS_FAILED);
  }
  // Every single cut into two pieces, including inside the multi-byte "é".
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    Collected c;
    CompileLogDecoder decoder(c.Handler());
    ASSERT_TRUE(decoder.Feed(stream.substr(0, cut)).ok()) << "cut " << cut;
    ASSERT_TRUE(decoder.Feed(stream.substr(cut)).ok()) << "cut " << cut;
    ASSERT_TRUE(decoder.Finish().ok()) << "cut " << cut;
    ExpectSameEntries(c.entries, want, "cut " + std::to_string(cut));
  }
}

TEST(CompileLogDecoder, EntriesAreDeliveredAsSoonAsTheirLineIsComplete) {
  Collected c;
  CompileLogDecoder decoder(c.Handler());
  std::string first = ResultLine(Entry(v1::BUILD_STATUS_RUNNING, "step 1"));
  ASSERT_TRUE(decoder.Feed(first.substr(0, first.size() - 1)).ok());
  EXPECT_TRUE(c.entries.empty());
  ASSERT_TRUE(decoder.Feed("\n").ok());
  ASSERT_EQ(c.entries.size(), 1u);
  EXPECT_EQ(c.entries[0].line(), "step 1");
  EXPECT_FALSE(decoder.finished());
}

TEST(CompileLogDecoder, LastLineWithoutNewlineCrLfBlankLinesAndUnknownFields) {
  Collected c;
  CompileLogDecoder decoder(c.Handler());
  std::string last = ResultLine(Entry(v1::BUILD_STATUS_SUCCEEDED, ""));
  last.pop_back();
  ASSERT_TRUE(decoder
                  .Feed("\n{\"result\":{\"line\":\"a\",\"status\":\"BUILD_STATUS_RUNNING\",\"future\":1},\"x\":2}\r\n"
                        "  \n" +
                        last)
                  .ok());
  ASSERT_TRUE(decoder.Finish().ok());
  ASSERT_EQ(c.entries.size(), 2u);
  EXPECT_EQ(c.entries[0].line(), "a");
  EXPECT_EQ(c.entries[0].status(), v1::BUILD_STATUS_RUNNING);
  EXPECT_EQ(decoder.final_entry().status(), v1::BUILD_STATUS_SUCCEEDED);
}

TEST(CompileLogDecoder, ErrorLineCarriesTheServerCodeAndSticks) {
  Collected c;
  CompileLogDecoder decoder(c.Handler());
  Status status = decoder.Feed(ResultLine(Entry(v1::BUILD_STATUS_RUNNING, "x")) +
                               "{\"error\":{\"code\":14,\"message\":\"ignited is shutting down\",\"details\":[]}}\n");
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(status.message(), "ignited is shutting down");
  EXPECT_EQ(c.entries.size(), 1u);
  EXPECT_EQ(decoder.Feed(ResultLine(Entry(v1::BUILD_STATUS_SUCCEEDED, ""))).code(), StatusCode::kUnavailable);
  EXPECT_EQ(decoder.Finish().code(), StatusCode::kUnavailable);
  EXPECT_EQ(c.entries.size(), 1u);
}

TEST(CompileLogDecoder, StreamEndingBeforeTheFinalStatusIsAnError) {
  Collected c;
  CompileLogDecoder decoder(c.Handler());
  ASSERT_TRUE(decoder.Feed(ResultLine(Entry(v1::BUILD_STATUS_RUNNING, "x"))).ok());
  Status status = decoder.Finish();
  EXPECT_EQ(status.code(), StatusCode::kUnknown);
  EXPECT_EQ(ExitCodeFor(status.code()), 1);
  EXPECT_NE(status.message().find("ended before the build finished"), std::string::npos);
}

TEST(CompileLogDecoder, MalformedLinesAreInternal) {
  for (const char* bad : {"not json\n", "[1]\n", "{\"other\":1}\n", "{\"result\":{\"queuePosition\":-1}}\n",
                          "{\"result\":{\"timestampMs\":\"abc\"}}\n", "{\"result\":7}\n"}) {
    CompileLogDecoder decoder({});
    EXPECT_EQ(decoder.Feed(bad).code(), StatusCode::kInternal) << bad;
  }
}

TEST(BuildOutcome, ExitCodeForEachFinalStatus) {
  struct Case {
    v1::BuildStatus status;
    int error_code;
    std::string error;
    int exit;
    std::string message;
  } cases[] = {
      {v1::BUILD_STATUS_SUCCEEDED, 0, "", 0, ""},
      {v1::BUILD_STATUS_FAILED, 3, "./main.go:3:1: syntax error", 2, "./main.go:3:1: syntax error"},
      {v1::BUILD_STATUS_FAILED, 4, "the build took longer than 10m0s", 8, "the build took longer than 10m0s"},
      {v1::BUILD_STATUS_FAILED, 13, "disk full", 10, "disk full"},
      {v1::BUILD_STATUS_FAILED, 14, "ignited restarted during the build", 9, "ignited restarted during the build"},
      {v1::BUILD_STATUS_FAILED, 8, "too many files", 7, "too many files"},
      {v1::BUILD_STATUS_FAILED, 9, "x", 1, "x"},
      {v1::BUILD_STATUS_FAILED, 0, "", 1, "build B1 failed"},
      {v1::BUILD_STATUS_FAILED, 99, "odd", 1, "odd"},
      {v1::BUILD_STATUS_CANCELLED, 1, "cancelled by a user", 1, "cancelled by a user"},
      {v1::BUILD_STATUS_CANCELLED, 0, "", 1, "build B1 was cancelled"},
  };
  for (const Case& c : cases) {
    v1::CompileLogEntry e = Entry(c.status, "");
    e.set_error_code(c.error_code);
    e.set_error(c.error);
    Status s = BuildOutcome("B1", e);
    EXPECT_EQ(ExitCodeForStatus(s), c.exit) << c.error_code << " " << c.error;
    EXPECT_EQ(s.message(), c.message);
  }
  EXPECT_FALSE(BuildOutcome("B1", Entry(v1::BUILD_STATUS_RUNNING, "")).ok());
  EXPECT_TRUE(IsTerminalBuildStatus(v1::BUILD_STATUS_CANCELLED));
  EXPECT_FALSE(IsTerminalBuildStatus(v1::BUILD_STATUS_PENDING));
  EXPECT_FALSE(IsTerminalBuildStatus(v1::BUILD_STATUS_UNSPECIFIED));
}

TEST(CompileLogPrinter, LinesToOutQueuePositionOncePerChangeToErr) {
  std::ostringstream out, err;
  CompileLogPrinter printer(out, err, OutputFormat::kTable);
  for (const auto& e : {Entry(v1::BUILD_STATUS_PENDING, "", 3), Entry(v1::BUILD_STATUS_PENDING, "", 3),
                        Entry(v1::BUILD_STATUS_PENDING, "", 2), Entry(v1::BUILD_STATUS_PENDING, ""),
                        Entry(v1::BUILD_STATUS_PENDING, "", 1), Entry(v1::BUILD_STATUS_RUNNING, "compiling\n"),
                        Entry(v1::BUILD_STATUS_RUNNING, ""), Entry(v1::BUILD_STATUS_RUNNING, "done\r\n"),
                        Entry(v1::BUILD_STATUS_SUCCEEDED, "")}) {
    printer.OnEntry(e);
  }
  EXPECT_EQ(out.str(), "compiling\ndone\n");
  EXPECT_EQ(err.str(),
            "waiting for a build slot (position 3)\n"
            "waiting for a build slot (position 2)\n"
            "waiting for a build slot (position 1)\n");
}

TEST(CompileLogPrinter, JsonPrintsEachEntryAsOneLine) {
  std::ostringstream out, err;
  CompileLogPrinter printer(out, err, OutputFormat::kJson);
  printer.OnEntry(Entry(v1::BUILD_STATUS_PENDING, "", 1, 5));
  printer.OnEntry(Entry(v1::BUILD_STATUS_RUNNING, "a \"b\"", 0, 6));
  EXPECT_EQ(out.str(),
            "{\"timestampMs\":\"5\",\"status\":\"BUILD_STATUS_PENDING\",\"queuePosition\":1}\n"
            "{\"timestampMs\":\"6\",\"line\":\"a \\\"b\\\"\",\"status\":\"BUILD_STATUS_RUNNING\"}\n");
  EXPECT_EQ(err.str(), "waiting for a build slot (position 1)\n");
}

ApiClient MakeClient(FakeTransport*& raw) {
  auto transport = std::make_unique<FakeTransport>();
  raw = transport.get();
  return ApiClient(std::move(transport), "tok");
}

TEST(FollowCompileLogs, StreamsTheRouteAndReturnsTheOutcome) {
  FakeTransport* t;
  ApiClient client = MakeClient(t);
  t->stream_piece = 3;
  t->Reply(200, Stream(BuildEntries()));
  std::ostringstream out, err;
  Status s = FollowCompileLogs(client, "01J9Z3V7K2M4X8Q5R6T7W8Y9ZA", out, err, OutputFormat::kTable);
  EXPECT_EQ(ExitCodeForStatus(s), 2);
  EXPECT_EQ(s.message(), "./main.go:3:1: syntax error: non-declaration statement outside function body");
  ASSERT_EQ(t->sent.size(), 1u);
  EXPECT_EQ(t->sent[0].verb, http::Verb::get);
  EXPECT_EQ(t->sent[0].target, "/v1/ignite/compile/01J9Z3V7K2M4X8Q5R6T7W8Y9ZA/logs");
  EXPECT_EQ(t->sent[0].Header("Accept"), "application/x-ndjson");
  EXPECT_EQ(t->sent[0].Header("Authorization"), "Bearer tok");
  EXPECT_EQ(out.str(),
            "go: downloading github.com/google/uuid v1.6.0\n"
            "# café\t\"main\" C:\\path\n"
            "./main.go:3:1: syntax error: non-declaration statement outside function body\n");
  EXPECT_EQ(err.str(), "waiting for a build slot (position 2)\nwaiting for a build slot (position 1)\n");
}

TEST(FollowCompileLogs, SuccessSaysSoOnErr) {
  FakeTransport* t;
  ApiClient client = MakeClient(t);
  t->Reply(200, Stream({Entry(v1::BUILD_STATUS_RUNNING, "ok"), Entry(v1::BUILD_STATUS_SUCCEEDED, "")}));
  std::ostringstream out, err;
  ASSERT_TRUE(FollowCompileLogs(client, "B1", out, err, OutputFormat::kTable).ok());
  EXPECT_EQ(out.str(), "ok\n");
  EXPECT_EQ(err.str(), "Build B1 succeeded\n");
}

TEST(FollowCompileLogs, HttpErrorsAndCutConnections) {
  {
    FakeTransport* t;
    ApiClient client = MakeClient(t);
    t->Reply(404, R"({"code":5,"message":"build B1 does not exist"})");
    std::ostringstream out, err;
    Status s = FollowCompileLogs(client, "B1", out, err, OutputFormat::kTable);
    EXPECT_EQ(ExitCodeForStatus(s), 5);
    EXPECT_EQ(s.message(), "build B1 does not exist");
  }
  {
    // The connection breaks before the final entry: what arrived is printed, then exit 1.
    FakeTransport* t;
    ApiClient client = MakeClient(t);
    t->Reply(200, Stream({Entry(v1::BUILD_STATUS_RUNNING, "partial")}));
    std::ostringstream out, err;
    Status s = FollowCompileLogs(client, "B1", out, err, OutputFormat::kTable);
    EXPECT_EQ(ExitCodeForStatus(s), 1);
    EXPECT_EQ(out.str(), "partial\n");
  }
  {
    FakeTransport* t;
    ApiClient client = MakeClient(t);
    t->Fail(Unavailable("cannot reach 127.0.0.1:7070: Connection refused"));
    std::ostringstream out, err;
    EXPECT_EQ(ExitCodeForStatus(FollowCompileLogs(client, "B1", out, err, OutputFormat::kTable)), 1);
  }
}

}  // namespace
}  // namespace ignite::cli
