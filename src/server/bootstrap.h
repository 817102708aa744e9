// Local bootstrap (decisions.md): a fresh data dir gets an organization and an admin token, and the CLI on
// the same machine is pointed at this server with that token, so the quickstart's commands run as written.
#pragma once

#include <map>
#include <string>

#include "api/auth.h"
#include "common/result.h"
#include "store/store.h"

namespace ignite::server {

struct BootstrapResult {
  std::string org_name;
  std::string token;       // The admin token of the bootstrap org.
  std::string token_path;  // Where it is kept (mode 0600) so restarts can hand it to the CLI again.
};

// Creates org `org_name` and its admin token if the data dir has none (the token is kept in
// <data_dir>/admin-token); otherwise reads the existing token back. Internal on I/O errors.
Result<BootstrapResult> Bootstrap(store::Store* store, api::Authenticator* auth, const Clock& clock,
                                  const std::string& data_dir, const std::string& org_name);

// The CLI config file this machine's CLI reads first: config.yaml in $DODIL_CONFIG_DIR, else
// $IGNITE_CONFIG_DIR, else ~/.config/unified-cli.
std::string CliConfigPath(const std::map<std::string, std::string>& env);

// Writes endpoint, token and org into the CLI config at `path` when the file does not exist or was written by
// ignited before (it carries a "managed-by: ignited" marker); leaves a user's own file alone. Returns whether
// it wrote.
Result<bool> WriteCliConfig(const std::string& path, const std::string& endpoint, const BootstrapResult& b);

}  // namespace ignite::server
