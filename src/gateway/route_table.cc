#include "gateway/route_table.h"

namespace ignite::gateway {

RouteTable::Snapshot RouteTable::Get() const {
  std::lock_guard<std::mutex> l(mu_);
  return routes_;
}

std::string RouteTable::Set(Route route) {
  std::lock_guard<std::mutex> l(mu_);
  auto next = std::make_shared<std::map<std::string, Route>>(*routes_);
  std::string old;
  auto it = next->find(route.app_id);
  if (it != next->end()) old = it->second.spec.key;
  (*next)[route.app_id] = std::move(route);
  routes_ = std::move(next);
  return old;
}

std::string RouteTable::Remove(const std::string& app_id) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = routes_->find(app_id);
  if (it == routes_->end()) return "";
  auto next = std::make_shared<std::map<std::string, Route>>(*routes_);
  std::string old = it->second.spec.key;
  next->erase(app_id);
  routes_ = std::move(next);
  return old;
}

}  // namespace ignite::gateway
