// The CLI's own surface against fakes: --help on every command, global flags (-o yaml|wide, --debug,
// --org-name), `config set|view`, `login` (both forms) and `completion bash`.
#include <functional>

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "cli/cli.h"
#include "cli/test_fakes.h"

namespace ignite::cli {
namespace {

using fakes::FakeWorld;

int Exec(FakeWorld& world, Program program, const std::vector<std::string>& args) {
  world.out.str("");
  world.err.str("");
  return RunCli(program, args, world.Io());
}
int Exec(FakeWorld& world, const std::vector<std::string>& args) { return Exec(world, Program::kIgnite, args); }

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Every command path of the program's tree ({"app", "create"}, ...), the root's included as {}.
std::vector<std::vector<std::string>> CommandPaths(Program program) {
  FakeWorld world;
  CommandContext ctx(world.Io());
  std::unique_ptr<CLI::App> root = BuildCli(program, ctx);
  std::vector<std::vector<std::string>> paths;
  std::function<void(const CLI::App&, std::vector<std::string>)> walk = [&](const CLI::App& app,
                                                                           std::vector<std::string> path) {
    paths.push_back(path);
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
      std::vector<std::string> child = path;
      child.push_back(sub->get_name());
      walk(*sub, child);
    }
  };
  walk(*root, {});
  return paths;
}

TEST(CliHelp, EveryCommandAndSubcommandHasHelp) {
  for (Program program : {Program::kIgnite, Program::kDodil}) {
    auto paths = CommandPaths(program);
    EXPECT_GT(paths.size(), 30u);
    for (const auto& path : paths) {
      std::string name;
      for (const auto& p : path) name += p + " ";
      FakeWorld w;
      std::vector<std::string> args = path;
      args.push_back("--help");
      EXPECT_EQ(Exec(w, program, args), 0) << name << w.err.str();
      EXPECT_TRUE(Contains(w.out.str(), "Usage:")) << name << w.out.str();
      EXPECT_TRUE(Contains(w.out.str(), "--output")) << name;  // the global flags are everywhere
      EXPECT_TRUE(Contains(w.out.str(), "--debug")) << name;
      EXPECT_TRUE(w.script.sent.empty()) << name;
    }
  }
}

TEST(CliHelp, GroupsAndAliasesOfTheReference) {
  auto paths = CommandPaths(Program::kDodil);
  auto has = [&](std::vector<std::string> p) { return std::find(paths.begin(), paths.end(), p) != paths.end(); };
  for (const char* group : {"app", "draft", "version", "invoke", "execution", "config", "login"}) {
    EXPECT_TRUE(has({"ignite", group})) << group;
  }
  EXPECT_TRUE(has({"login"}));
  EXPECT_TRUE(has({"completion", "bash"}));
  EXPECT_TRUE(has({"ignite", "config", "set"}));
  EXPECT_TRUE(has({"ignite", "config", "view"}));
  // Aliases reach the same commands.
  for (std::vector<std::string> alias : {std::vector<std::string>{"function", "list"}, {"fn", "list"},
                                         {"exec", "get"}, {"draft", "status"}}) {
    FakeWorld w;
    alias.push_back("--help");
    EXPECT_EQ(Exec(w, alias), 0) << alias[0] << " " << alias[1];
  }
}

TEST(GlobalFlags, YamlIsTheJsonAsYaml) {
  const char* reply = R"({"app":{"id":"org/hello","name":"hello","activeVersion":2,"createdAtMs":"1716900000000",
      "deploymentState":"DEPLOYMENT_STATE_ACTIVE","env":{"A":"1"},"allowUnauthenticated":true}})";
  FakeWorld w;
  w.script.Reply(200, reply);
  w.script.Reply(200, reply);
  ASSERT_EQ(Exec(w, {"app", "get", "hello", "-o", "json"}), 0) << w.err.str();
  nlohmann::json json = nlohmann::json::parse(w.out.str());
  ASSERT_EQ(Exec(w, {"app", "get", "hello", "-o", "yaml"}), 0) << w.err.str();
  std::string yaml = w.out.str();
  EXPECT_TRUE(Contains(yaml, "createdAtMs: \"1716900000000\"")) << yaml;
  YAML::Node node = YAML::Load(yaml);
  EXPECT_EQ(node["app"]["id"].as<std::string>(), json["app"]["id"]);
  EXPECT_EQ(node["app"]["activeVersion"].as<int>(), json["app"]["activeVersion"]);
  EXPECT_EQ(node["app"]["createdAtMs"].as<std::string>(), json["app"]["createdAtMs"]);
  EXPECT_EQ(node["app"]["env"]["A"].as<std::string>(), "1");
  EXPECT_TRUE(node["app"]["allowUnauthenticated"].as<bool>());
}

TEST(GlobalFlags, YamlStreamsOneDocumentPerItem) {
  FakeWorld w;
  w.script.Reply(200, R"({"deployId":"B2","status":"BUILD_STATUS_RUNNING"})");
  w.script.Reply(200,
                 "{\"result\":{\"timestampMs\":\"4\",\"line\":\"building\",\"status\":\"BUILD_STATUS_RUNNING\"}}\n"
                 "{\"result\":{\"timestampMs\":\"6\",\"status\":\"BUILD_STATUS_SUCCEEDED\"}}\n");
  ASSERT_EQ(Exec(w, {"draft", "compile", "hello", "--follow", "-o", "yaml"}), 0) << w.err.str();
  EXPECT_EQ(w.out.str(),
            "---\ndeployId: B2\nstatus: BUILD_STATUS_RUNNING\n"
            "---\ntimestampMs: \"4\"\nline: building\nstatus: BUILD_STATUS_RUNNING\n"
            "---\ntimestampMs: \"6\"\nstatus: BUILD_STATUS_SUCCEEDED\n");
  EXPECT_EQ(YAML::LoadAll(w.out.str()).size(), 3u);
}

TEST(GlobalFlags, WideAddsColumnsWhereThereIsMoreToShow) {
  const char* apps = R"({"apps":[{"id":"org/hello","name":"hello","runtime":{"go":{}},"activeVersion":2,
      "deploymentState":"DEPLOYMENT_STATE_ACTIVE","createdAtMs":"1716900000000","updatedAtMs":"1716900060000",
      "resourceTier":"RESOURCE_TIER_MEDIUM","description":"Says hello"}]})";
  FakeWorld w;
  w.script.Reply(200, apps);
  ASSERT_EQ(Exec(w, {"app", "list", "-o", "wide"}), 0) << w.err.str();
  EXPECT_EQ(w.out.str(),
            "NAME    RUNTIME   ACTIVE   STATE    CREATED                   TIER     UPDATED                   "
            "DESCRIPTION\n"
            "hello   go        2        active   2024-05-28 12:40:00 UTC   medium   2024-05-28 12:41:00 UTC   "
            "Says hello\n");
  // Commands without more to show print their table.
  w.script.Reply(404, R"({"code":5,"message":"app org/x does not exist"})");
  EXPECT_EQ(Exec(w, {"app", "get", "x", "-o", "wide"}), 5);
  w.script.Reply(200, R"({"versions":[{"version":1,"status":"VERSION_STATUS_ACTIVE","codeHash":"0123456789abcdef0123",
      "runtime":{"go":{}},"artifactSizeBytes":"2048","buildId":"B1","createdAtMs":"1716900000000"}]})");
  ASSERT_EQ(Exec(w, {"version", "list", "hello", "-o", "wide"}), 0) << w.err.str();
  EXPECT_TRUE(Contains(w.out.str(), "0123456789abcdef0123   2024-05-28 12:40:00 UTC   go        2.0 KiB    B1"))
      << w.out.str();
}

TEST(GlobalFlags, DebugLogsEachExchangeToStderr) {
  FakeWorld w;
  w.script.Reply(404, R"({"code":5,"message":"app org/hello does not exist"})");
  EXPECT_EQ(Exec(w, {"app", "get", "hello", "--debug", "--token", "ign_abcdefgh1234"}), 5);
  const std::string err = w.err.str();
  EXPECT_TRUE(Contains(err, "debug: > GET /v1/ignite/app/org/hello")) << err;
  EXPECT_TRUE(Contains(err, "Authorization: Bearer ****1234")) << err;
  EXPECT_FALSE(Contains(err, "ign_abcdefgh1234")) << err;
  EXPECT_TRUE(Contains(err, "debug: < 404")) << err;
  EXPECT_TRUE(Contains(err, "TLS is not used")) << err;
  EXPECT_EQ(w.out.str(), "");

  FakeWorld quiet;
  quiet.script.Reply(200, "{}");
  ASSERT_EQ(Exec(quiet, {"app", "get", "hello"}), 0);
  EXPECT_FALSE(Contains(quiet.err.str(), "debug:"));

  FakeWorld env;
  env.env["IGNITE_DEBUG"] = "1";
  env.script.Reply(200, "{}");
  ASSERT_EQ(Exec(env, {"app", "get", "hello"}), 0);
  EXPECT_TRUE(Contains(env.err.str(), "debug: < 200")) << env.err.str();
}

TEST(GlobalFlags, OrgNameGivesTheOrganization) {
  FakeWorld w;
  w.script.Reply(200, "{}");
  w.script.Reply(200, "{}");
  ASSERT_EQ(Exec(w, {"app", "get", "hello", "--org-name", "team"}), 0) << w.err.str();
  ASSERT_EQ(Exec(w, {"--org-name", "team", "app", "get", "hello", "--org", "wins"}), 0) << w.err.str();
  EXPECT_EQ(w.script.sent[0].target, "/v1/ignite/app/team/hello");
  EXPECT_EQ(w.script.sent[1].target, "/v1/ignite/app/wins/hello");
}

TEST(ConfigCommands, SetWritesUnderIgniteAndViewShowsSources) {
  FakeWorld w;
  ASSERT_EQ(Exec(w, {"config", "set", "token", "ign_abcdefgh1234"}), 0) << w.err.str();
  const std::string path = "/home/u/.config/unified-cli/config.yaml";
  EXPECT_EQ(w.out.str(), "Set ignite.token = ****1234 in " + path + "\n");
  EXPECT_TRUE(w.fs.IsPrivate(path));
  ASSERT_EQ(Exec(w, Program::kDodil, {"ignite", "config", "set", "org_id", "acme"}), 0) << w.err.str();
  ASSERT_EQ(Exec(w, {"config", "set", "api_endpoint", "http://127.0.0.1:7999"}), 0) << w.err.str();
  EXPECT_EQ(*w.fs.ReadFile(path),
            "ignite:\n  token: ign_abcdefgh1234\n  org_id: acme\n  api_endpoint: http://127.0.0.1:7999\n");

  // The next command uses them.
  w.script.Reply(200, "{}");
  ASSERT_EQ(Exec(w, {"app", "list"}), 0) << w.err.str();
  EXPECT_EQ(w.endpoint_used, "http://127.0.0.1:7999");
  EXPECT_EQ(w.script.sent.back().target, "/v1/ignite/app/acme");
  EXPECT_EQ(w.script.sent.back().Header("Authorization"), "Bearer ign_abcdefgh1234");

  w.env["IGNITE_ORG_ID"] = "envorg";
  ASSERT_EQ(Exec(w, {"config", "view", "--api-endpoint", "127.0.0.1:1"}), 0) << w.err.str();
  EXPECT_EQ(w.out.str(),
            "KEY            VALUE         SOURCE\n"
            "api_endpoint   127.0.0.1:1   flag --api-endpoint\n"
            "org_id         envorg        env IGNITE_ORG_ID\n"
            "token          ****1234      file ignite.token\n"
            "\n"
            "Config file: " + path + "\n");
  ASSERT_EQ(Exec(w, {"config", "view", "-o", "json"}), 0) << w.err.str();
  nlohmann::json view = nlohmann::json::parse(w.out.str());
  EXPECT_EQ(view["configFile"], path);
  EXPECT_EQ(view["values"]["token"],
            (nlohmann::json{{"value", "****1234"}, {"source", "file"}, {"from", "ignite.token"}}));
  EXPECT_EQ(view["values"]["org_id"]["source"], "env");
  EXPECT_EQ(view["values"]["api_endpoint"]["source"], "file");
  EXPECT_TRUE(w.script.sent.size() == 1u);  // view and set never call the server
}

TEST(ConfigCommands, SetRejectsUnknownKeysAndBadValues) {
  FakeWorld w;
  EXPECT_EQ(Exec(w, {"config", "set", "endpoint", "x"}), 2);
  EXPECT_TRUE(Contains(w.err.str(), "unknown config key \"endpoint\": the keys are api_endpoint, org_id, token"))
      << w.err.str();
  EXPECT_EQ(Exec(w, {"config", "set", "org_id", "Bad_Org"}), 2);
  EXPECT_EQ(Exec(w, {"config", "set", "api_endpoint", "ftp://x"}), 2);
  EXPECT_EQ(Exec(w, {"config", "set", "token"}), 1);  // missing value: a CLI11 usage error
  EXPECT_FALSE(w.fs.IsRegularFile("/home/u/.config/unified-cli/config.yaml"));
}

TEST(ConfigCommands, SetWritesTheFileThatIsRead) {
  FakeWorld w;
  w.fs.AddFile("/home/u/.ignite/config.yaml", "# mine\nglobal:\n  token: g\nignite:\n  org_id: team\n");
  ASSERT_EQ(Exec(w, {"config", "set", "token", "t2"}), 0) << w.err.str();
  EXPECT_EQ(*w.fs.ReadFile("/home/u/.ignite/config.yaml"),
            "global:\n  token: g\nignite:\n  org_id: team\n  token: t2\n");
  EXPECT_FALSE(w.fs.IsRegularFile("/home/u/.config/unified-cli/config.yaml"));

  FakeWorld d;
  d.env["DODIL_CONFIG_DIR"] = "/tmp/cfg";  // need not exist yet
  ASSERT_EQ(Exec(d, {"config", "set", "org_id", "acme"}), 0) << d.err.str();
  EXPECT_TRUE(d.fs.IsDirectory("/tmp/cfg"));
  EXPECT_EQ(*d.fs.ReadFile("/tmp/cfg/config.yaml"), "ignite:\n  org_id: acme\n");
  ASSERT_EQ(Exec(d, {"config", "view"}), 0);
  EXPECT_TRUE(Contains(d.out.str(), "org_id         acme                    file ignite.org_id")) << d.out.str();

  FakeWorld c;
  ASSERT_EQ(Exec(c, {"config", "set", "org_id", "acme", "--config", "/etc/x.yaml"}), 0) << c.err.str();
  EXPECT_TRUE(c.fs.IsRegularFile("/etc/x.yaml"));
}

TEST(ConfigCommands, ViewWithoutAConfigFileSaysWhereSetWouldWrite) {
  FakeWorld w;
  ASSERT_EQ(Exec(w, {"config", "view"}), 0) << w.err.str();
  EXPECT_EQ(w.out.str(),
            "KEY            VALUE                   SOURCE\n"
            "api_endpoint   http://127.0.0.1:7070   default\n"
            "org_id         org                     default\n"
            "token          -                       unset\n"
            "\n"
            "Config file: none (`config set` would create /home/u/.config/unified-cli/config.yaml)\n");
}

TEST(Login, DirectTokenLoginStoresTheGivenValues) {
  FakeWorld w;
  ASSERT_EQ(Exec(w, {"login", "--token", "ign_abcdefgh1234", "--api-endpoint", "127.0.0.1:7999", "--org", "acme"}), 0)
      << w.err.str();
  const std::string path = "/home/u/.config/unified-cli/config.yaml";
  EXPECT_EQ(w.out.str(), "Saved token, api_endpoint, org_id in " + path + "\n");
  EXPECT_EQ(*w.fs.ReadFile(path),
            "ignite:\n  token: ign_abcdefgh1234\n  api_endpoint: 127.0.0.1:7999\n  org_id: acme\n");
  EXPECT_TRUE(w.fs.IsPrivate(path));
  EXPECT_TRUE(w.script.sent.empty());
  // dodil ignite login is the same command.
  ASSERT_EQ(Exec(w, Program::kDodil, {"ignite", "login", "--token", "t3"}), 0) << w.err.str();
  EXPECT_TRUE(Contains(*w.fs.ReadFile(path), "token: t3"));
  EXPECT_TRUE(Contains(*w.fs.ReadFile(path), "org_id: acme"));
  EXPECT_EQ(Exec(w, {"login", "--token", "t", "--org", "Bad_Org"}), 2);
}

TEST(Login, ServiceAccountLoginExchangesAndStoresTheToken) {
  FakeWorld w;
  w.env["DODIL_CONFIG_DIR"] = "/cfg";
  w.env["DODIL_TOKEN"] = "ambient";  // never sent by login
  w.script.Reply(200, R"({"accessToken":"ign_issued_9876","tokenType":"Bearer","expiresAtMs":"1716903600000",
      "organizationId":"01ORG","organizationName":"acme","role":"app-developer"})");
  ASSERT_EQ(Exec(w, Program::kDodil, {"login", "sa_1", "s3cret", "--api-endpoint", "127.0.0.1:7999"}), 0)
      << w.err.str();
  ASSERT_EQ(w.script.sent.size(), 1u);
  EXPECT_EQ(w.script.sent[0].target, "/v1/ignite/auth/token");
  EXPECT_EQ(w.script.sent[0].Header("Authorization"), "");
  EXPECT_EQ(nlohmann::json::parse(w.script.sent[0].body),
            (nlohmann::json{{"serviceAccountId", "sa_1"}, {"secret", "s3cret"}}));
  EXPECT_EQ(w.endpoint_used, "127.0.0.1:7999");
  EXPECT_EQ(w.out.str(),
            "Logged in to 127.0.0.1:7999 as service account sa_1 in organization acme (role app-developer).\n"
            "The token expires at 2024-05-28 13:40:00 UTC; run `dodil login` again after that.\n"
            "Saved token, org_id and api_endpoint in /cfg/config.yaml\n");
  EXPECT_EQ(*w.fs.ReadFile("/cfg/config.yaml"),
            "ignite:\n  token: ign_issued_9876\n  api_endpoint: 127.0.0.1:7999\n  org_id: acme\n");
  EXPECT_TRUE(w.fs.IsPrivate("/cfg/config.yaml"));

  // The next command needs no --token (with no ambient DODIL_TOKEN).
  w.env.erase("DODIL_TOKEN");
  w.script.Reply(200, "{}");
  ASSERT_EQ(Exec(w, Program::kDodil, {"ignite", "app", "list"}), 0) << w.err.str();
  EXPECT_EQ(w.script.sent[1].target, "/v1/ignite/app/acme");
  EXPECT_EQ(w.script.sent[1].Header("Authorization"), "Bearer ign_issued_9876");

  // -o json: the confirmation with the expiry, never the token.
  w.script.Reply(200, R"({"accessToken":"ign_issued_9876","expiresAtMs":"1716903600000","organizationId":"01ORG",
      "organizationName":"acme","role":"app-developer"})");
  ASSERT_EQ(Exec(w, Program::kDodil, {"login", "sa_1", "s3cret", "-o", "json"}), 0) << w.err.str();
  nlohmann::json out = nlohmann::json::parse(w.out.str());
  EXPECT_EQ(out["expiresAtMs"], "1716903600000");
  EXPECT_EQ(out["organizationName"], "acme");
  EXPECT_EQ(out["configFile"], "/cfg/config.yaml");
  EXPECT_FALSE(Contains(w.out.str(), "ign_issued_9876"));
}

TEST(Login, ServiceAccountLoginCreatesTheConfigFileNamedByConfig) {
  FakeWorld w;
  w.script.Reply(200, R"({"accessToken":"ign_t","expiresAtMs":"1716903600000","organizationName":"acme"})");
  ASSERT_EQ(Exec(w, Program::kDodil, {"login", "sa_1", "s", "--config", "/new/config.yaml"}), 0) << w.err.str();
  EXPECT_EQ(w.endpoint_used, "http://127.0.0.1:7070");
  EXPECT_EQ(*w.fs.ReadFile("/new/config.yaml"),
            "ignite:\n  token: ign_t\n  api_endpoint: http://127.0.0.1:7070\n  org_id: acme\n");
  // Reading a --config file that does not exist is still an error.
  EXPECT_EQ(Exec(w, {"config", "view", "--config", "/missing.yaml"}), 1);
}

TEST(Login, FailuresWriteNothing) {
  FakeWorld w;
  w.script.Reply(401, R"({"code":16,"message":"wrong service account id or secret"})");
  EXPECT_EQ(Exec(w, Program::kDodil, {"login", "sa_1", "nope"}), 3);
  EXPECT_EQ(w.err.str(), "Error: wrong service account id or secret\n");
  EXPECT_EQ(Exec(w, Program::kDodil, {"login", "sa_1"}), 2);  // no secret
  EXPECT_EQ(Exec(w, Program::kDodil, {"login", "sa_1", "s", "--token", "t"}), 2);  // both forms
  EXPECT_FALSE(w.fs.IsRegularFile("/home/u/.config/unified-cli/config.yaml"));
}

TEST(Completion, BashScriptCoversTheTree) {
  FakeWorld w;
  ASSERT_EQ(Exec(w, {"completion", "bash"}), 0) << w.err.str();
  const std::string script = w.out.str();
  EXPECT_TRUE(Contains(script, "complete -o default -F _ignite_complete ignite")) << script;
  EXPECT_TRUE(Contains(script, "\"ignite fn\") node=\"ignite app\"")) << script;
  EXPECT_TRUE(Contains(script, "\"ignite app create\") subcommands=\"\"")) << script;
  EXPECT_TRUE(Contains(script, "--allow-unauthenticated")) << script;
  ASSERT_EQ(Exec(w, Program::kDodil, {"completion", "bash"}), 0) << w.err.str();
  EXPECT_TRUE(Contains(w.out.str(), "complete -o default -F _dodil_complete dodil"));
  EXPECT_TRUE(Contains(w.out.str(), "\"dodil ignite exec\") node=\"dodil ignite execution\""));
}

}  // namespace
}  // namespace ignite::cli
