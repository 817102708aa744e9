// `execution` (alias `exec`): get, watch and logs of asynchronous executions (reference 3.8), the records
// `invoke --async` creates. `stream` and `list` of the reference are not offered: `watch` is the stream,
// and the reference documents `list` as unsupported.
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/errors.h"
#include "cli/execution_watch.h"
#include "cli/output.h"

namespace ignite::cli {
namespace {

Status GetExecution(CommandContext& ctx, const std::string& id) {
  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());
  IGNITE_ASSIGN_OR_RETURN(v1::GetExecutionResponse response, client->GetExecution(id));
  return Emit(ctx, response, [&] { return RenderExecution(response.execution()); });
}

Status WatchExecution(CommandContext& ctx, const std::string& id) {
  IGNITE_ASSIGN_OR_RETURN(OutputFormat format, ctx.Format());
  ctx.SetDefaultTimeout("0");  // the server ends the stream when the execution ends
  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());
  ExecutionWatchDecoder decoder([&](const v1::Execution& e) {
    if (IsStructured(format)) {
      ctx.out() << RenderStreamItem(format, MessageToCompactJson(e));
    } else {
      ctx.out() << FormatRfc3339Ms(e.finished_at_ms() > 0   ? e.finished_at_ms()
                                   : e.started_at_ms() > 0 ? e.started_at_ms()
                                                           : e.created_at_ms())
                << ' ' << RenderExecutionState(e);
    }
    ctx.out().flush();
  });
  IGNITE_RETURN_IF_ERROR(client->WatchExecution(id, decoder));
  return ExecutionOutcome(decoder.final_execution());
}

struct LogsOptions {
  std::string id;
  uint32_t limit = 0;
};

Status ExecutionLogs(CommandContext& ctx, const LogsOptions& opts) {
  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());
  IGNITE_ASSIGN_OR_RETURN(v1::GetExecutionResponse got, client->GetExecution(opts.id));
  const v1::Execution& e = got.execution();
  IGNITE_ASSIGN_OR_RETURN(AppRef app, ParseAppRef(e.app_id(), ""));
  // Log lines carry the id the handler saw; it is the execution's own once the gateway takes preassigned ids.
  const std::string& tag = e.invocation_id().empty() ? e.execution_id() : e.invocation_id();
  IGNITE_ASSIGN_OR_RETURN(v1::GetAppLogsResponse response, client->GetAppLogs(app, opts.limit, "", tag));
  return Emit(ctx, response, [&] {
    std::string text;
    for (const v1::LogLine& line : response.lines()) text += RenderLogLine(line);
    return text;
  });
}

}  // namespace

void AddExecutionCommands(CLI::App& parent, CommandContext& ctx) {
  CLI::App* group = AddGroup(parent, ctx, "execution", "Inspect asynchronous executions (from `invoke --async`)");
  group->alias("exec");

  auto get_id = std::make_shared<std::string>();
  CLI::App* get_cmd = AddCommand(*group, ctx, "get", "Show an execution's state, timings, error and output",
                                 [&ctx, get_id] { return GetExecution(ctx, *get_id); });
  get_cmd->add_option("execution-id", *get_id, "Execution id (printed by `invoke --async`)")->required();
  get_cmd->footer(
      "The output is shown as text when it is valid UTF-8, else by its size (-o json has it, base64).\n\n"
      "Examples:\n"
      "  execution get 01J9Z3V7K2M4X8Q5R6T7W8Y9ZA\n"
      "  exec get 01J9Z3V7K2M4X8Q5R6T7W8Y9ZA -o json");

  auto watch_id = std::make_shared<std::string>();
  CLI::App* watch_cmd = AddCommand(*group, ctx, "watch", "Follow an execution until it ends",
                                   [&ctx, watch_id] { return WatchExecution(ctx, *watch_id); });
  watch_cmd->add_option("execution-id", *watch_id, "Execution id")->required();
  watch_cmd->footer(
      "Prints one line per state (pending, running, then succeeded, failed or timed out); -o json prints each\n"
      "state as one JSON line. Exits 0 when the execution succeeded, 1 otherwise.\n\n"
      "Examples:\n"
      "  execution watch 01J9Z3V7K2M4X8Q5R6T7W8Y9ZA\n"
      "  exec watch \"$(ignite invoke hello --async -p '{}')\"");

  auto logs = std::make_shared<LogsOptions>();
  CLI::App* logs_cmd = AddCommand(*group, ctx, "logs", "Show the log lines an execution's handler wrote",
                                  [&ctx, logs] { return ExecutionLogs(ctx, *logs); });
  logs_cmd->add_option("execution-id", logs->id, "Execution id")->required();
  logs_cmd->add_option("--limit", logs->limit, "At most this many of the newest lines (server default 1000)");
  logs_cmd->footer(
      "Same lines and format as `app logs <app> --execution <id>`.\n\n"
      "Examples:\n"
      "  execution logs 01J9Z3V7K2M4X8Q5R6T7W8Y9ZA");
}

}  // namespace ignite::cli
