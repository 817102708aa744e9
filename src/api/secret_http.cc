#include "api/secret_http.h"

#include "api/unary_route.h"

namespace ignite::api {
namespace {

template <typename Req, typename Resp>
void Route(http::Router* router, const char* method, const char* pattern, const char* name, SecretService* service,
           Authenticator* auth, boost::asio::thread_pool* pool,
           Result<Resp> (SecretService::*fn)(const Principal&, const Req&)) {
  AddUnaryRoute<Req, Resp>(router, pool, auth, method, pattern, name,
                           [service, fn](const Principal& p, const Req& msg, const http::Request&) {
                             return (service->*fn)(p, msg);
                           });
}

}  // namespace

void RegisterSecretRoutes(http::Router* router, SecretService* service, Authenticator* auth,
                          boost::asio::thread_pool* pool) {
  using S = SecretService;
  Route(router, "POST", "/v1/ignite/secrets", "CreateSecret", service, auth, pool, &S::CreateSecret);
  Route(router, "GET", "/v1/ignite/secrets", "ListSecrets", service, auth, pool, &S::ListSecrets);
  Route(router, "GET", "/v1/ignite/secrets/{name}", "GetSecret", service, auth, pool, &S::GetSecret);
  Route(router, "DELETE", "/v1/ignite/secrets/{name}", "DeleteSecret", service, auth, pool, &S::DeleteSecret);
}

}  // namespace ignite::api
