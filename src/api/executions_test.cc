// ExecutionRecorder against a real SqliteStore (in memory) behind a wrapper that counts and can fail batch
// writes; plus the status rule of AsyncInvoker (FinishedRecord) and the API message (ToExecution).
#include "api/executions.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "api/async_invoke.h"
#include "store/sqlite_store.h"

namespace ignite::api {
namespace {

using namespace std::chrono_literals;
using store::ExecutionRecord;

// Delegates to a SqliteStore; PutExecutions can be made to fail and records each batch's size.
class RecordingStore : public store::Store {
 public:
  RecordingStore() {
    auto s = store::SqliteStore::Open(":memory:");
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    inner_ = std::move(s).value();
  }

  Status PutExecutions(const std::vector<ExecutionRecord>& records) override {
    if (fail_puts > 0) {
      --fail_puts;
      return Unavailable("disk on fire");
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      batches.push_back(records.size());
    }
    return inner_->PutExecutions(records);
  }
  Result<ExecutionRecord> GetExecution(std::string_view id) override { return inner_->GetExecution(id); }
  Result<int> DeleteExecutionsBefore(int64_t ms) override { return inner_->DeleteExecutionsBefore(ms); }
  Result<int> FailUnfinishedExecutions(std::string_view reason, int64_t now_ms) override {
    return inner_->FailUnfinishedExecutions(reason, now_ms);
  }
  Status PutInvocations(const std::vector<store::InvocationRecord>& r) override { return inner_->PutInvocations(r); }
  Result<store::InvocationStats> InvocationStatsFor(std::string_view o, std::string_view a, int64_t f,
                                                    int64_t t) override {
    return inner_->InvocationStatsFor(o, a, f, t);
  }
  Result<int> DeleteInvocationsBefore(int64_t ms) override { return inner_->DeleteInvocationsBefore(ms); }

  std::vector<size_t> Batches() {
    std::lock_guard<std::mutex> l(mu_);
    return batches;
  }
  std::atomic<int> fail_puts{0};

  // The rest of the interface, unused here.
  Status CreateOrg(const store::OrgRecord& o) override { return inner_->CreateOrg(o); }
  Result<store::OrgRecord> GetOrgByName(std::string_view n) override { return inner_->GetOrgByName(n); }
  Result<store::OrgRecord> GetOrgById(std::string_view id) override { return inner_->GetOrgById(id); }
  Result<std::vector<store::OrgRecord>> ListOrgs() override { return inner_->ListOrgs(); }
  Status PutToken(const store::TokenRecord& t) override { return inner_->PutToken(t); }
  Result<store::TokenRecord> GetToken(std::string_view id) override { return inner_->GetToken(id); }
  Result<int> DeleteTokensExpiredBefore(int64_t ms) override { return inner_->DeleteTokensExpiredBefore(ms); }
  Status CreateServiceAccount(const store::ServiceAccountRecord& a) override { return inner_->CreateServiceAccount(a); }
  Result<store::ServiceAccountRecord> GetServiceAccount(std::string_view id) override {
    return inner_->GetServiceAccount(id);
  }
  Result<std::vector<store::ServiceAccountRecord>> ListServiceAccounts(std::string_view o) override {
    return inner_->ListServiceAccounts(o);
  }
  Result<int> DeleteServiceAccount(std::string_view o, std::string_view id) override {
    return inner_->DeleteServiceAccount(o, id);
  }
  Status CreateApp(const store::AppRecord& a) override { return inner_->CreateApp(a); }
  Result<store::AppRecord> GetApp(std::string_view o, std::string_view n) override { return inner_->GetApp(o, n); }
  Result<std::vector<store::AppRecord>> ListApps(std::string_view o, std::string_view a, size_t l) override {
    return inner_->ListApps(o, a, l);
  }
  Status UpdateAppSpec(std::string_view o, std::string_view n, const std::string& s, int64_t t) override {
    return inner_->UpdateAppSpec(o, n, s, t);
  }
  Status DeleteApp(std::string_view o, std::string_view n) override { return inner_->DeleteApp(o, n); }
  Status PutDraft(std::string_view o, std::string_view a, const store::DraftRecord& d) override {
    return inner_->PutDraft(o, a, d);
  }
  Result<std::optional<store::DraftRecord>> GetDraft(std::string_view o, std::string_view a) override {
    return inner_->GetDraft(o, a);
  }
  Status SetDraftBuild(std::string_view o, std::string_view a, std::string_view h, std::string_view b) override {
    return inner_->SetDraftBuild(o, a, h, b);
  }
  Status PutBuild(const store::BuildRecord& b) override { return inner_->PutBuild(b); }
  Result<store::BuildRecord> GetBuild(std::string_view id) override { return inner_->GetBuild(id); }
  Result<int> FailUnfinishedBuilds(std::string_view r, int64_t t) override {
    return inner_->FailUnfinishedBuilds(r, t);
  }
  Result<uint32_t> PublishVersion(std::string_view o, std::string_view a, const store::VersionRecord& v) override {
    return inner_->PublishVersion(o, a, v);
  }
  Result<std::vector<store::VersionRecord>> ListVersions(std::string_view o, std::string_view a) override {
    return inner_->ListVersions(o, a);
  }
  Result<store::VersionRecord> GetVersion(std::string_view o, std::string_view a, uint32_t v) override {
    return inner_->GetVersion(o, a, v);
  }
  Status PutSecret(const store::SecretRecord& s) override { return inner_->PutSecret(s); }
  Result<store::SecretRecord> GetSecret(std::string_view o, std::string_view n) override {
    return inner_->GetSecret(o, n);
  }
  Result<std::vector<store::SecretRecord>> ListSecrets(std::string_view o) override { return inner_->ListSecrets(o); }
  Status DeleteSecret(std::string_view o, std::string_view n, bool* removed = nullptr) override {
    return inner_->DeleteSecret(o, n, removed);
  }
  Status SetActiveVersion(std::string_view o, std::string_view a, uint32_t v) override {
    return inner_->SetActiveVersion(o, a, v);
  }

 private:
  std::unique_ptr<store::SqliteStore> inner_;
  std::mutex mu_;
  std::vector<size_t> batches;
};

ExecutionRecord Rec(const std::string& id, int status = pb::EXECUTION_STATUS_PENDING, int64_t created = 1000) {
  return ExecutionRecord{.id = id, .org_id = "o1", .app_id = "org/app", .version = 1, .status = status,
                         .created_at_ms = created};
}

// Polls `pred` for up to 5 s.
template <typename Pred>
bool Eventually(Pred pred) {
  for (int i = 0; i < 2000; ++i) {  // up to 20 s: generous for a loaded CI machine
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

RecorderOptions Manual() {
  RecorderOptions o;
  o.flush_interval = std::chrono::hours(1);  // only Flush() and full batches write
  return o;
}

// A hand-moved clock that the writer thread may read while the test moves it.
class TestClock : public Clock {
 public:
  explicit TestClock(int64_t unix_ms) : ms_(unix_ms) {}
  int64_t NowUnixMs() const override { return ms_; }
  std::chrono::steady_clock::time_point Now() const override {
    return std::chrono::steady_clock::time_point(std::chrono::milliseconds(ms_));
  }
  void Advance(std::chrono::milliseconds d) { ms_ += d.count(); }

 private:
  std::atomic<int64_t> ms_;
};

class RecorderTest : public ::testing::Test {
 protected:
  RecordingStore store_;
  TestClock clock_{10'000'000};
};

TEST_F(RecorderTest, ReadsComeFromMemoryUntilFlushedThenFromTheStore) {
  ExecutionRecorder rec(&store_, &clock_, Manual());
  ASSERT_TRUE(rec.Start().ok());
  rec.Begin(Rec("e1"));
  rec.Begin(Rec("e2"));
  EXPECT_EQ(store_.GetExecution("e1").status().code(), StatusCode::kNotFound);  // nothing written yet
  ASSERT_TRUE(rec.Get("e1").ok());
  EXPECT_EQ(rec.Get("e1")->status, pb::EXECUTION_STATUS_PENDING);

  auto done = Rec("e1", pb::EXECUTION_STATUS_SUCCEEDED);
  done.output = "hi";
  rec.Finish(done);
  EXPECT_EQ(rec.Get("e1")->output, "hi");
  ASSERT_TRUE(rec.Flush().ok());
  EXPECT_EQ(store_.Batches(), std::vector<size_t>{2});  // both records, one transaction
  EXPECT_EQ(store_.GetExecution("e1")->status, pb::EXECUTION_STATUS_SUCCEEDED);
  EXPECT_EQ(store_.GetExecution("e2")->status, pb::EXECUTION_STATUS_PENDING);
  // The finished one left memory; the live one stays for its watchers.
  EXPECT_EQ(rec.InMemory(), 1u);
  EXPECT_EQ(rec.Get("e1")->output, "hi");
  EXPECT_EQ(rec.Get("nope").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(rec.Flush().ok());
  EXPECT_EQ(store_.Batches().size(), 1u);  // nothing changed: no write
}

TEST_F(RecorderTest, WriterThreadFlushesOnTheIntervalAndOnFullBatches) {
  {
    RecorderOptions o;
    o.flush_interval = 20ms;
    ExecutionRecorder rec(&store_, &clock_, o);
    ASSERT_TRUE(rec.Start().ok());
    rec.Begin(Rec("t1"));
    EXPECT_TRUE(Eventually([&] { return store_.GetExecution("t1").ok(); }));
  }
  RecordingStore big;
  RecorderOptions o = Manual();
  o.batch_size = 50;
  ExecutionRecorder rec(&big, &clock_, o);
  ASSERT_TRUE(rec.Start().ok());
  for (int i = 0; i < 120; ++i) rec.Finish(Rec("b" + std::to_string(i), pb::EXECUTION_STATUS_SUCCEEDED));
  // Full batches are written without waiting for the (hour-long) interval; each is at most batch_size. How
  // many records one flush takes depends on how fast the writer wakes, so the invariant is that fewer than
  // one batch is left waiting for the interval.
  EXPECT_TRUE(Eventually([&] {
    size_t saved = 0;
    for (size_t n : big.Batches()) saved += n;
    return saved >= 120 - 49;
  }));
  for (size_t n : big.Batches()) EXPECT_LE(n, 50u);
  rec.Stop();  // writes the rest
  EXPECT_TRUE(big.GetExecution("b119").ok());
  EXPECT_EQ(rec.InMemory(), 0u);
}

TEST_F(RecorderTest, FailedWritesAreRetriedAndReadsStillWork) {
  RecorderOptions o;
  o.flush_interval = 10ms;
  ExecutionRecorder rec(&store_, &clock_, o);
  ASSERT_TRUE(rec.Start().ok());
  store_.fail_puts = 3;
  rec.Finish(Rec("f1", pb::EXECUTION_STATUS_FAILED));
  EXPECT_EQ(rec.Get("f1")->status, pb::EXECUTION_STATUS_FAILED);
  EXPECT_TRUE(Eventually([&] { return store_.GetExecution("f1").ok(); }));
  EXPECT_EQ(store_.fail_puts, 0);
  EXPECT_TRUE(Eventually([&] { return rec.InMemory() == 0; }));
}

TEST_F(RecorderTest, MemoryStaysBoundedWhileTheStoreIsDown) {
  RecorderOptions o = Manual();
  o.max_unsaved = 10;
  o.batch_size = 1000;
  ExecutionRecorder rec(&store_, &clock_, o);
  ASSERT_TRUE(rec.Start().ok());
  store_.fail_puts = 1'000'000;
  rec.Begin(Rec("live"));
  for (int i = 0; i < 30; ++i) rec.Finish(Rec("x" + std::to_string(i), pb::EXECUTION_STATUS_SUCCEEDED, 2000 + i));
  EXPECT_LE(rec.InMemory(), 11u);
  EXPECT_TRUE(rec.Get("live").ok());  // live records are never dropped
  EXPECT_TRUE(rec.Get("x29").ok());   // the newest finished ones are kept
  store_.fail_puts = 0;
}

TEST_F(RecorderTest, StartFailsLeftoversAndSweepsExpiredRecords) {
  const int64_t now = clock_.NowUnixMs();
  const int64_t week = 7 * 24 * 3600 * 1000LL;
  ASSERT_TRUE(store_
                  .PutExecutions({Rec("stale-running", pb::EXECUTION_STATUS_RUNNING, now - 1000),
                                  Rec("expired", pb::EXECUTION_STATUS_SUCCEEDED, now - week - 1),
                                  Rec("recent", pb::EXECUTION_STATUS_SUCCEEDED, now - week + 1000)})
                  .ok());
  ExecutionRecorder rec(&store_, &clock_, Manual());
  ASSERT_TRUE(rec.Start().ok());
  auto stale = rec.Get("stale-running");
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(stale->status, pb::EXECUTION_STATUS_FAILED);
  EXPECT_NE(stale->error.find("ignited stopped"), std::string::npos);
  EXPECT_EQ(rec.Get("expired").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(rec.Get("recent").ok());
  clock_.Advance(std::chrono::milliseconds(2000));
  EXPECT_EQ(*rec.Sweep(), 1);
  EXPECT_EQ(rec.Get("recent").status().code(), StatusCode::kNotFound);
}

TEST_F(RecorderTest, RetentionIsConfigurableAndTheWriterSweeps) {
  RecorderOptions o;
  o.retention = 1000ms;
  o.sweep_interval = 20ms;
  ASSERT_TRUE(store_.PutExecutions({Rec("old", pb::EXECUTION_STATUS_SUCCEEDED, clock_.NowUnixMs() - 500)}).ok());
  ExecutionRecorder rec(&store_, &clock_, o);
  ASSERT_TRUE(rec.Start().ok());
  EXPECT_TRUE(rec.Get("old").ok());
  clock_.Advance(1000ms);
  EXPECT_TRUE(Eventually([&] { return !store_.GetExecution("old").ok(); }));
}

TEST_F(RecorderTest, WatchDeliversEachStateInOrderAndEndsAtTheTerminalOne) {
  ExecutionRecorder rec(&store_, &clock_, Manual());
  ASSERT_TRUE(rec.Start().ok());
  EXPECT_EQ(rec.Watch("nope", [](const ExecutionRecord&) { return true; }).status().code(), StatusCode::kNotFound);

  rec.Begin(Rec("w"));
  std::vector<int> seen;
  auto more = rec.Watch("w", [&](const ExecutionRecord& r) {
    seen.push_back(r.status);
    return true;
  });
  ASSERT_TRUE(more.ok());
  EXPECT_TRUE(*more);
  EXPECT_EQ(seen, std::vector<int>{pb::EXECUTION_STATUS_PENDING});

  int declined_calls = 0;
  ASSERT_TRUE(*rec.Watch("w", [&](const ExecutionRecord&) {
    ++declined_calls;
    return declined_calls < 2;  // leaves after its second call
  }));

  rec.Update(Rec("w", pb::EXECUTION_STATUS_RUNNING));
  ASSERT_TRUE(rec.Flush().ok());  // saving a live record keeps it (and its watchers) in memory
  rec.Finish(Rec("w", pb::EXECUTION_STATUS_SUCCEEDED));
  rec.Update(Rec("w", pb::EXECUTION_STATUS_SUCCEEDED));  // nothing after the terminal state
  EXPECT_EQ(seen, (std::vector<int>{pb::EXECUTION_STATUS_PENDING, pb::EXECUTION_STATUS_RUNNING,
                                    pb::EXECUTION_STATUS_SUCCEEDED}));
  EXPECT_EQ(declined_calls, 2);

  // A finished record: one call with the final state, from memory or (after the flush) from the store.
  for (int round = 0; round < 2; ++round) {
    std::vector<int> once;
    auto m = rec.Watch("w", [&](const ExecutionRecord& r) {
      once.push_back(r.status);
      return true;
    });
    ASSERT_TRUE(m.ok());
    EXPECT_FALSE(*m);
    EXPECT_EQ(once, std::vector<int>{pb::EXECUTION_STATUS_SUCCEEDED});
    ASSERT_TRUE(rec.Flush().ok());
  }
}

TEST_F(RecorderTest, ConcurrentExecutionsAndWatchersEndConsistent) {
  RecorderOptions o;
  o.flush_interval = 5ms;
  o.batch_size = 16;
  ExecutionRecorder rec(&store_, &clock_, o);
  ASSERT_TRUE(rec.Start().ok());
  constexpr int kThreads = 4, kEach = 50;
  std::atomic<int> terminal_seen{0};
  std::atomic<int> out_of_order{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        std::string id = "c" + std::to_string(t) + "-" + std::to_string(i);
        rec.Begin(Rec(id));
        auto last = std::make_shared<int>(0);
        auto more = rec.Watch(id, [&, last](const ExecutionRecord& r) {
          if (r.status < *last) ++out_of_order;
          *last = r.status;
          if (IsTerminalExecutionStatus(r.status)) ++terminal_seen;
          return true;
        });
        EXPECT_TRUE(more.ok());
        std::thread runner([&, id] {
          rec.Update(Rec(id, pb::EXECUTION_STATUS_RUNNING));
          rec.Finish(Rec(id, pb::EXECUTION_STATUS_SUCCEEDED));
        });
        runner.join();
      }
    });
  }
  for (auto& th : threads) th.join();
  rec.Stop();
  EXPECT_EQ(terminal_seen, kThreads * kEach);
  EXPECT_EQ(out_of_order, 0);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kEach; ++i) {
      auto got = store_.GetExecution("c" + std::to_string(t) + "-" + std::to_string(i));
      ASSERT_TRUE(got.ok());
      EXPECT_EQ(got->status, pb::EXECUTION_STATUS_SUCCEEDED);
    }
  }
}

// ---- AsyncInvoker's status rule ----

gateway::InvokeResult Answer(unsigned status, std::string error = "") {
  gateway::InvokeResult r;
  r.status = status;
  r.execution_id = "inv";
  r.version = 4;
  r.cold = true;
  r.duration_ms = 12;
  r.error = std::move(error);
  return r;
}

ExecutionRecord Running() {
  ExecutionRecord r = Rec("x", pb::EXECUTION_STATUS_RUNNING);
  r.started_at_ms = 5000;
  return r;
}

TEST(FinishedRecord, HandlerSuccessSucceeds) {
  auto r = FinishedRecord(Running(), Answer(201), "out", false, 6000);
  EXPECT_EQ(r.status, pb::EXECUTION_STATUS_SUCCEEDED);
  EXPECT_EQ(r.output, "out");
  EXPECT_EQ(r.response_status, 201u);
  EXPECT_EQ(r.error, "");
  EXPECT_TRUE(r.cold_start);
  EXPECT_EQ(r.duration_ms, 12);
  EXPECT_EQ(r.version, 4u);
  EXPECT_EQ(r.invocation_id, "inv");
  EXPECT_EQ(r.finished_at_ms, 6000);
  EXPECT_EQ(r.started_at_ms, 5000);
}

TEST(FinishedRecord, HandlerErrorsFailWithTheirMessage) {
  auto r = FinishedRecord(Running(), Answer(500), R"({"error":"bad input: no name"})", false, 6000);
  EXPECT_EQ(r.status, pb::EXECUTION_STATUS_FAILED);
  EXPECT_EQ(r.error, "bad input: no name");
  EXPECT_EQ(r.response_status, 500u);
  EXPECT_EQ(r.output, R"({"error":"bad input: no name"})");
  auto plain = FinishedRecord(Running(), Answer(404), "nope", false, 6000);
  EXPECT_EQ(plain.status, pb::EXECUTION_STATUS_FAILED);
  EXPECT_EQ(plain.error, "the function returned HTTP 404");
  // A handler's own 504 is the handler's answer, not the platform's timeout.
  auto own504 = FinishedRecord(Running(), Answer(504), "{}", false, 6000);
  EXPECT_EQ(own504.status, pb::EXECUTION_STATUS_FAILED);
}

TEST(FinishedRecord, PlatformTimeoutAndCrash) {
  auto t = FinishedRecord(Running(), Answer(504, "org/app did not answer within 1s"), "{\"error\":\"..\"}", false,
                          6000);
  EXPECT_EQ(t.status, pb::EXECUTION_STATUS_TIMED_OUT);
  EXPECT_EQ(t.error, "org/app did not answer within 1s");
  auto c = FinishedRecord(Running(), Answer(502, "the instance exited"), "", false, 6000);
  EXPECT_EQ(c.status, pb::EXECUTION_STATUS_FAILED);
  EXPECT_EQ(c.error, "the instance exited");
}

TEST(FinishedRecord, OversizedOutputAndRefusedCalls) {
  auto big = FinishedRecord(Running(), Answer(200, "the caller went away"), "partial", true, 6000);
  EXPECT_EQ(big.status, pb::EXECUTION_STATUS_FAILED);
  EXPECT_EQ(big.error, "output larger than 6 MiB; use Invoke for large answers");
  EXPECT_EQ(big.output, "");
  auto refused = FinishedRecord(Running(), Result<gateway::InvokeResult>(Unavailable("cannot start")), "", false, 6500);
  EXPECT_EQ(refused.status, pb::EXECUTION_STATUS_FAILED);
  EXPECT_EQ(refused.error, "cannot start");
  EXPECT_EQ(refused.duration_ms, 1500);
  EXPECT_EQ(refused.response_status, 0u);
}

TEST(ToExecution, CopiesEveryField) {
  ExecutionRecord r{.id = "e", .org_id = "o", .app_id = "org/app", .version = 2,
                    .status = pb::EXECUTION_STATUS_TIMED_OUT, .response_status = 504, .output = "\xff\x00",
                    .error = "late", .cold_start = true, .created_at_ms = 1, .started_at_ms = 2,
                    .finished_at_ms = 3, .duration_ms = 4, .invocation_id = "inv"};
  pb::Execution e = ToExecution(r);
  EXPECT_EQ(e.execution_id(), "e");
  EXPECT_EQ(e.app_id(), "org/app");
  EXPECT_EQ(e.version(), 2u);
  EXPECT_EQ(e.status(), pb::EXECUTION_STATUS_TIMED_OUT);
  EXPECT_EQ(e.response_status(), 504u);
  EXPECT_EQ(e.output(), r.output);
  EXPECT_EQ(e.error(), "late");
  EXPECT_TRUE(e.cold_start());
  EXPECT_EQ(e.created_at_ms(), 1);
  EXPECT_EQ(e.started_at_ms(), 2);
  EXPECT_EQ(e.finished_at_ms(), 3);
  EXPECT_EQ(e.duration_ms(), 4);
  EXPECT_EQ(e.invocation_id(), "inv");
}

}  // namespace
}  // namespace ignite::api
