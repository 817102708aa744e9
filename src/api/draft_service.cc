#include "api/draft_service.h"

#include <filesystem>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/code_paths.h"
#include "api/json_schema.h"
#include "api/views.h"
#include "build/image/image_code_path.h"
#include "common/ids.h"

namespace ignite::api {
namespace {

// An image source as the "image" code path's draft code (build/image/image_code_path.h).
Result<pb::CompileSource> ImageDraftSource(const pb::ImageSource& image) {
  if (!image.has_prebuilt()) {
    return InvalidArgument("code.image needs {\"prebuilt\": {\"imageRef\": \"registry/repository:tag\"}}");
  }
  const auto& pre = image.prebuilt();
  if (pre.image_ref().empty()) {
    return InvalidArgument("code.image.prebuilt.imageRef is empty: name the image, e.g. ghcr.io/acme/app:1.0");
  }
  pb::CompileSource src;
  auto* rt = src.mutable_runtime()->mutable_image();
  rt->set_code_kind(pb::CODE_KIND_PREBUILT);
  rt->set_image_ref(pre.image_ref());
  src.set_source_code(build::image::ImageSourceJson(pre.image_ref(), pre.registry_secret_ref()));
  src.set_file_name("image.json");
  return src;
}

}  // namespace

DraftService::DraftService(const ServiceContext* ctx, Routing* routing)
    : ctx_(ctx), routing_(routing), builds_(ctx->options.max_concurrent_builds, ctx->deps.clock) {}

Result<pb::SaveDraftResponse> DraftService::SaveDraft(const Principal& p, const pb::SaveDraftRequest& req) {
  IGNITE_ASSIGN_OR_RETURN(auto app, ctx_->LoadApp(p, req.organization_name(), req.app_name()));
  if (!req.has_code()) return InvalidArgument("missing \"code\": send {\"code\": {\"compile\": {\"sourceCode\": <base64>}}}");
  IGNITE_RETURN_IF_ERROR(CompileOptionalSchema(req.input_schema(), "input_schema").status());
  IGNITE_RETURN_IF_ERROR(CompileOptionalSchema(req.output_schema(), "output_schema").status());
  // An image source is the "image" code path's code: a small document naming the image (build/image/).
  pb::CompileSource src;
  if (req.code().has_image()) {
    IGNITE_ASSIGN_OR_RETURN(src, ImageDraftSource(req.code().image()));
  } else {
    src = req.code().compile();
  }
  pb::Runtime runtime = src.runtime();
  std::string key = CodePathKey(runtime);
  if (key.empty() && ctx_->options.builders && !src.source_code().empty()) {
    // No runtime named: the code path whose files the code has at its root (handler.py, go.mod, ...).
    auto files = archive::Inspect(src.source_code(), src.file_name(), "", ctx_->options.limits);
    if (files.ok()) {
      std::vector<std::string> root;
      for (const auto& f : *files) {
        if (f.path.find('/') == std::string::npos) root.push_back(f.path);
      }
      key = ctx_->options.builders->Detect(root);
      if (!key.empty()) SetCodePath(key, &runtime);
    }  // a bad archive is reported by the builder's Check below
  }
  const build::Builder* builder = ctx_->options.builders ? ctx_->options.builders->Find(key) : nullptr;
  if (!builder && key == "image") {
    return Unavailable("this ignited runs no container images: it lacks skopeo and umoci (apt-get install skopeo "
                       "umoci) or the instance sandbox (run it as root); see `GET /v1/ignite/health`");
  }
  if (!builder) {
    std::string known = KnownCodePaths(ctx_->options.builders);
    return Unimplemented(fmt::format("the {} runtime is not supported by this platform; it builds {}", key,
                                     known.empty() ? "nothing (no code path is configured)" : known));
  }
  if (key.empty()) SetCodePath(ctx_->options.builders->default_key(), &runtime);
  if (src.source_code().empty()) {
    return InvalidArgument("code.compile.sourceCode is empty: upload a source file, or a zip / tar.gz of your code");
  }
  // Reject bad archives and layouts before anything is stored.
  std::filesystem::path scratch = std::filesystem::path(ctx_->options.data_dir) / "tmp";
  std::filesystem::create_directories(scratch);
  build::CheckContext check;
  check.scratch_dir = scratch.string();
  check.limits = ctx_->options.limits;
  check.isolation.bwrap = ctx_->build_bwrap;
  check.secrets = SecretsOf(p.org_id);
  IGNITE_RETURN_IF_ERROR(builder->Check(build::Source{src.source_code(), src.file_name()}, check));

  IGNITE_ASSIGN_OR_RETURN(std::string hash, ctx_->deps.blobs->Put(src.source_code()));
  IGNITE_ASSIGN_OR_RETURN(auto previous, ctx_->deps.store->GetDraft(p.org_id, app.name));
  int64_t now = ctx_->deps.clock->NowUnixMs();
  store::DraftRecord d;
  d.code_hash = hash;
  d.code_size = static_cast<int64_t>(src.source_code().size());
  d.runtime = runtime.SerializeAsString();
  d.file_name = src.file_name();
  d.created_at_ms = now;
  d.updated_at_ms = now;
  // Saving identical code again keeps its build, so publishing does not rebuild it.
  if (previous && previous->code_hash == hash) {
    d.build_id = previous->build_id;
    d.created_at_ms = previous->created_at_ms;
  }
  IGNITE_RETURN_IF_ERROR(ctx_->deps.store->PutDraft(p.org_id, app.name, d));
  pb::AppMeta stored;
  stored.ParseFromString(app.spec);
  // The app's runtime is the one of its saved code (reference 2.6); app create's flag was only a note.
  bool new_runtime = stored.runtime().SerializeAsString() != runtime.SerializeAsString();
  if (new_runtime || !req.input_schema().empty() || !req.output_schema().empty()) {
    pb::AppMeta spec = stored;
    *spec.mutable_runtime() = runtime;
    if (!req.input_schema().empty()) spec.set_input_schema(req.input_schema());
    if (!req.output_schema().empty()) spec.set_output_schema(req.output_schema());
    app.spec = spec.SerializeAsString();
    app.updated_at_ms = now;
    IGNITE_RETURN_IF_ERROR(ctx_->deps.store->UpdateAppSpec(p.org_id, app.name, app.spec, now));
    if (app.active_version > 0 && (!req.input_schema().empty() || !req.output_schema().empty())) {
      // The schemas are app config: the serving route checks payloads against the new input schema at once.
      IGNITE_ASSIGN_OR_RETURN(auto v, ctx_->deps.store->GetVersion(p.org_id, app.name, app.active_version));
      IGNITE_RETURN_IF_ERROR(routing_->Route(p.org_id, p.org_name, app, v));
    }
  }
  pb::GetDraftInfoRequest info_req;
  info_req.set_organization_name(req.organization_name());
  info_req.set_app_name(req.app_name());
  IGNITE_ASSIGN_OR_RETURN(auto info, GetDraftInfo(p, info_req));
  pb::SaveDraftResponse resp;
  *resp.mutable_draft() = info.draft();
  return resp;
}

Result<pb::GetDraftInfoResponse> DraftService::GetDraftInfo(const Principal& p, const pb::GetDraftInfoRequest& req) {
  IGNITE_ASSIGN_OR_RETURN(auto app, ctx_->LoadApp(p, req.organization_name(), req.app_name()));
  IGNITE_ASSIGN_OR_RETURN(auto draft, ctx_->deps.store->GetDraft(p.org_id, app.name));
  pb::GetDraftInfoResponse resp;
  if (!draft) return resp;
  auto* d = resp.mutable_draft();
  d->set_status(pb::VERSION_STATUS_DRAFT);
  d->set_code_hash(draft->code_hash);
  d->set_created_at_ms(draft->created_at_ms);
  d->set_updated_at_ms(draft->updated_at_ms);
  d->set_code_size_bytes(draft->code_size);
  d->mutable_runtime()->ParseFromString(draft->runtime);
  d->set_code_kind(CodeKindOf(d->runtime()));
  if (d->runtime().has_image()) d->set_image_ref(d->runtime().image().image_ref());
  d->set_deploy_id(draft->build_id);
  if (!draft->build_id.empty()) {
    auto build = ctx_->deps.store->GetBuild(draft->build_id);
    if (build.ok()) {
      d->set_build_status(static_cast<pb::BuildStatus>(build->status));
      d->set_error(build->error);
    }
    if (auto job = builds_.Find(draft->build_id); job && !job->finished()) {
      d->set_build_status(ToBuildStatus(job->state()));
      d->set_queue_position(job->queue_position());
    }
  }
  return resp;
}

build::SecretResolver DraftService::SecretsOf(const std::string& org_id) const {
  const auto& resolve = ctx_->options.resolve_secret;
  if (!resolve) return {};
  return [resolve, org_id](std::string_view name) { return resolve(org_id, name); };
}

Result<DraftService::BuildRef> DraftService::StartBuild(const Principal& p, const std::string& app,
                                                              const store::DraftRecord& draft) {
  std::lock_guard<std::mutex> l(start_build_mu_);
  // Re-read under the lock: another request may have started the build since the caller loaded the draft.
  IGNITE_ASSIGN_OR_RETURN(auto current, ctx_->deps.store->GetDraft(p.org_id, app));
  const store::DraftRecord& d = current && current->code_hash == draft.code_hash ? *current : draft;
  if (!d.build_id.empty()) {
    auto job = builds_.Find(d.build_id);
    if (job && !job->finished()) return BuildRef{d.build_id, job};
    auto prev = ctx_->deps.store->GetBuild(d.build_id);
    if (prev.ok() && prev->status == pb::BUILD_STATUS_SUCCEEDED && ctx_->deps.blobs->Contains(prev->artifact_hash)) {
      return BuildRef{d.build_id, nullptr};
    }
  }
  auto found = StoredCodePath(ctx_->options.builders, d.runtime);
  if (!found.ok()) {
    return FailedPrecondition(fmt::format("the draft of {}/{}: {}", p.org_name, app, found.status().message()));
  }
  const build::Builder* builder = *found;
  store::BuildRecord b;
  b.id = NewUlid();
  b.org_id = p.org_id;
  b.app_name = app;
  b.code_hash = d.code_hash;
  b.status = pb::BUILD_STATUS_PENDING;
  b.created_at_ms = ctx_->deps.clock->NowUnixMs();
  IGNITE_RETURN_IF_ERROR(ctx_->deps.store->PutBuild(b));
  IGNITE_RETURN_IF_ERROR(ctx_->deps.store->SetDraftBuild(p.org_id, app, d.code_hash, b.id));

  struct Outcome {
    std::string artifact_hash;
    int64_t artifact_size = 0;
    std::string sdk_version;
    std::string source_ref;
  };
  auto outcome = std::make_shared<Outcome>();
  std::string file_name = d.file_name;
  std::string org_name = p.org_name;
  auto work = std::filesystem::path(ctx_->options.data_dir) / "builds" / b.id;
  auto run = [this, b, outcome, file_name, org_name, work, app, builder](build::BuildJob& job) mutable -> Status {
    b.status = pb::BUILD_STATUS_RUNNING;
    IGNITE_RETURN_IF_ERROR(ctx_->deps.store->PutBuild(b));
    IGNITE_ASSIGN_OR_RETURN(std::string code, ctx_->deps.blobs->Get(b.code_hash));
    std::filesystem::create_directories(work);
    build::BuildContext ctx;
    ctx.app_name = app;
    ctx.work_dir = work.string();
    ctx.timeout = ctx_->options.build_timeout;
    ctx.limits = ctx_->options.limits;
    ctx.on_log = [&job](std::string_view line) { job.Log(line); };
    ctx.cancel = job.cancel_flag();
    ctx.isolation.bwrap = ctx_->build_bwrap;
    ctx.secrets = SecretsOf(b.org_id);
    // The build's own group for its duration; destroying it kills whatever the build left behind.
    std::unique_ptr<instances::Cgroup> cgroup;
    if (ctx_->options.cgroups) {
      auto made = ctx_->options.cgroups->Create(b.id, instances::ResourceLimits{kBuildMemoryBytes, 0, kBuildPids});
      if (!made.ok()) return Internal("cannot create the build's cgroup: " + made.status().message());
      cgroup = std::move(*made);
      ctx.isolation.cgroup_procs = cgroup->procs_paths();
    }
    spdlog::info("build {} of {}/{} started", b.id, org_name, app);
    ctx_->Event(org_name + "/" + app, instances::event::kBuildStarted, 0, fmt::format("build {} started", b.id));
    auto built = builder->Build(build::Source{code, file_name}, ctx);
    if (!built.ok() && cgroup && cgroup->OomKilled()) {
      return ResourceExhausted(fmt::format("the build ran out of memory: it exceeded the {} GiB build memory limit "
                                           "and the compiler was killed ({}); make the build lighter or split the app",
                                           kBuildMemoryBytes >> 30, built.status().message()));
    }
    IGNITE_ASSIGN_OR_RETURN(auto out, std::move(built));
    for (const auto& extra : out.blobs) {
      // Before the artifact that names them: a stored artifact never refers to a missing blob.
      IGNITE_RETURN_IF_ERROR(ctx_->deps.blobs->PutFile(extra, false).status());
    }
    IGNITE_ASSIGN_OR_RETURN(outcome->artifact_hash, ctx_->deps.blobs->PutFile(out.artifact_path, out.executable));
    outcome->source_ref = out.source_ref;
    outcome->artifact_size = static_cast<int64_t>(out.artifact_size);
    outcome->sdk_version = out.sdk_version;
    job.Log(fmt::format("==> artifact {} ({} bytes, SDK {})", outcome->artifact_hash, out.artifact_size,
                        out.sdk_version));
    return OkStatus();
  };
  auto finish = [this, b, outcome, org_name, work, app](build::BuildJob& job, const Status& st) mutable {
    b.status = st.ok() ? pb::BUILD_STATUS_SUCCEEDED
                       : st.code() == StatusCode::kCancelled ? pb::BUILD_STATUS_CANCELLED : pb::BUILD_STATUS_FAILED;
    b.error = st.ok() ? "" : st.message();
    b.artifact_hash = outcome->artifact_hash;
    b.artifact_size = outcome->artifact_size;
    b.sdk_version = outcome->sdk_version;
    b.source_ref = outcome->source_ref;
    std::vector<build::LogEntry> entries;
    job.ReadLog(0, &entries, std::chrono::milliseconds(0));
    for (const auto& e : entries) b.log += e.line + "\n";
    b.finished_at_ms = ctx_->deps.clock->NowUnixMs();
    if (auto put = ctx_->deps.store->PutBuild(b); !put.ok()) spdlog::error("recording build {}: {}", b.id, put.message());
    std::error_code ec;
    std::filesystem::remove_all(work, ec);
    spdlog::info("build {} of {}/{} {}", b.id, org_name, app, st.ok() ? "succeeded" : st.ToString());
    ctx_->Event(org_name + "/" + app, st.ok() ? instances::event::kBuildSucceeded : instances::event::kBuildFailed, 0,
          st.ok() ? fmt::format("build {} succeeded", b.id)
                  : fmt::format("build {} {}: {}", b.id, st.code() == StatusCode::kCancelled ? "was cancelled" : "failed",
                                st.message()));
  };
  return BuildRef{b.id, builds_.Submit(b.id, std::move(run), std::move(finish))};
}

Result<store::BuildRecord> DraftService::AwaitBuild(const BuildRef& ref) {
  if (ref.job) {
    ref.job->Wait();
    if (!ref.job->result().ok()) return ref.job->result();
  }
  IGNITE_ASSIGN_OR_RETURN(auto rec, ctx_->deps.store->GetBuild(ref.id));
  if (rec.status != pb::BUILD_STATUS_SUCCEEDED) {
    return FailedPrecondition(fmt::format("build {} did not succeed: {}", ref.id, rec.error));
  }
  return rec;
}

Result<DraftService::BuiltDraft> DraftService::BuildDraft(const Principal& p, const std::string& app) {
  IGNITE_ASSIGN_OR_RETURN(auto draft, ctx_->deps.store->GetDraft(p.org_id, app));
  if (!draft) {
    return FailedPrecondition(fmt::format("{}/{} has no draft; save code first with "
                                          "`dodil ignite draft save {}:{} --code <dir>`",
                                          p.org_name, app, p.org_name, app));
  }
  // The build is of this draft's code (StartBuild builds or reuses only a build of its code hash), so the
  // draft read here names its code path even when the draft is saved again meanwhile.
  IGNITE_ASSIGN_OR_RETURN(auto ref, StartBuild(p, app, *draft));
  IGNITE_ASSIGN_OR_RETURN(auto build, AwaitBuild(ref));
  return BuiltDraft{std::move(build), draft->runtime};
}

Result<store::BuildRecord> DraftService::LoadBuild(const Principal& p, const std::string& deploy_id) {
  auto rec = ctx_->deps.store->GetBuild(deploy_id);
  if ((!rec.ok() && rec.status().code() == StatusCode::kNotFound) || (rec.ok() && rec->org_id != p.org_id)) {
    return NotFound(fmt::format("build {} does not exist; `dodil ignite draft info <app>` shows the latest build id",
                                deploy_id));
  }
  return rec;
}

Result<pb::CompileDraftResponse> DraftService::CompileDraft(const Principal& p, const pb::CompileDraftRequest& req) {
  IGNITE_ASSIGN_OR_RETURN(auto app, ctx_->LoadApp(p, req.organization_name(), req.app_name()));
  IGNITE_ASSIGN_OR_RETURN(auto draft, ctx_->deps.store->GetDraft(p.org_id, app.name));
  if (!draft) {
    return FailedPrecondition(fmt::format("{}/{} has no draft to compile; save code first with "
                                          "`dodil ignite draft save {}:{} --code <dir>`",
                                          req.organization_name(), app.name, req.organization_name(), app.name));
  }
  IGNITE_ASSIGN_OR_RETURN(auto ref, StartBuild(p, app.name, *draft));
  pb::CompileDraftResponse resp;
  resp.set_deploy_id(ref.id);
  if (ref.job) {
    resp.set_status(ToBuildStatus(ref.job->state()));
    resp.set_queue_position(ref.job->queue_position());
  } else {
    resp.set_status(pb::BUILD_STATUS_SUCCEEDED);
  }
  return resp;
}

Status DraftService::StreamCompileLogs(const Principal& p, const pb::StreamCompileLogsRequest& req,
                                         const std::function<bool(const pb::CompileLogEntry&)>& send) {
  IGNITE_ASSIGN_OR_RETURN(auto rec, LoadBuild(p, req.deploy_id()));
  auto job = builds_.Find(rec.id);
  if (!job) {
    // Finished (or interrupted by a restart): replay what was persisted.
    std::string_view log = rec.log;
    size_t pos = 0;
    while (pos < log.size()) {
      size_t nl = log.find('\n', pos);
      if (nl == std::string_view::npos) nl = log.size();
      pb::CompileLogEntry e;
      e.set_timestamp_ms(rec.finished_at_ms);
      e.set_line(std::string(log.substr(pos, nl - pos)));
      e.set_status(static_cast<pb::BuildStatus>(rec.status));
      if (!send(e)) return OkStatus();
      pos = nl + 1;
    }
    pb::CompileLogEntry last;
    last.set_timestamp_ms(rec.finished_at_ms);
    last.set_status(static_cast<pb::BuildStatus>(rec.status));
    last.set_error(rec.error);
    if (rec.status == pb::BUILD_STATUS_FAILED) last.set_error_code(static_cast<int>(StatusCode::kInvalidArgument));
    if (rec.status == pb::BUILD_STATUS_CANCELLED) last.set_error_code(static_cast<int>(StatusCode::kCancelled));
    send(last);
    return OkStatus();
  }
  size_t next = 0;
  uint32_t last_position = 0;
  for (;;) {
    std::vector<build::LogEntry> entries;
    bool done = job->ReadLog(next, &entries, std::chrono::milliseconds(500));
    next += entries.size();
    pb::BuildStatus status = ToBuildStatus(job->state());
    uint32_t position = job->queue_position();
    for (const auto& entry : entries) {
      pb::CompileLogEntry e;
      e.set_timestamp_ms(entry.timestamp_ms);
      e.set_line(entry.line);
      e.set_status(done ? pb::BUILD_STATUS_RUNNING : status);
      if (!send(e)) return OkStatus();
    }
    if (done) break;
    if (position != last_position) {
      // Waiting for a slot: say where in the queue the build is whenever that changes.
      pb::CompileLogEntry e;
      e.set_timestamp_ms(ctx_->deps.clock->NowUnixMs());
      e.set_status(status);
      e.set_queue_position(position);
      if (!send(e)) return OkStatus();
      last_position = position;
    }
  }
  Status result = job->result();
  pb::CompileLogEntry last;
  last.set_timestamp_ms(ctx_->deps.clock->NowUnixMs());
  last.set_status(ToBuildStatus(job->state()));
  if (!result.ok()) {
    last.set_error(result.message());
    last.set_error_code(static_cast<int>(result.code()));
  }
  send(last);
  return OkStatus();
}

Result<pb::CancelCompileResponse> DraftService::CancelCompile(const Principal& p,
                                                                const pb::CancelCompileRequest& req) {
  IGNITE_ASSIGN_OR_RETURN(auto rec, LoadBuild(p, req.deploy_id()));
  auto job = builds_.Find(rec.id);
  if (!job || job->finished()) {
    return FailedPrecondition(fmt::format("build {} has already finished ({})", rec.id,
                                          pb::BuildStatus_Name(static_cast<pb::BuildStatus>(rec.status))));
  }
  job->Cancel();
  // A running build stops within moments; answer with the state it reached.
  for (int i = 0; i < 100 && !job->finished(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  pb::CancelCompileResponse resp;
  resp.set_status(ToBuildStatus(job->state()));
  return resp;
}

Result<pb::GetAppCodeResponse> DraftService::GetAppCode(const Principal& p, const pb::GetAppCodeRequest& req) {
  IGNITE_ASSIGN_OR_RETURN(auto app, ctx_->LoadApp(p, req.organization_name(), req.app_name()));
  pb::GetAppCodeResponse resp;
  std::string hash;
  if (req.version() == 0) {
    IGNITE_ASSIGN_OR_RETURN(auto draft, ctx_->deps.store->GetDraft(p.org_id, app.name));
    if (!draft) return NotFound(fmt::format("{}/{} has no draft", req.organization_name(), app.name));
    hash = draft->code_hash;
    resp.set_file_name(draft->file_name);
  } else {
    auto v = ctx_->deps.store->GetVersion(p.org_id, app.name, req.version());
    if (!v.ok() && v.status().code() == StatusCode::kNotFound) {
      return NotFound(fmt::format("{}/{} has no version {}", req.organization_name(), app.name, req.version()));
    }
    if (!v.ok()) return v.status();
    hash = v->code_hash;
    // Versions do not keep the upload's file name; the draft does, while it still holds the same code.
    if (auto d = ctx_->deps.store->GetDraft(p.org_id, app.name); d.ok() && *d && (*d)->code_hash == hash) {
      resp.set_file_name((*d)->file_name);
    }
  }
  IGNITE_ASSIGN_OR_RETURN(std::string code, ctx_->deps.blobs->Get(hash));
  resp.set_source_code(std::move(code));
  resp.set_code_hash(hash);
  resp.set_version(req.version());
  return resp;
}

Result<pb::GetBuildLogResponse> DraftService::GetBuildLog(const Principal& p, const pb::GetBuildLogRequest& req) {
  IGNITE_ASSIGN_OR_RETURN(auto app, ctx_->LoadApp(p, req.organization_name(), req.app_name()));
  IGNITE_ASSIGN_OR_RETURN(auto rec, LoadBuild(p, req.build_id()));
  if (rec.app_name != app.name) {
    return NotFound(fmt::format("build {} is not a build of {}/{}", req.build_id(), req.organization_name(), app.name));
  }
  pb::GetBuildLogResponse resp;
  resp.set_build_id(rec.id);
  resp.set_status(static_cast<pb::BuildStatus>(rec.status));
  resp.set_error(rec.error);
  resp.set_code_hash(rec.code_hash);
  resp.set_sdk_version(rec.sdk_version);
  resp.set_created_at_ms(rec.created_at_ms);
  resp.set_finished_at_ms(rec.finished_at_ms);
  resp.set_artifact_sha256(rec.artifact_hash);
  resp.set_artifact_size_bytes(rec.artifact_size);
  // A build still running has its log in memory only.
  if (auto job = builds_.Find(rec.id); job && !job->finished()) {
    std::vector<build::LogEntry> entries;
    job->ReadLog(0, &entries, std::chrono::milliseconds(0));
    for (const auto& e : entries) resp.mutable_log()->append(e.line + "\n");
    resp.set_status(ToBuildStatus(job->state()));
  } else {
    resp.set_log(rec.log);
  }
  return resp;
}


}  // namespace ignite::api
