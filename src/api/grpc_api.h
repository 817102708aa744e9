// GrpcApi: the ComputeService and AuthService RPCs over gRPC (reference 4.1: `dodil.ignite.v1.ComputeService/<Method>`, bearer
// token in the `authorization` metadata, server reflection on). Each method authenticates, checks the
// caller's role for the RPC (api/roles.h), validates organization_name/app_name, and calls the same
// ComputeService / AsyncInvoker method the HTTP route calls, so both surfaces behave alike; the Status code is
// the gRPC code as it is.
//
// Differences from HTTP, all forced by the transport: Invoke/TestDraft/TestAppVersion take the payload in the
// request message and stream InvokeResponse messages; an error after the head frame ends the stream with that
// status (HTTP writes an {"error": ...} line instead). UpdateAppConfig without an update_mask replaces the
// fields set to a non-default value (proto3 has no presence for scalars over the wire).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <grpcpp/server.h>

#include "api/async_invoke.h"
#include "api/auth.h"
#include "api/auth_service.h"
#include "api/compute_service.h"
#include "api/secret_service.h"
#include "common/result.h"

namespace ignite::api {

class GrpcApi {
 public:
  // All must outlive the GrpcApi.
  GrpcApi(ComputeService* service, AsyncInvoker* async, AuthService* accounts, SecretService* secrets,
          Authenticator* auth);
  ~GrpcApi();

  // Listens on host:port (port 0: any free port, see port()) with reflection enabled and starts serving on
  // gRPC's own threads. Unavailable when the address cannot be bound.
  Status Start(const std::string& host, uint16_t port);
  uint16_t port() const { return port_; }
  // Stops accepting calls and waits for running ones until `grace` passes, then cancels them. Idempotent.
  void Stop(std::chrono::milliseconds grace);

 private:
  class Service;
  class AuthRpcs;
  class SecretRpcs;
  std::unique_ptr<Service> service_;
  std::unique_ptr<AuthRpcs> auth_rpcs_;
  std::unique_ptr<SecretRpcs> secret_rpcs_;
  std::unique_ptr<grpc::Server> server_;
  uint16_t port_ = 0;
};

}  // namespace ignite::api
