#include "build/image/image_code_path.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "build/build_step.h"
#include "build/image/image_config.h"
#include "build/image/image_ref.h"
#include "common/ids.h"
#include "common/process.h"

#include <openssl/evp.h>

namespace ignite::build::image {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr auto kCheckTimeout = std::chrono::seconds(60);
constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Status WriteFile(const std::string& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) return Internal(fmt::format("cannot write {}", path));
  return OkStatus();
}

struct SourceDoc {
  std::string image_ref;
  std::string registry_secret_ref;
};

Result<SourceDoc> ParseSource(std::string_view data) {
  auto doc = json::parse(data, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.value("imageRef", json()).is_string()) {
    return InvalidArgument("the image draft is not an image source document; save it again with --image-ref");
  }
  return SourceDoc{doc["imageRef"].get<std::string>(), doc.value("registrySecretRef", "")};
}

// "sha256:<hex>" -> "<hex>"; "" when it is not a sha256 digest.
std::string Hex(std::string_view digest) {
  if (digest.rfind("sha256:", 0) != 0 || digest.size() != 7 + 64) return "";
  return std::string(digest.substr(7));
}

// skopeo's view of one registry: TLS verification unless it is loopback or listed as insecure, and the
// credentials of `authfile` (containers-auth.json), or none.
std::vector<std::string> RegistryFlags(const ImageTools& tools, const ImageRef& ref, bool copy,
                                       const std::string& authfile) {
  bool insecure = IsLoopbackRegistry(ref.registry) || tools.insecure_registries.count(ref.registry);
  std::vector<std::string> flags;
  flags.push_back(fmt::format("--{}tls-verify={}", copy ? "src-" : "", insecure ? "false" : "true"));
  if (authfile.empty()) {
    flags.push_back(copy ? "--src-no-creds" : "--no-creds");
  } else {
    flags.push_back(copy ? "--src-authfile" : "--authfile");
    flags.push_back(authfile);
  }
  return flags;
}

std::string Base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

// "https://ghcr.io/" -> "ghcr.io"; "" -> "docker.io" (the reference: an empty server address is Docker Hub).
std::string RegistryHost(std::string server) {
  for (const char* scheme : {"https://", "http://"}) {
    if (server.rfind(scheme, 0) == 0) server = server.substr(std::strlen(scheme));
  }
  while (!server.empty() && server.back() == '/') server.pop_back();
  if (server.empty() || server == "index.docker.io" || server == "registry-1.docker.io") return "docker.io";
  return server;
}

// The credentials of the image source's registry secret as a containers-auth.json in `dir` (mode 0600,
// removed with `dir`); "" when the source names none. InvalidArgument when the secret is missing, is not a
// registry secret, or is for another registry. The value never reaches a command line or a log.
Result<std::string> AuthFile(const std::string& dir, const ImageRef& ref, const std::string& secret_name,
                             const SecretResolver& secrets) {
  if (secret_name.empty()) return std::string();
  if (!secrets) return FailedPrecondition("this platform keeps no secrets, so registry_secret_ref cannot be used");
  auto found = secrets(secret_name);
  if (!found.ok() && found.status().code() == StatusCode::kNotFound) {
    return InvalidArgument(fmt::format("registry secret \"{}\" does not exist in this organization; create it "
                                       "(a registry secret with the username and password for {})",
                                       secret_name, ref.registry));
  }
  IGNITE_ASSIGN_OR_RETURN(SecretValue v, std::move(found));
  if (v.type != "registry_secret") {
    return InvalidArgument(fmt::format("secret \"{}\" is a {}, not a registry secret: registry_secret_ref must "
                                       "name a secret of type registry",
                                       secret_name, v.type == "git_secret" ? "git secret" : v.type));
  }
  if (RegistryHost(v.server_address) != ref.registry) {
    return InvalidArgument(fmt::format("registry secret \"{}\" is for {}, but the image is on {}", secret_name,
                                       RegistryHost(v.server_address), ref.registry));
  }
  json doc = {{"auths", {{ref.registry, {{"auth", Base64(v.username + ":" + v.password)}}}}}};
  std::string path = dir + "/auth.json";
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Internal(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  std::string text = doc.dump();
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  if (!ok) return Internal(fmt::format("cannot write {}", path));
  return path;
}

// skopeo's failure as the user should read it: with a hint when the registry wanted credentials.
std::string PullError(const std::string& tool_output, const std::string& secret_name) {
  bool auth = tool_output.find("unauthorized") != std::string::npos ||
              tool_output.find("authentication required") != std::string::npos ||
              tool_output.find("401") != std::string::npos;
  if (!auth) return tool_output;
  if (secret_name.empty()) {
    return tool_output + "\nthe registry requires authentication: pull the image with a registry secret "
                         "(registry_secret_ref, --registry-secret-ref NAME)";
  }
  return tool_output + fmt::format("\nthe registry refused the credentials of secret \"{}\" (unauthorized): "
                                   "rotate the secret with the right username and password",
                                   secret_name);
}

// Runs skopeo with `args`; its standard output goes to `out_file` (when non-empty) so that what it prints
// on stderr cannot mix into a document we parse. Returns the result; the caller judges the exit code.
Result<CommandResult> Skopeo(const ImageTools& tools, BuildSteps& steps, std::vector<std::string> args,
                             std::string_view step, const std::string& out_file,
                             const std::function<void(std::string_view)>& on_line) {
  SpawnSpec spec;
  std::string skopeo = tools.skopeo.find('/') == std::string::npos ? FindInPath(tools.skopeo) : tools.skopeo;
  if (out_file.empty()) {
    spec.argv.push_back(skopeo);
  } else {
    spec.argv = {"/bin/sh", "-c", "out=$1; shift; exec \"$@\" > \"$out\"", "sh", out_file, skopeo};
  }
  for (auto& a : args) spec.argv.push_back(std::move(a));
  // Its own HOME: no credentials or policy of the daemon's user are picked up.
  spec.env = {{"PATH", "/usr/local/bin:/usr/bin:/bin"}, {"HOME", "/nonexistent"}, {"LANG", "C.UTF-8"}};
  spec.die_with_parent = true;
  return steps.Run(spec, step, on_line);
}

Status PrepareMountPoints(const std::string& root) {
  // The sandbox mounts over these (instances/sandbox.h, SandboxSpawn::root): they must be a real directory
  // or file, never a link that would aim the mount elsewhere.
  std::error_code ec;
  for (const char* d : {"dev", "proc", "tmp", "etc"}) {
    fs::path p = fs::path(root) / d;
    auto st = fs::symlink_status(p, ec);
    if (fs::exists(st) && (fs::is_symlink(st) || !fs::is_directory(st))) fs::remove_all(p, ec);
    if (!fs::is_directory(fs::symlink_status(p, ec))) {
      if (mkdir(p.c_str(), 0755) != 0) {
        return Internal(fmt::format("cannot make {}: {}", p.string(), std::strerror(errno)));
      }
    }
  }
  chmod((root + "/tmp").c_str(), 01777);
  for (const char* f : {"etc/hosts", "etc/resolv.conf"}) {
    fs::path p = fs::path(root) / f;
    auto st = fs::symlink_status(p, ec);
    if (fs::exists(st) && !fs::is_regular_file(st)) fs::remove_all(p, ec);
    if (!fs::exists(fs::symlink_status(p, ec))) {
      int fd = open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd < 0) return Internal(fmt::format("cannot make {}: {}", p.string(), std::strerror(errno)));
      close(fd);
    }
  }
  return OkStatus();
}

// The program an image's argv[0] names: itself when absolute, else the first PATH entry (the image's Env,
// else Docker's default) under which the root has it.
Result<std::string> ResolveProgram(const std::string& root, const ImageConfig& config) {
  std::vector<std::string> argv = config.Argv();
  const std::string& name = argv[0];
  if (name.find('/') != std::string::npos) return name;  // absolute, or relative to WorkingDir: as given
  std::string path = kDefaultPath;
  for (const auto& e : config.env) {
    if (e.rfind("PATH=", 0) == 0) path = e.substr(5);
  }
  std::stringstream dirs(path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty() || dir[0] != '/') continue;
    std::string candidate = dir + "/" + name;
    struct stat st {};
    if (lstat((root + candidate).c_str(), &st) == 0) return candidate;
  }
  return FailedPrecondition(fmt::format("the image's command \"{}\" is not in its PATH ({}); use an absolute "
                                        "path in ENTRYPOINT or CMD",
                                        name, path));
}

}  // namespace

std::string ImageSourceJson(const std::string& image_ref, const std::string& registry_secret_ref) {
  json doc = {{"imageRef", image_ref}};
  if (!registry_secret_ref.empty()) doc["registrySecretRef"] = registry_secret_ref;
  return doc.dump();
}

std::string ImageCodePath::Missing() const {
  std::string missing;
  for (const auto& tool : {tools_.skopeo, tools_.umoci}) {
    bool found = tool.find('/') == std::string::npos ? !FindInPath(tool).empty() : access(tool.c_str(), X_OK) == 0;
    if (!found) missing += (missing.empty() ? "" : ", ") + tool;
  }
  return missing;
}

Status ImageCodePath::Check(const Source& source, const CheckContext& ctx) const {
  if (std::string missing = Missing(); !missing.empty()) {
    return FailedPrecondition(fmt::format("container images need {} on the platform's machine; install them "
                                          "(apt-get install skopeo umoci) and restart ignited",
                                          missing));
  }
  IGNITE_ASSIGN_OR_RETURN(auto doc, ParseSource(source.archive));
  IGNITE_ASSIGN_OR_RETURN(auto ref, ParseImageRef(doc.image_ref));
  IGNITE_ASSIGN_OR_RETURN(auto scratch, ScratchDir::Make(ctx.scratch_dir, "image-check-"));
  IGNITE_ASSIGN_OR_RETURN(std::string authfile, AuthFile(scratch.path(), ref, doc.registry_secret_ref, ctx.secrets));
  BuildSteps steps(kCheckTimeout, nullptr, "");
  std::vector<std::string> args = {"inspect", "--config"};
  for (auto& f : RegistryFlags(tools_, ref, false, authfile)) args.push_back(f);
  args.push_back("docker://" + ref.ToString());
  std::string out = scratch.path() + "/config.json";
  IGNITE_ASSIGN_OR_RETURN(auto r, Skopeo(tools_, steps, args, "reading the image's configuration", out, {}));
  if (r.exit_code != 0) {
    return InvalidArgument(fmt::format("cannot read the image {}: {}", ref.ToString(),
                                       PullError(steps.ToolOutput(r), doc.registry_secret_ref)));
  }
  return ParseImageConfig(ReadFile(out)).status();
}

Result<BuildOutput> ImageCodePath::Build(const Source& source, const BuildContext& ctx) const {
  if (std::string missing = Missing(); !missing.empty()) {
    return FailedPrecondition(fmt::format("container images need {}; install them and restart ignited", missing));
  }
  IGNITE_ASSIGN_OR_RETURN(auto doc, ParseSource(source.archive));
  IGNITE_ASSIGN_OR_RETURN(auto ref, ParseImageRef(doc.image_ref));
  BuildSteps steps(ctx.timeout, ctx.cancel, ctx.work_dir);
  auto log = [&ctx](std::string_view line) {
    if (ctx.on_log) ctx.on_log(line);
  };

  // 1. The digest to pin: of the manifest exactly as the registry serves it.
  log(fmt::format("==> resolving {}{}", ref.ToString(),
                  doc.registry_secret_ref.empty() ? "" : " with registry secret " + doc.registry_secret_ref));
  IGNITE_ASSIGN_OR_RETURN(std::string authfile, AuthFile(ctx.work_dir, ref, doc.registry_secret_ref, ctx.secrets));
  std::string raw_path = ctx.work_dir + "/raw-manifest";
  std::vector<std::string> args = {"inspect", "--raw"};
  for (auto& f : RegistryFlags(tools_, ref, false, authfile)) args.push_back(f);
  args.push_back("docker://" + ref.ToString());
  IGNITE_ASSIGN_OR_RETURN(auto inspected, Skopeo(tools_, steps, args, "skopeo inspect", raw_path, log));
  if (inspected.exit_code != 0) {
    return InvalidArgument(fmt::format("cannot pull {}: {}", ref.ToString(),
                                       PullError(steps.ToolOutput(inspected), doc.registry_secret_ref)));
  }
  std::string digest = ref.digest.empty() ? "sha256:" + Sha256Hex(ReadFile(raw_path)) : ref.digest;
  std::string pinned = ref.Pinned(digest);
  log(fmt::format("==> pinned to {}", pinned));

  // 2. Every blob, verified by skopeo against its digest as it arrives.
  std::string layout_dir = ctx.work_dir + "/oci";
  args = {"copy", "--retry-times", "2"};
  for (auto& f : RegistryFlags(tools_, ref, true, authfile)) args.push_back(f);
  args.push_back("docker://" + pinned);
  args.push_back("oci:" + layout_dir + ":image");
  log(fmt::format("==> skopeo copy docker://{} (into the build's OCI layout)", pinned));
  IGNITE_ASSIGN_OR_RETURN(auto copied, Skopeo(tools_, steps, args, "skopeo copy", "", log));
  if (copied.exit_code != 0) {
    return InvalidArgument(fmt::format("pulling {} failed: {}", pinned,
                                       PullError(steps.ToolOutput(copied), doc.registry_secret_ref)));
  }

  // 3. What the layout holds, each blob checked again by its digest here.
  auto index = json::parse(ReadFile(layout_dir + "/index.json"), nullptr, false);
  if (index.is_discarded() || !index.contains("manifests") || !index["manifests"].is_array() ||
      index["manifests"].empty()) {
    return Internal("skopeo left no image in the build's OCI layout");
  }
  const json& entry = index["manifests"][0];
  std::string manifest_hex = Hex(entry.value("digest", ""));
  std::string media_type = entry.value("mediaType", "application/vnd.oci.image.manifest.v1+json");
  auto blob = [&](const std::string& hex) { return layout_dir + "/blobs/sha256/" + hex; };
  if (manifest_hex.empty() || Sha256Hex(ReadFile(blob(manifest_hex))) != manifest_hex) {
    return InvalidArgument(fmt::format("the manifest of {} does not match its digest", pinned));
  }
  auto manifest = json::parse(ReadFile(blob(manifest_hex)), nullptr, false);
  if (manifest.is_discarded() || !manifest.contains("config") || !manifest.contains("layers") ||
      !manifest["layers"].is_array()) {
    return InvalidArgument(fmt::format("the manifest of {} is not an image manifest", pinned));
  }
  std::string config_hex = Hex(manifest["config"].value("digest", ""));
  std::string config_data = config_hex.empty() ? "" : ReadFile(blob(config_hex));
  if (config_hex.empty() || Sha256Hex(config_data) != config_hex) {
    return InvalidArgument(fmt::format("the configuration of {} does not match its digest", pinned));
  }
  IGNITE_ASSIGN_OR_RETURN(auto config, ParseImageConfig(config_data));
  log(fmt::format("==> checking {} layer(s)", manifest["layers"].size()));
  BuildOutput out;
  out.blobs = {blob(manifest_hex), blob(config_hex)};
  json layers = json::array();
  LayerSummary used;
  for (const auto& l : manifest["layers"]) {
    std::string d = l.value("digest", "");
    std::string hex = Hex(d);
    if (hex.empty()) return InvalidArgument(fmt::format("{} has a layer without a sha256 digest", pinned));
    IGNITE_ASSIGN_OR_RETURN(auto summary, CheckLayer(blob(hex), d, tools_.limits, used));
    if (summary.sha256 != hex) {
      return InvalidArgument(fmt::format("layer {} of {} does not match its digest", d, pinned));
    }
    used.entries += summary.entries;
    used.bytes += summary.bytes;
    log(fmt::format("    {} : {} entries, {} bytes", d.substr(0, 19), summary.entries, summary.bytes));
    layers.push_back(hex);
    out.blobs.push_back(blob(hex));
  }

  // 4. The artifact: which stored blobs make the image.
  json descriptor = {{"kind", "oci-image"},           {"reference", ref.ToString()}, {"pinned", pinned},
                     {"manifest", manifest_hex},       {"manifestMediaType", media_type},
                     {"config", config_hex},           {"layers", layers},
                     {"user", fmt::format("{}:{}", config.uid, config.gid)}};
  out.artifact_path = ctx.work_dir + "/image.json";
  IGNITE_RETURN_IF_ERROR(WriteFile(out.artifact_path, descriptor.dump(2)));
  out.artifact_size = fs::file_size(out.artifact_path);
  out.executable = false;
  out.source_ref = pinned;
  log(fmt::format("==> image {}: {} layer(s), {} bytes unpacked, runs {} as {}:{}", pinned, layers.size(), used.bytes,
                  config.Argv()[0], config.uid, config.gid));
  return out;
}

Result<ArtifactLayout> ImageCodePath::Layout(const std::string& artifact_path) const {
  auto d = json::parse(ReadFile(artifact_path), nullptr, false);
  if (d.is_discarded() || d.value("kind", "") != "oci-image") {
    return FailedPrecondition(fmt::format("the artifact {} is not an image descriptor", artifact_path));
  }
  std::string manifest_hex = d.value("manifest", "");
  std::string config_hex = d.value("config", "");
  if (manifest_hex.size() != 64 || config_hex.size() != 64) {
    return FailedPrecondition(fmt::format("the image descriptor {} names no manifest", artifact_path));
  }
  IGNITE_ASSIGN_OR_RETURN(auto config, ParseImageConfig(ReadFile(blob_path_(config_hex))));
  std::string root = roots_dir_ + "/" + manifest_hex;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    // An OCI layout whose blobs are the stored ones, for umoci to unpack from.
    fs::create_directories(roots_dir_, ec);
    IGNITE_ASSIGN_OR_RETURN(auto scratch, ScratchDir::Make(roots_dir_, ".unpack-"));
    const std::string& tmpl = scratch.path();
    std::string oci = tmpl + "/oci";
    fs::create_directories(oci + "/blobs/sha256", ec);
    std::vector<std::string> hexes = {manifest_hex, config_hex};
    for (const auto& l : d.value("layers", json::array())) hexes.push_back(l.get<std::string>());
    for (const auto& hex : hexes) {
      std::string stored = blob_path_(hex);
      if (access(stored.c_str(), R_OK) != 0) {
        return FailedPrecondition(fmt::format("blob sha256:{} of the image is missing from the store", hex));
      }
      fs::create_symlink(stored, oci + "/blobs/sha256/" + hex, ec);
      if (ec) return Internal(fmt::format("cannot link blob {}: {}", hex, ec.message()));
    }
    json index = {{"schemaVersion", 2},
                  {"manifests",
                   {{{"mediaType", d.value("manifestMediaType", "application/vnd.oci.image.manifest.v1+json")},
                     {"digest", "sha256:" + manifest_hex},
                     {"size", fs::file_size(blob_path_(manifest_hex))},
                     {"annotations", {{"org.opencontainers.image.ref.name", "image"}}}}}}};
    IGNITE_RETURN_IF_ERROR(WriteFile(oci + "/index.json", index.dump()));
    IGNITE_RETURN_IF_ERROR(WriteFile(oci + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
    SpawnSpec spec;
    spec.argv = {tools_.umoci.find('/') == std::string::npos ? FindInPath(tools_.umoci) : tools_.umoci, "unpack",
                 "--image", oci + ":image", tmpl + "/bundle"};
    spec.env = {{"PATH", "/usr/local/bin:/usr/bin:/bin"}, {"HOME", "/nonexistent"}};
    IGNITE_ASSIGN_OR_RETURN(auto r, RunCommand(spec, std::chrono::minutes(10)));
    if (r.exit_code != 0) {
      return FailedPrecondition(fmt::format("unpacking the image {} failed: {}", d.value("pinned", ""), r.output));
    }
    std::string rootfs = tmpl + "/bundle/rootfs";
    IGNITE_RETURN_IF_ERROR(PrepareMountPoints(rootfs));
    chmod(rootfs.c_str(), 0755);
    // Renamed into place whole: a concurrent unpack of the same image loses the race harmlessly.
    if (rename(rootfs.c_str(), root.c_str()) != 0 && !fs::is_directory(root, ec)) {
      return Internal(fmt::format("cannot move the unpacked image to {}: {}", root, std::strerror(errno)));
    }
  }
  IGNITE_ASSIGN_OR_RETURN(std::string program, ResolveProgram(root, config));
  ArtifactLayout layout;
  layout.launcher = kProcessLauncher;
  layout.listen = Listen::kPort;
  layout.root = root;
  layout.argv = config.Argv();
  layout.argv[0] = program;
  layout.working_dir = config.working_dir.empty() ? "/" : config.working_dir;
  for (const auto& e : config.env) {
    auto eq = e.find('=');
    layout.env[e.substr(0, eq)] = eq == std::string::npos ? "" : e.substr(eq + 1);
  }
  layout.uid = config.uid;
  layout.gid = config.gid;
  return layout;
}

}  // namespace ignite::build::image
