#include "build/go/source_check.h"

#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "build/build_step.h"
#include "build/go/go_sandbox.h"
#include "build/tool_text.h"
#include "common/process.h"

#ifndef IGNITE_GOCHECK_PATH
#define IGNITE_GOCHECK_PATH ""
#endif

namespace ignite::build {

std::string GoCheckBinary(const GoToolchain& tc) {
  return tc.gocheck_binary.empty() ? std::string(IGNITE_GOCHECK_PATH) : tc.gocheck_binary;
}

Result<std::vector<SourceProblem>> ParseGoCheckOutput(std::string_view json) {
  auto doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("problems") || !doc["problems"].is_array()) {
    return Internal(fmt::format("the Go source checker printed unexpected output: {}", CapForMessage(json, 2000)));
  }
  std::vector<SourceProblem> out;
  for (const auto& p : doc["problems"]) {
    if (!p.is_object()) continue;
    out.push_back({p.value("pos", ""), p.value("message", "")});
  }
  return out;
}

std::optional<std::vector<std::string>> ParseGoCheckExternalImports(std::string_view json) {
  auto doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.value("importsKnown", false)) return std::nullopt;
  auto it = doc.find("externalImports");
  if (it == doc.end() || !it->is_array()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& p : *it) {
    if (p.is_string()) out.push_back(p.get<std::string>());
  }
  return out;
}

std::string FormatProblems(const std::vector<SourceProblem>& problems) {
  auto line = [](const SourceProblem& p) { return p.pos.empty() ? p.message : p.pos + ": " + p.message; };
  if (problems.size() == 1) return line(problems[0]);
  std::string out = fmt::format("the source has {} problems:", problems.size());
  for (const auto& p : problems) out += "\n" + line(p);
  return out;
}

Status RunGoCheck(const GoToolchain& tc, const std::string& dir, const std::string& module_hint,
                  std::chrono::milliseconds timeout,
                  std::optional<std::vector<std::string>>* external_imports, const GoCheckIsolation& isolation) {
  std::string binary = GoCheckBinary(tc);
  if (binary.empty() || access(binary.c_str(), X_OK) != 0) {
    return FailedPrecondition(fmt::format(
        "the Go source checker ignite-gocheck is missing at \"{}\"; rebuild the platform (it is built with "
        "ignited) or point IGNITE_GOCHECK at it",
        binary));
  }
  SpawnSpec spec;
  spec.argv = {binary};  // one short process: no parent-death wrapper needed
  if (!module_hint.empty()) {
    spec.argv.push_back("-module");
    spec.argv.push_back(module_hint);
  }
  spec.argv.push_back(dir);
  spec.env = {{"PATH", "/usr/bin:/bin"}};
  spec.join_cgroups = isolation.cgroup_procs;
  if (!isolation.bwrap.empty()) {
    // The parser reads the user's source: it sees only the checker and that directory, without network.
    std::error_code ec1, ec2;
    std::string checker = std::filesystem::canonical(binary, ec1).string();
    std::string source = std::filesystem::canonical(dir, ec2).string();
    if (ec1 || ec2) {
      return Internal(fmt::format("cannot resolve {} or {}: {}", binary, dir, (ec1 ? ec1 : ec2).message()));
    }
    spec.argv[0] = checker;
    spec.argv.back() = source;
    spec.sandbox_prefix = BuildSandboxArgv(isolation.bwrap, GoCheckView(checker, source), ProbeHostPath);
  }
  IGNITE_ASSIGN_OR_RETURN(CommandResult r, RunCommand(spec, timeout));
  if (r.timed_out) {
    return DeadlineExceeded(fmt::format("checking the Go source took longer than {}", FormatGoDuration(timeout)));
  }
  if (r.exit_code == 125 && r.output.find(kJoinCgroupFailed) != std::string::npos) {
    return Internal(fmt::format("the Go source checker could not be limited: {}", CapForMessage(TrimSpace(r.output), 4000)));
  }
  if (r.exit_code != 0) {
    return Internal(fmt::format("the Go source checker failed (exit {}, signal {}): {}", r.exit_code,
                                r.term_signal, CapForMessage(r.output, 4000)));
  }
  IGNITE_ASSIGN_OR_RETURN(auto problems, ParseGoCheckOutput(r.output));
  if (external_imports) *external_imports = ParseGoCheckExternalImports(r.output);
  if (problems.empty()) return OkStatus();
  return InvalidArgument(FormatProblems(problems));
}

Status CheckGoSource(const GoToolchain& tc, std::string_view archive, std::string_view file_name,
                     const std::string& scratch_dir, const archive::Limits& limits,
                     const std::string& sandbox_bwrap) {
  namespace fs = std::filesystem;
  IGNITE_ASSIGN_OR_RETURN(auto scratch, ScratchDir::Make(scratch_dir, "gocheck-"));
  const std::string& tmpl = scratch.path();
  // ExtractTo validates every entry before it writes anything.
  IGNITE_RETURN_IF_ERROR(archive::ExtractTo(archive, file_name, "main.go", tmpl, limits));
  return RunGoCheck(tc, tmpl, "", std::chrono::seconds(30), nullptr, GoCheckIsolation{sandbox_bwrap, {}});
}

}  // namespace ignite::build
