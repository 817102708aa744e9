// NDJSON framing, written once for every streaming route (invoke, tests, log and event follows, async
// watches): one JSON object per line, {"result": ...} for an item and {"error": <API error body>} when the
// stream ends in an error after its head went out.
//
// The frames of the streaming Invoke route: each line is {"result": <InvokeResponse>} in the protobuf
// JSON mapping. They are on the hot path, so they are built directly rather than through reflection; the
// output is the JSON MessageToJson prints for the same message (invoke_frames_test.cc checks it; header map
// entries come in key order here), and MessageToJson is still used for any string that would need escaping.
#pragma once

#include <string>
#include <string_view>

#include <google/protobuf/message.h>

#include "common/status.h"
#include "gateway/invoker.h"

namespace ignite::api {

inline constexpr char kNdjsonContentType[] = "application/x-ndjson";

// {"result": <message in the protobuf JSON mapping>}\n: one item of a stream.
std::string ResultFrame(const google::protobuf::Message& item);
// {"error": {"code": ..., "message": ...}}\n: the stream's last line when it fails after its head.
std::string ErrorFrame(const Status& status);

std::string HeadFrame(const gateway::InvokeResult& head, const std::string& function_id);
std::string ChunkFrame(std::string_view data);
std::string TrailerFrame(const gateway::InvokeResult& result);

}  // namespace ignite::api
