// HttpApi: binds the ComputeService RPCs to the HTTP routes of reference section 4.3. Each route parses
// its request (JSON body, path and query parameters) into the request message, authenticates, runs the
// method on the blocking pool and answers with the JSON of the response message or the decided error body.
#pragma once

#include <boost/asio/thread_pool.hpp>

#include "api/auth.h"
#include "api/compute_service.h"
#include "http/router.h"

namespace ignite::api {

class HttpApi {
 public:
  // All must outlive the HttpApi and the router it registers into.
  HttpApi(ComputeService* service, Authenticator* auth, boost::asio::thread_pool* pool);
  void Register(http::Router* router);

 private:
  template <typename Svc, typename Req, typename Resp>
  void Unary(http::Router* router, const char* method, const char* pattern, const char* name,
             Result<Resp> (Svc::*fn)(const Principal&, const Req&));
  // As Unary, for a method that also gets the HTTP request (e.g. to see which body fields were present).
  template <typename Req, typename Resp>
  void UnaryWith(http::Router* router, const char* method, const char* pattern, const char* name,
                 std::function<Result<Resp>(const Principal&, const Req&, const http::Request&)> fn);
  // Routes whose request body is a raw payload and whose answer is NDJSON InvokeResponse frames (Invoke,
  // TestDraft, TestAppVersion).
  using InvokeFn = std::function<Result<gateway::InvokeResult>(const Principal&, const http::Request&,
                                                               gateway::InvokeCall, const gateway::InvokeSink*)>;
  void InvokeLike(http::Router* router, const char* pattern, const char* name, InvokeFn fn);
  void Invoke(std::shared_ptr<http::Request> req, std::shared_ptr<http::Exchange> exchange);
  // Routes that follow something open-ended (app logs, app events) as NDJSON {"result": item} lines.
  template <typename Svc, typename Req, typename Item>
  void Follow(const char* name, std::shared_ptr<http::Request> req, http::Responder respond,
              Status (Svc::*fn)(const Principal&, const Req&, const std::function<bool(const Item*)>&));
  void StreamCompileLogs(std::shared_ptr<http::Request> req, http::Responder respond);

  ComputeService* service_;
  Authenticator* auth_;
  boost::asio::thread_pool* pool_;
};

}  // namespace ignite::api
