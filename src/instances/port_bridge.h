// PortBridge: makes a server that listens on a TCP port inside an instance's own network namespace (an
// image's container, which owns its server and binds $PORT itself) reachable through a Unix socket on the
// host, so the gateway, the connection cache and the probes talk to image instances exactly as to the
// others. It also carries the image contract's readiness rule: GET <health_path> answering 2xx means ready,
// and until then the connections it accepted wait (as requests to other instances wait in their socket's
// backlog), so a cold start costs no extra round trip once the server is up.
//
// One thread and one event loop serve every bridge. Each accepted connection gets a TCP connection to
// 127.0.0.1:<port> made from a socket created inside the instance's namespace (setns on the bridge's own
// thread and back); bytes are then copied both ways until either side closes. Thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/unique_fd.h"

namespace ignite::instances {

class PortBridge {
 public:
  // One bridged instance. Destroying it stops accepting, closes its connections and its descriptors.
  class Bridge {
   public:
    virtual ~Bridge() = default;
    // True once the health check passed (it then stays true: liveness is not checked yet).
    virtual bool Ready() const = 0;
    // What the last failed health check saw ("connection refused", "HTTP 503"), "" when none failed.
    virtual std::string LastFailure() const = 0;
  };

  PortBridge();   // starts the thread
  ~PortBridge();  // stops it; bridges still open must not be used afterwards

  // Bridges `listener` (a bound, listening Unix socket, taken) to `port` in the network namespace
  // `netns` (an open /proc/<pid>/ns/net, taken). The health check is probed at once and then with a
  // backoff from 2 ms to 100 ms until it passes.
  std::unique_ptr<Bridge> Open(UniqueFd listener, UniqueFd netns, uint16_t port, std::string health_path);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace ignite::instances
