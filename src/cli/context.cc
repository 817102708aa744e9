#include "cli/context.h"

#include <fmt/format.h>

#include "cli/config_write.h"
#include "cli/debug_transport.h"
#include "cli/duration.h"
#include "cli/errors.h"
#include "http/client.h"

namespace ignite::cli {

TransportFactory HttpTransportFactory() {
  return [](std::string_view api_endpoint,
            std::chrono::milliseconds timeout) -> Result<std::unique_ptr<Transport>> {
    auto endpoint = http::ParseEndpoint(api_endpoint);
    if (!endpoint.ok()) {
      // A bad endpoint is a local configuration problem: exit 1, whatever the parser's code.
      return LocalError(endpoint.status().message());
    }
    return NewHttpTransport(std::move(endpoint).value(), timeout);
  };
}

Result<OutputFormat> CommandContext::Format() const { return ParseOutputFormat(flags_.output); }

Result<Settings> CommandContext::GetSettings() {
  if (!settings_) {
    ConfigFlags config_flags{flags_.api_endpoint, flags_.token, flags_.org,
                             flags_.config,       flags_.org_name, flags_.debug};
    const std::string& path = config_flags.config_path;
    if (allow_missing_config_ && !path.empty() && !io_.fs->IsRegularFile(path)) {
      settings_ = MergeSettings(config_flags, io_.env, FileConfig{});
    } else {
      IGNITE_ASSIGN_OR_RETURN(Settings settings, ResolveSettings(config_flags, io_.env, *io_.fs));
      settings_ = std::move(settings);
    }
  }
  return *settings_;
}

Result<std::string> CommandContext::RequireOrg() {
  IGNITE_ASSIGN_OR_RETURN(Settings settings, GetSettings());
  if (settings.org.empty()) {
    return LocalError(
        "no organization given: pass --org, set IGNITE_ORG_ID, or set ignite.org_id in the config file");
  }
  IGNITE_RETURN_IF_ERROR(ValidateOrgName(settings.org));
  return settings.org;
}

Result<AppRef> CommandContext::ResolveApp(std::string_view id) {
  if (id.find_first_of(":/") != std::string_view::npos) return ParseAppRef(id, "");
  IGNITE_ASSIGN_OR_RETURN(Settings settings, GetSettings());
  if (settings.org.empty()) {
    return LocalError(fmt::format(
        "app \"{}\" has no organization: write it as org:{}, pass --org, set IGNITE_ORG_ID, or set "
        "ignite.org_id in the config file",
        id, id));
  }
  return ParseAppRef(id, settings.org);
}

Result<std::unique_ptr<ApiClient>> CommandContext::NewClient(bool with_token) {
  IGNITE_ASSIGN_OR_RETURN(Settings settings, GetSettings());
  auto timeout = ParseDuration(flags_.timeout.empty() ? default_timeout_ : flags_.timeout);
  if (!timeout.ok()) return LocalError("--timeout: " + timeout.status().message());
  IGNITE_ASSIGN_OR_RETURN(std::unique_ptr<Transport> transport,
                          io_.transport_factory(settings.api_endpoint, *timeout));
  if (settings.debug) {
    *io_.err << fmt::format("debug: endpoint {} (from {}), token {} (from {}), timeout {} ms; plain HTTP (TLS is "
                            "not used)\n",
                            settings.api_endpoint, DescribeSource(settings.api_endpoint_source),
                            with_token && !settings.token.empty() ? MaskToken(settings.token) : "none",
                            with_token ? DescribeSource(settings.token_source) : "login: none sent",
                            timeout->count());
    transport = WithDebugLogging(std::move(transport), *io_.err);
  }
  return std::make_unique<ApiClient>(std::move(transport), with_token ? settings.token : std::string());
}

Result<ApiClient*> CommandContext::Client() {
  if (!client_) {
    IGNITE_ASSIGN_OR_RETURN(client_, NewClient(/*with_token=*/true));
  }
  return client_.get();
}

Result<std::unique_ptr<ApiClient>> CommandContext::AnonymousClient() { return NewClient(/*with_token=*/false); }

}  // namespace ignite::cli
