#include "http/router.h"

#include <boost/url/decode_view.hpp>
#include <boost/url/grammar.hpp>
#include <boost/url/pct_string_view.hpp>

namespace ignite::http {

bool SplitPath(std::string_view path, std::vector<std::string>* out) {
  out->clear();
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    auto pct = boost::urls::make_pct_string_view(path.substr(i, j - i));
    if (!pct) return false;
    std::string seg;
    for (char c : pct->decode()) seg.push_back(c);
    out->push_back(std::move(seg));
    i = j;
  }
  return true;
}

void Router::Add(std::string method, std::string pattern, Handler handler, std::string name, BodyLimitFn limit) {
  Route r;
  r.body_limit = std::move(limit);
  r.method = std::move(method);
  SplitPath(pattern, &r.segments);
  r.pattern = std::move(pattern);
  r.handler = std::move(handler);
  r.name = name.empty() ? r.pattern : std::move(name);
  routes_.push_back(std::move(r));
}

void Router::AddStream(std::string method, std::string pattern, StreamHandler handler, std::string name) {
  Add(std::move(method), std::move(pattern), nullptr, std::move(name));
  routes_.back().stream_handler = std::move(handler);
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  Match m;
  std::vector<std::string> segs;
  if (!SplitPath(path, &segs)) return m;
  for (const auto& r : routes_) {
    if (r.segments.size() != segs.size()) continue;
    std::map<std::string, std::string> params;
    bool ok = true;
    for (size_t i = 0; i < segs.size() && ok; ++i) {
      const std::string& p = r.segments[i];
      if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
        if (segs[i].empty()) ok = false;
        params[p.substr(1, p.size() - 2)] = segs[i];
      } else if (p != segs[i]) {
        ok = false;
      }
    }
    if (!ok) continue;
    m.path_known = true;
    if (r.method != method) continue;
    if (r.stream_handler) {
      m.stream_handler = &r.stream_handler;
    } else {
      m.handler = &r.handler;
      if (r.body_limit) m.body_limit = &r.body_limit;
    }
    m.name = r.name;
    m.params = std::move(params);
    return m;
  }
  return m;
}

void Router::SetHostHandler(std::function<bool(std::string_view host)> claims, StreamHandler handler) {
  host_claims_ = std::move(claims);
  host_handler_ = std::move(handler);
}

const StreamHandler* Router::FindHostHandler(std::string_view host) const {
  if (!host_claims_ || !host_claims_(host)) return nullptr;
  return &host_handler_;
}

std::vector<std::string> Router::Describe() const {
  std::vector<std::string> out;
  for (const auto& r : routes_) out.push_back(r.method + " " + r.pattern + " " + r.name);
  return out;
}

}  // namespace ignite::http
