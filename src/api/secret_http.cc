#include "api/secret_http.h"

#include "api/unary_route.h"

namespace ignite::api {

void RegisterSecretRoutes(http::Router* router, SecretService* service, Authenticator* auth,
                          boost::asio::thread_pool* pool) {
  using S = SecretService;
  AddMethodRoute(router, pool, auth, "POST", "/v1/ignite/secrets", "CreateSecret", service, &S::CreateSecret);
  AddMethodRoute(router, pool, auth, "GET", "/v1/ignite/secrets", "ListSecrets", service, &S::ListSecrets);
  AddMethodRoute(router, pool, auth, "GET", "/v1/ignite/secrets/{name}", "GetSecret", service, &S::GetSecret);
  AddMethodRoute(router, pool, auth, "DELETE", "/v1/ignite/secrets/{name}", "DeleteSecret", service, &S::DeleteSecret);
}

}  // namespace ignite::api
