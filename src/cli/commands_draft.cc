// `draft`: save, info (alias status), publish (reference 3.6).
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cli/code_source.h"
#include "cli/commands.h"
#include "cli/errors.h"
#include "cli/output.h"

namespace ignite::cli {
namespace {

struct SaveOptions {
  std::string id;
  std::string code;
  std::string runtime;
};

std::string StatusLabel(v1::VersionStatus status) {
  return EnumLabel(v1::VersionStatus_Name(status), "VERSION_STATUS_");
}

Status SaveDraft(CommandContext& ctx, const SaveOptions& opts) {
  IGNITE_ASSIGN_OR_RETURN(AppRef ref, ctx.ResolveApp(opts.id));
  IGNITE_ASSIGN_OR_RETURN(CodeUpload upload, LoadCode(opts.code, ctx.fs(), ArchivePacker()));
  v1::SaveDraftRequest request;
  v1::CompileSource* compile = request.mutable_code()->mutable_compile();
  if (!opts.runtime.empty()) {
    IGNITE_ASSIGN_OR_RETURN(v1::Runtime runtime, RuntimeFromFlag(opts.runtime));
    *compile->mutable_runtime() = runtime;
  }
  compile->set_file_name(upload.file_name);
  const int64_t size = static_cast<int64_t>(upload.bytes.size());
  compile->set_source_code(std::move(upload.bytes));

  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());
  IGNITE_ASSIGN_OR_RETURN(v1::SaveDraftResponse response, client->SaveDraft(ref, request));
  return Emit(ctx, response, [&] {
    const v1::DraftInfo& draft = response.draft();
    std::string uploaded = upload.packed_directory ? fmt::format("directory {} (packed as tar.gz)", opts.code)
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
    // The reference's exact answer, in both output modes.
    ctx.out() << "{\"status\":\"no draft\"}\n";
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

constexpr const char* kIdHelp = "App id: org:app, org/app, or app (organization from --org or config)";

}  // namespace

void AddDraftCommands(CLI::App& parent, CommandContext& ctx) {
  CLI::App* draft = AddGroup(parent, ctx, "draft", "Save code into an app's draft and publish it as a version");

  auto save = std::make_shared<SaveOptions>();
  CLI::App* save_cmd = AddCommand(*draft, ctx, "save", "Upload code into the draft (replaces the previous draft)",
                                  [&ctx, save] { return SaveDraft(ctx, *save); });
  save_cmd->add_option("id", save->id, kIdHelp)->required();
  save_cmd->add_option("-c,--code", save->code,
                       "A directory (packed as tar.gz, skipping .git, node_modules, __pycache__, target, .venv), "
                       "a .zip, .tar.gz or .tgz archive, or a single .go file")
      ->required();
  save_cmd->add_option("--runtime", save->runtime, "go, python, rust or deno (default: detected from the code)")
      ->check(CLI::IsMember({"go", "python", "rust", "deno"}));
  save_cmd->footer(
      "Examples:\n"
      "  draft save org:hello --code ./\n"
      "  draft save hello -c code.tar.gz\n"
      "  draft save hello -c main.go --runtime go");

  auto info_id = std::make_shared<std::string>();
  CLI::App* info_cmd = AddCommand(*draft, ctx, "info", "Show the draft's status, code hash and build state",
                                  [&ctx, info_id] { return DraftInfo(ctx, *info_id); });
  info_cmd->alias("status");
  info_cmd->add_option("id", *info_id, kIdHelp)->required();

  auto publish_id = std::make_shared<std::string>();
  CLI::App* publish_cmd =
      AddCommand(*draft, ctx, "publish", "Build the draft if needed and publish it as the next version (made active)",
                 [&ctx, publish_id] { return PublishDraft(ctx, *publish_id); });
  publish_cmd->add_option("id", *publish_id, kIdHelp)->required();
}

}  // namespace ignite::cli
