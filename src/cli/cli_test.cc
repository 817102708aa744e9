// The command layer end to end against fakes: parsing, app ids, settings, output and exit codes.
#include "cli/cli.h"

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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
  EXPECT_EQ(RunIn(w5, Program::kDodil, {"login", "id", "secret"}), 1);
  EXPECT_TRUE(Contains(w5.err.str(), "not supported yet"));
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
  EXPECT_EQ(RunIn(w, {"app", "list", "-o", "yaml"}), 1);
  EXPECT_TRUE(Contains(w.err.str(), "not supported yet"));
  EXPECT_TRUE(w.script.sent.empty());

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

TEST(Cli, BadTimeoutIsALocalError) {
  FakeWorld w;
  EXPECT_EQ(RunIn(w, {"app", "list", "--timeout", "soon"}), 1);
  EXPECT_TRUE(Contains(w.err.str(), "--timeout"));
}

}  // namespace
}  // namespace ignite::cli
