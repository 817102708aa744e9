// Clock: the seam for time, so schedulers and timeouts test without sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace ignite {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock Unix milliseconds, for records users read.
  virtual int64_t NowUnixMs() const = 0;
  // Monotonic time, for durations and deadlines.
  virtual std::chrono::steady_clock::time_point Now() const = 0;
};

// The real clock. Thread-safe; the returned reference lives for the whole program.
const Clock& SystemClock();

// A clock tests move by hand. Thread-safe: a test may move it while the code under test reads it on
// another thread (an event loop, a fake instance's server). It stands still unless moved, so code that
// waits for a deadline of this clock on real time (a timer, a condition variable) must look at the clock
// again when the real wait ends.
class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t unix_ms = 1'700'000'000'000) : unix_ms_(unix_ms) {}
  int64_t NowUnixMs() const override { return unix_ms_.load(std::memory_order_acquire); }
  std::chrono::steady_clock::time_point Now() const override {
    return std::chrono::steady_clock::time_point(std::chrono::milliseconds(NowUnixMs()));
  }
  void Advance(std::chrono::milliseconds d) { unix_ms_.fetch_add(d.count(), std::memory_order_acq_rel); }

 private:
  std::atomic<int64_t> unix_ms_;
};

}  // namespace ignite
