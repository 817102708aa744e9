// BodyStream: a response body produced over time by another thread and sent as HTTP chunked transfer
// encoding (NDJSON log streams, streamed invocations).
//
// The producer Push()es chunks and Close()s; the connection's event loop drains them. Push blocks while more
// than `max_buffered` bytes wait to be sent, so a slow client slows the producer instead of growing memory.
// Once the client is gone (Abort), Push returns false at once. Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>

namespace ignite::http {

class BodyStream {
 public:
  explicit BodyStream(size_t max_buffered = 1 << 20) : max_buffered_(max_buffered) {}

  // Producer side. Push returns false if the client is gone (stop producing).
  bool Push(std::string chunk);
  void Close();
  bool aborted() const;

  // Consumer side (the server). `waker` is called (from the producer's thread) whenever new data or the end
  // is available; it must only schedule work, never block.
  void SetWaker(std::function<void()> waker);
  enum class Next { kChunk, kEnd, kWait };
  // Takes everything queued as one chunk (fewer, larger writes), kEnd once closed and drained, else kWait.
  Next Pop(std::string* chunk);
  void Abort();

 private:
  const size_t max_buffered_;
  mutable std::mutex mu_;
  std::condition_variable space_;
  std::deque<std::string> chunks_;  // guarded by mu_
  size_t buffered_ = 0;             // guarded by mu_
  bool closed_ = false;             // guarded by mu_
  bool aborted_ = false;            // guarded by mu_
  std::function<void()> waker_;     // guarded by mu_
};

}  // namespace ignite::http
