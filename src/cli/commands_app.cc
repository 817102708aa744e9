// `app` (aliases `function`, `fn`): create, get, list, update, delete, state, replicas, logs (reference 3.5).
#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/code_source.h"
#include "cli/compile_logs.h"
#include "cli/duration.h"
#include "cli/errors.h"
#include "cli/output.h"

namespace ignite::cli {
namespace {

struct CreateOptions {
  std::string name;
  std::string runtime;
  std::string description;
  std::string tier;
  uint32_t memory = 0;
  uint32_t cpu = 0;
  uint32_t timeout_secs = 0;
  uint32_t body_limit_mb = 0;
  uint32_t max_replicas = 0;
  uint32_t reserved = 0;
  uint32_t max_concurrency = 0;
  std::vector<std::string> env;
  bool allow_unauthenticated = false;
  std::string input_schema;   // JSON Schema text
  std::string output_schema;
  std::string health_path;    // images: the readiness path
};

Result<v1::ResourceTier> TierFromFlag(const std::string& tier) {
  if (tier.empty()) return v1::RESOURCE_TIER_UNSPECIFIED;
  if (tier == "small") return v1::RESOURCE_TIER_SMALL;
  if (tier == "medium") return v1::RESOURCE_TIER_MEDIUM;
  if (tier == "large") return v1::RESOURCE_TIER_LARGE;
  if (tier == "xlarge") return v1::RESOURCE_TIER_XLARGE;
  return LocalError(fmt::format("unknown tier \"{}\": use small, medium, large or xlarge", tier));
}

std::string TierLabel(v1::ResourceTier tier) { return EnumLabel(v1::ResourceTier_Name(tier), "RESOURCE_TIER_"); }
std::string StateLabel(v1::DeploymentState state) {
  return EnumLabel(v1::DeploymentState_Name(state), "DEPLOYMENT_STATE_");
}

// --env KEY=VALUE flags into a map.
Status ParseEnv(const std::vector<std::string>& env, google::protobuf::Map<std::string, std::string>* out) {
  for (const std::string& kv : env) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return LocalError(fmt::format("--env \"{}\": write it as KEY=VALUE", kv));
    }
    (*out)[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return OkStatus();
}

// The CreateApp request for the create flags (all of them: zero values mean the defaults).
Result<v1::CreateAppRequest> CreateRequest(CommandContext& ctx, const AppRef& ref, const CreateOptions& opts) {
  v1::CreateAppRequest request;
  request.set_name(ref.app);
  request.set_description(opts.description);
  IGNITE_ASSIGN_OR_RETURN(v1::ResourceTier tier, TierFromFlag(opts.tier));
  request.set_resource_tier(tier);
  if (opts.memory || opts.cpu || opts.timeout_secs || opts.body_limit_mb) {
    request.mutable_limits()->set_memory_mb(opts.memory);
    request.mutable_limits()->set_cpu_millicores(opts.cpu);
    request.mutable_limits()->set_timeout_secs(opts.timeout_secs);
    request.mutable_limits()->set_body_limit_mb(opts.body_limit_mb);
  }
  if (opts.max_replicas || opts.reserved) {
    request.mutable_scaling()->set_max_replicas(opts.max_replicas);
    request.mutable_scaling()->set_reserved(opts.reserved);
  }
  request.set_max_concurrency(opts.max_concurrency);
  request.set_allow_unauthenticated(opts.allow_unauthenticated);
  request.set_input_schema(opts.input_schema);
  request.set_output_schema(opts.output_schema);
  request.set_health_path(opts.health_path);
  IGNITE_RETURN_IF_ERROR(ParseEnv(opts.env, request.mutable_env()));
  if (!opts.runtime.empty()) {
    IGNITE_ASSIGN_OR_RETURN(v1::Runtime runtime, RuntimeFromFlag(opts.runtime));
    *request.mutable_runtime() = runtime;
  }
  return request;
}

Status CreateApp(CommandContext& ctx, const CreateOptions& opts) {
  IGNITE_ASSIGN_OR_RETURN(AppRef ref, ctx.ResolveApp(opts.name));
  IGNITE_ASSIGN_OR_RETURN(v1::CreateAppRequest request, CreateRequest(ctx, ref, opts));
  if (!opts.runtime.empty()) {
    ctx.err() << "Note: --runtime on app create is only recorded as metadata; the runtime comes from the code "
                 "saved with `draft save`.\n";
  }
  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());
  IGNITE_ASSIGN_OR_RETURN(v1::CreateAppResponse response, client->CreateApp(ref.org, request));
  return Emit(ctx, response, [&] {
    std::string id = response.app_id().empty() ? ref.id() : response.app_id();
    return fmt::format("Created app {}\n", id) +
           RenderKeyValues({{"State", StateLabel(response.deployment_state())},
                            {"Tier", TierLabel(response.applied_tier())},
                            {"Limits", LimitsLabel(response.applied_limits())}});
  });
}

std::string DescribeApp(const v1::AppMeta& app) {
  std::vector<std::string> env_keys;
  for (const auto& [key, value] : app.env()) env_keys.push_back(key);
  std::sort(env_keys.begin(), env_keys.end());
  std::string env;
  for (const auto& key : env_keys) env += (env.empty() ? "" : ", ") + key;
  const v1::ResourceLimits& limits = app.has_applied_limits() ? app.applied_limits() : app.limits();
  std::string scaling;
  if (app.scaling().max_replicas() > 0 || app.scaling().reserved() > 0) {
    scaling = fmt::format("max replicas {}, reserved {}", app.scaling().max_replicas(), app.scaling().reserved());
  }
  return RenderKeyValues({
      {"ID", app.id()},
      {"Description", app.description()},
      {"Runtime", RuntimeLabel(app.runtime())},
      {"State", StateLabel(app.deployment_state())},
      {"Active version", app.active_version() > 0 ? std::to_string(app.active_version()) : "none"},
      {"Tier", TierLabel(app.resource_tier())},
      {"Limits", LimitsLabel(limits)},
      {"Scaling", scaling},
      {"Max concurrency", app.max_concurrency() > 0 ? std::to_string(app.max_concurrency()) : ""},
      {"Env", env},
      {"Unauthenticated", app.allow_unauthenticated() ? "allowed" : ""},
      {"Created", FormatTimeMs(app.created_at_ms())},
      {"Updated", FormatTimeMs(app.updated_at_ms())},
  });
}

Status GetApp(CommandContext& ctx, const std::string& id) {
  IGNITE_ASSIGN_OR_RETURN(AppRef ref, ctx.ResolveApp(id));
  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());
  IGNITE_ASSIGN_OR_RETURN(v1::GetAppResponse response, client->GetApp(ref));
  return Emit(ctx, response, [&] { return DescribeApp(response.app()); });
}

// `app update`: the create flags; only those given on the command line are sent (and so changed).
struct UpdateOptions {
  std::string id;
  CreateOptions values;
  std::map<std::string, CLI::Option*> flags;  // proto field path -> its flag
};

// Fills `request` with the config flags given on the command line; returns their field paths.
Result<std::vector<std::string>> UpdateRequest(const UpdateOptions& opts, v1::UpdateAppConfigRequest& request) {
  const CreateOptions& v = opts.values;
  std::vector<std::string> fields;
  for (const auto& [field, flag] : opts.flags) {
    if (flag->count() == 0) continue;
    fields.push_back(field);
    if (field == "description") request.set_description(v.description);
    else if (field == "resource_tier") {
      IGNITE_ASSIGN_OR_RETURN(v1::ResourceTier tier, TierFromFlag(v.tier));
      request.set_resource_tier(tier);
    } else if (field == "limits.memory_mb") request.mutable_limits()->set_memory_mb(v.memory);
    else if (field == "limits.cpu_millicores") request.mutable_limits()->set_cpu_millicores(v.cpu);
    else if (field == "limits.timeout_secs") request.mutable_limits()->set_timeout_secs(v.timeout_secs);
    else if (field == "limits.body_limit_mb") request.mutable_limits()->set_body_limit_mb(v.body_limit_mb);
    else if (field == "scaling.max_replicas") request.mutable_scaling()->set_max_replicas(v.max_replicas);
    else if (field == "scaling.reserved") request.mutable_scaling()->set_reserved(v.reserved);
    else if (field == "max_concurrency") request.set_max_concurrency(v.max_concurrency);
    else if (field == "env") IGNITE_RETURN_IF_ERROR(ParseEnv(v.env, request.mutable_env()));
    else if (field == "allow_unauthenticated") request.set_allow_unauthenticated(v.allow_unauthenticated);
    else if (field == "input_schema") request.set_input_schema(v.input_schema);
    else if (field == "output_schema") request.set_output_schema(v.output_schema);
    else if (field == "health_path") request.set_health_path(v.health_path);
  }
  return fields;
}

Status UpdateApp(CommandContext& ctx, const UpdateOptions& opts) {
  IGNITE_ASSIGN_OR_RETURN(AppRef ref, ctx.ResolveApp(opts.id));
  v1::UpdateAppConfigRequest request;
  IGNITE_ASSIGN_OR_RETURN(std::vector<std::string> fields, UpdateRequest(opts, request));
  if (fields.empty()) {
    return LocalError("nothing to update: give at least one flag, e.g. --description or --max-concurrency "
                      "(see `app update --help`)");
  }
  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());
  IGNITE_ASSIGN_OR_RETURN(v1::UpdateAppConfigResponse response, client->UpdateAppConfig(ref, request, fields));
  return Emit(ctx, response, [&] {
    return fmt::format("Updated app {}\n", response.app().id().empty() ? ref.id() : response.app().id()) +
           DescribeApp(response.app());
  });
}

Table ReplicaTable(const google::protobuf::RepeatedPtrField<v1::ReplicaInfo>& replicas) {
  Table table{{"REPLICA", "VERSION", "STATE", "INFLIGHT", "PID", "STARTED", "LAST USED"}, {}};
  for (const v1::ReplicaInfo& r : replicas) {
    table.rows.push_back({r.replica_id(), r.version() > 0 ? std::to_string(r.version()) : "draft", r.state(),
                          std::to_string(r.inflight()), std::to_string(r.pid()), FormatTimeMs(r.started_at_ms()),
                          FormatTimeMs(r.last_used_at_ms())});
  }
  return table;
}

Status AppState(CommandContext& ctx, const std::string& id) {
  IGNITE_ASSIGN_OR_RETURN(AppRef ref, ctx.ResolveApp(id));
  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());
  IGNITE_ASSIGN_OR_RETURN(v1::GetAppStateResponse response, client->GetAppState(ref));
  return Emit(ctx, response, [&] {
    std::string text = RenderKeyValues({
        {"App", ref.id()},
        {"State", StateLabel(response.deployment_state())},
        {"Active version", response.active_version() > 0 ? std::to_string(response.active_version()) : "none"},
        {"Live replicas", std::to_string(response.live_replicas())},
        {"Waiting requests", std::to_string(response.waiting_requests())},
    });
    if (!response.replicas().empty()) text += "\n" + ReplicaTable(response.replicas()).Render();
    return text;
  });
}

Status AppReplicas(CommandContext& ctx, const std::string& id) {
  IGNITE_ASSIGN_OR_RETURN(AppRef ref, ctx.ResolveApp(id));
  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());
  IGNITE_ASSIGN_OR_RETURN(v1::ListAppReplicasResponse response, client->ListAppReplicas(ref));
  return Emit(ctx, response, [&] {
    if (response.replicas().empty()) return fmt::format("No replicas of {} are running.\n", ref.id());
    return ReplicaTable(response.replicas()).Render();
  });
}

struct ListOptions {
  uint32_t limit = 0;
  std::string cursor;
};

Status ListApps(CommandContext& ctx, const ListOptions& opts) {
  IGNITE_ASSIGN_OR_RETURN(std::string org, ctx.RequireOrg());
  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());
  IGNITE_ASSIGN_OR_RETURN(v1::ListAppsResponse response, client->ListApps(org, opts.limit, opts.cursor));
  return Emit(ctx, response, [&] {
    if (response.apps().empty() && response.next_cursor().empty()) {
      return fmt::format("No apps in organization {}.\n", org);
    }
    // -o wide adds TIER, UPDATED and DESCRIPTION.
    const bool wide = ctx.Wide();
    Table table{{"NAME", "RUNTIME", "ACTIVE", "STATE", "CREATED"}, {}};
    if (wide) table.headers.insert(table.headers.end(), {"TIER", "UPDATED", "DESCRIPTION"});
    for (const v1::AppMeta& app : response.apps()) {
      table.rows.push_back({app.name(), RuntimeLabel(app.runtime()),
                            app.active_version() > 0 ? std::to_string(app.active_version()) : "",
                            StateLabel(app.deployment_state()), FormatTimeMs(app.created_at_ms())});
      if (wide) {
        table.rows.back().insert(table.rows.back().end(), {TierLabel(app.resource_tier()),
                                                           FormatTimeMs(app.updated_at_ms()), app.description()});
      }
    }
    std::string text = table.Render();
    if (!response.next_cursor().empty()) {
      text += fmt::format("\nMore apps: repeat with --cursor {}\n", response.next_cursor());
    }
    return text;
  });
}

Status DeleteApp(CommandContext& ctx, const std::string& id) {
  IGNITE_ASSIGN_OR_RETURN(AppRef ref, ctx.ResolveApp(id));
  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());
  IGNITE_ASSIGN_OR_RETURN(v1::DeleteAppResponse response, client->DeleteApp(ref));
  return Emit(ctx, response, [&] {
    return fmt::format("Deleted app {}\n", response.app_id().empty() ? ref.id() : response.app_id());
  });
}

struct LogsOptions {
  std::string id;
  uint32_t limit = 0;
  std::string replica;
  std::string execution;
  bool follow = false;
};

Status AppLogs(CommandContext& ctx, const LogsOptions& opts) {
  IGNITE_ASSIGN_OR_RETURN(AppRef ref, ctx.ResolveApp(opts.id));
  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());
  if (opts.follow) {
    // One line per log line as it arrives: the rendered text, or each LogLine's JSON for -o json.
    IGNITE_ASSIGN_OR_RETURN(OutputFormat format, ctx.Format());
    return client->StreamAppLogs(ref, opts.limit, opts.replica, opts.execution, [&](const v1::LogLine& line) {
      ctx.out() << (IsStructured(format) ? RenderStreamItem(format, MessageToCompactJson(line)) : RenderLogLine(line));
      ctx.out().flush();
    });
  }
  IGNITE_ASSIGN_OR_RETURN(v1::GetAppLogsResponse response,
                          client->GetAppLogs(ref, opts.limit, opts.replica, opts.execution));
  return Emit(ctx, response, [&] {
    std::string text;
    for (const v1::LogLine& line : response.lines()) text += RenderLogLine(line);
    return text;
  });
}

// The config flags of `app update` and `app deploy`; each is remembered by the field path it sets, so that
// only the flags given are sent.
void AddConfigFlags(CLI::App* update_cmd, UpdateOptions& opts) {
  UpdateOptions* update = &opts;
  CreateOptions& u = update->values;
  update->flags["description"] = update_cmd->add_option("--description", u.description, "What the app does");
  update->flags["resource_tier"] =
      update_cmd->add_option("-t,--tier", u.tier, "Resource tier: small, medium, large or xlarge")
          ->check(CLI::IsMember({"small", "medium", "large", "xlarge"}));
  update->flags["limits.memory_mb"] = update_cmd->add_option("--memory", u.memory, "Memory limit in MB (0 = tier's)");
  update->flags["limits.cpu_millicores"] =
      update_cmd->add_option("--cpu", u.cpu, "CPU limit in millicores (0 = tier's)");
  update->flags["limits.timeout_secs"] =
      update_cmd->add_option("--timeout-secs", u.timeout_secs, "Execution timeout in seconds (0 = 120, at most 900)");
  update->flags["limits.body_limit_mb"] = update_cmd->add_option(
      "--body-limit-mb", u.body_limit_mb, "Largest request body in MB (0 = the platform default, 100); larger get 413");
  update->flags["scaling.max_replicas"] =
      update_cmd->add_option("--max-replicas", u.max_replicas, "Maximum instances (0 = default 10)");
  update->flags["scaling.reserved"] =
      update_cmd->add_option("--reserved", u.reserved, "Instances kept warm even when idle");
  update->flags["max_concurrency"] = update_cmd->add_option(
      "--max-concurrency", u.max_concurrency, "Concurrent executions per instance (0 = default 100)");
  update->flags["env"] =
      update_cmd->add_option("--env", u.env, "Environment variable KEY=VALUE (repeatable; replaces all env vars)")
          ->allow_extra_args(false);
  update->flags["allow_unauthenticated"] = update_cmd->add_flag(
      "--allow-unauthenticated", u.allow_unauthenticated,
      "Let anyone call the per-app URL without a token (permissive CORS); =false to require one again");
  update->flags["input_schema"] = update_cmd->add_option(
      "--input-schema", u.input_schema, "JSON Schema (text) that invoke payloads must match; \"\" removes it");
  update->flags["output_schema"] =
      update_cmd->add_option("--output-schema", u.output_schema, "JSON Schema (text) of the answers (documentation)");
  update->flags["health_path"] = update_cmd->add_option(
      "--health-path", u.health_path, "Images: the path whose GET must answer 2xx once the container serves "
                                      "(default /healthz)");
}

// `app stats`: GetExecutionStats.
struct StatsOptions {
  std::string id;
  std::string since;  // a duration back from now ("1h"), or empty for the server's default (24h)
};

Status AppStats(CommandContext& ctx, const StatsOptions& opts) {
  IGNITE_ASSIGN_OR_RETURN(AppRef ref, ctx.ResolveApp(opts.id));
  std::string target = fmt::format("/v1/ignite/app/{}/{}/stats/executions", ref.org, ref.app);
  if (!opts.since.empty()) {
    IGNITE_ASSIGN_OR_RETURN(std::chrono::milliseconds back, ParseDuration(opts.since));
    int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count();
    target += fmt::format("?since_ms={}", std::max<int64_t>(1, now - back.count()));
  }
  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());
  v1::GetExecutionStatsResponse response;
  IGNITE_RETURN_IF_ERROR(client->Call(http::Verb::get, target, nullptr, &response));
  return Emit(ctx, response, [&] {
    return RenderKeyValues({
        {"App", response.app_id().empty() ? ref.id() : response.app_id()},
        {"Since", FormatTimeMs(response.since_ms())},
        {"Invocations", std::to_string(response.total())},
        {"Succeeded", std::to_string(response.succeeded())},
        {"Failed", std::to_string(response.failed())},
        {"Error rate", fmt::format("{:.1f}%", response.error_rate() * 100)},
        {"Duration p50/p95/p99", fmt::format("{} / {} / {} ms", response.p50_duration_ms(),
                                             response.p95_duration_ms(), response.p99_duration_ms())},
        {"Cold starts", std::to_string(response.cold_starts())},
    });
  });
}

// `app events`: GetAppEvents, or StreamAppEvents with --follow.
struct EventsOptions {
  std::string id;
  uint32_t limit = 0;
  std::string replica;
  bool follow = false;
};

std::string RenderEvent(const v1::AppEvent& e) {
  return fmt::format("{} {} {} {}{}\n", FormatTimeMs(e.timestamp_ms()), e.type(),
                     e.replica_id().empty() ? "-" : e.replica_id(), e.version() > 0 ? fmt::format("v{} ", e.version()) : "",
                     e.message());
}

Status AppEvents(CommandContext& ctx, const EventsOptions& opts) {
  IGNITE_ASSIGN_OR_RETURN(AppRef ref, ctx.ResolveApp(opts.id));
  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());
  if (opts.follow) {
    // StreamAppEvents: the newest `limit`, then each new event as it happens.
    IGNITE_ASSIGN_OR_RETURN(OutputFormat format, ctx.Format());
    return client->StreamAppEvents(ref, opts.limit, opts.replica, [&](const v1::AppEvent& e) {
      ctx.out() << (IsStructured(format) ? RenderStreamItem(format, MessageToCompactJson(e)) : RenderEvent(e));
      ctx.out().flush();
    });
  }
  std::string target = fmt::format("/v1/ignite/app/{}/{}/events", ref.org, ref.app);
  std::string query;
  if (opts.limit > 0) query += fmt::format("limit={}", opts.limit);
  if (!opts.replica.empty()) query += (query.empty() ? "" : "&") + ("replica_id=" + opts.replica);
  if (!query.empty()) target += "?" + query;
  v1::GetAppEventsResponse response;
  IGNITE_RETURN_IF_ERROR(client->Call(http::Verb::get, target, nullptr, &response));
  return Emit(ctx, response, [&] {
    std::string text;
    for (const v1::AppEvent& e : response.events()) text += RenderEvent(e);
    return text.empty() ? fmt::format("No events for {} (events are kept in memory since ignited started).\n",
                                      ref.id())
                        : text;
  });
}

struct DeployOptions {
  UpdateOptions config;  // id and the config flags
  SourceFlags source;    // its runtime is config.values.runtime
  bool follow = false;
};

// `app deploy`: CreateApp, or UpdateAppConfig with the flags given; SaveDraft; the build; PublishDraft.
// Progress goes to stderr; the publish answer is the output.
Status DeployApp(CommandContext& ctx, const DeployOptions& opts) {
  IGNITE_ASSIGN_OR_RETURN(AppRef ref, ctx.ResolveApp(opts.config.id));
  if (opts.source.code.empty() == opts.source.image_ref.empty()) {
    return LocalError("give the code with --code <dir|file>, or a container image with --image-ref <ref>");
  }
  if (opts.follow) ctx.SetDefaultTimeout("0");  // the build may take minutes
  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());
  auto existing = client->GetApp(ref);
  if (!existing.ok() && existing.status().code() != StatusCode::kNotFound) return existing.status();
  if (!existing.ok()) {
    IGNITE_ASSIGN_OR_RETURN(v1::CreateAppRequest request, CreateRequest(ctx, ref, opts.config.values));
    IGNITE_RETURN_IF_ERROR(client->CreateApp(ref.org, request).status());
    ctx.err() << fmt::format("Created app {}\n", ref.id());
  } else {
    v1::UpdateAppConfigRequest request;
    IGNITE_ASSIGN_OR_RETURN(std::vector<std::string> fields, UpdateRequest(opts.config, request));
    if (!fields.empty()) {
      IGNITE_RETURN_IF_ERROR(client->UpdateAppConfig(ref, request, fields).status());
      ctx.err() << fmt::format("Updated the configuration of {}\n", ref.id());
    }
  }
  SourceFlags source = opts.source;
  source.runtime = opts.config.values.runtime;
  v1::SaveDraftRequest save;
  IGNITE_ASSIGN_OR_RETURN(*save.mutable_code(), CodeSourceFromFlags(source, ctx.fs(), ArchivePacker(), nullptr));
  IGNITE_ASSIGN_OR_RETURN(v1::SaveDraftResponse saved, client->SaveDraft(ref, save));
  ctx.err() << fmt::format("Saved the code (hash {})\n", saved.draft().code_hash());
  ctx.err().flush();
  if (opts.follow) {
    IGNITE_ASSIGN_OR_RETURN(v1::CompileDraftResponse build, client->CompileDraft(ref));
    if (!build.deploy_id().empty()) {
      // The log goes to stderr: stdout is kept for the publish answer.
      IGNITE_RETURN_IF_ERROR(FollowCompileLogs(*client, build.deploy_id(), ctx.err(), ctx.err(), OutputFormat::kTable));
    }
  }
  IGNITE_ASSIGN_OR_RETURN(v1::PublishDraftResponse published, client->PublishDraft(ref));
  return Emit(ctx, published, [&] {
    return fmt::format("Published {} version {}\nInvoke it with `dodil ignite invoke {}`\n", ref.id(),
                       published.version(), ref.id());
  });
}

constexpr const char* kIdHelp = kAppIdHelp;

}  // namespace

void AddAppCommands(CLI::App& parent, CommandContext& ctx) {
  CLI::App* app = AddGroup(parent, ctx, "app", "Create, inspect, update, list and delete apps (functions)");
  app->alias("function");
  app->alias("fn");

  auto create = std::make_shared<CreateOptions>();
  CLI::App* create_cmd = AddCommand(*app, ctx, "create", "Create an app (metadata only; code comes with `draft save`)",
                                    [&ctx, create] { return CreateApp(ctx, *create); });
  create_cmd->add_option("name", create->name, "App name, or org:name")->required();
  create_cmd->add_option("--runtime", create->runtime, "go, python, rust or deno (recorded as metadata only)")
      ->check(CLI::IsMember({"go", "python", "rust", "deno"}));
  create_cmd->add_option("--description", create->description, "What the app does");
  create_cmd->add_option("-t,--tier", create->tier, "Resource tier: small, medium, large or xlarge")
      ->check(CLI::IsMember({"small", "medium", "large", "xlarge"}));
  create_cmd->add_option("--memory", create->memory, "Memory limit in MB (overrides the tier)");
  create_cmd->add_option("--cpu", create->cpu, "CPU limit in millicores (overrides the tier)");
  create_cmd->add_option("--timeout-secs", create->timeout_secs, "Execution timeout in seconds (default 120)");
  create_cmd->add_option("--body-limit-mb", create->body_limit_mb,
                         "Largest request body in MB (default: the platform's, 100); larger get 413");
  create_cmd->add_option("--max-replicas", create->max_replicas, "Maximum instances (default 10)");
  create_cmd->add_option("--reserved", create->reserved, "Instances kept warm even when idle (default 0)");
  create_cmd->add_option("--max-concurrency", create->max_concurrency,
                         "Concurrent executions per instance (default 100 for Go)");
  create_cmd->add_option("--env", create->env, "Environment variable KEY=VALUE (repeatable)")
      ->allow_extra_args(false);
  create_cmd->add_flag("--allow-unauthenticated", create->allow_unauthenticated,
                       "Let anyone call the per-app URL without a token (permissive CORS)");
  create_cmd->add_option("--input-schema", create->input_schema,
                         "JSON Schema (text) that invoke payloads must match (else 400)");
  create_cmd->add_option("--output-schema", create->output_schema, "JSON Schema (text) of the answers (documentation)");
  create_cmd->add_option("--health-path", create->health_path,
                         "Images: the path whose GET must answer 2xx once the container serves (default /healthz)");
  create_cmd->footer(
      "Examples:\n"
      "  app create hello --runtime go\n"
      "  app create org:worker --tier medium --env LOG_LEVEL=debug --max-replicas 3");

  auto get_id = std::make_shared<std::string>();
  CLI::App* get_cmd = AddCommand(*app, ctx, "get", "Show an app's configuration and state",
                                 [&ctx, get_id] { return GetApp(ctx, *get_id); });
  get_cmd->add_option("id", *get_id, kIdHelp)->required();

  auto list = std::make_shared<ListOptions>();
  CLI::App* list_cmd = AddCommand(*app, ctx, "list", "List the organization's apps",
                                  [&ctx, list] { return ListApps(ctx, *list); });
  list_cmd->add_option("--limit", list->limit, "At most this many apps per page");
  list_cmd->add_option("--cursor", list->cursor, "Continue from a previous page's cursor");

  auto update = std::make_shared<UpdateOptions>();
  CLI::App* update_cmd = AddCommand(*app, ctx, "update", "Change an app's configuration (only the flags given)",
                                    [&ctx, update] { return UpdateApp(ctx, *update); });
  update_cmd->add_option("id", update->id, kIdHelp)->required();
  AddConfigFlags(update_cmd, *update);
  update_cmd->footer(
      "Flags not given keep their value. --env replaces the whole environment. Scaling and concurrency apply to\n"
      "the active version at once; running instances keep running (new env reaches new instances).\n\n"
      "Examples:\n"
      "  app update hello --max-concurrency 10 --max-replicas 3\n"
      "  app update org:worker --description \"Resizes images\" --env LOG_LEVEL=info");

  auto deploy = std::make_shared<DeployOptions>();
  CLI::App* deploy_cmd = AddCommand(
      *app, ctx, "deploy", "One shot: create the app (or update its config), save the code, build and publish it",
      [&ctx, deploy] { return DeployApp(ctx, *deploy); });
  deploy_cmd->add_option("id", deploy->config.id, kIdHelp)->required();
  deploy_cmd->add_option("-c,--code", deploy->source.code,
                         "The code: a directory (packed as tar.gz), .zip, .tar.gz, or a .go or .py file");
  deploy_cmd->add_option("--image-ref", deploy->source.image_ref,
                         "A container image to run instead of code (registry/repository:tag or @sha256:...)");
  deploy_cmd->add_option("--registry-secret-ref", deploy->source.registry_secret_ref,
                         "The registry secret (`secret create --type registry`) to pull --image-ref with");
  deploy_cmd->add_option("--runtime", deploy->config.values.runtime, "go (the default; the code decides)")
      ->check(CLI::IsMember({"go", "python", "rust", "deno"}));
  deploy_cmd->add_flag("--follow", deploy->follow, "Show the build's log as it runs");
  AddConfigFlags(deploy_cmd, deploy->config);
  deploy_cmd->footer(
      "Creates the app with the given flags when it does not exist; otherwise changes only the flags given\n"
      "(like `app update`). Then `draft save`, the build (with --follow its log), and `draft publish`.\n\n"
      "Examples:\n"
      "  app deploy org:hello --code .\n"
      "  app deploy hello --code ./src --tier small --env GREETING=hi --allow-unauthenticated --follow\n"
      "  app deploy org:web --image-ref registry.example.com/team/web:1.4 --health-path /ready");

  auto state_id = std::make_shared<std::string>();
  CLI::App* state_cmd = AddCommand(*app, ctx, "state", "Show the app's deployment state and running replicas",
                                   [&ctx, state_id] { return AppState(ctx, *state_id); });
  state_cmd->add_option("id", *state_id, kIdHelp)->required();
  state_cmd->footer("Examples:\n  app state hello\n  app state org:hello -o json");

  auto replicas_id = std::make_shared<std::string>();
  CLI::App* replicas_cmd = AddCommand(*app, ctx, "replicas", "List the app's running instances (replicas)",
                                      [&ctx, replicas_id] { return AppReplicas(ctx, *replicas_id); });
  replicas_cmd->add_option("id", *replicas_id, kIdHelp)->required();
  replicas_cmd->footer(
      "States: starting (not answered yet), ready (idle), busy (executions in flight), retiring (its version\n"
      "was replaced; it stops after its in-flight executions).\n\n"
      "Examples:\n  app replicas hello\n  app replicas org:hello -o json");

  auto delete_id = std::make_shared<std::string>();
  CLI::App* delete_cmd = AddCommand(*app, ctx, "delete", "Delete an app with its draft and versions",
                                    [&ctx, delete_id] { return DeleteApp(ctx, *delete_id); });
  delete_cmd->add_option("id", *delete_id, kIdHelp)->required();

  auto stats = std::make_shared<StatsOptions>();
  CLI::App* stats_cmd = AddCommand(*app, ctx, "stats", "Show the app's invocation statistics (GetExecutionStats)",
                                   [&ctx, stats] { return AppStats(ctx, *stats); });
  stats_cmd->add_option("id", stats->id, kIdHelp)->required();
  stats_cmd->add_option("--since", stats->since, "How far back, e.g. 1h or 30m (default 24h)");
  stats_cmd->footer("Counts Invoke, InvokeAsync and per-app URL calls (not draft or version tests).\n\n"
                    "Examples:\n  app stats hello\n  app stats org:hello --since 1h -o json");

  auto events = std::make_shared<EventsOptions>();
  CLI::App* events_cmd = AddCommand(*app, ctx, "events", "Show the app's lifecycle events (instances, builds, versions)",
                                    [&ctx, events] { return AppEvents(ctx, *events); });
  events_cmd->add_option("id", events->id, kIdHelp)->required();
  events_cmd->add_option("--limit", events->limit, "At most this many of the newest events (server default 1000)");
  events_cmd->add_option("--replica", events->replica, "Only events of this replica (instance) id");
  events_cmd->add_flag("-f,--follow", events->follow, "Keep printing new events as they happen; stop with Ctrl-C");
  events_cmd->footer("One line per event: <time> <type> <replica or -> [v<version>] <message>. Events are kept in\n"
                     "memory (the newest 1000 per app) and are gone after ignited restarts.\n\n"
                     "Examples:\n  app events hello\n  app events org:hello --follow");

  auto logs = std::make_shared<LogsOptions>();
  CLI::App* logs_cmd = AddCommand(*app, ctx, "logs", "Show the app's recent log lines (oldest first)",
                                  [&ctx, logs] { return AppLogs(ctx, *logs); });
  logs_cmd->add_option("id", logs->id, kIdHelp)->required();
  logs_cmd->add_option("--limit", logs->limit, "At most this many of the newest lines (server default 1000)");
  logs_cmd->add_option("--replica", logs->replica, "Only lines from this replica (instance) id");
  logs_cmd->add_option("--execution", logs->execution, "Only lines logged during this execution id");
  logs_cmd->add_flag("-f,--follow", logs->follow,
                     "Keep printing new lines as they are written (StreamAppLogs), after the newest --limit lines "
                     "(default 100); stop with Ctrl-C");
  logs_cmd->footer(
      "One line per log line: <time, RFC 3339 UTC> <replica id> <execution id or -> <message>.\n\n"
      "Examples:\n"
      "  app logs org:hello --limit 50\n"
      "  app logs hello --execution 01J9Z3V7K2M4X8Q5R6T7W8Y9ZA -o json\n"
      "  app logs hello --follow --limit 10");
}

}  // namespace ignite::cli
