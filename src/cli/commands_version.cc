// `version`: list, get, rollback, test, code (reference 3.6).
#include <memory>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/errors.h"
#include "cli/output.h"

namespace ignite::cli {
namespace {

struct VersionArgs {
  std::string id;
  uint32_t version = 0;
};

std::string StatusLabel(v1::VersionStatus status) {
  return EnumLabel(v1::VersionStatus_Name(status), "VERSION_STATUS_");
}

std::string ShortHash(const std::string& hash) { return hash.size() > 12 ? hash.substr(0, 12) : hash; }

Status ListVersions(CommandContext& ctx, const std::string& id) {
  IGNITE_ASSIGN_OR_RETURN(AppRef ref, ctx.ResolveApp(id));
  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());
  IGNITE_ASSIGN_OR_RETURN(v1::ListAppVersionsResponse response, client->ListAppVersions(ref));
  return Emit(ctx, response, [&] {
    if (response.versions().empty()) {
      return fmt::format("{} has no versions yet; publish its draft with `draft publish {}`.\n", ref.id(),
                         ref.id());
    }
    // -o wide: the whole code hash, plus RUNTIME, ARTIFACT (size) and BUILD ID.
    const bool wide = ctx.Wide();
    Table table{{"VERSION", "STATUS", "CODE HASH", "CREATED"}, {}};
    if (wide) table.headers.insert(table.headers.end(), {"RUNTIME", "ARTIFACT", "BUILD ID"});
    for (const v1::AppVersionInfo& v : response.versions()) {
      table.rows.push_back({std::to_string(v.version()), StatusLabel(v.status()),
                            wide ? v.code_hash() : ShortHash(v.code_hash()), FormatTimeMs(v.created_at_ms())});
      if (wide) {
        table.rows.back().insert(table.rows.back().end(),
                                 {RuntimeLabel(v.runtime()),
                                  v.artifact_size_bytes() > 0 ? FormatBytes(v.artifact_size_bytes()) : "",
                                  v.build_id()});
      }
    }
    return table.Render();
  });
}

Status GetVersion(CommandContext& ctx, const VersionArgs& args) {
  IGNITE_ASSIGN_OR_RETURN(AppRef ref, ctx.ResolveApp(args.id));
  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());
  IGNITE_ASSIGN_OR_RETURN(v1::GetAppVersionResponse response, client->GetAppVersion(ref, args.version));
  return Emit(ctx, response, [&] {
    const v1::AppVersionInfo& v = response.version_info();
    std::string artifact;
    if (!v.artifact_sha256().empty()) {
      artifact = fmt::format("{} ({})", v.artifact_sha256(), FormatBytes(v.artifact_size_bytes()));
    }
    const v1::ResourceLimits& limits = response.app().has_applied_limits() ? response.app().applied_limits()
                                                                           : v.limits();
    return RenderKeyValues({
        {"App", ref.id()},
        {"Version", std::to_string(v.version() > 0 ? v.version() : args.version)},
        {"Status", StatusLabel(v.status())},
        {"Code hash", v.code_hash()},
        {"Runtime", RuntimeLabel(v.runtime())},
        {"Tier", EnumLabel(v1::ResourceTier_Name(v.resource_tier()), "RESOURCE_TIER_")},
        {"Limits", LimitsLabel(limits)},
        {"Artifact", artifact},
        {"Build id", v.build_id()},
        {"Created", FormatTimeMs(v.created_at_ms())},
    });
  });
}

Status Rollback(CommandContext& ctx, const VersionArgs& args) {
  IGNITE_ASSIGN_OR_RETURN(AppRef ref, ctx.ResolveApp(args.id));
  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());
  IGNITE_ASSIGN_OR_RETURN(v1::RollbackAppResponse response, client->RollbackApp(ref, args.version));
  return Emit(ctx, response, [&] {
    std::string text = fmt::format("Rolled back {}: version {} is active", ref.id(), response.active_version());
    if (response.previous_version() > 0) text += fmt::format(" (was {})", response.previous_version());
    return text + "\n";
  });
}

struct TestVersionOptions {
  InvokeOptions invoke;
  uint32_t version = 0;
};

Status TestVersion(CommandContext& ctx, const TestVersionOptions& opts) {
  const uint32_t version = opts.version;
  return RunInvocation(ctx, opts.invoke,
                       [version](ApiClient& client, const AppRef& app, std::string_view payload,
                                 const http::Headers& headers, InvokeStreamDecoder& decoder) {
                         return client.TestAppVersion(app, version, payload, headers, decoder);
                       });
}

struct CodeOptions {
  std::string id;
  int64_t version = -1;  // -1: the active version
  std::string output_file;
};

Status GetCode(CommandContext& ctx, const CodeOptions& opts) {
  IGNITE_ASSIGN_OR_RETURN(AppRef ref, ctx.ResolveApp(opts.id));
  IGNITE_ASSIGN_OR_RETURN(OutputFormat format, ctx.Format());
  // Refuse before any request: the answer could only be thrown away.
  IGNITE_ASSIGN_OR_RETURN(CodeDestination destination,
                          ChooseCodeDestination(format, opts.output_file, ctx.stdout_is_terminal()));
  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());
  uint32_t version = 0;
  if (opts.version >= 0) {
    version = static_cast<uint32_t>(opts.version);
  } else {
    IGNITE_ASSIGN_OR_RETURN(v1::GetAppResponse app, client->GetApp(ref));
    if (app.app().active_version() == 0) {
      return Status(StatusCode::kFailedPrecondition,
                    fmt::format("{} has no active version; pass --version N, or --version 0 for the draft",
                                ref.id()));
    }
    version = app.app().active_version();
  }
  IGNITE_ASSIGN_OR_RETURN(v1::GetAppCodeResponse response, client->GetAppCode(ref, version));
  const std::string& bytes = response.source_code();

  if (destination.file) {
    IGNITE_RETURN_IF_ERROR(ctx.fs().WriteFile(opts.output_file, bytes));
    ctx.err() << fmt::format("Wrote {} bytes ({}, sha256 {}) to {}\n", bytes.size(), response.file_name(),
                             response.code_hash(), opts.output_file);
    ctx.err().flush();
  }
  if (destination.json) {
    nlohmann::ordered_json out;
    out["app"] = ref.id();
    out["version"] = response.version() > 0 ? response.version() : version;
    out["fileName"] = response.file_name();
    out["codeHash"] = response.code_hash();
    out["sizeBytes"] = bytes.size();
    if (destination.file) out["outputFile"] = opts.output_file;
    ctx.out() << RenderStructured(format, out.dump(2));
  } else if (destination.raw_stdout) {
    ctx.out().write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  ctx.out().flush();
  return OkStatus();
}

constexpr const char* kIdHelp = kAppIdHelp;

void AddVersionArgs(CLI::App* cmd, VersionArgs& args) {
  cmd->add_option("id", args.id, kIdHelp)->required();
  cmd->add_option("version", args.version, "Version number (1, 2, ...)")
      ->required()
      ->check(CLI::Range(1u, 4294967295u));
}

}  // namespace

Result<CodeDestination> ChooseCodeDestination(OutputFormat format, const std::string& output_file,
                                              bool stdout_is_terminal) {
  CodeDestination d;
  const bool to_stdout = output_file == "-";
  if (IsStructured(format)) {
    if (to_stdout) return LocalError("-O - and -o json/yaml would both write to stdout; choose one");
    d.json = true;
    d.file = !output_file.empty();
    return d;
  }
  if (!output_file.empty() && !to_stdout) {
    d.file = true;
    return d;
  }
  if (output_file.empty() && stdout_is_terminal) {
    return LocalError(
        "not writing the code archive's raw bytes to a terminal: pass -O PATH (e.g. -O code.tar.gz), redirect "
        "stdout (> code.tar.gz), or use -o json for its size and hash");
  }
  d.raw_stdout = true;
  return d;
}

void AddVersionCommands(CLI::App& parent, CommandContext& ctx) {
  CLI::App* version = AddGroup(parent, ctx, "version",
                               "List and inspect published versions; test them, download their code, roll back");

  auto list_id = std::make_shared<std::string>();
  CLI::App* list_cmd = AddCommand(*version, ctx, "list", "List an app's versions",
                                  [&ctx, list_id] { return ListVersions(ctx, *list_id); });
  list_cmd->add_option("id", *list_id, kIdHelp)->required();

  auto get = std::make_shared<VersionArgs>();
  CLI::App* get_cmd = AddCommand(*version, ctx, "get", "Show one version",
                                 [&ctx, get] { return GetVersion(ctx, *get); });
  AddVersionArgs(get_cmd, *get);

  auto rollback = std::make_shared<VersionArgs>();
  CLI::App* rollback_cmd = AddCommand(*version, ctx, "rollback", "Make an earlier version the active one",
                                      [&ctx, rollback] { return Rollback(ctx, *rollback); });
  AddVersionArgs(rollback_cmd, *rollback);
  rollback_cmd->footer("Example:\n  version rollback org:hello 1");
  list_cmd->footer("Example:\n  version list org:hello");
  get_cmd->footer("Example:\n  version get org:hello 2");

  auto test = std::make_shared<TestVersionOptions>();
  CLI::App* test_cmd = AddCommand(*version, ctx, "test",
                                  "Run one published version (without making it active); print its response",
                                  [&ctx, test] { return TestVersion(ctx, *test); });
  test_cmd->add_option("id", test->invoke.id, kIdHelp)->required();
  test_cmd->add_option("version", test->version, "Version number (1, 2, ...)")
      ->required()
      ->check(CLI::Range(1u, 4294967295u));
  AddPayloadFlags(*test_cmd, test->invoke);
  test_cmd->footer(
      "Output as for invoke: the response body byte for byte on stdout; a non-2xx status still prints the\n"
      "body, then exits 1.\n\n"
      "Examples:\n"
      "  version test org:hello 1 -p '{\"name\": \"world\"}'\n"
      "  version test hello 2 --payload-file ./input.json -o json");

  auto code = std::make_shared<CodeOptions>();
  CLI::App* code_cmd = AddCommand(*version, ctx, "code", "Download the exact code archive saved for a version",
                                  [&ctx, code] { return GetCode(ctx, *code); });
  code_cmd->add_option("id", code->id, kIdHelp)->required();
  code_cmd->add_option("--version", code->version, "Version number; 0 means the draft (default: the active version)")
      ->check(CLI::Range(int64_t{0}, int64_t{4294967295}));
  code_cmd->add_option("-O,--output-file", code->output_file, "Write the bytes to this file (- for stdout)");
  code_cmd->footer(
      "Without -O the raw bytes go to stdout (refused when stdout is a terminal). With -o json, prints\n"
      "{app, version, fileName, codeHash, sizeBytes} instead of the bytes (and still writes -O's file).\n\n"
      "Examples:\n"
      "  version code org:hello -O code.tar.gz\n"
      "  version code org:hello --version 0 > draft.tar.gz\n"
      "  version code org:hello --version 2 -o json");
}

}  // namespace ignite::cli
