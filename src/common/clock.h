// Clock: the seam for time, so schedulers and timeouts test without sleeping.
#pragma once

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

// A clock tests move by hand. Not thread-safe.
class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t unix_ms = 1'700'000'000'000) : unix_ms_(unix_ms) {}
  int64_t NowUnixMs() const override { return unix_ms_; }
  std::chrono::steady_clock::time_point Now() const override {
    return std::chrono::steady_clock::time_point(std::chrono::milliseconds(unix_ms_));
  }
  void Advance(std::chrono::milliseconds d) { unix_ms_ += d.count(); }

 private:
  int64_t unix_ms_;
};

}  // namespace ignite
