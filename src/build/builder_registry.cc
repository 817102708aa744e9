#include "build/builder.h"

namespace ignite::build {

void BuilderRegistry::Register(std::string key, std::unique_ptr<Builder> builder) {
  if (default_key_.empty()) default_key_ = key;
  if (!builders_.count(key)) order_.push_back(key);
  builders_[std::move(key)] = std::move(builder);
}

const Builder* BuilderRegistry::Find(std::string_view key) const {
  auto it = builders_.find(key.empty() ? std::string_view(default_key_) : key);
  return it == builders_.end() ? nullptr : it->second.get();
}

std::string BuilderRegistry::Detect(const std::vector<std::string>& root_files) const {
  for (const auto& key : order_) {
    if (builders_.at(key)->Claims(root_files)) return key;
  }
  return "";
}

std::vector<std::string> BuilderRegistry::keys() const {
  std::vector<std::string> out;
  for (const auto& [key, builder] : builders_) out.push_back(key);
  return out;
}

}  // namespace ignite::build
