// `draft`: save, info (alias status), compile, compile-logs, cancel, test, publish (reference 3.6).
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cli/code_source.h"
#include "cli/commands.h"
#include "cli/compile_logs.h"
#include "cli/errors.h"
#include "cli/output.h"
#include "common/names.h"

namespace ignite::cli {
namespace {

struct SaveOptions {
  std::string id;
  SourceFlags source;
};

std::string StatusLabel(v1::VersionStatus status) {
  return EnumLabel(v1::VersionStatus_Name(status), "VERSION_STATUS_");
}

Status SaveDraft(CommandContext& ctx, const SaveOptions& opts) {
  IGNITE_ASSIGN_OR_RETURN(AppRef ref, ctx.ResolveApp(opts.id));
  CodeUpload upload;
  v1::SaveDraftRequest request;
  IGNITE_ASSIGN_OR_RETURN(*request.mutable_code(), CodeSourceFromFlags(opts.source, ctx.fs(), ArchivePacker(), &upload));
  const int64_t size = static_cast<int64_t>(upload.bytes.size());

  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());
  IGNITE_ASSIGN_OR_RETURN(v1::SaveDraftResponse response, client->SaveDraft(ref, request));
  return Emit(ctx, response, [&] {
    const v1::DraftInfo& draft = response.draft();
    std::string uploaded = !opts.source.image_ref.empty() ? "image " + opts.source.image_ref
                           : upload.packed_directory ? fmt::format("directory {} (packed as tar.gz)", opts.source.code)
                                                     : upload.file_name;
    return fmt::format("Saved draft of {}\n", ref.id()) +
           RenderKeyValues({{"Status", StatusLabel(draft.status())},
                            {"Code hash", draft.code_hash()},
                            {"Size", FormatBytes(draft.code_size_bytes() > 0 ? draft.code_size_bytes() : size)},
                            {"Uploaded", uploaded}});
  });
}

Status DraftInfo(CommandContext& ctx, const std::string& id) {
  IGNITE_ASSIGN_OR_RETURN(AppRef ref, ctx.ResolveApp(id));
  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());
  IGNITE_ASSIGN_OR_RETURN(v1::GetDraftInfoResponse response, client->GetDraftInfo(ref));
  if (!response.has_draft()) {
    // The reference's exact answer, in table and json output (-o yaml: the same object as YAML).
    IGNITE_ASSIGN_OR_RETURN(OutputFormat format, ctx.Format());
    ctx.out() << (format == OutputFormat::kYaml ? RenderStructured(format, "{\"status\":\"no draft\"}")
                                                : std::string("{\"status\":\"no draft\"}\n"));
    return OkStatus();
  }
  return Emit(ctx, response, [&] {
    const v1::DraftInfo& draft = response.draft();
    return RenderKeyValues({
        {"App", ref.id()},
        {"Status", StatusLabel(draft.status())},
        {"Code hash", draft.code_hash()},
        {"Code kind", EnumLabel(v1::CodeKind_Name(draft.code_kind()), "CODE_KIND_")},
        {"Runtime", RuntimeLabel(draft.runtime())},
        {"Size", draft.code_size_bytes() > 0 ? FormatBytes(draft.code_size_bytes()) : ""},
        {"Deploy id", draft.deploy_id()},
        {"Build status", EnumLabel(v1::BuildStatus_Name(draft.build_status()), "BUILD_STATUS_")},
        {"Queue position", draft.queue_position() > 0 ? std::to_string(draft.queue_position()) : ""},
        {"Error", draft.error()},
        {"Image ref", draft.image_ref()},
        {"Created", FormatTimeMs(draft.created_at_ms())},
        {"Updated", FormatTimeMs(draft.updated_at_ms())},
    });
  });
}

Status PublishDraft(CommandContext& ctx, const std::string& id) {
  IGNITE_ASSIGN_OR_RETURN(AppRef ref, ctx.ResolveApp(id));
  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());
  IGNITE_ASSIGN_OR_RETURN(v1::PublishDraftResponse response, client->PublishDraft(ref));
  return Emit(ctx, response,
              [&] { return fmt::format("Published {} version {}\n", ref.id(), response.version()); });
}

std::string BuildLabel(v1::BuildStatus status) { return EnumLabel(v1::BuildStatus_Name(status), "BUILD_STATUS_"); }

struct CompileOptions {
  std::string id;
  bool follow = false;
};

Status CompileDraft(CommandContext& ctx, const CompileOptions& opts) {
  IGNITE_ASSIGN_OR_RETURN(AppRef ref, ctx.ResolveApp(opts.id));
  IGNITE_ASSIGN_OR_RETURN(OutputFormat format, ctx.Format());
  if (opts.follow) ctx.SetDefaultTimeout("0");  // the server ends the log stream when the build ends
  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());
  IGNITE_ASSIGN_OR_RETURN(v1::CompileDraftResponse response, client->CompileDraft(ref));
  if (!opts.follow) {
    return Emit(ctx, response, [&] {
      return fmt::format("Compiling the draft of {}\n", ref.id()) +
             RenderKeyValues({{"Deploy id", response.deploy_id()},
                              {"Status", BuildLabel(response.status())},
                              {"Queue position",
                               response.queue_position() > 0 ? std::to_string(response.queue_position()) : ""}}) +
             (response.deploy_id().empty()
                  ? ""
                  : fmt::format("Follow it with `draft compile-logs {}`.\n", response.deploy_id()));
    });
  }
  if (response.deploy_id().empty()) return Internal("ignited started a build without naming its deploy id");
  if (IsStructured(format)) {
    ctx.out() << RenderStreamItem(format, MessageToCompactJson(response));
    ctx.out().flush();
  } else {
    ctx.err() << fmt::format("Build {} of {}: {}\n", response.deploy_id(), ref.id(), BuildLabel(response.status()));
    ctx.err().flush();
  }
  return FollowCompileLogs(*client, response.deploy_id(), ctx.out(), ctx.err(), format);
}

struct BuildRefOptions {
  std::string arg;
  bool is_deploy_id = false;
  bool follow = false;  // compile-logs: accepted, always on
};

// The deploy id `opts.arg` names: itself, or, for an app id, the id of the latest build of the app's draft.
Result<std::string> ResolveDeployId(CommandContext& ctx, const BuildRefOptions& opts) {
  if (opts.arg.empty()) return LocalError("give a deploy id or an app id");
  if (opts.is_deploy_id || !LooksLikeAppRef(opts.arg)) return opts.arg;
  IGNITE_ASSIGN_OR_RETURN(AppRef ref, ctx.ResolveApp(opts.arg));
  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());
  IGNITE_ASSIGN_OR_RETURN(v1::GetDraftInfoResponse info, client->GetDraftInfo(ref));
  if (!info.has_draft()) {
    return Status(StatusCode::kFailedPrecondition,
                  fmt::format("{} has no draft; save code with `draft save {} -c ./` first (or pass a deploy id "
                              "with --deploy-id)",
                              ref.id(), ref.id()));
  }
  if (info.draft().deploy_id().empty()) {
    return Status(StatusCode::kFailedPrecondition,
                  fmt::format("the draft of {} has not been built; start a build with `draft compile {}`", ref.id(),
                              ref.id()));
  }
  return info.draft().deploy_id();
}

Status CompileLogs(CommandContext& ctx, const BuildRefOptions& opts) {
  IGNITE_ASSIGN_OR_RETURN(OutputFormat format, ctx.Format());
  ctx.SetDefaultTimeout("0");  // the server ends the stream when the build ends
  IGNITE_ASSIGN_OR_RETURN(std::string deploy_id, ResolveDeployId(ctx, opts));
  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());
  return FollowCompileLogs(*client, deploy_id, ctx.out(), ctx.err(), format);
}

Status CancelCompile(CommandContext& ctx, const BuildRefOptions& opts) {
  IGNITE_ASSIGN_OR_RETURN(std::string deploy_id, ResolveDeployId(ctx, opts));
  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());
  IGNITE_ASSIGN_OR_RETURN(v1::CancelCompileResponse response, client->CancelCompile(deploy_id));
  return Emit(ctx, response, [&] {
    std::string status = BuildLabel(response.status());
    return fmt::format("Build {}: {}\n", deploy_id, status.empty() ? "unknown" : status);
  });
}

Status TestDraft(CommandContext& ctx, const InvokeOptions& opts) {
  return RunInvocation(ctx, opts,
                       [](ApiClient& client, const AppRef& app, std::string_view payload, const http::Headers& headers,
                          InvokeStreamDecoder& decoder) { return client.TestDraft(app, payload, headers, decoder); });
}

constexpr const char* kIdHelp = kAppIdHelp;
constexpr const char* kBuildRefHelp =
    "A deploy (build) id, or an app id (org:app, org/app, app) meaning the latest build of its draft";

void AddBuildRefArgs(CLI::App* cmd, BuildRefOptions& opts) {
  cmd->add_option("build", opts.arg, kBuildRefHelp)->required();
  cmd->add_flag("--deploy-id", opts.is_deploy_id,
                "Take the argument as a deploy id even if it looks like an app name");
}

}  // namespace

bool LooksLikeAppRef(std::string_view arg) {
  if (arg.find_first_of(":/") != std::string_view::npos) return true;
  return ValidateAppName(arg).ok();
}

void AddDraftCommands(CLI::App& parent, CommandContext& ctx) {
  CLI::App* draft = AddGroup(parent, ctx, "draft",
                             "Save code into an app's draft, build and test it, and publish it as a version");

  auto save = std::make_shared<SaveOptions>();
  CLI::App* save_cmd = AddCommand(*draft, ctx, "save", "Upload code into the draft (replaces the previous draft)",
                                  [&ctx, save] { return SaveDraft(ctx, *save); });
  save_cmd->add_option("id", save->id, kIdHelp)->required();
  save_cmd->add_option("-c,--code", save->source.code,
                       "A directory (packed as tar.gz, skipping .git, node_modules, __pycache__, target, .venv), "
                       "a .zip, .tar.gz or .tgz archive, or a single .go or .py file");
  save_cmd->add_option("--image-ref", save->source.image_ref,
                       "A container image to run instead of code (registry/repository:tag or @sha256:...); it is "
                       "pulled and pinned to its digest at build time");
  save_cmd->add_option("--registry-secret-ref", save->source.registry_secret_ref,
                       "The registry secret (`secret create --type registry`) to pull --image-ref with");
  save_cmd->add_option("--runtime", save->source.runtime, "go, python, rust or deno (default: detected from the code)")
      ->check(CLI::IsMember({"go", "python", "rust", "deno"}));
  save_cmd->footer(
      "Examples:\n"
      "  draft save org:hello --code ./\n"
      "  draft save hello -c code.tar.gz\n"
      "  draft save hello -c main.go --runtime go\n"
      "  draft save org:web --image-ref registry.example.com/team/web:1.4");

  auto info_id = std::make_shared<std::string>();
  CLI::App* info_cmd = AddCommand(*draft, ctx, "info", "Show the draft's status, code hash and build state",
                                  [&ctx, info_id] { return DraftInfo(ctx, *info_id); });
  info_cmd->alias("status");
  info_cmd->add_option("id", *info_id, kIdHelp)->required();
  info_cmd->footer("Example:\n  draft info org:hello");

  auto compile = std::make_shared<CompileOptions>();
  CLI::App* compile_cmd =
      AddCommand(*draft, ctx, "compile", "Start building the draft (queued while all build slots are busy)",
                 [&ctx, compile] { return CompileDraft(ctx, *compile); });
  compile_cmd->add_option("id", compile->id, kIdHelp)->required();
  compile_cmd->add_flag("-f,--follow", compile->follow,
                        "Stream the build log until the build ends; exit non-zero if it fails");
  compile_cmd->footer(
      "Without --follow, prints the deploy (build) id, status and queue position and returns at once.\n"
      "With --follow, the build log goes to stdout line by line as it is produced; queue progress and the\n"
      "outcome go to stderr. A failed build exits with the code of its error (2 for a compile error).\n\n"
      "Examples:\n"
      "  draft compile org:hello\n"
      "  draft compile org:hello --follow");

  auto logs = std::make_shared<BuildRefOptions>();
  CLI::App* logs_cmd =
      AddCommand(*draft, ctx, "compile-logs", "Stream a build's log (from the start) until the build ends",
                 [&ctx, logs] { return CompileLogs(ctx, *logs); });
  AddBuildRefArgs(logs_cmd, *logs);
  logs_cmd->add_flag("-f,--follow", logs->follow, "Accepted for symmetry: the log is always followed to the end");
  logs_cmd->footer(
      "Prints the log lines as they arrive (-o json: each log entry as one JSON line) and exits when the build\n"
      "ends: 0 if it succeeded, otherwise the exit code of its error, with \"Error: <why>\" on stderr.\n\n"
      "Examples:\n"
      "  draft compile-logs 01J9Z3V7K2M4X8Q5R6T7W8Y9ZA\n"
      "  draft compile-logs org:hello            # the latest build of the draft");

  auto cancel = std::make_shared<BuildRefOptions>();
  CLI::App* cancel_cmd = AddCommand(*draft, ctx, "cancel", "Cancel a queued or running build",
                                    [&ctx, cancel] { return CancelCompile(ctx, *cancel); });
  AddBuildRefArgs(cancel_cmd, *cancel);
  cancel_cmd->footer(
      "Prints the build's status after the request (cancelled, or its final status if it had already ended).\n\n"
      "Examples:\n"
      "  draft cancel org:hello                  # the latest build of the draft\n"
      "  draft cancel 01J9Z3V7K2M4X8Q5R6T7W8Y9ZA");

  auto test = std::make_shared<InvokeOptions>();
  CLI::App* test_cmd =
      AddCommand(*draft, ctx, "test", "Run the draft (building it if needed) without publishing; print its response",
                 [&ctx, test] { return TestDraft(ctx, *test); });
  test_cmd->add_option("id", test->id, kIdHelp)->required();
  AddPayloadFlags(*test_cmd, *test);
  test_cmd->footer(
      "Output as for invoke: the response body byte for byte on stdout; a non-2xx status still prints the\n"
      "body, then exits 1.\n\n"
      "Examples:\n"
      "  draft test org:hello -p '{\"name\": \"world\"}'\n"
      "  draft test hello --payload-file ./input.json -H 'X-Trace: 1' -o json");

  auto publish_id = std::make_shared<std::string>();
  CLI::App* publish_cmd =
      AddCommand(*draft, ctx, "publish", "Build the draft if needed and publish it as the next version (made active)",
                 [&ctx, publish_id] { return PublishDraft(ctx, *publish_id); });
  publish_cmd->add_option("id", *publish_id, kIdHelp)->required();
  publish_cmd->footer("Example:\n  draft publish org:hello");
}

}  // namespace ignite::cli
