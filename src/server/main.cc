// ignited: the Ignite platform server. One process: HTTP API, build pipeline, instance supervisor, gateway.
#include <signal.h>
#include <unistd.h>

#include <boost/asio/thread_pool.hpp>

#include <sys/resource.h>

#include <iostream>
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <thread>

#include "api/async_invoke.h"
#include "api/auth.h"
#include "api/auth_http.h"
#include "api/auth_service.h"
#include "api/secret_http.h"
#include "api/secret_service.h"
#include "common/secret_box.h"
#include "server/admin.h"
#include "api/compute_service.h"
#include "api/direct_url.h"
#include "api/grpc_api.h"
#include "api/http_api.h"
#include "blob/fs_blob_store.h"
#include "build/go/go_code_path.h"
#include "build/image/image_code_path.h"
#include "build/python/python_code_path.h"
#include "common/ids.h"
#include "common/process.h"
#include "gateway/invoker.h"
#include "gateway/route_table.h"
#include "http/server.h"
#include "instances/instance_manager.h"
#include "instances/log_collector.h"
#include "instances/process_launcher.h"
#include "instances/zygote_launcher.h"
#include "server/bootstrap.h"
#include "store/sqlite_store.h"

namespace fs = std::filesystem;
using namespace ignite;

namespace {

struct Flags {
  std::string listen = "127.0.0.1:7070";
  std::string grpc_listen = "127.0.0.1:7071";
  std::string data_dir;
  std::string org = "org";
  std::string sdk_dir = IGNITE_GO_SDK_DIR;
  std::string go_cache_dir;  // Default: <data-dir>/cache.
  std::string python;        // Default: IGNITE_PYTHON, else the build-time setting (/usr/bin/python3.11).
  std::string python_sdk_dir = IGNITE_PYTHON_SDK_DIR;
  std::string python_cache_dir;  // Default: <data-dir>/cache/python.
  std::string python_launcher = "zygote";
  std::vector<std::string> insecure_registries;  // pulled from without TLS verification (beyond loopback)
  std::string secret_key_file;                    // Default: <data-dir>/secret.key.
  int threads = 2;
  // Control-plane calls, cold starts, draft tests and log/compile-log followers (which hold a thread while
  // they follow) run here; warm invocations do not.
  int blocking_threads = 256;
  int max_builds = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int build_timeout_secs = 600;
  int instance_start_timeout_secs = 10;
  bool write_cli_config = true;
  std::string log_level = "info";
  std::string base_domain = "ignite.localhost";
  int drain_timeout_secs = 900;  // the longest execution timeout an app may have
  int token_ttl_secs = 3600;      // tokens IssueToken makes from service accounts (default and cap)
  std::string sandbox = "auto";   // on, off, or auto (on when this process may create namespaces)
  uint32_t default_body_limit_mb = 100;  // request bodies of apps that set no limit (decisions.md)
  uint32_t max_body_limit_mb = 1024;     // the most an app may set
};

std::string DefaultDataDir() {
  const char* xdg = getenv("XDG_DATA_HOME");
  if (xdg && *xdg) return std::string(xdg) + "/ignite";
  const char* home = getenv("HOME");
  return std::string(home ? home : "/root") + "/.local/share/ignite";
}

// Unix socket paths are limited to 107 bytes; fall back to a short per-data-dir directory under /tmp.
std::string SocketDir(const std::string& data_dir) {
  std::string run = data_dir + "/run";
  if (run.size() + 48 < 108) return run;
  return fmt::format("/tmp/ignited-{}-{}", getuid(), Sha256Hex(data_dir).substr(0, 12));
}

// "HOST:PORT" as host and port; InvalidArgument naming `flag` otherwise.
Result<std::pair<std::string, uint16_t>> SplitHostPort(const std::string& value, const char* flag) {
  auto colon = value.rfind(':');
  int port = -1;
  if (colon != std::string::npos) {
    try {
      size_t used = 0;
      port = std::stoi(value.substr(colon + 1), &used);
      if (used != value.size() - colon - 1) port = -1;
    } catch (...) {
    }
  }
  if (port < 0 || port > 65535) {
    return InvalidArgument(fmt::format("{} must be HOST:PORT with a port from 0 to 65535, e.g. 127.0.0.1:7070 (got \"{}\")",
                                       flag, value));
  }
  return std::make_pair(value.substr(0, colon), static_cast<uint16_t>(port));
}

int Fail(const Status& st) {
  spdlog::error("{}", st.message());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  f.data_dir = DefaultDataDir();
  CLI::App app{"ignited: the Ignite serverless platform server (API, builds, instances, gateway)"};
  app.add_option("--listen", f.listen, "HOST:PORT to serve the HTTP API on")->envname("IGNITE_LISTEN")->capture_default_str();
  app.add_option("--grpc-listen", f.grpc_listen,
                 "HOST:PORT to serve the same API over gRPC on (with server reflection); port 0 picks a free "
                 "port, \"off\" disables it")
      ->envname("IGNITE_GRPC_LISTEN")->capture_default_str();
  app.add_option("--data-dir", f.data_dir, "directory for the database, blobs, logs and caches")
      ->envname("IGNITE_DATA_DIR")->capture_default_str();
  app.add_option("--bootstrap-org", f.org, "organization created on a fresh data dir")
      ->envname("IGNITE_BOOTSTRAP_ORG")->capture_default_str();
  app.add_option("--sdk-dir", f.sdk_dir, "directory of the bundled Go SDK")->envname("IGNITE_GO_SDK_DIR")->capture_default_str();
  app.add_option("--go-cache-dir", f.go_cache_dir, "Go build and module cache shared by builds (default <data-dir>/cache)")
      ->envname("IGNITE_GO_CACHE_DIR");
  app.add_option("--python", f.python,
                 "interpreter of the Python code path (default: the one configured at build time, /usr/bin/python3.11)")
      ->envname("IGNITE_PYTHON");
  app.add_option("--python-sdk-dir", f.python_sdk_dir, "directory of the bundled Python SDK")
      ->envname("IGNITE_PYTHON_SDK_DIR")->capture_default_str();
  app.add_option("--python-cache-dir", f.python_cache_dir,
                 "wheel cache shared by Python builds (default <data-dir>/cache/python)")
      ->envname("IGNITE_PYTHON_CACHE_DIR");
  app.add_option("--secret-key-file", f.secret_key_file,
                 "the 32-byte key secrets are encrypted with, created when missing (default <data-dir>/secret.key); "
                 "keep it off the database's disk or backups to keep a stolen database useless")
      ->envname("IGNITE_SECRET_KEY_FILE");
  app.add_option("--insecure-registry", f.insecure_registries,
                 "a registry (host:port) to pull images from without TLS verification; loopback ones always are "
                 "(repeatable)");
  app.add_option("--python-launcher", f.python_launcher,
                 "how Python instances start: zygote (fork a pre-initialised interpreter per version) or process "
                 "(a fresh interpreter each time)")
      ->envname("IGNITE_PYTHON_LAUNCHER")->check(CLI::IsMember({"zygote", "process"}))->capture_default_str();
  app.add_option("--threads", f.threads, "event-loop threads serving HTTP")->envname("IGNITE_THREADS")->capture_default_str();
  app.add_option("--blocking-threads", f.blocking_threads,
                 "threads for control-plane calls, cold starts and log followers")
      ->envname("IGNITE_BLOCKING_THREADS")->capture_default_str();
  app.add_option("--max-builds", f.max_builds, "builds that may run at once")->envname("IGNITE_MAX_BUILDS")->capture_default_str();
  app.add_option("--build-timeout-secs", f.build_timeout_secs, "wall-clock limit of one build")
      ->envname("IGNITE_BUILD_TIMEOUT_SECS")->capture_default_str();
  app.add_option("--instance-start-timeout-secs", f.instance_start_timeout_secs,
                 "a new instance must answer within this long of its start, else it is stopped and its calls get 503")
      ->envname("IGNITE_INSTANCE_START_TIMEOUT_SECS")->check(CLI::Range(1, 900))->capture_default_str();
  app.add_option("--write-cli-config", f.write_cli_config,
                 "point this machine's CLI config at this server unless the user wrote their own")
      ->envname("IGNITE_WRITE_CLI_CONFIG")->capture_default_str();
  app.add_option("--base-domain", f.base_domain, "per-app URLs are <app>-<org>.<base-domain>")
      ->envname("IGNITE__DNS_TLS__BASE_DOMAIN")->capture_default_str();
  app.add_option("--drain-timeout-secs", f.drain_timeout_secs,
                 "on SIGTERM, how long in-flight requests may run before they are cut off")
      ->envname("IGNITE_DRAIN_TIMEOUT_SECS")->capture_default_str();
  app.add_option("--token-ttl-secs", f.token_ttl_secs,
                 "lifetime of tokens exchanged for service account credentials (POST /v1/ignite/auth/token); "
                 "requests may ask for less, never more")
      ->envname("IGNITE_TOKEN_TTL_SECS")->check(CLI::Range(1, 30 * 24 * 3600))->capture_default_str();
  app.add_option("--sandbox", f.sandbox,
                 "isolate instances (docs/security.md): on (fail to start without it), off (development only), "
                 "or auto (on when running as root, else off with a warning)")
      ->envname("IGNITE_SANDBOX")->check(CLI::IsMember({"auto", "on", "off"}))->capture_default_str();
  app.add_option("--default-body-limit-mb", f.default_body_limit_mb,
                 "request body limit (MB) of apps that set none (app create/update --body-limit-mb); larger get 413")
      ->envname("IGNITE_DEFAULT_BODY_LIMIT_MB")
      ->check(CLI::Range(1u, 1u << 20))
      ->capture_default_str();
  app.add_option("--max-body-limit-mb", f.max_body_limit_mb, "the largest request body limit (MB) an app may set")
      ->envname("IGNITE_MAX_BODY_LIMIT_MB")
      ->check(CLI::Range(1u, 1u << 20))
      ->capture_default_str();
  app.add_option("--log-level", f.log_level, "trace, debug, info, warn, error")->envname("IGNITE_LOG_LEVEL")->capture_default_str();
  // Offline administration (server/admin.h); without a subcommand ignited serves.
  app.fallthrough();
  app.require_subcommand(0, 1);
  std::string admin_name, admin_role, admin_description = "created with ignited token create";
  int admin_ttl_secs = 0;
  CLI::App* org_cmd = app.add_subcommand("org", "Manage organizations in the data dir");
  CLI::App* org_create = org_cmd->add_subcommand("create", "Create an organization; prints its id");
  org_create->add_option("name", admin_name, "organization name")->required();
  org_cmd->require_subcommand(1);
  CLI::App* token_cmd = app.add_subcommand("token", "Manage API tokens in the data dir");
  CLI::App* token_create = token_cmd->add_subcommand("create", "Create a bearer token; prints it (shown only once)");
  token_create->add_option("--org", admin_name, "organization the token acts for")->required();
  token_create->add_option("--role", admin_role, "app-viewer, app-developer or admin")->required();
  token_create->add_option("--ttl-secs", admin_ttl_secs, "seconds until it expires; 0 never")->capture_default_str();
  token_create->add_option("--description", admin_description, "what the token is for");
  token_cmd->require_subcommand(1);
  CLI::App* routes_cmd = app.add_subcommand("routes", "Print every HTTP route as METHOD PATTERN RPC and exit");
  CLI11_PARSE(app, argc, argv);
  if (routes_cmd->parsed()) {
    // The same registrations as the server below; handlers are never called here.
    http::Router router;
    api::HttpApi(nullptr, nullptr, nullptr).Register(&router);
    api::RegisterAsyncRoutes(&router, nullptr, nullptr, nullptr);
    api::RegisterAuthRoutes(&router, nullptr, nullptr, nullptr);
    api::RegisterSecretRoutes(&router, nullptr, nullptr, nullptr);
    for (const auto& r : router.Describe()) std::cout << r << "\n";
    return 0;
  }
  if (org_create->parsed() || token_create->parsed()) {
    auto store = store::SqliteStore::Open(f.data_dir + "/ignite.db");
    if (!store.ok()) return Fail(store.status());
    if (org_create->parsed()) {
      auto org = server::CreateOrg(store->get(), SystemClock(), admin_name);
      if (!org.ok()) return Fail(org.status());
      std::cout << org->id << "\n";
      return 0;
    }
    api::Authenticator auth(store->get(), &SystemClock());
    auto token = server::CreateToken(store->get(), &auth, admin_name, admin_role,
                                     std::chrono::seconds(admin_ttl_secs), admin_description);
    if (!token.ok()) return Fail(token.status());
    std::cout << *token << "\n";
    return 0;
  }
  spdlog::set_level(spdlog::level::from_str(f.log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);

  if (f.default_body_limit_mb > f.max_body_limit_mb) {
    return Fail(InvalidArgument(fmt::format("--default-body-limit-mb {} is above --max-body-limit-mb {}; raise the "
                                            "maximum or lower the default",
                                            f.default_body_limit_mb, f.max_body_limit_mb)));
  }
  // Signals are taken synchronously by the main thread; every thread started below inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // Each live instance costs descriptors (its log pipes, cached connections): take the hard limit.
  if (rlimit nofile{}; getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }

  auto listen_at = SplitHostPort(f.listen, "--listen");
  if (!listen_at.ok()) return Fail(listen_at.status());
  http::ServerOptions http_opts;
  http_opts.host = listen_at->first;
  http_opts.port = listen_at->second;
  http_opts.threads = f.threads;
  http_opts.stream_body_limit = uint64_t{f.max_body_limit_mb} << 20;

  std::error_code ec;
  fs::create_directories(f.data_dir, ec);
  if (ec) return Fail(Internal(fmt::format("cannot create data dir {}: {}", f.data_dir, ec.message())));
  f.data_dir = fs::canonical(f.data_dir).string();
  for (const char* sub : {"blobs", "logs", "cache", "builds", "tmp"}) fs::create_directories(f.data_dir + "/" + sub, ec);
  // Leftovers of builds that were running when a previous process died.
  fs::remove_all(f.data_dir + "/builds", ec);
  fs::remove_all(f.data_dir + "/tmp", ec);
  fs::create_directories(f.data_dir + "/builds", ec);
  fs::create_directories(f.data_dir + "/tmp", ec);
  std::string socket_dir = SocketDir(f.data_dir);
  fs::remove_all(socket_dir, ec);
  fs::create_directories(socket_dir, ec);

  auto store = store::SqliteStore::Open(f.data_dir + "/ignite.db");
  if (!store.ok()) return Fail(store.status());
  auto blobs = blob::FsBlobStore::Open(f.data_dir + "/blobs");
  if (!blobs.ok()) return Fail(blobs.status());
  auto failed = (*store)->FailUnfinishedBuilds("ignited stopped while this build was running; publish again",
                                               SystemClock().NowUnixMs());
  if (failed.ok() && *failed > 0) spdlog::warn("marked {} interrupted build(s) as failed", *failed);

  api::Authenticator auth(store->get(), &SystemClock());
  auto boot = server::Bootstrap(store->get(), &auth, SystemClock(), f.data_dir, f.org);
  if (!boot.ok()) return Fail(boot.status());

  auto env = CurrentEnvironment();
  if (f.go_cache_dir.empty()) f.go_cache_dir = f.data_dir + "/cache";
  auto go = build::DefaultGoToolchain(f.sdk_dir, f.go_cache_dir, env);
  if (!go.ok()) return Fail(go.status());

  instances::LogCollector logs(f.data_dir + "/logs", &SystemClock());
  // Per-instance limits: cgroup v2, v1 or rlimits, whichever this host lets us use.
  auto cgroups = instances::CgroupManager::Detect("/sys/fs/cgroup", "/proc/self/mountinfo", fmt::format("d{}", getpid()));
  instances::ProcessLauncher launcher(socket_dir, &logs, cgroups.get());
  if (f.sandbox != "off") {
    std::string root = f.data_dir + "/sandbox";
    fs::create_directories(root, ec);
    instances::SandboxOptions sandbox;
    sandbox.root_dir = root;
    if (auto st = launcher.EnableSandbox(sandbox); !st.ok()) {
      if (f.sandbox == "on") return Fail(st);
      spdlog::warn("instances run WITHOUT isolation: {}", st.message());
    }
  }
  spdlog::info("instance sandbox: {}", launcher.SandboxDescription());
  spdlog::info("instance limits: {}", cgroups->Describe());
  // One launcher per artifact kind, chosen by each version's layout (common/artifact_layout.h).
  instances::DispatchingLauncher launchers;
  launchers.Register(kProcessLauncher, &launcher);
  // Interpreted code paths fork instances from a pre-initialised interpreter per version.
  instances::ZygoteLauncher zygotes(&launcher, socket_dir, &logs, cgroups.get());
  launchers.Register(instances::kZygoteLauncher, &zygotes);
  instances::InstanceManager instances(&launchers, &SystemClock());
  instances::AppEventLog app_events(&SystemClock());  // GetAppEvents / StreamAppEvents (memory only)
  instances.SetEventSink(&app_events);
  gateway::RouteTable routes;
  // Blocking work: API methods, builds' bookkeeping, and the gateway's cold starts and waits for capacity.
  boost::asio::thread_pool pool(static_cast<size_t>(f.blocking_threads));
  gateway::Invoker invoker(&routes, &instances, &pool, &logs);
  // Every invocation's outcome, saved in batches off the invoke path, for GetExecutionStats.
  api::InvocationRecorder invocations(store->get(), &SystemClock());
  invoker.SetObserver(&invocations);
  invocations.Start();
  api::ServiceOptions svc_opts;
  svc_opts.data_dir = f.data_dir;
  // The code paths this platform builds; the first registered is the default for code saved without a runtime.
  build::BuilderRegistry builders;
  builders.Register("go", std::make_unique<build::GoCodePath>(*go));
  if (f.python_cache_dir.empty()) f.python_cache_dir = f.data_dir + "/cache/python";
  if (auto py = build::DefaultPythonToolchain(f.python, f.python_sdk_dir, f.python_cache_dir, env); py.ok()) {
    spdlog::info("python code path: Python {} ({}), SDK {}, instances start through the {} launcher", py->version,
                 py->python, py->sdk_version, f.python_launcher);
    builders.Register("python", std::make_unique<build::PythonCodePath>(*py, f.data_dir + "/cache/python-trees",
                                                                        f.python_launcher));
  } else {
    // Go keeps working; saving Python code answers that this platform does not build it.
    spdlog::warn("the python code path is off: {}", py.status().message());
  }
  // Container images: pulled with skopeo, unpacked with umoci, run in the instance sandbox. Without any of
  // them image sources answer Unavailable, saying what is missing.
  {
    build::image::ImageTools tools;
    for (const auto& r : f.insecure_registries) tools.insecure_registries.insert(r);
    auto image = std::make_unique<build::image::ImageCodePath>(
        tools, [b = blobs->get()](std::string_view hash) { return b->PathFor(hash); },
        f.data_dir + "/cache/image-roots");
    std::string missing = image->Missing();
    if (!missing.empty()) {
      svc_opts.images_description = fmt::format("off ({} not found: apt-get install skopeo umoci)", missing);
    } else if (!launcher.sandboxed()) {
      svc_opts.images_description = "off (images run only in the instance sandbox: run ignited as root)";
    } else {
      svc_opts.images_description = "on (pulled with skopeo, unpacked with umoci, run in the instance sandbox)";
      builders.Register("image", std::move(image));
    }
    spdlog::info("container images: {}", svc_opts.images_description);
  }
  svc_opts.builders = &builders;
  svc_opts.max_concurrent_builds = f.max_builds;
  svc_opts.build_timeout = std::chrono::seconds(f.build_timeout_secs);
  svc_opts.instance_start_timeout = std::chrono::seconds(f.instance_start_timeout_secs);
  svc_opts.default_body_limit_mb = f.default_body_limit_mb;
  svc_opts.max_body_limit_mb = f.max_body_limit_mb;
  svc_opts.sandbox_description = launcher.SandboxDescription();
  svc_opts.limits_description = cgroups->Describe();
  svc_opts.cgroups = cgroups.get();
  svc_opts.sandbox_builds = launcher.sandboxed();
  // Secrets (api/secret_service.h), sealed with a key kept outside the database.
  if (f.secret_key_file.empty()) f.secret_key_file = f.data_dir + "/secret.key";
  auto secret_box = SecretBox::OpenKeyFile(f.secret_key_file);
  if (!secret_box.ok()) return Fail(secret_box.status());
  api::SecretService secrets(store->get(), &*secret_box, &SystemClock());
  svc_opts.resolve_secret = [&secrets](const std::string& org_id, std::string_view name) {
    return secrets.Resolve(org_id, name);
  };
  api::ComputeService service(svc_opts, api::Deps{store->get(), blobs->get(), &routes, &instances, &invoker, &logs,
                                                  &SystemClock(), &invocations, &app_events});
  if (auto st = service.LoadRoutes(); !st.ok()) return Fail(st);

  http::Router router;
  api::HttpApi http_api(&service, &auth, &pool);
  http_api.Register(&router);
  // InvokeAsync, GetExecution, WatchExecution and the execution records they keep (api/async_invoke.h).
  api::ExecutionRecorder executions(store->get(), &SystemClock());
  if (auto st = executions.Start(); !st.ok()) return Fail(st);
  api::AsyncInvoker async_invoker(&service, &executions, &routes, store->get(), &SystemClock());
  api::RegisterAsyncRoutes(&router, &async_invoker, &auth, &pool);
  // Service accounts and token exchange (api/auth_service.h).
  api::AuthService auth_service(store->get(), &auth, &SystemClock(),
                                api::AuthOptions{.token_ttl = std::chrono::seconds(f.token_ttl_secs)});
  api::RegisterAuthRoutes(&router, &auth_service, &auth, &pool);
  api::RegisterSecretRoutes(&router, &secrets, &auth, &pool);
  api::GrpcApi grpc_api(&service, &async_invoker, &auth_service, &secrets, &auth);
  if (f.grpc_listen != "off") {
    auto at = SplitHostPort(f.grpc_listen, "--grpc-listen");
    if (!at.ok()) return Fail(at.status());
    if (auto st = grpc_api.Start(at->first, at->second); !st.ok()) return Fail(st);
  }
  api::DirectUrl direct(f.base_domain, &routes, &invoker, &auth, &pool);
  router.SetHostHandler([&direct](std::string_view host) { return direct.Claims(host); },
                        [&direct](std::shared_ptr<http::Request> req, std::shared_ptr<http::Exchange> ex) {
                          direct.Handle(std::move(req), std::move(ex));
                        });
  http::Server server(http_opts, &router);
  if (auto st = server.Start(); !st.ok()) return Fail(st);

  std::string endpoint = fmt::format("http://{}:{}", http_opts.host, server.port());
  if (f.write_cli_config) {
    std::string cfg = server::CliConfigPath(env);
    auto wrote = server::WriteCliConfig(cfg, endpoint, *boot);
    if (!wrote.ok()) {
      spdlog::warn("could not write the CLI config {}: {}", cfg, wrote.status().message());
    } else if (*wrote) {
      spdlog::info("CLI config {} now points at this server (org {})", cfg, boot->org_name);
    } else {
      spdlog::info("left your CLI config {} as it is; use --api-endpoint {} --token \"$(cat {})\"", cfg, endpoint,
                   boot->token_path);
    }
  }
  spdlog::info("ignited {} listening on {} (data dir {}, org {})", IGNITE_VERSION, endpoint, f.data_dir,
               boot->org_name);
  if (grpc_api.port() != 0) {
    spdlog::info("gRPC API (with reflection) on {}:{}", f.grpc_listen.substr(0, f.grpc_listen.rfind(':')),
                 grpc_api.port());
  }

  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("received signal {}: no new requests; waiting for in-flight ones (at most {}s)", sig,
               f.drain_timeout_secs);
  service.BeginShutdown();  // log followers end their streams instead of holding up the drain
  std::thread grpc_stop([&] { grpc_api.Stop(std::chrono::seconds(f.drain_timeout_secs)); });
  server.Stop(std::chrono::seconds(f.drain_timeout_secs));
  grpc_stop.join();
  async_invoker.Shutdown();  // running async executions finish (instances still up); queued ones fail
  pool.join();
  executions.Stop();  // saves the last execution records
  invocations.Stop();  // and the last invocation outcomes
  instances.StopAll();
  spdlog::info("stopped");
  return 0;
}
