// Fakes for the CLI's seams (tests only): an in-memory filesystem and a scripted API transport.
#pragma once

#include <deque>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli/api_client.h"
#include "cli/config.h"
#include "cli/context.h"

namespace ignite::cli::fakes {

class FakeFileSystem : public FileSystem {
 public:
  void AddFile(const std::string& path, std::string content) { files_[path] = std::move(content); }
  void AddDir(const std::string& path) { dirs_.insert(path); }

  bool IsDirectory(const std::string& path) const override { return dirs_.count(path) > 0; }
  bool IsRegularFile(const std::string& path) const override { return files_.count(path) > 0; }
  std::optional<std::string> ReadFile(const std::string& path) const override {
    auto it = files_.find(path);
    if (it == files_.end()) return std::nullopt;
    return it->second;
  }
  Status WriteFile(const std::string& path, std::string_view bytes) const override {
    if (dirs_.count(path) > 0) {
      return Status(StatusCode::kFailedPrecondition, "cannot write " + path + ": it is a directory");
    }
    files_[path] = std::string(bytes);
    private_files_.erase(path);
    return OkStatus();
  }
  Status CreateDirectories(const std::string& path) const override {
    for (size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
      dirs_.insert(path.substr(0, slash));
    }
    dirs_.insert(path);
    return OkStatus();
  }
  Status WritePrivateFile(const std::string& path, std::string_view bytes) const override {
    size_t slash = path.find_last_of('/');
    if (slash != std::string::npos && slash > 0 && dirs_.count(path.substr(0, slash)) == 0) {
      return Status(StatusCode::kFailedPrecondition, "cannot write " + path + ": no such directory");
    }
    IGNITE_RETURN_IF_ERROR(WriteFile(path, bytes));
    private_files_.insert(path);
    return OkStatus();
  }
  // Whether `path` was last written by WritePrivateFile (mode 0600).
  bool IsPrivate(const std::string& path) const { return private_files_.count(path) > 0; }

 private:
  mutable std::map<std::string, std::string> files_;
  mutable std::set<std::string> dirs_;
  mutable std::set<std::string> private_files_;
};

// Records every request; answers from a queue of canned responses (or a transport failure), delivering
// streamed bodies in pieces of `stream_piece` bytes.
class FakeTransport : public Transport {
 public:
  struct Sent {
    http::Verb verb;
    std::string target;
    http::Headers headers;
    std::string body;
    std::string Header(std::string_view name) const {
      http::Response r;
      r.headers = headers;
      return std::string(r.Header(name));
    }
  };

  void Reply(int status, std::string body) {
    http::Response r;
    r.status = status;
    r.body = std::move(body);
    replies_.push_back(std::move(r));
  }
  void Fail(Status status) {
    failures_[replies_.size()] = std::move(status);
    replies_.emplace_back();
  }

  Result<http::Response> RoundTrip(http::Verb verb, const std::string& target, const http::Headers& headers,
                                   std::string_view body, const http::StreamHandlers* stream) override {
    sent.push_back(Sent{verb, target, headers, std::string(body)});
    size_t index = next_++;
    if (auto it = failures_.find(index); it != failures_.end()) return it->second;
    if (index >= replies_.size()) return Internal("FakeTransport: no reply scripted for " + target);
    http::Response response = replies_[index];
    if (stream == nullptr) return response;
    if (stream->on_head) stream->on_head(response);
    for (size_t i = 0; i < response.body.size(); i += stream_piece) {
      stream->on_body_chunk(std::string_view(response.body).substr(i, stream_piece));
    }
    response.body.clear();
    return response;
  }

  std::vector<Sent> sent;
  size_t stream_piece = 7;

 private:
  std::vector<http::Response> replies_;
  std::map<size_t, Status> failures_;
  size_t next_ = 0;
};

// A CLI run against fakes: RunCli's output and exit code, and what was sent.
struct FakeWorld {
  EnvMap env{{"HOME", "/home/u"}};
  FakeFileSystem fs;
  std::string endpoint_used;
  std::chrono::milliseconds timeout_used{-1};
  bool stdout_is_terminal = false;
  std::istringstream in;
  std::ostringstream out;
  std::ostringstream err;

  // Scripted replies go to `script` before the run.
  FakeTransport script;

  CliIo Io() {
    CliIo io;
    io.env = env;
    io.fs = &fs;
    io.in = &in;
    io.out = &out;
    io.err = &err;
    io.stdout_is_terminal = stdout_is_terminal;
    io.transport_factory = [this](std::string_view endpoint,
                                  std::chrono::milliseconds timeout) -> Result<std::unique_ptr<Transport>> {
      endpoint_used = std::string(endpoint);
      timeout_used = timeout;
      auto t = std::make_unique<ForwardingTransport>(&script);
      return std::unique_ptr<Transport>(std::move(t));
    };
    return io;
  }

 private:
  // Lets the world keep the scripted transport after the run (the CLI owns and destroys its transport).
  class ForwardingTransport : public Transport {
   public:
    explicit ForwardingTransport(FakeTransport* target) : target_(target) {}
    Result<http::Response> RoundTrip(http::Verb verb, const std::string& target, const http::Headers& headers,
                                     std::string_view body, const http::StreamHandlers* stream) override {
      return target_->RoundTrip(verb, target, headers, body, stream);
    }

   private:
    FakeTransport* target_;
  };
};

}  // namespace ignite::cli::fakes
