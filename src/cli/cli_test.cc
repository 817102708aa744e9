// The command layer end to end against fakes: parsing, app ids, settings, output and exit codes.
#include "cli/cli.h"

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/test_fakes.h"

namespace ignite::cli {
namespace {

using fakes::FakeWorld;

int RunIn(FakeWorld& world, Program program, const std::vector<std::string>& args) {
  return RunCli(program, args, world.Io());
}
int RunIn(FakeWorld& world, const std::vector<std::string>& args) { return RunIn(world, Program::kIgnite, args); }

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(Cli, HelpWorksAtEveryLevel) {
  {
    FakeWorld w;
    EXPECT_EQ(RunIn(w, Program::kDodil, {"--help"}), 0);
    EXPECT_TRUE(Contains(w.out.str(), "ignite")) << w.out.str();
    EXPECT_TRUE(Contains(w.out.str(), "login"));
  }
  {
    FakeWorld w;
    EXPECT_EQ(RunIn(w, Program::kDodil, {"ignite", "--help"}), 0);
    for (const char* group : {"app", "draft", "version", "invoke", "dodil ignite draft save"}) {
      EXPECT_TRUE(Contains(w.out.str(), group)) << group << "\n" << w.out.str();
    }
  }
  {
    FakeWorld w;
    EXPECT_EQ(RunIn(w, {"app", "--help"}), 0);
    for (const char* cmd : {"create", "get", "list", "delete"}) EXPECT_TRUE(Contains(w.out.str(), cmd)) << cmd;
  }
  {
    FakeWorld w;
    EXPECT_EQ(RunIn(w, {"invoke", "--help"}), 0);
    EXPECT_TRUE(Contains(w.out.str(), "--payload-file"));
    EXPECT_TRUE(Contains(w.out.str(), "--api-endpoint"));  // global flags on every command
  }
}

TEST(Cli, UsageErrorsExit1) {
  FakeWorld w;
  EXPECT_EQ(RunIn(w, {"app"}), 1);
  EXPECT_TRUE(Contains(w.err.str(), "create"));  // the group's help
  FakeWorld w2;
  EXPECT_EQ(RunIn(w2, {"app", "list", "--bogus"}), 1);
  EXPECT_TRUE(Contains(w2.err.str(), "Error: "));
  FakeWorld w3;
  EXPECT_EQ(RunIn(w3, {"app", "get"}), 1);  // missing id
  FakeWorld w4;
  EXPECT_EQ(RunIn(w4, {"app", "create", "x", "--tier", "huge"}), 1);
  EXPECT_TRUE(w4.script.sent.empty());
  FakeWorld w5;
  EXPECT_EQ(RunIn(w5, Program::kDodil, {"login"}), 2);  // neither credentials nor --token
  EXPECT_TRUE(Contains(w5.err.str(), "login <service_account_id> <secret>")) << w5.err.str();
  FakeWorld w6;
  EXPECT_EQ(RunIn(w6, {"app", "list", "-o", "xml"}), 2);  // unknown output format: usage error, exit 2
  EXPECT_TRUE(Contains(w6.err.str(), "table, json, yaml or wide")) << w6.err.str();
  EXPECT_TRUE(w6.script.sent.empty());
}

TEST(Cli, AppIdsResolveThroughFlagsEnvAndConfig) {
  FakeWorld w;
  w.env["IGNITE_ORG_ID"] = "acme";
  for (int i = 0; i < 5; ++i) w.script.Reply(200, "{}");
  ASSERT_EQ(RunIn(w, {"app", "get", "hello"}), 0) << w.err.str();
  ASSERT_EQ(RunIn(w, {"app", "get", "other:hello"}), 0) << w.err.str();
  ASSERT_EQ(RunIn(w, {"fn", "get", "other/hello.v2"}), 0) << w.err.str();
  ASSERT_EQ(RunIn(w, {"function", "get", "hello", "--org", "flagorg"}), 0) << w.err.str();
  ASSERT_EQ(RunIn(w, {"--org", "rootorg", "app", "get", "hello"}), 0) << w.err.str();
  ASSERT_EQ(w.script.sent.size(), 5u);
  EXPECT_EQ(w.script.sent[0].target, "/v1/ignite/app/acme/hello");
  EXPECT_EQ(w.script.sent[1].target, "/v1/ignite/app/other/hello");
  EXPECT_EQ(w.script.sent[2].target, "/v1/ignite/app/other/hello.v2");
  EXPECT_EQ(w.script.sent[3].target, "/v1/ignite/app/flagorg/hello");
  EXPECT_EQ(w.script.sent[4].target, "/v1/ignite/app/rootorg/hello");
}

TEST(Cli, DefaultOrgAndEndpoint) {
  FakeWorld w;
  w.script.Reply(200, "{}");
  ASSERT_EQ(RunIn(w, {"app", "get", "hello"}), 0) << w.err.str();
  EXPECT_EQ(w.script.sent[0].target, "/v1/ignite/app/org/hello");
  EXPECT_EQ(w.endpoint_used, "http://127.0.0.1:7070");
  EXPECT_EQ(w.script.sent[0].Header("Authorization"), "");
}

TEST(Cli, BadAppNamesExit2WithoutARequest) {
  FakeWorld w;
  EXPECT_EQ(RunIn(w, {"app", "get", "acme:Bad_Name"}), 2);
  EXPECT_TRUE(Contains(w.err.str(), "Error: invalid app name")) << w.err.str();
  EXPECT_EQ(RunIn(w, {"app", "create", "UPPER"}), 2);
  EXPECT_EQ(RunIn(w, {"app", "get", "Bad Org:x"}), 2);
  EXPECT_TRUE(w.script.sent.empty());
}

TEST(Cli, ConfigFileSuppliesEndpointTokenAndOrg) {
  FakeWorld w;
  w.fs.AddFile("/home/u/.config/unified-cli/config.yaml",
               "ignite:\n  api_endpoint: http://127.0.0.1:7999\n  token: s3cret\n  org_id: team\n");
  w.script.Reply(200, "{}");
  ASSERT_EQ(RunIn(w, {"app", "list"}), 0) << w.err.str();
  EXPECT_EQ(w.endpoint_used, "http://127.0.0.1:7999");
  EXPECT_EQ(w.script.sent[0].target, "/v1/ignite/app/team");
  EXPECT_EQ(w.script.sent[0].Header("Authorization"), "Bearer s3cret");

  w.env["IGNITE_TOKEN"] = "envtok";
  w.script.Reply(200, "{}");
  ASSERT_EQ(RunIn(w, {"app", "list", "--api-endpoint", "127.0.0.1:1234"}), 0) << w.err.str();
  EXPECT_EQ(w.endpoint_used, "127.0.0.1:1234");
  EXPECT_EQ(w.script.sent[1].Header("Authorization"), "Bearer envtok");

  EXPECT_EQ(RunIn(w, {"app", "list", "--config", "/missing.yaml"}), 1);
  EXPECT_TRUE(Contains(w.err.str(), "/missing.yaml"));
}

TEST(Cli, ServerErrorsMapToExitCodes) {
  FakeWorld w;
  w.script.Reply(404, R"({"code":5,"message":"app org/hello does not exist","details":[]})");
  EXPECT_EQ(RunIn(w, {"app", "get", "hello"}), 5);
  EXPECT_EQ(w.err.str(), "Error: app org/hello does not exist\n");
  EXPECT_EQ(w.out.str(), "");

  FakeWorld w2;
  w2.script.Reply(401, R"({"code":16,"message":"missing bearer token"})");
  EXPECT_EQ(RunIn(w2, {"app", "list"}), 3);

  FakeWorld w3;
  w3.script.Fail(Unavailable("cannot reach 127.0.0.1:7070: Connection refused"));
  EXPECT_EQ(RunIn(w3, {"app", "list"}), 1);
  EXPECT_TRUE(Contains(w3.err.str(), "Error: cannot reach 127.0.0.1:7070: Connection refused. Is ignited running"));
}

TEST(Cli, RealTransportConnectionRefusedExits1) {
  FakeWorld w;
  CliIo io = w.Io();
  io.transport_factory = HttpTransportFactory();
  EXPECT_EQ(RunCli(Program::kIgnite, {"app", "list", "--api-endpoint", "http://127.0.0.1:1"}, std::move(io)), 1);
  EXPECT_TRUE(Contains(w.err.str(), "cannot reach 127.0.0.1:1")) << w.err.str();
  EXPECT_TRUE(Contains(w.err.str(), "README")) << w.err.str();
}

TEST(Cli, OutputFormats) {
  FakeWorld w;
  w.script.Reply(200, R"({"apps":[{"id":"org/hello","name":"hello","runtime":{"go":{}},"activeVersion":2,
      "deploymentState":"DEPLOYMENT_STATE_ACTIVE","createdAtMs":"1716900000000"}],"nextCursor":"c2"})");
  ASSERT_EQ(RunIn(w, {"app", "list"}), 0) << w.err.str();
  EXPECT_EQ(w.out.str(),
            "NAME    RUNTIME   ACTIVE   STATE    CREATED\n"
            "hello   go        2        active   2024-05-28 12:40:00 UTC\n"
            "\n"
            "More apps: repeat with --cursor c2\n");

  FakeWorld j;
  j.script.Reply(200, R"({"apps":[{"id":"org/hello","name":"hello"}]})");
  ASSERT_EQ(RunIn(j, {"app", "list", "-o", "json"}), 0);
  dodil::ignite::v1::ListAppsResponse parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(j.out.str(), &parsed).ok()) << j.out.str();
  EXPECT_EQ(parsed.apps(0).id(), "org/hello");
}

TEST(Cli, AppCreateSendsFlagsAndNotesRuntime) {
  FakeWorld w;
  w.script.Reply(200, R"({"appId":"org/hello","deploymentState":"DEPLOYMENT_STATE_CREATED",
      "appliedTier":"RESOURCE_TIER_SMALL","appliedLimits":{"memoryMb":256,"cpuMillicores":250}})");
  ASSERT_EQ(RunIn(w, {"app", "create", "hello", "--runtime", "go", "--env", "A=1", "--env", "B=x=y", "--tier",
                    "small", "--timeout-secs", "30", "--max-replicas", "3"}),
            0)
      << w.err.str();
  dodil::ignite::v1::CreateAppRequest sent;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(w.script.sent[0].body, &sent).ok());
  EXPECT_EQ(sent.name(), "hello");
  EXPECT_TRUE(sent.runtime().has_go());
  EXPECT_EQ(sent.env().at("A"), "1");
  EXPECT_EQ(sent.env().at("B"), "x=y");
  EXPECT_EQ(sent.resource_tier(), dodil::ignite::v1::RESOURCE_TIER_SMALL);
  EXPECT_EQ(sent.limits().timeout_secs(), 30u);
  EXPECT_EQ(sent.scaling().max_replicas(), 3u);
  EXPECT_TRUE(Contains(w.err.str(), "draft save"));
  EXPECT_EQ(w.out.str(),
            "Created app org/hello\n"
            "State:   created\n"
            "Tier:    small\n"
            "Limits:  256 MB memory, 250 millicores CPU\n");

  FakeWorld bad;
  EXPECT_EQ(RunIn(bad, {"app", "create", "hello", "--env", "NOEQUALS"}), 1);
}

TEST(Cli, DraftSaveUploadsFilesAndRejectsMissingPaths) {
  FakeWorld w;
  w.fs.AddFile("main.go", "package main\n");
  w.script.Reply(200, R"({"draft":{"status":"VERSION_STATUS_DRAFT","codeHash":"abc123","codeSizeBytes":"13"}})");
  ASSERT_EQ(RunIn(w, {"draft", "save", "org:hello", "-c", "main.go", "--runtime", "go"}), 0) << w.err.str();
  EXPECT_EQ(w.script.sent[0].target, "/v1/ignite/app/org/hello/draft");
  dodil::ignite::v1::SaveDraftRequest sent;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(w.script.sent[0].body, &sent).ok());
  EXPECT_EQ(sent.code().compile().source_code(), "package main\n");
  EXPECT_EQ(sent.code().compile().file_name(), "main.go");
  EXPECT_TRUE(sent.code().compile().runtime().has_go());
  EXPECT_TRUE(Contains(w.script.sent[0].body, R"("runtime":{"go":{}})")) << w.script.sent[0].body;
  EXPECT_TRUE(Contains(w.out.str(), "Code hash:  abc123"));
  EXPECT_TRUE(Contains(w.out.str(), "13 B"));

  FakeWorld m;
  EXPECT_EQ(RunIn(m, {"draft", "save", "hello", "--code", "./nowhere"}), 1);
  EXPECT_TRUE(Contains(m.err.str(), "./nowhere does not exist"));
  EXPECT_TRUE(m.script.sent.empty());
}

TEST(Cli, DraftInfoWithoutDraftPrintsTheReferenceAnswer) {
  for (const char* format : {"table", "json"}) {
    FakeWorld w;
    w.script.Reply(200, "{}");
    ASSERT_EQ(RunIn(w, {"draft", "status", "hello", "-o", format}), 0) << w.err.str();
    EXPECT_EQ(w.out.str(), "{\"status\":\"no draft\"}\n");
  }
  FakeWorld w;
  w.script.Reply(200, R"({"draft":{"status":"VERSION_STATUS_DRAFT","codeHash":"abc","buildStatus":"BUILD_STATUS_FAILED",
      "error":"main.go:3: syntax error","deployId":"b1"}})");
  ASSERT_EQ(RunIn(w, {"draft", "info", "hello"}), 0);
  EXPECT_TRUE(Contains(w.out.str(), "Build status:  failed"));
  EXPECT_TRUE(Contains(w.out.str(), "Error:         main.go:3: syntax error"));
  EXPECT_TRUE(Contains(w.out.str(), "Deploy id:     b1"));
}

TEST(Cli, PublishVersionsAndRollback) {
  FakeWorld w;
  w.script.Reply(200, R"({"version":1,"versionInfo":{"version":1}})");
  ASSERT_EQ(RunIn(w, Program::kDodil, {"ignite", "draft", "publish", "org:hello"}), 0) << w.err.str();
  EXPECT_EQ(w.out.str(), "Published org/hello version 1\n");
  EXPECT_EQ(w.script.sent[0].body, "{}");

  FakeWorld v;
  v.script.Reply(200, R"({"versions":[{"version":2,"codeHash":"0123456789abcdef0123","status":"VERSION_STATUS_ACTIVE"},
      {"version":1,"codeHash":"ffff","status":"VERSION_STATUS_SUPERSEDED","createdAtMs":"1716900000000"}]})");
  ASSERT_EQ(RunIn(v, {"version", "list", "hello"}), 0);
  EXPECT_EQ(v.out.str(),
            "VERSION   STATUS       CODE HASH      CREATED\n"
            "2         active       0123456789ab   -\n"
            "1         superseded   ffff           2024-05-28 12:40:00 UTC\n");

  FakeWorld r;
  r.script.Reply(200, R"({"activeVersion":1,"previousVersion":2})");
  ASSERT_EQ(RunIn(r, {"version", "rollback", "hello", "1"}), 0);
  EXPECT_EQ(r.out.str(), "Rolled back org/hello: version 1 is active (was 2)\n");
  EXPECT_EQ(r.script.sent[0].body, R"({"version":1})");

  FakeWorld bad;
  EXPECT_EQ(RunIn(bad, {"version", "get", "hello", "zero"}), 1);
  EXPECT_EQ(RunIn(bad, {"version", "get", "hello", "0"}), 1);
}

std::string InvokeStream(int status, const std::string& body_b64, const std::string& tail = "") {
  return "{\"result\":{\"head\":{\"status\":" + std::to_string(status) +
         ",\"executionId\":\"01EXEC\",\"functionId\":\"org/hello\"}}}\n"
         "{\"result\":{\"chunk\":{\"data\":\"" +
         body_b64 + "\"}}}\n" +
         (tail.empty() ? "{\"result\":{\"trailer\":{\"durationMs\":\"12\",\"coldStart\":true}}}\n" : tail);
}

TEST(Cli, InvokePrintsTheBodyExactly) {
  FakeWorld w;
  // {"greeting":"hi"} followed by no newline.
  w.script.Reply(200, InvokeStream(200, "eyJncmVldGluZyI6ImhpIn0="));
  ASSERT_EQ(RunIn(w, {"invoke", "org:hello", "-p", "{\"name\": \"world\"}", "-H", "X-Trace: abc"}), 0)
      << w.err.str();
  EXPECT_EQ(w.out.str(), "{\"greeting\":\"hi\"}");
  EXPECT_EQ(w.err.str(), "");
  EXPECT_EQ(w.script.sent[0].body, "{\"name\": \"world\"}");
  EXPECT_EQ(w.script.sent[0].Header("X-Trace"), "abc");
  EXPECT_EQ(w.script.sent[0].Header("Content-Type"), "application/octet-stream");

  FakeWorld binary;
  binary.script.Reply(200, InvokeStream(200, "/wAB"));  // ff 00 01
  ASSERT_EQ(RunIn(binary, {"invoke", "hello"}), 0);
  EXPECT_EQ(binary.out.str(), std::string("\xff\x00\x01", 3));
  EXPECT_EQ(binary.script.sent[0].body, "");
}

TEST(Cli, InvokePayloadFile) {
  FakeWorld w;
  w.fs.AddFile("in.json", "{\"a\":1}");
  w.script.Reply(200, InvokeStream(200, ""));
  ASSERT_EQ(RunIn(w, {"invoke", "hello", "--payload-file", "in.json"}), 0) << w.err.str();
  EXPECT_EQ(w.script.sent[0].body, "{\"a\":1}");

  FakeWorld stdin_world;
  stdin_world.in.str("from stdin");
  stdin_world.script.Reply(200, InvokeStream(200, ""));
  ASSERT_EQ(RunIn(stdin_world, {"invoke", "hello", "--payload-file", "-"}), 0);
  EXPECT_EQ(stdin_world.script.sent[0].body, "from stdin");

  FakeWorld missing;
  EXPECT_EQ(RunIn(missing, {"invoke", "hello", "--payload-file", "nope.json"}), 1);
  EXPECT_TRUE(Contains(missing.err.str(), "nope.json does not exist"));

  FakeWorld both;
  EXPECT_EQ(RunIn(both, {"invoke", "hello", "-p", "x", "--payload-file", "in.json"}), 1);
}

TEST(Cli, InvokeFunctionErrorPrintsBodyAndExits1) {
  FakeWorld w;
  // {"error":"boom"}
  w.script.Reply(200, InvokeStream(500, "eyJlcnJvciI6ImJvb20ifQ=="));
  EXPECT_EQ(RunIn(w, {"invoke", "hello"}), 1);
  EXPECT_EQ(w.out.str(), "{\"error\":\"boom\"}");
  EXPECT_EQ(w.err.str(), "Error: the function returned HTTP 500 (execution 01EXEC)\n");
}

TEST(Cli, InvokeStreamErrorUsesItsCode) {
  FakeWorld w;
  w.script.Reply(200, InvokeStream(200, "cGFy", "{\"error\":{\"code\":14,\"message\":\"instance died\"}}\n"));
  EXPECT_EQ(RunIn(w, {"invoke", "hello"}), 9);
  EXPECT_EQ(w.out.str(), "par");
  EXPECT_EQ(w.err.str(), "Error: instance died\n");

  FakeWorld missing;
  missing.script.Reply(400, R"({"code":9,"message":"app org/hello has no active version; publish a draft first"})");
  EXPECT_EQ(RunIn(missing, {"invoke", "hello"}), 1);
  EXPECT_TRUE(Contains(missing.err.str(), "no active version"));
}

TEST(Cli, InvokeJsonOutput) {
  FakeWorld w;
  w.script.Reply(200, InvokeStream(200, "eyJncmVldGluZyI6ImhpIn0="));
  ASSERT_EQ(RunIn(w, {"invoke", "hello", "-o", "json"}), 0) << w.err.str();
  auto out = nlohmann::json::parse(w.out.str());
  EXPECT_EQ(out["executionId"], "01EXEC");
  EXPECT_EQ(out["status"], 200);
  EXPECT_EQ(out["body"], "{\"greeting\":\"hi\"}");
  EXPECT_EQ(out["durationMs"], 12);
  EXPECT_EQ(out["coldStart"], true);

  FakeWorld b;
  b.script.Reply(200, InvokeStream(200, "/wAB"));
  ASSERT_EQ(RunIn(b, {"invoke", "hello", "-o", "json"}), 0);
  auto bin = nlohmann::json::parse(b.out.str());
  EXPECT_FALSE(bin.contains("body"));
  EXPECT_EQ(bin["bodyBase64"], "/wAB");
}

// ---- Builds, tests of drafts and versions, code download, app logs ----

std::string LogLine(const std::string& json_entry) { return "{\"result\":" + json_entry + "}\n"; }

std::string FailingBuildStream() {
  return LogLine(R"({"timestampMs":"1","status":"BUILD_STATUS_PENDING","queuePosition":2})") +
         LogLine(R"({"timestampMs":"2","status":"BUILD_STATUS_PENDING","queuePosition":2})") +
         LogLine(R"({"timestampMs":"3","status":"BUILD_STATUS_PENDING","queuePosition":1})") +
         LogLine(R"({"timestampMs":"4","line":"go: downloading github.com/google/uuid v1.6.0",)"
                 R"("status":"BUILD_STATUS_RUNNING"})") +
         LogLine(R"({"timestampMs":"5","line":"./main.go:3:1: syntax error","status":"BUILD_STATUS_RUNNING"})") +
         LogLine(R"({"timestampMs":"6","status":"BUILD_STATUS_FAILED","error":"./main.go:3:1: syntax error",)"
                 R"("errorCode":3})");
}

std::string SucceedingBuildStream() {
  return LogLine(R"({"timestampMs":"4","line":"building","status":"BUILD_STATUS_RUNNING"})") +
         LogLine(R"({"timestampMs":"6","status":"BUILD_STATUS_SUCCEEDED"})");
}

constexpr const char* kDeployId = "01J9Z3V7K2M4X8Q5R6T7W8Y9ZA";

TEST(Cli, NewCommandsHaveHelpWithExamples) {
  for (std::vector<std::string> cmd : std::vector<std::vector<std::string>>{
           {"draft", "compile"}, {"draft", "compile-logs"}, {"draft", "cancel"}, {"draft", "test"},
           {"version", "test"}, {"version", "code"}, {"app", "logs"}, {"app", "update"}, {"app", "state"},
           {"app", "replicas"}}) {
    FakeWorld w;
    cmd.push_back("--help");
    EXPECT_EQ(RunIn(w, cmd), 0) << cmd[0] << " " << cmd[1];
    EXPECT_TRUE(Contains(w.out.str(), "Example")) << cmd[0] << " " << cmd[1] << "\n" << w.out.str();
    EXPECT_TRUE(Contains(w.out.str(), cmd[0] + " " + cmd[1] + " ")) << w.out.str();
  }
}

TEST(Cli, DraftCompileStartsABuild) {
  FakeWorld w;
  w.script.Reply(200, std::string(R"({"deployId":")") + kDeployId +
                          R"(","status":"BUILD_STATUS_PENDING","queuePosition":3})");
  ASSERT_EQ(RunIn(w, {"draft", "compile", "org:hello"}), 0) << w.err.str();
  ASSERT_EQ(w.script.sent.size(), 1u);
  EXPECT_EQ(w.script.sent[0].verb, http::Verb::post);
  EXPECT_EQ(w.script.sent[0].target, "/v1/ignite/app/org/hello/draft/compile");
  EXPECT_EQ(w.script.sent[0].body, "{}");
  EXPECT_EQ(w.out.str(), std::string("Compiling the draft of org/hello\n"
                                     "Deploy id:       ") + kDeployId + "\n"
                         "Status:          pending\n"
                         "Queue position:  3\n"
                         "Follow it with `draft compile-logs " + kDeployId + "`.\n");
  EXPECT_EQ(w.timeout_used, std::chrono::minutes(5));

  FakeWorld j;
  j.script.Reply(200, R"({"deployId":"B1","status":"BUILD_STATUS_RUNNING"})");
  ASSERT_EQ(RunIn(j, {"draft", "compile", "hello", "-o", "json"}), 0);
  auto out = nlohmann::json::parse(j.out.str());
  EXPECT_EQ(out["deployId"], "B1");
  EXPECT_EQ(out["status"], "BUILD_STATUS_RUNNING");

  FakeWorld rejected;
  rejected.script.Reply(400, R"({"code":3,"message":"main.go: package is \"lib\", must be \"main\""})");
  EXPECT_EQ(RunIn(rejected, {"draft", "compile", "hello", "--follow"}), 2);
  EXPECT_EQ(rejected.script.sent.size(), 1u);  // no log stream for a build that never started
  EXPECT_EQ(rejected.err.str(), "Error: main.go: package is \"lib\", must be \"main\"\n");
}

TEST(Cli, DraftCompileFollowStreamsLogsAndExitsWithTheBuildsCode) {
  FakeWorld w;
  w.script.Reply(200, R"({"deployId":"B1","status":"BUILD_STATUS_PENDING","queuePosition":2})");
  w.script.Reply(200, FailingBuildStream());
  EXPECT_EQ(RunIn(w, {"draft", "compile", "org:hello", "--follow"}), 2);
  ASSERT_EQ(w.script.sent.size(), 2u);
  EXPECT_EQ(w.script.sent[1].verb, http::Verb::get);
  EXPECT_EQ(w.script.sent[1].target, "/v1/ignite/compile/B1/logs");
  EXPECT_EQ(w.out.str(), "go: downloading github.com/google/uuid v1.6.0\n./main.go:3:1: syntax error\n");
  EXPECT_EQ(w.err.str(),
            "Build B1 of org/hello: pending\n"
            "waiting for a build slot (position 2)\n"
            "waiting for a build slot (position 1)\n"
            "Error: ./main.go:3:1: syntax error\n");
  EXPECT_EQ(w.timeout_used, std::chrono::milliseconds(0));  // following a build: no deadline by default

  FakeWorld ok;
  ok.script.Reply(200, R"({"deployId":"B2","status":"BUILD_STATUS_RUNNING"})");
  ok.script.Reply(200, SucceedingBuildStream());
  ASSERT_EQ(RunIn(ok, {"draft", "compile", "hello", "-f", "--timeout", "20m"}), 0) << ok.err.str();
  EXPECT_EQ(ok.out.str(), "building\n");
  EXPECT_EQ(ok.err.str(), "Build B2 of org/hello: running\nBuild B2 succeeded\n");
  EXPECT_EQ(ok.timeout_used, std::chrono::minutes(20));  // an explicit --timeout still applies

  FakeWorld cancelled;
  cancelled.script.Reply(200, R"({"deployId":"B3","status":"BUILD_STATUS_RUNNING"})");
  cancelled.script.Reply(
      200, LogLine(R"({"status":"BUILD_STATUS_CANCELLED","error":"build B3 was cancelled","errorCode":1})"));
  EXPECT_EQ(RunIn(cancelled, {"draft", "compile", "hello", "--follow"}), 1);
  EXPECT_TRUE(Contains(cancelled.err.str(), "Error: build B3 was cancelled\n"));
}

TEST(Cli, DraftCompileFollowJsonIsNdjson) {
  FakeWorld w;
  w.script.Reply(200, R"({"deployId":"B2","status":"BUILD_STATUS_RUNNING"})");
  w.script.Reply(200, SucceedingBuildStream());
  ASSERT_EQ(RunIn(w, {"draft", "compile", "hello", "--follow", "-o", "json"}), 0) << w.err.str();
  EXPECT_EQ(w.out.str(),
            "{\"deployId\":\"B2\",\"status\":\"BUILD_STATUS_RUNNING\"}\n"
            "{\"timestampMs\":\"4\",\"line\":\"building\",\"status\":\"BUILD_STATUS_RUNNING\"}\n"
            "{\"timestampMs\":\"6\",\"status\":\"BUILD_STATUS_SUCCEEDED\"}\n");
}

TEST(Cli, DraftCompileLogsByDeployIdOrAppId) {
  FakeWorld w;
  w.script.stream_piece = 1;
  w.script.Reply(200, FailingBuildStream());
  EXPECT_EQ(RunIn(w, {"draft", "compile-logs", kDeployId, "--follow"}), 2);
  ASSERT_EQ(w.script.sent.size(), 1u);
  EXPECT_EQ(w.script.sent[0].target, std::string("/v1/ignite/compile/") + kDeployId + "/logs");
  EXPECT_EQ(w.out.str(), "go: downloading github.com/google/uuid v1.6.0\n./main.go:3:1: syntax error\n");
  EXPECT_TRUE(Contains(w.err.str(), "waiting for a build slot (position 2)\n"));
  EXPECT_TRUE(Contains(w.err.str(), "Error: ./main.go:3:1: syntax error\n"));
  EXPECT_EQ(w.timeout_used, std::chrono::milliseconds(0));

  // An app id means the latest build of its draft.
  FakeWorld app;
  app.script.Reply(200, R"({"draft":{"deployId":"B7","buildStatus":"BUILD_STATUS_RUNNING"}})");
  app.script.Reply(200, SucceedingBuildStream());
  ASSERT_EQ(RunIn(app, {"draft", "compile-logs", "org:hello"}), 0) << app.err.str();
  ASSERT_EQ(app.script.sent.size(), 2u);
  EXPECT_EQ(app.script.sent[0].target, "/v1/ignite/app/org/hello/draft");
  EXPECT_EQ(app.script.sent[1].target, "/v1/ignite/compile/B7/logs");
  EXPECT_EQ(app.err.str(), "Build B7 succeeded\n");

  FakeWorld never_built;
  never_built.script.Reply(200, R"({"draft":{"codeHash":"abc"}})");
  EXPECT_EQ(RunIn(never_built, {"draft", "compile-logs", "hello"}), 1);
  EXPECT_TRUE(Contains(never_built.err.str(), "has not been built")) << never_built.err.str();

  FakeWorld json;
  json.script.Reply(200, SucceedingBuildStream());
  ASSERT_EQ(RunIn(json, {"draft", "compile-logs", "B9", "-o", "json"}), 0);
  EXPECT_EQ(json.out.str(),
            "{\"timestampMs\":\"4\",\"line\":\"building\",\"status\":\"BUILD_STATUS_RUNNING\"}\n"
            "{\"timestampMs\":\"6\",\"status\":\"BUILD_STATUS_SUCCEEDED\"}\n");

  FakeWorld missing;
  missing.script.Reply(404, R"({"code":5,"message":"build NOPE does not exist"})");
  EXPECT_EQ(RunIn(missing, {"draft", "compile-logs", "NOPE"}), 5);
  EXPECT_EQ(missing.err.str(), "Error: build NOPE does not exist\n");
}

TEST(Cli, LooksLikeAppRef) {
  EXPECT_TRUE(LooksLikeAppRef("org:hello"));
  EXPECT_TRUE(LooksLikeAppRef("org/hello"));
  EXPECT_TRUE(LooksLikeAppRef("hello"));
  EXPECT_TRUE(LooksLikeAppRef("hello.v2"));
  EXPECT_FALSE(LooksLikeAppRef(kDeployId));
  EXPECT_FALSE(LooksLikeAppRef("B1"));
}

TEST(Cli, DraftCancel) {
  FakeWorld w;
  w.script.Reply(200, R"({"status":"BUILD_STATUS_CANCELLED"})");
  ASSERT_EQ(RunIn(w, {"draft", "cancel", kDeployId}), 0) << w.err.str();
  ASSERT_EQ(w.script.sent.size(), 1u);
  EXPECT_EQ(w.script.sent[0].verb, http::Verb::post);
  EXPECT_EQ(w.script.sent[0].target, std::string("/v1/ignite/compile/") + kDeployId + "/cancel");
  EXPECT_EQ(w.script.sent[0].body, "{}");
  EXPECT_EQ(w.out.str(), std::string("Build ") + kDeployId + ": cancelled\n");

  FakeWorld app;
  app.script.Reply(200, R"({"draft":{"deployId":"B7","buildStatus":"BUILD_STATUS_PENDING","queuePosition":4}})");
  app.script.Reply(200, R"({"status":"BUILD_STATUS_CANCELLED"})");
  ASSERT_EQ(RunIn(app, {"draft", "cancel", "hello", "-o", "json"}), 0) << app.err.str();
  EXPECT_EQ(app.script.sent[0].target, "/v1/ignite/app/org/hello/draft");
  EXPECT_EQ(app.script.sent[1].target, "/v1/ignite/compile/B7/cancel");
  EXPECT_EQ(nlohmann::json::parse(app.out.str())["status"], "BUILD_STATUS_CANCELLED");

  // --deploy-id: the argument is a deploy id even though it reads like an app name.
  FakeWorld forced;
  forced.script.Reply(200, R"({"status":"BUILD_STATUS_SUCCEEDED"})");
  ASSERT_EQ(RunIn(forced, {"draft", "cancel", "hello", "--deploy-id"}), 0);
  EXPECT_EQ(forced.script.sent[0].target, "/v1/ignite/compile/hello/cancel");
  EXPECT_EQ(forced.out.str(), "Build hello: succeeded\n");

  FakeWorld no_draft;
  no_draft.script.Reply(200, "{}");
  EXPECT_EQ(RunIn(no_draft, {"draft", "cancel", "hello"}), 1);
  EXPECT_TRUE(Contains(no_draft.err.str(), "has no draft"));
  EXPECT_EQ(no_draft.script.sent.size(), 1u);
}

TEST(Cli, DraftInfoShowsQueuePositionAndBuildState) {
  FakeWorld w;
  w.script.Reply(200, R"({"draft":{"status":"VERSION_STATUS_DRAFT","codeHash":"abc","deployId":"B1",
      "buildStatus":"BUILD_STATUS_PENDING","queuePosition":2}})");
  ASSERT_EQ(RunIn(w, {"draft", "info", "hello"}), 0);
  EXPECT_TRUE(Contains(w.out.str(), "Build status:    pending\n")) << w.out.str();
  EXPECT_TRUE(Contains(w.out.str(), "Queue position:  2\n")) << w.out.str();
  EXPECT_TRUE(Contains(w.out.str(), "Deploy id:       B1\n")) << w.out.str();
}

TEST(Cli, DraftTestAndVersionTestUseTheInvokePath) {
  // Same output rules as invoke: the body's bytes exactly, the raw payload as the request body.
  FakeWorld d;
  d.script.Reply(200, InvokeStream(200, "/wAB"));  // ff 00 01
  std::string payload("{\"bin\":\"\x01\xfe\"}");
  ASSERT_EQ(RunIn(d, {"draft", "test", "org:hello", "-p", payload, "-H", "X-Trace: abc"}), 0) << d.err.str();
  ASSERT_EQ(d.script.sent.size(), 1u);
  EXPECT_EQ(d.script.sent[0].verb, http::Verb::post);
  EXPECT_EQ(d.script.sent[0].target, "/v1/ignite/app/org/hello/draft/test");
  EXPECT_EQ(d.script.sent[0].body, payload);
  EXPECT_EQ(d.script.sent[0].Header("X-Trace"), "abc");
  EXPECT_EQ(d.script.sent[0].Header("Content-Type"), "application/octet-stream");
  EXPECT_EQ(d.script.sent[0].Header("Accept"), "application/x-ndjson");
  EXPECT_EQ(d.out.str(), std::string("\xff\x00\x01", 3));
  EXPECT_EQ(d.err.str(), "");

  FakeWorld v;
  v.fs.AddFile("in.json", "{\"a\":1}");
  v.script.Reply(200, InvokeStream(200, "eyJncmVldGluZyI6ImhpIn0="));
  ASSERT_EQ(RunIn(v, {"version", "test", "hello", "3", "--payload-file", "in.json"}), 0) << v.err.str();
  EXPECT_EQ(v.script.sent[0].target, "/v1/ignite/app/org/hello/versions/3/test");
  EXPECT_EQ(v.script.sent[0].body, "{\"a\":1}");
  EXPECT_EQ(v.out.str(), "{\"greeting\":\"hi\"}");

  // A handler error: body still printed, exit 1.
  FakeWorld failed;
  failed.script.Reply(200, InvokeStream(500, "eyJlcnJvciI6ImJvb20ifQ=="));
  EXPECT_EQ(RunIn(failed, {"draft", "test", "hello"}), 1);
  EXPECT_EQ(failed.out.str(), "{\"error\":\"boom\"}");
  EXPECT_EQ(failed.err.str(), "Error: the function returned HTTP 500 (execution 01EXEC)\n");

  // -o json: the invoke object.
  FakeWorld j;
  j.script.Reply(200, InvokeStream(200, "eyJncmVldGluZyI6ImhpIn0="));
  ASSERT_EQ(RunIn(j, {"version", "test", "hello", "1", "-o", "json"}), 0);
  auto out = nlohmann::json::parse(j.out.str());
  EXPECT_EQ(out["executionId"], "01EXEC");
  EXPECT_EQ(out["body"], "{\"greeting\":\"hi\"}");
  EXPECT_EQ(out["coldStart"], true);

  // A build failure answered before any frame is an ordinary API error.
  FakeWorld build_failed;
  build_failed.script.Reply(400, R"({"code":3,"message":"./main.go:3:1: syntax error"})");
  EXPECT_EQ(RunIn(build_failed, {"draft", "test", "hello"}), 2);
  EXPECT_EQ(build_failed.err.str(), "Error: ./main.go:3:1: syntax error\n");

  FakeWorld bad;
  EXPECT_EQ(RunIn(bad, {"version", "test", "hello", "0"}), 1);
  EXPECT_EQ(RunIn(bad, {"draft", "test", "hello", "-p", "x", "--payload-file", "f"}), 1);
  EXPECT_TRUE(bad.script.sent.empty());
}

std::string CodeResponse(const std::string& bytes_b64, int version) {
  return R"({"sourceCode":")" + bytes_b64 + R"(","codeHash":"c0ffee","fileName":"code.tar.gz","version":)" +
         std::to_string(version) + "}";
}

TEST(Cli, VersionCodeDefaultsToTheActiveVersionAndWritesRawBytes) {
  FakeWorld w;
  w.script.Reply(200, R"({"app":{"name":"hello","activeVersion":4}})");
  w.script.Reply(200, CodeResponse("H4sI/wAB", 4));  // 1f 8b 08 ff 00 01
  ASSERT_EQ(RunIn(w, {"version", "code", "org:hello"}), 0) << w.err.str();
  ASSERT_EQ(w.script.sent.size(), 2u);
  EXPECT_EQ(w.script.sent[0].target, "/v1/ignite/app/org/hello");
  EXPECT_EQ(w.script.sent[1].verb, http::Verb::get);
  EXPECT_EQ(w.script.sent[1].target, "/v1/ignite/app/org/hello/code/versions/4");
  EXPECT_EQ(w.out.str(), std::string("\x1f\x8b\x08\xff\x00\x01", 6));
  EXPECT_EQ(w.err.str(), "");

  FakeWorld draft;
  draft.script.Reply(200, CodeResponse("cGFja2FnZSBtYWluCg==", 0));
  ASSERT_EQ(RunIn(draft, {"version", "code", "hello", "--version", "0", "-O", "out/main.go"}), 0) << draft.err.str();
  ASSERT_EQ(draft.script.sent.size(), 1u);  // an explicit version needs no app lookup
  EXPECT_EQ(draft.script.sent[0].target, "/v1/ignite/app/org/hello/code/versions/0");
  EXPECT_EQ(draft.out.str(), "");
  EXPECT_EQ(*draft.fs.ReadFile("out/main.go"), "package main\n");
  EXPECT_EQ(draft.err.str(), "Wrote 13 bytes (code.tar.gz, sha256 c0ffee) to out/main.go\n");

  FakeWorld none;
  none.script.Reply(200, R"({"app":{"name":"hello"}})");
  EXPECT_EQ(RunIn(none, {"version", "code", "hello"}), 1);
  EXPECT_TRUE(Contains(none.err.str(), "no active version"));

  FakeWorld missing;
  missing.script.Reply(404, R"({"code":5,"message":"org/hello has no version 9"})");
  EXPECT_EQ(RunIn(missing, {"version", "code", "hello", "--version", "9"}), 5);
  EXPECT_EQ(missing.out.str(), "");
}

TEST(Cli, VersionCodeRefusesATerminalAndJsonGivesMetadata) {
  FakeWorld tty;
  tty.stdout_is_terminal = true;
  EXPECT_EQ(RunIn(tty, {"version", "code", "hello", "--version", "2"}), 1);
  EXPECT_TRUE(Contains(tty.err.str(), "-O")) << tty.err.str();
  EXPECT_TRUE(tty.script.sent.empty());
  EXPECT_EQ(tty.out.str(), "");

  // With -O, or -O -, a terminal is fine.
  FakeWorld tty_file;
  tty_file.stdout_is_terminal = true;
  tty_file.script.Reply(200, CodeResponse("/wAB", 2));
  ASSERT_EQ(RunIn(tty_file, {"version", "code", "hello", "--version", "2", "--output-file", "c.tgz"}), 0);
  EXPECT_EQ(*tty_file.fs.ReadFile("c.tgz"), std::string("\xff\x00\x01", 3));

  FakeWorld j;
  j.stdout_is_terminal = true;
  j.script.Reply(200, CodeResponse("/wAB", 2));
  ASSERT_EQ(RunIn(j, {"version", "code", "hello", "--version", "2", "-o", "json"}), 0) << j.err.str();
  auto out = nlohmann::json::parse(j.out.str());
  EXPECT_FALSE(out.contains("sourceCode"));
  EXPECT_EQ(out["version"], 2);
  EXPECT_EQ(out["fileName"], "code.tar.gz");
  EXPECT_EQ(out["codeHash"], "c0ffee");
  EXPECT_EQ(out["sizeBytes"], 3);
  EXPECT_EQ(j.err.str(), "");

  FakeWorld bad;
  EXPECT_EQ(RunIn(bad, {"version", "code", "hello", "--version", "-1"}), 1);
  EXPECT_EQ(RunIn(bad, {"version", "code", "hello", "-O", "-", "-o", "json"}), 1);
  EXPECT_TRUE(bad.script.sent.empty());
}

TEST(ChooseCodeDestination, Rules) {
  auto d = ChooseCodeDestination(OutputFormat::kTable, "", false);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->raw_stdout && !d->file && !d->json);
  EXPECT_FALSE(ChooseCodeDestination(OutputFormat::kTable, "", true).ok());
  d = ChooseCodeDestination(OutputFormat::kTable, "-", true);
  EXPECT_TRUE(d->raw_stdout && !d->file && !d->json);
  d = ChooseCodeDestination(OutputFormat::kTable, "a.zip", true);
  EXPECT_TRUE(!d->raw_stdout && d->file && !d->json);
  d = ChooseCodeDestination(OutputFormat::kJson, "", true);
  EXPECT_TRUE(!d->raw_stdout && !d->file && d->json);
  d = ChooseCodeDestination(OutputFormat::kJson, "a.zip", false);
  EXPECT_TRUE(!d->raw_stdout && d->file && d->json);
  EXPECT_FALSE(ChooseCodeDestination(OutputFormat::kJson, "-", false).ok());
}

TEST(Cli, AppLogs) {
  FakeWorld w;
  w.script.Reply(200, R"({"lines":[
      {"timestampMs":"1716900000123","replicaId":"r-1","stream":"stderr","executionId":"01EXEC",
       "message":"hello from main.go:12\n"},
      {"timestampMs":"1716900000500","replicaId":"r-1","stream":"stdout","message":"listening"}]})");
  ASSERT_EQ(RunIn(w, {"app", "logs", "org:hello", "--limit", "50", "--replica", "r-1", "--execution", "01EXEC"}), 0)
      << w.err.str();
  EXPECT_EQ(w.script.sent[0].verb, http::Verb::get);
  EXPECT_EQ(w.script.sent[0].target, "/v1/ignite/app/org/hello/logs?limit=50&replica_id=r-1&execution_id=01EXEC");
  EXPECT_EQ(w.out.str(),
            "2024-05-28T12:40:00.123Z r-1 01EXEC hello from main.go:12\n"
            "2024-05-28T12:40:00.500Z r-1 - listening\n");

  FakeWorld plain;
  plain.script.Reply(200, "{}");
  ASSERT_EQ(RunIn(plain, {"fn", "logs", "hello"}), 0);
  EXPECT_EQ(plain.script.sent[0].target, "/v1/ignite/app/org/hello/logs");
  EXPECT_EQ(plain.out.str(), "");

  FakeWorld j;
  j.script.Reply(200, R"({"lines":[{"timestampMs":"5","message":"m"}]})");
  ASSERT_EQ(RunIn(j, {"app", "logs", "hello", "-o", "json"}), 0);
  EXPECT_EQ(nlohmann::json::parse(j.out.str())["lines"][0]["message"], "m");
}

TEST(Cli, AppUpdateSendsOnlyTheFlagsGiven) {
  FakeWorld w;
  w.script.Reply(200, R"({"app":{"id":"org/hello","description":"d","maxConcurrency":0}})");
  ASSERT_EQ(RunIn(w, {"app", "update", "hello", "--description", "d", "--max-concurrency", "0", "--timeout-secs",
                    "30", "--env", "A=1"}),
            0)
      << w.err.str();
  EXPECT_EQ(w.script.sent[0].verb, http::Verb::patch);
  EXPECT_EQ(w.script.sent[0].target, "/v1/ignite/app/org/hello/config");
  auto body = nlohmann::json::parse(w.script.sent[0].body);
  EXPECT_EQ(body, nlohmann::json::parse(
                      R"({"description":"d","max_concurrency":0,"limits":{"timeout_secs":30},"env":{"A":"1"}})"));
  EXPECT_TRUE(Contains(w.out.str(), "Updated app org/hello"));

  FakeWorld none;
  EXPECT_EQ(RunIn(none, {"app", "update", "hello"}), 1);
  EXPECT_TRUE(none.script.sent.empty());
  EXPECT_TRUE(Contains(none.err.str(), "nothing to update"));

  FakeWorld bad;
  EXPECT_EQ(RunIn(bad, {"app", "update", "hello", "--env", "NOEQUALS"}), 1);
  EXPECT_TRUE(bad.script.sent.empty());
}

TEST(Cli, AppStateAndReplicas) {
  const char* replicas = R"({"replicaId":"hello-01AB","version":2,"state":"ready","inflight":0,
      "startedAtMs":"1716900000000","lastUsedAtMs":"1716900000500","pid":4242})";
  FakeWorld w;
  w.script.Reply(200, std::string(R"({"deploymentState":"DEPLOYMENT_STATE_ACTIVE","activeVersion":2,)") +
                          R"("liveReplicas":1,"replicas":[)" + replicas + "]}");
  ASSERT_EQ(RunIn(w, {"app", "state", "org:hello"}), 0) << w.err.str();
  EXPECT_EQ(w.script.sent[0].verb, http::Verb::get);
  EXPECT_EQ(w.script.sent[0].target, "/v1/ignite/app/org/hello/state");
  EXPECT_TRUE(Contains(w.out.str(), "Active version:    2")) << w.out.str();
  EXPECT_TRUE(Contains(w.out.str(), "Live replicas:     1")) << w.out.str();
  EXPECT_TRUE(Contains(w.out.str(), "hello-01AB")) << w.out.str();

  FakeWorld r;
  r.script.Reply(200, std::string(R"({"replicas":[)") + replicas + "]}");
  ASSERT_EQ(RunIn(r, {"app", "replicas", "hello"}), 0) << r.err.str();
  EXPECT_EQ(r.script.sent[0].target, "/v1/ignite/app/org/hello/replicas");
  EXPECT_TRUE(Contains(r.out.str(), "REPLICA")) << r.out.str();
  EXPECT_TRUE(Contains(r.out.str(), "4242"));
  EXPECT_TRUE(Contains(r.out.str(), "2024-05-28 12:40:00 UTC")) << r.out.str();

  FakeWorld j;
  j.script.Reply(200, std::string(R"({"replicas":[)") + replicas + "]}");
  ASSERT_EQ(RunIn(j, {"app", "replicas", "hello", "-o", "json"}), 0);
  EXPECT_EQ(nlohmann::json::parse(j.out.str())["replicas"][0]["pid"], 4242);

  FakeWorld empty;
  empty.script.Reply(200, "{}");
  ASSERT_EQ(RunIn(empty, {"app", "replicas", "hello"}), 0);
  EXPECT_TRUE(Contains(empty.out.str(), "No replicas"));
}

// ---- Asynchronous invocation and executions ----

constexpr const char* kExecId = "01J9Z3V7K2M4X8Q5R6T7W8Y9ZB";

std::string ExecLine(const std::string& json_execution) { return "{\"result\":" + json_execution + "}\n"; }

TEST(Cli, InvokeAsyncPrintsTheExecutionId) {
  FakeWorld w;
  w.script.Reply(200, R"({"executionId":"01J9Z3V7K2M4X8Q5R6T7W8Y9ZB"})");
  ASSERT_EQ(RunIn(w, {"invoke", "org:hello", "--async", "-p", "{\"n\":1}", "-H", "X-Trace: t"}), 0) << w.err.str();
  EXPECT_EQ(w.out.str(), std::string(kExecId) + "\n");
  EXPECT_TRUE(Contains(w.err.str(), "execution watch 01J9Z3V7K2M4X8Q5R6T7W8Y9ZB"));
  ASSERT_EQ(w.script.sent.size(), 1u);
  EXPECT_EQ(w.script.sent[0].verb, http::Verb::post);
  EXPECT_EQ(w.script.sent[0].target, "/v1/ignite/app/org/hello/invoke-async");
  EXPECT_EQ(w.script.sent[0].body, "{\"n\":1}");  // raw payload, like invoke
  EXPECT_EQ(w.script.sent[0].Header("Content-Type"), "application/octet-stream");
  EXPECT_EQ(w.script.sent[0].Header("X-Trace"), "t");

  FakeWorld j;
  j.script.Reply(200, R"({"executionId":"01J9Z3V7K2M4X8Q5R6T7W8Y9ZB"})");
  ASSERT_EQ(RunIn(j, {"invoke", "hello", "--async", "-o", "json"}), 0);
  EXPECT_EQ(nlohmann::json::parse(j.out.str())["executionId"], kExecId);

  FakeWorld unpublished;
  unpublished.script.Reply(400, R"({"code":9,"message":"org/hello has no published version to invoke"})");
  EXPECT_EQ(RunIn(unpublished, {"invoke", "hello", "--async"}), 1);
  EXPECT_TRUE(Contains(unpublished.err.str(), "no published version"));
}

TEST(Cli, ExecutionGetShowsMetadataAndOutput) {
  FakeWorld w;
  // output: {"ok":true}
  w.script.Reply(200, R"({"execution":{"executionId":"01J9Z3V7K2M4X8Q5R6T7W8Y9ZB","appId":"org/hello",
      "version":2,"status":"EXECUTION_STATUS_SUCCEEDED","responseStatus":200,"output":"eyJvayI6dHJ1ZX0=",
      "coldStart":true,"createdAtMs":"1716900000000","startedAtMs":"1716900000100",
      "finishedAtMs":"1716900001100","durationMs":"1000"}})");
  ASSERT_EQ(RunIn(w, {"execution", "get", kExecId}), 0) << w.err.str();
  EXPECT_EQ(w.script.sent[0].verb, http::Verb::get);
  EXPECT_EQ(w.script.sent[0].target, "/v1/ignite/executions/01J9Z3V7K2M4X8Q5R6T7W8Y9ZB");
  const std::string out = w.out.str();
  for (const char* want : {"Execution:", "org/hello", "succeeded", "Response status:", "200", "1000 ms",
                           "Cold start:", "yes", "Output:\n{\"ok\":true}\n"}) {
    EXPECT_TRUE(Contains(out, want)) << want << "\n" << out;
  }
  EXPECT_FALSE(Contains(out, "Error:"));

  FakeWorld failed;
  failed.script.Reply(200, R"({"execution":{"executionId":"x","status":"EXECUTION_STATUS_FAILED",
      "responseStatus":500,"error":"no such customer","output":"/wAB","startedAtMs":"5"}})");
  ASSERT_EQ(RunIn(failed, {"exec", "get", "x"}), 0);  // get reports; it does not fail
  EXPECT_TRUE(Contains(failed.out.str(), "failed"));
  EXPECT_TRUE(Contains(failed.out.str(), "Error:"));
  EXPECT_TRUE(Contains(failed.out.str(), "no such customer"));
  EXPECT_TRUE(Contains(failed.out.str(), "Output: 3 B of binary data")) << failed.out.str();

  FakeWorld j;
  j.script.Reply(200, R"({"execution":{"executionId":"x","status":"EXECUTION_STATUS_RUNNING"}})");
  ASSERT_EQ(RunIn(j, {"execution", "get", "x", "-o", "json"}), 0);
  EXPECT_EQ(nlohmann::json::parse(j.out.str())["execution"]["status"], "EXECUTION_STATUS_RUNNING");

  FakeWorld missing;
  missing.script.Reply(404, R"({"code":5,"message":"execution x does not exist"})");
  EXPECT_EQ(RunIn(missing, {"execution", "get", "x"}), 5);
}

TEST(Cli, ExecutionWatchPrintsEachStateAndExitsByOutcome) {
  FakeWorld w;
  w.script.Reply(200, ExecLine(R"({"executionId":"e","status":"EXECUTION_STATUS_PENDING","createdAtMs":"1716900000000"})") +
                          ExecLine(R"({"executionId":"e","status":"EXECUTION_STATUS_RUNNING",)"
                                   R"("createdAtMs":"1716900000000","startedAtMs":"1716900000100"})") +
                          ExecLine(R"({"executionId":"e","status":"EXECUTION_STATUS_SUCCEEDED","responseStatus":200,)"
                                   R"("startedAtMs":"1716900000100","finishedAtMs":"1716900001104",)"
                                   R"("durationMs":"1004","coldStart":true})"));
  ASSERT_EQ(RunIn(w, {"execution", "watch", "e"}), 0) << w.err.str();
  EXPECT_EQ(w.script.sent[0].target, "/v1/ignite/executions/e/watch");
  EXPECT_EQ(w.timeout_used, std::chrono::milliseconds(0));  // the server ends the stream
  EXPECT_EQ(w.out.str(),
            "2024-05-28T12:40:00.000Z pending\n"
            "2024-05-28T12:40:00.100Z running\n"
            "2024-05-28T12:40:01.104Z succeeded (HTTP 200, 1004 ms, cold start)\n");

  FakeWorld failed;
  failed.script.Reply(200, ExecLine(R"({"executionId":"e","status":"EXECUTION_STATUS_TIMED_OUT","responseStatus":504,)"
                                    R"("startedAtMs":"1","finishedAtMs":"2","durationMs":"1000","error":"too slow"})"));
  EXPECT_EQ(RunIn(failed, {"exec", "watch", "e"}), 1);
  EXPECT_TRUE(Contains(failed.out.str(), "timed out (HTTP 504, 1000 ms): too slow")) << failed.out.str();
  EXPECT_EQ(failed.err.str(), "Error: execution e timed out: too slow\n");

  FakeWorld json;
  json.script.Reply(200, ExecLine(R"({"executionId":"e","status":"EXECUTION_STATUS_RUNNING"})") +
                             ExecLine(R"({"executionId":"e","status":"EXECUTION_STATUS_FAILED","error":"x"})"));
  EXPECT_EQ(RunIn(json, {"execution", "watch", "e", "-o", "json"}), 1);
  std::istringstream lines(json.out.str());
  std::string line;
  std::vector<std::string> statuses;
  while (std::getline(lines, line)) statuses.push_back(nlohmann::json::parse(line)["status"]);
  EXPECT_EQ(statuses, (std::vector<std::string>{"EXECUTION_STATUS_RUNNING", "EXECUTION_STATUS_FAILED"}));

  FakeWorld cut;
  cut.script.Reply(200, ExecLine(R"({"executionId":"e","status":"EXECUTION_STATUS_RUNNING"})"));
  EXPECT_EQ(RunIn(cut, {"execution", "watch", "e"}), 1);
  EXPECT_TRUE(Contains(cut.err.str(), "ended before the execution finished"));

  FakeWorld broken;
  broken.script.Reply(200, ExecLine(R"({"executionId":"e","status":"EXECUTION_STATUS_RUNNING"})") +
                               "{\"error\":{\"code\":14,\"message\":\"gone\"}}\n");
  EXPECT_EQ(RunIn(broken, {"execution", "watch", "e"}), 9);
}

TEST(Cli, ExecutionLogsLooksUpTheAppAndFiltersByTheHandlersId) {
  FakeWorld w;
  w.script.Reply(200, R"({"execution":{"executionId":"E1","appId":"acme/worker","status":"EXECUTION_STATUS_SUCCEEDED",
      "invocationId":"INV1"}})");
  w.script.Reply(200, R"({"lines":[{"timestampMs":"1716900000123","replicaId":"r-1","executionId":"INV1",
      "message":"working\n"}]})");
  ASSERT_EQ(RunIn(w, {"execution", "logs", "E1", "--limit", "10"}), 0) << w.err.str();
  ASSERT_EQ(w.script.sent.size(), 2u);
  EXPECT_EQ(w.script.sent[0].target, "/v1/ignite/executions/E1");
  EXPECT_EQ(w.script.sent[1].target, "/v1/ignite/app/acme/worker/logs?limit=10&execution_id=INV1");
  EXPECT_EQ(w.out.str(), "2024-05-28T12:40:00.123Z r-1 INV1 working\n");

  FakeWorld same;  // without a separate handler id, the execution's own id filters
  same.script.Reply(200, R"({"execution":{"executionId":"E2","appId":"acme/worker"}})");
  same.script.Reply(200, "{}");
  ASSERT_EQ(RunIn(same, {"exec", "logs", "E2"}), 0);
  EXPECT_EQ(same.script.sent[1].target, "/v1/ignite/app/acme/worker/logs?execution_id=E2");
}

TEST(Cli, ExecutionGroupHasHelp) {
  FakeWorld w;
  EXPECT_EQ(RunIn(w, {"exec", "--help"}), 0);
  for (const char* cmd : {"get", "watch", "logs"}) EXPECT_TRUE(Contains(w.out.str(), cmd)) << cmd;
  FakeWorld none;
  EXPECT_EQ(RunIn(none, {"execution"}), 1);
}

TEST(Cli, BadTimeoutIsALocalError) {
  FakeWorld w;
  EXPECT_EQ(RunIn(w, {"app", "list", "--timeout", "soon"}), 1);
  EXPECT_TRUE(Contains(w.err.str(), "--timeout"));
}

}  // namespace
}  // namespace ignite::cli
