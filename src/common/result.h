// Result<T>: a T or a non-OK Status (the project's StatusOr). Accessing value() of an error is a bug and
// aborts. [[nodiscard]], like Status.
#pragma once

#include <cstdlib>
#include <optional>
#include <utility>

#include "common/status.h"

namespace ignite {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design, like absl::StatusOr.
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    if (status_.ok()) status_ = Status(StatusCode::kInternal, "Result constructed from OK status");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & { Check(); return *value_; }
  const T& value() const& { Check(); return *value_; }
  T&& value() && { Check(); return std::move(*value_); }
  T* operator->() { Check(); return &*value_; }
  const T* operator->() const { Check(); return &*value_; }
  T& operator*() & { Check(); return *value_; }
  const T& operator*() const& { Check(); return *value_; }

 private:
  void Check() const {
    if (!value_) std::abort();
  }
  std::optional<T> value_;
  Status status_;
};

}  // namespace ignite

#define IGNITE_CONCAT_INNER(a, b) a##b
#define IGNITE_CONCAT(a, b) IGNITE_CONCAT_INNER(a, b)
// IGNITE_ASSIGN_OR_RETURN(auto x, Foo()); returns Foo()'s Status on error.
#define IGNITE_ASSIGN_OR_RETURN(lhs, expr) \
  IGNITE_ASSIGN_OR_RETURN_IMPL(IGNITE_CONCAT(_result_, __LINE__), lhs, expr)
#define IGNITE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()
