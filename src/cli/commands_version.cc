// `version`: list, get, rollback (reference 3.6).
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cli/commands.h"
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
    Table table{{"VERSION", "STATUS", "CODE HASH", "CREATED"}, {}};
    for (const v1::AppVersionInfo& v : response.versions()) {
      table.rows.push_back({std::to_string(v.version()), StatusLabel(v.status()), ShortHash(v.code_hash()),
                            FormatTimeMs(v.created_at_ms())});
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

constexpr const char* kIdHelp = "App id: org:app, org/app, or app (organization from --org or config)";

void AddVersionArgs(CLI::App* cmd, VersionArgs& args) {
  cmd->add_option("id", args.id, kIdHelp)->required();
  cmd->add_option("version", args.version, "Version number (1, 2, ...)")
      ->required()
      ->check(CLI::Range(1u, 4294967295u));
}

}  // namespace

void AddVersionCommands(CLI::App& parent, CommandContext& ctx) {
  CLI::App* version = AddGroup(parent, ctx, "version", "List and inspect published versions; roll back");

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
}

}  // namespace ignite::cli
