// The NDJSON frames of the streaming Invoke route: each line is {"result": <InvokeResponse>} in the protobuf
// JSON mapping. They are on the hot path, so they are built directly rather than through reflection; the
// output is the JSON MessageToJson prints for the same message (invoke_frames_test.cc checks it; header map
// entries come in key order here), and MessageToJson is still used for any string that would need escaping.
#pragma once

#include <string>
#include <string_view>

#include "gateway/invoker.h"

namespace ignite::api {

std::string HeadFrame(const gateway::InvokeResult& head, const std::string& function_id);
std::string ChunkFrame(std::string_view data);
std::string TrailerFrame(const gateway::InvokeResult& result);

}  // namespace ignite::api
