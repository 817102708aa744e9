// DraftService: an app's draft and its builds: saving code (checked by its code path before anything is
// stored), compiling it on the build queue, following, cancelling and reading builds, and reading stored
// code. Builds go through the code path's Builder (build/builder.h), chosen by the draft's runtime. Methods
// block (store, builds): call them off event loops. Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "api/routing.h"
#include "api/service_context.h"
#include "build/build_queue.h"

namespace ignite::api {

class DraftService {
 public:
  // `ctx` and `routing` must outlive the service.
  DraftService(const ServiceContext* ctx, Routing* routing);

  Result<pb::SaveDraftResponse> SaveDraft(const Principal& p, const pb::SaveDraftRequest& req);
  Result<pb::GetDraftInfoResponse> GetDraftInfo(const Principal& p, const pb::GetDraftInfoRequest& req);
  Result<pb::CompileDraftResponse> CompileDraft(const Principal& p, const pb::CompileDraftRequest& req);
  // Sends the build's log from the start and follows it until the build ends; the last entry carries the final
  // status. `send` returns false when the receiver is gone (the stream then stops). An error returned before
  // the first send means nothing was sent.
  Status StreamCompileLogs(const Principal& p, const pb::StreamCompileLogsRequest& req,
                           const std::function<bool(const pb::CompileLogEntry&)>& send);
  Result<pb::CancelCompileResponse> CancelCompile(const Principal& p, const pb::CancelCompileRequest& req);
  Result<pb::GetAppCodeResponse> GetAppCode(const Principal& p, const pb::GetAppCodeRequest& req);
  Result<pb::GetBuildLogResponse> GetBuildLog(const Principal& p, const pb::GetBuildLogRequest& req);

  // The successful build of the app's draft: reused when one of exactly that code succeeded, else started
  // (or joined, when under way) and waited for. FailedPrecondition when there is no draft; the build's own
  // error when it failed.
  struct BuiltDraft {
    store::BuildRecord build;
    std::string runtime;  // the draft's serialized pb::Runtime: the code path that built `build`
  };
  Result<BuiltDraft> BuildDraft(const Principal& p, const std::string& app);

 private:
  struct BuildRef {
    std::string id;
    std::shared_ptr<build::BuildJob> job;  // nullptr when a finished successful build is reused
  };
  // Starts the build of the draft's code unless a build of exactly that code succeeded or is under way.
  Result<BuildRef> StartBuild(const Principal& p, const std::string& app, const store::DraftRecord& draft);
  // The secrets a check or build of `org_id`'s code may use (ServiceOptions::resolve_secret).
  build::SecretResolver SecretsOf(const std::string& org_id) const;
  // Waits for the build; its record when it succeeded, else why it did not.
  Result<store::BuildRecord> AwaitBuild(const BuildRef& ref);
  // The build of `deploy_id`, if it belongs to the caller's org (NotFound otherwise, without saying more).
  Result<store::BuildRecord> LoadBuild(const Principal& p, const std::string& deploy_id);

  const ServiceContext* ctx_;
  Routing* routing_;
  build::BuildQueue builds_;
  std::mutex start_build_mu_;  // makes "find or start the draft's build" atomic
};

}  // namespace ignite::api
