// The HTTP routes of SecretService (ignite_secret.proto; reference 4.8): JSON bodies through the protobuf
// JSON mapping and the decided error body, like HttpApi's routes. The org comes from the token.
//   POST   /v1/ignite/secrets         CreateSecret  (developer)
//   GET    /v1/ignite/secrets         ListSecrets   (viewer)
//   GET    /v1/ignite/secrets/{name}  GetSecret     (developer)
//   DELETE /v1/ignite/secrets/{name}  DeleteSecret  (developer)
#pragma once

#include <boost/asio/thread_pool.hpp>

#include "api/auth.h"
#include "api/secret_service.h"
#include "http/router.h"

namespace ignite::api {

// All must outlive the router; they may be null when the routes are only listed (`ignited routes`).
void RegisterSecretRoutes(http::Router* router, SecretService* service, Authenticator* auth,
                          boost::asio::thread_pool* pool);

}  // namespace ignite::api
