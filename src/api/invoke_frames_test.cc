#include "api/invoke_frames.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "api/proto_json.h"
#include "dodil/ignite/v1/ignite_compute.pb.h"

namespace ignite::api {
namespace pb = ::dodil::ignite::v1;
namespace {

// The reference: what the protobuf JSON mapping prints for the same frames.
std::string Reference(const pb::InvokeResponse& f) { return "{\"result\":" + MessageToJson(f) + "}\n"; }

std::string RefHead(const gateway::InvokeResult& r, const std::string& fn) {
  pb::InvokeResponse f;
  f.mutable_head()->set_status(r.status);
  f.mutable_head()->set_execution_id(r.execution_id);
  f.mutable_head()->set_function_id(fn);
  f.mutable_head()->set_version(r.version);
  for (const auto& [k, v] : r.headers) (*f.mutable_head()->mutable_headers())[k] = v;
  return Reference(f);
}

// Map entries come out of the protobuf printer in no particular order: compare heads as JSON values, and
// check the frame is one line.
void ExpectSameHead(const std::string& got, const std::string& want) {
  ASSERT_EQ(got.find('\n'), got.size() - 1) << got;
  EXPECT_EQ(nlohmann::json::parse(got), nlohmann::json::parse(want)) << got;
}

TEST(InvokeFrames, HeadMatchesTheProtobufMapping) {
  gateway::InvokeResult r;
  r.status = 200;
  r.execution_id = "01M89CAJ7VBAH2G237NWMCS515";
  r.version = 3;
  r.headers = {{"Content-Type", "application/json"}, {"Date", "Wed, 25 Nov 2026 15:00:00 GMT"},
               {"X-B", "2"}, {"X-A", "1"}, {"X-A", "last"}};
  ExpectSameHead(HeadFrame(r, "org/hello"), RefHead(r, "org/hello"));
  r.headers.clear();
  r.version = 0;
  ExpectSameHead(HeadFrame(r, "org/hello"), RefHead(r, "org/hello"));
  r.status = 0;
  r.execution_id.clear();
  ExpectSameHead(HeadFrame(r, ""), RefHead(r, ""));
}

TEST(InvokeFrames, HeadWithCharactersThatNeedEscapingMatches) {
  gateway::InvokeResult r;
  r.status = 500;
  r.headers = {{"X-Quote", "say \"hi\" <b> & \\ \t"}, {"X-Utf8", "caf\xc3\xa9"}, {"X-Eq", "a=b"}};
  ExpectSameHead(HeadFrame(r, "org/x"), RefHead(r, "org/x"));
}

TEST(InvokeFrames, ChunkMatchesTheProtobufMappingForEveryLength) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t n : {0, 1, 2, 3, 4, 5, 255, 256}) {
    pb::InvokeResponse f;
    f.mutable_chunk()->set_data(all.substr(0, n));
    EXPECT_EQ(ChunkFrame(all.substr(0, n)), Reference(f)) << n;
  }
}

TEST(InvokeFrames, TrailerMatchesTheProtobufMapping) {
  for (auto [ms, cold, err] : std::vector<std::tuple<int64_t, bool, std::string>>{
           {0, false, ""}, {12, true, ""}, {5, false, "the instance died"}, {7, true, "quote \" and\nnewline"}}) {
    gateway::InvokeResult r;
    r.duration_ms = ms;
    r.cold = cold;
    r.error = err;
    pb::InvokeResponse f;
    f.mutable_trailer()->set_duration_ms(ms);
    f.mutable_trailer()->set_cold_start(cold);
    f.mutable_trailer()->set_error(err);
    EXPECT_EQ(TrailerFrame(r), Reference(f)) << err;
  }
}

}  // namespace
}  // namespace ignite::api
