#include "build/image/image_ref.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <string>

#include <fmt/format.h>

namespace ignite::build::image {
namespace {

constexpr size_t kMaxRefBytes = 512;
constexpr std::string_view kDockerHub = "docker.io";
constexpr std::string_view kExamples =
    "a valid image reference looks like `busybox`, `acme/app:1.0`, `127.0.0.1:5000/acme/app:1.0` or "
    "`ghcr.io/acme/app@sha256:<64 hex digits>`";

Status Bad(std::string_view ref, std::string_view why) {
  return InvalidArgument(fmt::format("invalid image reference \"{}\": {}; {}", ref, why, kExamples));
}

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }
bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
bool IsDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// A port as the grammar writes it: digits, 1..65535.
bool IsPort(std::string_view s) {
  if (!IsDigits(s) || s.size() > 5) return false;
  unsigned v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v >= 1 && v <= 65535;
}

// path-component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := '.' | '_' | '__' | '-'+.
bool IsPathComponent(std::string_view s) {
  if (s.empty() || !IsLowerAlnum(s.front()) || !IsLowerAlnum(s.back())) return false;
  for (size_t i = 0; i < s.size();) {
    if (IsLowerAlnum(s[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < s.size() && !IsLowerAlnum(s[j])) ++j;
    std::string_view sep = s.substr(i, j - i);
    bool dashes = sep.find_first_not_of('-') == std::string_view::npos;
    if (sep != "." && sep != "_" && sep != "__" && !dashes) return false;
    i = j;
  }
  return true;
}

// A DNS name of labels [A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])? or a bracketed IPv6 address, with an
// optional port.
Status CheckRegistry(std::string_view ref, std::string_view registry) {
  std::string_view host = registry;
  std::string_view port;
  bool has_port = false;
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos) return Bad(ref, "the registry's IPv6 address is missing its ']'");
    std::string addr(host.substr(1, close - 1));
    in6_addr unused{};
    if (inet_pton(AF_INET6, addr.c_str(), &unused) != 1) {
      return Bad(ref, fmt::format("\"{}\" is not an IPv6 address", addr));
    }
    std::string_view rest = host.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return Bad(ref, "only a port may follow the registry's IPv6 address");
      has_port = true;
      port = rest.substr(1);
    }
  } else {
    size_t colon = host.find(':');
    if (colon != std::string_view::npos) {
      has_port = true;
      port = host.substr(colon + 1);
      host = host.substr(0, colon);
    }
    if (host.empty()) return Bad(ref, "the registry host is empty");
    size_t start = 0;
    while (start <= host.size()) {
      size_t dot = host.find('.', start);
      if (dot == std::string_view::npos) dot = host.size();
      std::string_view label = host.substr(start, dot - start);
      bool ok = !label.empty() && IsAlnum(label.front()) && IsAlnum(label.back());
      for (char c : label) ok = ok && (IsAlnum(c) || c == '-');
      if (!ok) return Bad(ref, fmt::format("the registry host \"{}\" is not a valid host name", host));
      start = dot + 1;
    }
  }
  if (has_port && !IsPort(port)) {
    return Bad(ref, fmt::format("the registry port \"{}\" is not a number from 1 to 65535", port));
  }
  return OkStatus();
}

Status CheckRepository(std::string_view ref, std::string_view repository) {
  for (char c : repository) {
    if (c >= 'A' && c <= 'Z') {
      return Bad(ref, fmt::format("the repository \"{}\" has upper-case letters; repository names are lower case",
                                  repository));
    }
  }
  size_t start = 0;
  while (start <= repository.size()) {
    size_t slash = repository.find('/', start);
    if (slash == std::string_view::npos) slash = repository.size();
    std::string_view component = repository.substr(start, slash - start);
    if (!IsPathComponent(component)) {
      return Bad(ref, fmt::format("the repository path component \"{}\" is not letters and digits joined by "
                                  "'.', '_', '__' or '-'",
                                  component));
    }
    start = slash + 1;
  }
  return OkStatus();
}

// tag := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
bool IsTag(std::string_view tag) {
  if (tag.empty() || tag.size() > 128) return false;
  if (!IsAlnum(tag.front()) && tag.front() != '_') return false;
  for (char c : tag) {
    if (!IsAlnum(c) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

// Only sha256 is accepted: it is what registries serve, and what a version pins. Lower-case hex, as the
// OCI spec requires for sha256 digests.
bool IsDigest(std::string_view digest) {
  constexpr std::string_view kPrefix = "sha256:";
  if (digest.size() != kPrefix.size() + 64 || digest.substr(0, kPrefix.size()) != kPrefix) return false;
  for (char c : digest.substr(kPrefix.size())) {
    if (!IsHex(c)) return false;
  }
  return true;
}

}  // namespace

std::string ImageRef::ToString() const {
  std::string out = fmt::format("{}/{}", registry, repository);
  if (!digest.empty()) return out + "@" + digest;
  if (!tag.empty()) out += ":" + tag;
  return out;
}

std::string ImageRef::Pinned(std::string_view pin) const { return fmt::format("{}/{}@{}", registry, repository, pin); }

Result<ImageRef> ParseImageRef(std::string_view ref) {
  if (ref.empty()) return Bad(ref, "it is empty");
  if (ref.size() > kMaxRefBytes) {
    return InvalidArgument(
        fmt::format("invalid image reference: it is {} bytes, over the limit of {}; {}", ref.size(), kMaxRefBytes,
                    kExamples));
  }
  for (char c : ref) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return Bad(ref, "it contains whitespace or control characters");
  }
  if (size_t scheme = ref.find("://"); scheme != std::string_view::npos) {
    return Bad(ref, fmt::format("drop the scheme \"{}\": write the reference without it, such as \"{}\"",
                                ref.substr(0, scheme + 3), ref.substr(scheme + 3)));
  }

  ImageRef out;
  std::string_view name = ref;
  if (size_t at = name.find('@'); at != std::string_view::npos) {
    out.digest = std::string(name.substr(at + 1));
    name = name.substr(0, at);
    if (!IsDigest(out.digest)) {
      return Bad(ref, fmt::format("the digest \"{}\" is not sha256: followed by 64 lower-case hex digits",
                                  out.digest));
    }
  }
  // The tag is after the last ':' that follows the last '/' (a ':' before it is the registry's port).
  size_t last_slash = name.rfind('/');
  size_t colon = name.rfind(':');
  if (colon != std::string_view::npos && (last_slash == std::string_view::npos || colon > last_slash)) {
    out.tag = std::string(name.substr(colon + 1));
    name = name.substr(0, colon);
    if (!IsTag(out.tag)) {
      return Bad(ref, fmt::format("the tag \"{}\" is not 1 to 128 letters, digits, '_', '.' or '-' (not starting "
                                  "with '.' or '-')",
                                  out.tag));
    }
  }
  if (name.empty()) return Bad(ref, "it names no repository");

  // Docker's rule: the first component is a registry only if it looks like a host.
  size_t slash = name.find('/');
  std::string_view first = name.substr(0, slash);
  if (slash != std::string_view::npos &&
      (first.find_first_of(".:") != std::string_view::npos || first == "localhost")) {
    out.registry = std::string(first);
    IGNITE_RETURN_IF_ERROR(CheckRegistry(ref, out.registry));
    out.repository = std::string(name.substr(slash + 1));
  } else {
    out.registry = std::string(kDockerHub);
    out.repository = std::string(name);
  }
  if (out.registry == "index.docker.io") out.registry = std::string(kDockerHub);  // docker's legacy alias
  IGNITE_RETURN_IF_ERROR(CheckRepository(ref, out.repository));
  if (out.registry == kDockerHub && out.repository.find('/') == std::string::npos) {
    out.repository = "library/" + out.repository;
  }
  if (out.tag.empty() && out.digest.empty()) out.tag = "latest";
  return out;
}

bool IsLoopbackRegistry(std::string_view registry) {
  std::string host;
  std::string_view port;
  if (!registry.empty() && registry.front() == '[') {
    size_t close = registry.find(']');
    if (close == std::string_view::npos) return false;
    host = std::string(registry.substr(1, close - 1));
    std::string_view rest = registry.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
      if (!IsPort(port)) return false;
    }
    in6_addr addr{};
    return inet_pton(AF_INET6, host.c_str(), &addr) == 1 && IN6_IS_ADDR_LOOPBACK(&addr);
  }
  size_t colon = registry.find(':');
  host = std::string(registry.substr(0, colon));
  if (colon != std::string_view::npos && !IsPort(registry.substr(colon + 1))) return false;
  if (host == "localhost") return true;
  // inet_pton takes only the four-part dotted decimal form, so "127.1" or "0x7f.0.0.1" are not loopback here.
  in_addr addr{};
  return inet_pton(AF_INET, host.c_str(), &addr) == 1 && (ntohl(addr.s_addr) >> 24) == 127;
}

}  // namespace ignite::build::image
