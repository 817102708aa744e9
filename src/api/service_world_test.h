// ServiceWorld: a ComputeService over the shared fakes (src/testing/): an in-memory store and blob store, the
// made-up "toy" code path (builder and launcher), and the real route table, instance manager and invoker, so a
// test drives save -> build -> publish -> invoke with no toolchain, no database file and no child process.
// Each world has its own temporary directory (build scratch, logs, instance sockets), removed with it.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "api/compute_service.h"
#include "instances/app_events.h"
#include "testing/fake_blob_store.h"
#include "testing/fake_store.h"
#include "testing/toy_code_path.h"

namespace ignite::api {

struct ServiceWorld {
  ServiceWorld() {
    char pattern[] = "/tmp/ignite-svc-XXXXXX";
    dir = mkdtemp(pattern);
    std::filesystem::create_directories(dir + "/run");
    builders.Register("toy", std::make_unique<fakes::ToyBuilder>());
    toy = std::make_unique<fakes::ToyLauncher>(dir + "/run", &blobs);
    launchers.Register(fakes::kToyLauncher, toy.get());
    instances = std::make_unique<instances::InstanceManager>(&launchers, &SystemClock());
    logs = std::make_unique<instances::LogCollector>(dir + "/logs", &SystemClock());
    invoker = std::make_unique<gateway::Invoker>(&routes, instances.get());
    ServiceOptions options;
    options.data_dir = dir;
    options.builders = &builders;
    service = std::make_unique<ComputeService>(
        options, Deps{&store, &blobs, &routes, instances.get(), invoker.get(), logs.get(), &SystemClock(), nullptr,
                      &events});
    store::OrgRecord org{.id = "org-1", .name = "acme"};
    EXPECT_TRUE(store.CreateOrg(org).ok());
    store::OrgRecord other{.id = "org-2", .name = "other"};
    EXPECT_TRUE(store.CreateOrg(other).ok());
    admin = Principal{.token_id = "t1", .org_id = "org-1", .org_name = "acme", .role = "admin"};
    stranger = Principal{.token_id = "t2", .org_id = "org-2", .org_name = "other", .role = "admin"};
  }
  ~ServiceWorld() {
    service.reset();
    invoker.reset();
    instances.reset();  // stops the toy instances
    logs.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  const fakes::ToyBuilder& builder() const {
    return *static_cast<const fakes::ToyBuilder*>(builders.Find("toy"));
  }

  // Creates `name` in acme; fails the test on error.
  void CreateApp(const std::string& name) {
    pb::CreateAppRequest req;
    req.set_organization_name("acme");
    req.set_name(name);
    auto created = service->CreateApp(admin, req);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }
  Result<pb::SaveDraftResponse> Save(const std::string& app, const std::string& code) {
    pb::SaveDraftRequest req;
    req.set_organization_name("acme");
    req.set_app_name(app);
    req.mutable_code()->mutable_compile()->set_source_code(code);
    req.mutable_code()->mutable_compile()->set_file_name("main.toy");
    return service->SaveDraft(admin, req);
  }
  Result<pb::PublishDraftResponse> Publish(const std::string& app) {
    pb::PublishDraftRequest req;
    req.set_organization_name("acme");
    req.set_app_name(app);
    return service->PublishDraft(admin, req);
  }
  // Saves `code` as the draft of `app` and publishes it (the app must exist): the next version.
  Result<pb::PublishDraftResponse> Ship(const std::string& app, const std::string& code) {
    IGNITE_RETURN_IF_ERROR(Save(app, code).status());
    return Publish(app);
  }
  Result<gateway::InvokeResult> Invoke(const std::string& app, const std::string& payload,
                                       const Principal* who = nullptr) {
    gateway::InvokeCall call;
    call.payload = payload;
    return service->Invoke(who ? *who : admin, "acme", app, std::move(call));
  }

  std::string dir;
  fakes::FakeStore store;
  fakes::FakeBlobStore blobs;
  build::BuilderRegistry builders;
  std::unique_ptr<fakes::ToyLauncher> toy;
  instances::DispatchingLauncher launchers;
  gateway::RouteTable routes;
  std::unique_ptr<instances::InstanceManager> instances;
  std::unique_ptr<instances::LogCollector> logs;
  instances::AppEventLog events{&SystemClock()};
  std::unique_ptr<gateway::Invoker> invoker;
  std::unique_ptr<ComputeService> service;
  Principal admin, stranger;
};

}  // namespace ignite::api
