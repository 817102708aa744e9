#include "http/body_stream.h"

namespace ignite::http {

bool BodyStream::Push(std::string chunk) {
  std::function<void()> wake;
  {
    std::unique_lock<std::mutex> l(mu_);
    space_.wait(l, [&] { return aborted_ || buffered_ < max_buffered_; });
    if (aborted_) return false;
    buffered_ += chunk.size();
    chunks_.push_back(std::move(chunk));
    wake = waker_;
  }
  if (wake) wake();
  return true;
}

void BodyStream::Close() {
  std::function<void()> wake;
  {
    std::lock_guard<std::mutex> l(mu_);
    closed_ = true;
    wake = waker_;
  }
  if (wake) wake();
}

bool BodyStream::aborted() const {
  std::lock_guard<std::mutex> l(mu_);
  return aborted_;
}

void BodyStream::SetWaker(std::function<void()> waker) {
  bool ready;
  {
    std::lock_guard<std::mutex> l(mu_);
    waker_ = std::move(waker);
    ready = !chunks_.empty() || closed_;
  }
  if (ready) waker_();
}

BodyStream::Next BodyStream::Pop(std::string* chunk) {
  std::lock_guard<std::mutex> l(mu_);
  if (!chunks_.empty()) {
    *chunk = std::move(chunks_.front());
    chunks_.pop_front();
    while (!chunks_.empty()) {
      chunk->append(chunks_.front());
      chunks_.pop_front();
    }
    buffered_ = 0;
    space_.notify_all();
    return Next::kChunk;
  }
  return closed_ ? Next::kEnd : Next::kWait;
}

void BodyStream::Abort() {
  std::lock_guard<std::mutex> l(mu_);
  aborted_ = true;
  chunks_.clear();
  buffered_ = 0;
  waker_ = nullptr;
  space_.notify_all();
}

}  // namespace ignite::http
