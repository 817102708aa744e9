// Call: one invocation as an asynchronous state machine on the caller's event loop, from the lease of an
// instance to the last piece of its answer (see Invoker in invoker.h for the contract it implements).
// Internal to the gateway: Invoker builds Calls; it is declared here so that tests can drive one directly
// and watch its states.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "gateway/invoker.h"

namespace ignite::gateway {

// Where a call stands. The order matters: kLeasing..kAwaitingCaller are the live states, in which the
// execution timeout applies (Call::Live).
enum class CallState {
  kCreated,         // built; Start has not run
  kLeasing,         // asking InstanceManager for an instance: TryAcquire, else Acquire (on the blocking pool
                    // when the call has one, else on the loop)
  kConnecting,      // taking an idle keep-alive connection to the leased instance, or connecting a new one
  kSendingRequest,  // writing the request head with the whole payload (InvokeCall::payload), which can be
                    // written again on a fresh connection
  kSendingBody,     // forwarding the client's body (a BodySource) piece by piece, the head with the first
                    // piece; a BodySource is read once, so from here on the request is never retried
  kReadingHead,     // the request is out; waiting for the instance's status line and headers
  kReadingAnswer,   // the instance's head is in; a read of the next piece of its body is pending
  kAwaitingCaller,  // a piece is with the sink; the next read waits for its next(true) (back-pressure)
  kDiagnosing,      // the connection failed: waiting briefly for the process to be reaped, to say how it ended
  kAnsweringError,  // the platform's own answer (a 5xx or 429 head and its {"error"} body) is with the sink
  kDone,            // on_done is called on entry: every later completion is ignored
};

const char* CallStateName(CallState state);

// The state machine's edges; Call::Enter is the only place the state changes, and it holds every change to
// this table (a change outside it is a bug, logged).
//   kCreated        -> kLeasing (Start)
//   kLeasing        -> kConnecting (leased) | kAnsweringError (504: no capacity before the deadline, or the
//                      execution timeout passed while waiting) | kDone (refused: unavailable, queue full)
//   kConnecting     -> kSendingRequest | kSendingBody (connected, or an idle connection taken)
//                    | kLeasing (a warm instance refused the connection: lease again, once)
//                    | kAnsweringError (503 start timeout, 504) | kDiagnosing (transport error)
//   kSendingRequest -> kReadingHead | kConnecting (a reused connection was stale: once, on a fresh one)
//                    | kAnsweringError | kDiagnosing
//   kSendingBody    -> kReadingHead | kDone (the client's body failed) | kAnsweringError | kDiagnosing
//   kReadingHead    -> kReadingAnswer | kConnecting (stale reused connection, no body read) | kAnsweringError
//                    | kDiagnosing
//   kReadingAnswer  -> kAwaitingCaller (a piece to the sink) | kDone (complete, or a 504 after the head: cut
//                      short) | kAnsweringError (504 before any piece went out) | kDiagnosing
//   kAwaitingCaller -> kReadingAnswer (next(true)) | kDone (next(false): the caller went away)
//   kDiagnosing     -> kAnsweringError (502/429 before the head went out) | kDone (after it: cut short)
//   kAnsweringError -> kDone (the sink took the error body)
constexpr bool CallTransitionAllowed(CallState from, CallState to) {
  using S = CallState;
  switch (from) {
    case S::kCreated:
      return to == S::kLeasing;
    case S::kLeasing:
      return to == S::kConnecting || to == S::kAnsweringError || to == S::kDone;
    case S::kConnecting:
      return to == S::kSendingRequest || to == S::kSendingBody || to == S::kLeasing || to == S::kAnsweringError ||
             to == S::kDiagnosing;
    case S::kSendingRequest:
      return to == S::kReadingHead || to == S::kConnecting || to == S::kAnsweringError || to == S::kDiagnosing;
    case S::kSendingBody:
      return to == S::kReadingHead || to == S::kDone || to == S::kAnsweringError || to == S::kDiagnosing;
    case S::kReadingHead:
      return to == S::kReadingAnswer || to == S::kConnecting || to == S::kAnsweringError || to == S::kDiagnosing;
    case S::kReadingAnswer:
      return to == S::kAwaitingCaller || to == S::kDone || to == S::kAnsweringError || to == S::kDiagnosing;
    case S::kAwaitingCaller:
      return to == S::kReadingAnswer || to == S::kDone;
    case S::kDiagnosing:
      return to == S::kAnsweringError || to == S::kDone;
    case S::kAnsweringError:
      return to == S::kDone;
    case S::kDone:
      return false;
  }
  return false;
}

// One invocation, from lease to answer. Lives on one executor; every pending handler holds a reference.
class Call : public std::enable_shared_from_this<Call> {
 public:
  // As Invoker's: all pointers must outlive the call (route_owner keeps *route alive); `blocking` (nullable)
  // runs Acquires that may block; `clock` measures the duration and sets the deadlines, and must be the
  // clock of `instances` (their start timeouts count from Instance::spawned, a time of that clock).
  Call(boost::asio::any_io_executor executor, instances::InstanceManager* instances,
       boost::asio::thread_pool* blocking, instances::LogCollector* logs, const Clock* clock,
       std::shared_ptr<const void> route_owner, const Route* route, InvokeCall call,
       std::shared_ptr<BodySource> body, StreamSink sink);

  // Runs the call; on the executor, once. The sink's callbacks follow on the executor (the first may come
  // inside Start, when the call is refused at once).
  void Start();

  // Told every change of state (from, to), for tests. Set before Start.
  void SetStateObserver(std::function<void(CallState, CallState)> observer) { observer_ = std::move(observer); }
  CallState state() const { return state_; }

 private:
  using Socket = boost::asio::local::stream_protocol::socket;
  using TimePoint = std::chrono::steady_clock::time_point;
  // Why the platform cut the connection, kept for the failure the cut causes: the new instance gave no sign
  // of life within its start timeout (503), or the execution timeout passed (504, which wins).
  enum class Cut { kNone, kNotReady, kTimedOut };

  void Enter(CallState next);
  bool Live() const { return state_ >= CallState::kLeasing && state_ <= CallState::kAwaitingCaller; }
  void BuildRequestHead();
  void ArmTimeout();
  void ArmStartTimeout();
  void Acquire();
  void OnLease(Result<instances::Lease> lease);
  void Connect();
  void ConnectNew();
  void SendRequest();
  void ReadBodyPiece(bool first);
  void OnBodyPiece(Status st, std::string_view data, bool end, bool first);
  void ReadHead();
  void OnHead();
  void SendHeadOnce();
  void ReadResponsePiece();
  void OnCallerTook(bool more);
  void Complete();
  void Abandon();
  void OnStartTimeout();
  void OnTimeout();
  void OnError(boost::beast::error_code ec);
  void WaitForExit(int tries);
  void ForgetBody();
  std::string TimeoutMessage() const;
  void Fail(unsigned status, std::string message);
  void Done(Status st);
  int64_t Elapsed() const;

  boost::asio::any_io_executor executor_;
  instances::InstanceManager* instances_;
  instances::LogCollector* logs_;
  boost::asio::thread_pool* blocking_;
  const Clock* clock_;
  std::shared_ptr<const void> route_owner_;  // keeps *route_ alive
  const Route* route_;
  InvokeCall call_;
  std::shared_ptr<BodySource> body_;
  StreamSink sink_;
  const uint64_t id_;  // for the instance's BodyBlame
  std::function<void(CallState, CallState)> observer_;

  CallState state_ = CallState::kCreated;
  Cut cut_ = Cut::kNone;
  bool head_sent_ = false;  // the sink's on_head was called (once, by its contract); a failure after it is cut short
  bool reused_ = false;     // the current connection came from a keep-alive cache
  int attempt_ = 0;         // retries made: at most one (a refused connection, or a stale kept-alive one)

  // Timers run on real time (asio's steady clock). The deadlines are the clock's: a timer waits for what is
  // left by the clock, and when it fires the clock decides whether the deadline passed (see ArmTimeout).
  boost::asio::steady_timer timer_;        // the execution timeout; reused to poll for a dying process's exit
  boost::asio::steady_timer start_timer_;  // a starting instance's start timeout
  TimePoint start_, deadline_, ready_by_;
  InvokeResult result_;
  std::string request_head_;
  bool chunked_ = false;
  bool head_only_ = false;
  std::optional<instances::Lease> lease_;
  std::optional<Socket> socket_;
  uint64_t body_sent_ = 0;  // request body bytes forwarded to the instance
  std::string prefix_, suffix_;  // framing around the body piece being written
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::response_parser<boost::beast::http::buffer_body>> parser_;
  std::unique_ptr<char[]> piece_;  // the answer piece being handed to the sink
  size_t piece_capacity_ = 0;
  size_t piece_size_ = 0;
  std::string error_body_;
  boost::beast::error_code error_;
};

}  // namespace ignite::gateway
