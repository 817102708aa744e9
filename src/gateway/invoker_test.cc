// The invoke state machine (Call, mostly through Invoker) against a scripted fake instance: a fake Launcher
// whose processes serve on a Unix socket of the test, answered by a server thread that does with each
// request what the test's script says (answer, drop a kept-alive connection, stall, die, flood).
//
// The event loop runs on a thread of its own (LoopThread), as a server's worker does; results are waited
// for with a bound. Time that matters goes through a FakeClock; only the execution timeout's asio timer
// needs real time (1 s, the smallest route timeout).
#include "gateway/call.h"
#include "gateway/fake_instance.h"
#include "gateway/invoker.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace ignite::gateway {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using namespace std::chrono_literals;
using namespace fakes;

using OnBody = std::function<void(std::string_view data, std::function<void(bool)> next)>;

// What the sink saw, on the loop thread; read by the test once `finished` is ready.
struct Outcome {
  int heads = 0;
  InvokeResult head;
  std::string body;
  int dones = 0;
  std::optional<Result<InvokeResult>> done;
  std::vector<std::pair<CallState, CallState>> trace;  // direct Calls only
  std::promise<void> finished;
  std::future<void> finished_future = finished.get_future();

  const InvokeResult& result() const { return **done; }
};

std::vector<CallState> States(const Outcome& o) {
  std::vector<CallState> out;
  for (const auto& [from, to] : o.trace) out.push_back(to);
  return out;
}

class InvokerTest : public ::testing::Test {
 protected:
  InvokerTest() : launcher_(&server_) {
    server_.die = [this] {
      if (auto s = launcher_.last()) s->dead = true;
    };
    manager_ = std::make_unique<instances::InstanceManager>(&launcher_, &clock_, std::chrono::milliseconds(0));
    auto route = std::make_shared<Route>();
    route->app_id = "org/app";
    route->org_id = "org-1";
    route->version = 3;
    route->spec.key = "org/app@3";
    route->spec.app_id = "org/app";
    route->spec.layout = ArtifactLayout::Executable("/bin/true");
    route->spec.memory_mb = 256;
    // The API writes these (api/app_rules.h); the gateway only appends them.
    route->spec.hints.logs = "see the app's logs";
    route->spec.hints.not_ready = "check its start";
    route->spec.hints.raise_memory = "raise its memory";
    route_ = route;
    UsePool(false);
  }

  // Runs Acquire on a blocking pool (the server's configuration: keep-alive connections per loop thread)
  // or on the loop (the blocking form's: the instance's shared ConnectionCache).
  void UsePool(bool pool) {
    loop_.reset();
    pool_.reset();
    if (pool) pool_ = std::make_unique<asio::thread_pool>(1);
    invoker_ = std::make_unique<Invoker>(nullptr, manager_.get(), pool_.get(), nullptr, &clock_);
    loop_ = std::make_unique<LoopThread>();
  }

  void TearDown() override {
    loop_->Stop();  // no handler runs after the test body's locals are gone
    pool_.reset();  // its running Acquires finish; their completions are dropped with the loop below
    loop_.reset();
    invoker_.reset();
    manager_.reset();
    server_.Stop();
  }

  StreamSink SinkInto(Outcome* o, OnBody on_body) {
    StreamSink s;
    s.on_head = [o](const InvokeResult& head) {
      ++o->heads;
      o->head = head;
    };
    if (on_body) {
      s.on_body = std::move(on_body);
    } else {
      s.on_body = [o](std::string_view data, std::function<void(bool)> next) {
        o->body.append(data);
        next(true);
      };
    }
    s.on_done = [o](Result<InvokeResult> r) {
      o->done.emplace(std::move(r));
      if (++o->dones == 1) o->finished.set_value();
    };
    return s;
  }

  InvokeCall Request(std::string payload = "hi there") {
    InvokeCall c;
    c.app_id = route_->app_id;
    c.target = "/greet?x=1";
    c.payload = std::move(payload);
    return c;
  }

  // Starts a call through the Invoker.
  std::unique_ptr<Outcome> Start(InvokeCall call, std::shared_ptr<BodySource> body = nullptr, OnBody on_body = nullptr) {
    auto o = std::make_unique<Outcome>();
    invoker_->StartRoute(loop_->executor(), route_, std::move(call), std::move(body), SinkInto(o.get(), std::move(on_body)));
    return o;
  }

  // Starts a Call directly, recording its states (and holding each change to the transition table).
  std::unique_ptr<Outcome> StartTraced(InvokeCall call, std::shared_ptr<BodySource> body = nullptr) {
    auto o = std::make_unique<Outcome>();
    auto c = std::make_shared<Call>(loop_->executor(), manager_.get(), pool_.get(), nullptr, &clock_, route_,
                                    route_.get(), std::move(call), std::move(body), SinkInto(o.get(), nullptr));
    Outcome* out = o.get();
    c->SetStateObserver([out](CallState from, CallState to) {
      EXPECT_TRUE(CallTransitionAllowed(from, to)) << CallStateName(from) << " -> " << CallStateName(to);
      out->trace.emplace_back(from, to);
    });
    asio::post(loop_->executor(), [c] { c->Start(); });
    return o;
  }

  // Waits (bounded) for on_done. On a timeout the loop is stopped, so nothing touches the test's locals.
  bool Finish(Outcome& o) {
    if (o.finished_future.wait_for(5s) != std::future_status::ready) {
      ADD_FAILURE() << "the call did not finish";
      loop_->Stop();
      o.done.emplace(Internal("the call did not finish"));  // the loop is stopped: nobody else writes it
      return false;
    }
    // Whatever the loop still had queued (cancelled timers, an abandoned read) runs before we look.
    std::promise<void> drained;
    asio::post(loop_->executor(), [&] { drained.set_value(); });
    drained.get_future().wait_for(5s);
    EXPECT_EQ(o.dones, 1);
    return o.done.has_value();
  }

  std::unique_ptr<Outcome> Run(InvokeCall call, std::shared_ptr<BodySource> body = nullptr, OnBody on_body = nullptr) {
    auto o = Start(std::move(call), std::move(body), std::move(on_body));
    Finish(*o);
    return o;
  }

  // The instance of the route (there is one), for its connection cache and BodyBlame.
  std::optional<instances::Lease> Peek() { return manager_->TryAcquire(route_->spec); }

  int Inflight() {
    int n = 0;
    for (const auto& r : manager_->Replicas(route_->spec.key)) n += r.inflight;
    return n;
  }

  std::string ErrorBody(const std::string& error) { return nlohmann::json{{"error", error}}.dump(); }

  FakeClock clock_;
  FakeInstance server_;
  FakeLauncher launcher_;
  std::unique_ptr<instances::InstanceManager> manager_;
  std::unique_ptr<asio::thread_pool> pool_;
  std::unique_ptr<Invoker> invoker_;
  std::unique_ptr<LoopThread> loop_;
  std::shared_ptr<Route> route_;
};

TEST_F(InvokerTest, ForwardsTheRequestWithIdentityHeadersAndStreamsTheAnswerBack) {
  // The instance takes 1234 ms by the clock: the call's duration is measured by it.
  server_.on_request = [this](const Received&) { clock_.Advance(1234ms); };
  InvokeCall call = Request();
  call.headers = {{"X-Ignite-Function-Id", "forged"}, {"Authorization", "Bearer secret"},
                  {"X-Custom", "yes"}, {"Connection", "close"}};
  auto o = Run(call);
  ASSERT_TRUE(o->done && o->done->ok()) << o->done->status().message();
  const InvokeResult& r = o->result();
  EXPECT_EQ(o->heads, 1);
  EXPECT_EQ(o->head.status, 200u);
  EXPECT_NE(std::find(o->head.headers.begin(), o->head.headers.end(), std::pair<std::string, std::string>{"X-Answer", "yes"}),
            o->head.headers.end());
  EXPECT_EQ(o->body, "hello");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.error, "");
  EXPECT_FALSE(r.cut_short);
  EXPECT_TRUE(r.cold);
  EXPECT_EQ(r.version, 3u);
  EXPECT_EQ(r.duration_ms, 1234);
  EXPECT_EQ(r.execution_id.size(), 26u);  // a ULID

  auto got = server_.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].method, "POST");
  EXPECT_EQ(got[0].target, "/greet?x=1");
  EXPECT_EQ(got[0].body, "hi there");
  EXPECT_EQ(got[0].headers["x-ignite-execution-id"], r.execution_id);
  EXPECT_EQ(got[0].headers["x-ignite-function-id"], "org/app");  // the platform's, not the client's
  EXPECT_EQ(got[0].headers["x-ignite-organization-id"], "org-1");
  EXPECT_EQ(got[0].headers["x-custom"], "yes");
  EXPECT_EQ(got[0].headers.count("authorization"), 0u);
  EXPECT_EQ(got[0].headers.count("connection"), 0u);  // hop-by-hop
  // The lease is back; the connection waits for the next call.
  EXPECT_EQ(Inflight(), 0);
  auto peek = Peek();
  ASSERT_TRUE(peek);
  EXPECT_EQ(peek->instance().connections.size(), 1u);
}

TEST_F(InvokerTest, TheNextCallReusesTheKeptAliveConnection) {
  ASSERT_TRUE(Run(Request())->done->ok());
  InvokeCall second = Request("again");
  second.execution_id = "exec-2";
  auto o = Run(second);
  ASSERT_TRUE(o->done->ok());
  EXPECT_FALSE(o->result().cold);
  EXPECT_EQ(o->result().execution_id, "exec-2");
  auto got = server_.received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].connection, 1);
  EXPECT_EQ(got[1].body, "again");
  EXPECT_EQ(got[1].headers["x-ignite-execution-id"], "exec-2");
  EXPECT_EQ(server_.accepted, 1);
}

TEST_F(InvokerTest, ABodySourceOfUnknownLengthIsForwardedChunked) {
  auto body = std::make_shared<ScriptedBody>(loop_->executor(), std::vector<std::string>{"ab", "cd", ""});
  auto o = StartTraced(Request(""), body);
  ASSERT_TRUE(Finish(*o));
  ASSERT_TRUE(o->done->ok());
  auto got = server_.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, "abcd");
  EXPECT_EQ(got[0].headers["transfer-encoding"], "chunked");
  using S = CallState;
  EXPECT_EQ(States(*o), (std::vector<S>{S::kLeasing, S::kConnecting, S::kSendingBody, S::kReadingHead,
                                         S::kReadingAnswer, S::kAwaitingCaller, S::kReadingAnswer, S::kDone}));
}

TEST_F(InvokerTest, AWarmCallGoesThroughEveryStateOnce) {
  ASSERT_TRUE(Run(Request())->done->ok());
  auto o = StartTraced(Request());
  ASSERT_TRUE(Finish(*o));
  ASSERT_TRUE(o->done->ok());
  using S = CallState;
  EXPECT_EQ(o->trace.front().first, S::kCreated);
  EXPECT_EQ(States(*o), (std::vector<S>{S::kLeasing, S::kConnecting, S::kSendingRequest, S::kReadingHead,
                                         S::kReadingAnswer, S::kAwaitingCaller, S::kReadingAnswer, S::kDone}));
}

// The instance dropped a kept-alive connection just as the next request went out on it: the request never
// reached a handler, so it is sent once more on a fresh connection, and the caller sees one answer.
class InvokerModesTest : public InvokerTest, public ::testing::WithParamInterface<bool> {};

TEST_P(InvokerModesTest, AStaleKeptAliveConnectionIsRetriedOnceOnAFreshOne) {
  UsePool(GetParam());
  server_.SetScript({Script::kAnswer, Script::kCloseUnanswered, Script::kAnswer});
  ASSERT_TRUE(Run(Request("first"))->done->ok());
  auto o = StartTraced(Request("second"));
  ASSERT_TRUE(Finish(*o));
  ASSERT_TRUE(o->done->ok()) << o->done->status().message();
  EXPECT_EQ(o->heads, 1);
  EXPECT_EQ(o->result().status, 200u);
  EXPECT_EQ(o->body, "hello");
  EXPECT_EQ(o->result().error, "");
  EXPECT_FALSE(o->result().cut_short);
  auto got = server_.received();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[1].connection, 1);  // the kept-alive connection, dropped
  EXPECT_EQ(got[2].connection, 2);  // the fresh one, answered
  EXPECT_EQ(got[2].body, "second");
  EXPECT_EQ(launcher_.launched(), 1);
  using S = CallState;
  EXPECT_EQ(States(*o), (std::vector<S>{S::kLeasing, S::kConnecting, S::kSendingRequest, S::kReadingHead,
                                         S::kConnecting, S::kSendingRequest, S::kReadingHead, S::kReadingAnswer,
                                         S::kAwaitingCaller, S::kReadingAnswer, S::kDone}));
  EXPECT_EQ(Inflight(), 0);
}

TEST_P(InvokerModesTest, AnIdleConnectionTheInstanceClosedIsNotTaken) {
  UsePool(GetParam());
  server_.SetScript({Script::kAnswerAndClose});
  ASSERT_TRUE(Run(Request())->done->ok());
  for (int i = 0; i < 3000 && server_.closed < 1; ++i) std::this_thread::sleep_for(1ms);
  ASSERT_EQ(server_.closed, 1);
  auto o = StartTraced(Request());
  ASSERT_TRUE(Finish(*o));
  ASSERT_TRUE(o->done->ok());
  EXPECT_EQ(server_.accepted, 2);
  EXPECT_EQ(server_.received().size(), 2u);  // no request went to the closed connection
  using S = CallState;
  EXPECT_EQ(States(*o), (std::vector<S>{S::kLeasing, S::kConnecting, S::kSendingRequest, S::kReadingHead,
                                         S::kReadingAnswer, S::kAwaitingCaller, S::kReadingAnswer, S::kDone}));
}

INSTANTIATE_TEST_SUITE_P(LoopAndPool, InvokerModesTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "BlockingPool" : "OnTheLoop"; });

TEST_F(InvokerTest, AStallingInstanceIsAnswered504AtTheExecutionTimeout) {
  route_->timeout = 1s;
  server_.SetScript({Script::kStall});
  // By the clock the execution timeout is up as soon as the instance has the request; the timer still
  // waits its second of real time.
  server_.on_request = [this](const Received&) { clock_.Advance(1s); };
  auto o = StartTraced(Request());
  ASSERT_TRUE(Finish(*o));
  ASSERT_TRUE(o->done->ok());
  const InvokeResult& r = o->result();
  std::string want = fmt::format("org/app did not answer within its execution timeout of 1s (execution {}); raise it "
                                 "with --timeout-secs (at most 900)",
                                 r.execution_id);
  EXPECT_EQ(r.error, want);
  EXPECT_EQ(r.status, 504u);
  EXPECT_FALSE(r.cut_short);
  EXPECT_EQ(r.duration_ms, 1000);
  EXPECT_EQ(o->heads, 1);
  EXPECT_EQ(o->head.status, 504u);
  EXPECT_EQ(o->head.headers, (Headers{{"Content-Type", "application/json"}}));
  EXPECT_EQ(o->body, ErrorBody(want));
  // The stuck instance is replaced: retired, and stopped once its lease was released.
  EXPECT_EQ(manager_->LiveCount(route_->spec.key), 0);
  EXPECT_TRUE(launcher_.last()->dead);
  using S = CallState;
  EXPECT_EQ(States(*o), (std::vector<S>{S::kLeasing, S::kConnecting, S::kSendingRequest, S::kReadingHead,
                                         S::kAnsweringError, S::kDone}));
}

TEST_F(InvokerTest, AnInstanceStallingAfterItsHeadIsCutShortAtTheExecutionTimeout) {
  route_->timeout = 1s;
  server_.SetScript({Script::kHeadThenStall});
  server_.on_request = [this](const Received&) { clock_.Advance(1s); };
  auto o = Run(Request());
  ASSERT_TRUE(o->done->ok());
  const InvokeResult& r = o->result();
  EXPECT_EQ(o->heads, 1);
  EXPECT_EQ(o->head.status, 200u);  // the instance's head went out: the error can only travel in the result
  EXPECT_EQ(o->body, std::string(kPiece, 'p'));  // the one full piece; the rest never completed one
  EXPECT_EQ(r.status, 200u);
  EXPECT_TRUE(r.cut_short);
  EXPECT_NE(r.error.find("did not answer within its execution timeout of 1s"), std::string::npos) << r.error;
  EXPECT_EQ(r.duration_ms, 1000);
  EXPECT_EQ(manager_->LiveCount(route_->spec.key), 0);
}

TEST_F(InvokerTest, AnInstanceDyingBeforeItsHeadIsAnswered502) {
  server_.SetScript({Script::kDieBeforeHead});
  auto o = Run(Request());
  ASSERT_TRUE(o->done->ok());
  const InvokeResult& r = o->result();
  std::string want = fmt::format("the instance {} of org/app exited with signal 9 before answering (execution {}); "
                                 "the next invocation starts a new instance; see the app's logs",
                                 launcher_.last_replica(), r.execution_id);
  EXPECT_EQ(r.status, 502u);
  EXPECT_EQ(r.error, want);
  EXPECT_FALSE(r.cut_short);
  EXPECT_EQ(o->head.status, 502u);
  EXPECT_EQ(o->body, ErrorBody(want));
  EXPECT_EQ(server_.received().size(), 1u);  // a fresh connection: not retried
  // The next call gets a new instance.
  auto next = Run(Request());
  ASSERT_TRUE(next->done->ok());
  EXPECT_EQ(next->result().status, 200u);
  EXPECT_TRUE(next->result().cold);
  EXPECT_EQ(launcher_.launched(), 2);
}

TEST_F(InvokerTest, AnInstanceDyingMidAnswerCutsTheAnswerShort) {
  server_.SetScript({Script::kDieMidAnswer});
  auto o = StartTraced(Request());
  ASSERT_TRUE(Finish(*o));
  ASSERT_TRUE(o->done->ok());
  const InvokeResult& r = o->result();
  EXPECT_EQ(o->heads, 1);
  EXPECT_EQ(o->head.status, 200u);
  EXPECT_EQ(o->body, std::string(3 * kPiece, 'p'));  // 200 KiB came: three full pieces went on
  EXPECT_EQ(r.status, 200u);
  EXPECT_TRUE(r.cut_short);
  EXPECT_NE(r.error.find("exited with signal 9"), std::string::npos) << r.error;
  EXPECT_EQ(manager_->LiveCount(route_->spec.key), 0);
  EXPECT_EQ(Inflight(), 0);
  using S = CallState;
  std::vector<S> want{S::kLeasing, S::kConnecting, S::kSendingRequest, S::kReadingHead, S::kReadingAnswer};
  for (int i = 0; i < 3; ++i) want.insert(want.end(), {S::kAwaitingCaller, S::kReadingAnswer});
  want.insert(want.end(), {S::kDiagnosing, S::kDone});
  EXPECT_EQ(States(*o), want);
}

// An answer that fits in one piece goes on only once complete, so an instance dying within it still gets
// the platform's whole 502 answer instead of a cut one.
TEST_F(InvokerTest, AnInstanceDyingWithinTheFirstPieceIsAnswered502) {
  server_.SetScript({Script::kDieWithinPiece});
  auto o = StartTraced(Request());
  ASSERT_TRUE(Finish(*o));
  ASSERT_TRUE(o->done->ok());
  EXPECT_EQ(o->heads, 1);
  EXPECT_EQ(o->head.status, 502u);
  EXPECT_EQ(o->result().status, 502u);
  EXPECT_FALSE(o->result().cut_short);
  EXPECT_EQ(o->body, ErrorBody(o->result().error));
  EXPECT_EQ(States(*o).back(), CallState::kDone);
  EXPECT_EQ(o->trace.back().first, CallState::kAnsweringError);
}

TEST_F(InvokerTest, AnOutOfMemoryKillNamesTheLimitWith429) {
  server_.SetScript({Script::kDieBeforeHead});
  server_.die = [this] {
    launcher_.last()->oom = true;
    launcher_.last()->dead = true;
  };
  auto o = Run(Request());
  ASSERT_TRUE(o->done->ok());
  EXPECT_EQ(o->result().status, 429u);
  EXPECT_NE(o->result().error.find("ran out of memory: it exceeded its 256 MB memory limit"), std::string::npos)
      << o->result().error;
  EXPECT_NE(o->result().error.find("; raise its memory"), std::string::npos) << o->result().error;
}

// Back-pressure: while the caller holds a piece, the gateway reads nothing more, so the instance blocks on
// a full socket and what is in flight stays small however large the answer.
TEST_F(InvokerTest, AHugeAnswerToASlowCallerIsBackPressured) {
  server_.small_send_buffer = true;
  server_.SetScript({Script::kHugeAnswer});
  const uint64_t kHuge = server_.huge_bytes;
  constexpr uint64_t kBound = 2 << 20;  // socket buffers and a piece or two, far below kHuge
  uint64_t taken = 0;
  uint64_t max_in_flight = 0;
  size_t max_piece = 0;
  bool held = false;
  uint64_t written_while_held = 0;
  auto timer = std::make_shared<asio::steady_timer>(loop_->executor());
  std::function<void(int, int, std::function<void(bool)>)> hold;
  // Holds the first piece until the instance has been blocked for 20 consecutive looks (~20 ms): a
  // gateway that read ahead would let it write on.
  hold = [&](int tries, int blocked_looks, std::function<void(bool)> next) {
    bool blocked = server_.huge_waiting && server_.huge_written == written_while_held;
    written_while_held = server_.huge_written;
    blocked_looks = blocked ? blocked_looks + 1 : 0;
    if (blocked_looks >= 20 || tries == 0) {
      EXPECT_GT(tries, 0) << "the instance never blocked while the caller held a piece";
      held = true;
      return next(true);
    }
    timer->expires_after(1ms);
    timer->async_wait([&, tries, blocked_looks, next](beast::error_code) { hold(tries - 1, blocked_looks, next); });
  };
  OnBody on_body = [&](std::string_view data, std::function<void(bool)> next) {
    taken += data.size();
    max_piece = std::max(max_piece, data.size());
    max_in_flight = std::max(max_in_flight, server_.huge_written - taken);
    if (!held) return hold(3000, 0, std::move(next));
    asio::post(loop_->executor(), [next] { next(true); });  // takes the rest a turn of the loop later each
  };
  auto o = Run(Request(), nullptr, on_body);
  ASSERT_TRUE(o->done && o->done->ok());
  EXPECT_TRUE(held);
  EXPECT_LE(written_while_held, kBound) << "the instance wrote this much while the caller held the first piece";
  EXPECT_LE(max_in_flight, kBound);
  EXPECT_LE(max_piece, size_t{64 << 10});
  EXPECT_EQ(taken, kHuge);
  EXPECT_EQ(o->result().status, 200u);
  EXPECT_FALSE(o->result().cut_short);
  EXPECT_EQ(Inflight(), 0);
}

TEST_F(InvokerTest, ACallerGoingAwayMidAnswerReleasesTheLease) {
  server_.SetScript({Script::kHeadThenStall, Script::kHeadThenStall, Script::kHeadThenStall});
  for (int i = 0; i < 3; ++i) {
    OnBody away = [](std::string_view, std::function<void(bool)> next) { next(false); };
    auto o = Run(Request(), nullptr, away);
    ASSERT_TRUE(o->done && o->done->ok());
    EXPECT_EQ(o->result().error, "the caller went away");
    EXPECT_TRUE(o->result().cut_short);
    EXPECT_EQ(Inflight(), 0) << "call " << i;
  }
  EXPECT_EQ(launcher_.launched(), 1);  // the instance is fine and keeps serving
  EXPECT_EQ(manager_->LiveCount(route_->spec.key), 1);
  auto peek = Peek();
  ASSERT_TRUE(peek);
  EXPECT_EQ(peek->instance().connections.size(), 0u);  // a connection cut mid-answer is not kept
}

TEST_F(InvokerTest, AClientFailingMidBodyReleasesTheLeaseAndIsNoLongerBlamed) {
  // 2 MiB sent (above BodyBlame::kMinBytes), then the client's connection fails.
  auto body = std::make_shared<ScriptedBody>(loop_->executor(), std::vector<std::string>{std::string(2 << 20, 'b')},
                                             Unavailable("the client went away"));
  auto o = StartTraced(Request(""), body);
  ASSERT_TRUE(Finish(*o));
  ASSERT_FALSE(o->done->ok());
  EXPECT_EQ(o->done->status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(o->heads, 0);
  EXPECT_EQ(Inflight(), 0);
  auto peek = Peek();
  ASSERT_TRUE(peek);
  // Had it stayed the suspect, another call's out-of-memory kill would be blamed on it.
  EXPECT_TRUE(peek->instance().bodies.Blames(~uint64_t{0}));
  EXPECT_EQ(States(*o).back(), CallState::kDone);
}

TEST_F(InvokerTest, AnInstanceSilentPastItsStartTimeoutIsStoppedWith503) {
  { ASSERT_TRUE(manager_->Acquire(route_->spec).ok()); }  // started, never answered nor said it is ready
  clock_.Advance(route_->spec.start_timeout);  // by the clock its start timeout is up: no real wait
  server_.SetScript({Script::kStall});
  auto o = Run(Request());
  ASSERT_TRUE(o->done->ok());
  const InvokeResult& r = o->result();
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(r.error, fmt::format("the instance {} of org/app did not become ready within 10s of its start "
                                 "(execution {}); check its start",
                                 launcher_.last_replica(), r.execution_id));
  EXPECT_EQ(r.duration_ms, 0);
  EXPECT_EQ(manager_->LiveCount(route_->spec.key), 0);
}

TEST_F(InvokerTest, AReadyInstanceIsNotHeldToItsStartTimeout) {
  launcher_.ready = true;  // it said it serves, but has not answered yet
  { ASSERT_TRUE(manager_->Acquire(route_->spec).ok()); }
  clock_.Advance(route_->spec.start_timeout);  // the start timer is due at once, before the answer comes
  auto o = Run(Request());
  ASSERT_TRUE(o->done->ok());
  EXPECT_EQ(o->result().status, 200u);
  EXPECT_EQ(manager_->LiveCount(route_->spec.key), 1);
}

// The execution timeout passes while the lease is on its way (a slow cold start on the blocking pool): the
// call ends with 504 when the lease comes, instead of going on with no timeout at all.
TEST_F(InvokerTest, ALeaseArrivingAfterTheExecutionTimeoutEndsTheCallWith504) {
  UsePool(true);
  route_->timeout = 1s;
  server_.SetScript({Script::kStall});
  std::promise<void> gate;
  launcher_.gate = gate.get_future().share();
  auto o = Start(Request());
  // After Start (posted before), so the deadline is counted from the clock's start.
  asio::post(loop_->executor(), [this] { clock_.Advance(1s); });
  // Released on the loop after the execution timer (1 s) fired.
  asio::steady_timer release(loop_->executor(), 1100ms);
  release.async_wait([&](beast::error_code) { gate.set_value(); });
  bool finished = Finish(*o);
  if (!finished) {
    try {
      gate.set_value();  // unless the loop did before it stopped
    } catch (const std::future_error&) {
    }
    return;
  }
  ASSERT_TRUE(o->done->ok());
  EXPECT_EQ(o->result().status, 504u);
  EXPECT_NE(o->result().error.find("did not answer within its execution timeout of 1s"), std::string::npos);
  EXPECT_EQ(server_.received().size(), 0u);  // nothing was sent
  EXPECT_EQ(Inflight(), 0);
  EXPECT_EQ(manager_->LiveCount(route_->spec.key), 1);  // the new instance is not to blame
}

TEST(CallStateTest, EveryStateCanReachDoneAndDoneIsFinal) {
  constexpr int kStates = static_cast<int>(CallState::kDone) + 1;
  for (int s = 0; s < kStates; ++s) {
    EXPECT_FALSE(CallTransitionAllowed(CallState::kDone, static_cast<CallState>(s)));
    EXPECT_FALSE(CallTransitionAllowed(static_cast<CallState>(s), CallState::kCreated));
    std::vector<bool> seen(kStates, false);
    std::vector<int> todo{s};
    seen[s] = true;
    while (!todo.empty()) {
      int at = todo.back();
      todo.pop_back();
      for (int to = 0; to < kStates; ++to) {
        if (!seen[to] && CallTransitionAllowed(static_cast<CallState>(at), static_cast<CallState>(to))) {
          seen[to] = true;
          todo.push_back(to);
        }
      }
    }
    EXPECT_TRUE(seen[kStates - 1]) << CallStateName(static_cast<CallState>(s)) << " cannot end";
  }
}

}  // namespace
}  // namespace ignite::gateway
