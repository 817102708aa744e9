// What every command gets: the global flags, the environment, stdout/stderr, and lazily resolved settings,
// output format and API client.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <istream>
#include <ostream>
#include <string>
#include <string_view>

#include "cli/api_client.h"
#include "cli/config.h"
#include "cli/output.h"
#include "common/names.h"
#include "common/result.h"

namespace ignite::cli {

// The flags every command accepts (reference 3.2). Empty strings mean "not given".
struct GlobalFlags {
  std::string output = "table";
  std::string api_endpoint;
  std::string token;
  std::string org;
  std::string timeout;  // empty: the command's default (5m, or none for commands that follow a build log)
  std::string config;
  std::string org_name;  // --org-name: dev/test direct org-name context (--org wins)
  bool debug = false;    // --debug: log each request and answer to stderr
};

// Builds the transport to the API server for an endpoint text (from flags, env or config) and a timeout.
using TransportFactory =
    std::function<Result<std::unique_ptr<Transport>>(std::string_view api_endpoint, std::chrono::milliseconds)>;

// The real one: http::ParseEndpoint + NewHttpTransport.
TransportFactory HttpTransportFactory();

// The outside world of one CLI run; tests substitute every part.
struct CliIo {
  EnvMap env;
  const FileSystem* fs = nullptr;
  std::istream* in = nullptr;  // for --payload-file -
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  TransportFactory transport_factory;
  // Whether stdout is a terminal (`version code` will not write raw bytes to one).
  bool stdout_is_terminal = false;
};

class CommandContext {
 public:
  explicit CommandContext(CliIo io) : io_(std::move(io)) {}

  GlobalFlags& flags() { return flags_; }
  std::ostream& out() { return *io_.out; }
  std::ostream& err() { return *io_.err; }
  std::istream& in() { return *io_.in; }
  const FileSystem& fs() const { return *io_.fs; }
  bool stdout_is_terminal() const { return io_.stdout_is_terminal; }

  // -o as an enum (InvalidArgument, exit 2, for an unknown value).
  Result<OutputFormat> Format() const;
  // Whether -o wide was given (tables that have more to show add columns).
  bool Wide() const { return flags_.output == "wide"; }
  const EnvMap& env() const { return io_.env; }
  // Flags + environment + config file, resolved on first use.
  Result<Settings> GetSettings();
  // For commands that create the config file (`login`): a --config file that does not exist yet is read as
  // empty instead of being an error. Call before GetSettings.
  void AllowMissingConfigFile() { allow_missing_config_ = true; }
  // Parses an app id ("org:app", "org/app" or "app" with the configured org). A bare name with no org
  // configured is a local error (exit 1) saying how to set one; malformed names are InvalidArgument (exit 2).
  Result<AppRef> ResolveApp(std::string_view id);
  // The organization for commands that take no app id (app create with a bare name, app list).
  Result<std::string> RequireOrg();
  // The API client for the resolved endpoint, token and --timeout, created on first use. With --debug (or
  // $IGNITE_DEBUG) every request and answer is logged to stderr (the token masked).
  Result<ApiClient*> Client();
  // A new client for the resolved endpoint and --timeout that sends no token (for `dodil login`, which
  // obtains one).
  Result<std::unique_ptr<ApiClient>> AnonymousClient();
  // The timeout used when --timeout is not given (default "5m"); call before Client(). Commands that follow
  // a build's log until it ends use "0" (none): the server ends the stream.
  void SetDefaultTimeout(std::string timeout) { default_timeout_ = std::move(timeout); }

  // The action of the command the user selected; set while parsing, run after.
  void SetAction(std::function<Status()> action) { action_ = std::move(action); }
  bool HasAction() const { return static_cast<bool>(action_); }
  Status RunAction() { return action_(); }

 private:
  Result<std::unique_ptr<ApiClient>> NewClient(bool with_token);

  CliIo io_;
  GlobalFlags flags_;
  std::optional<Settings> settings_;
  std::string default_timeout_ = "5m";
  bool allow_missing_config_ = false;
  std::unique_ptr<ApiClient> client_;
  std::function<Status()> action_;
};

}  // namespace ignite::cli
