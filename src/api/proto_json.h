// The protobuf JSON mapping (pbjson: camelCase, 64-bit integers as strings, enums by name) for API bodies,
// plus filling request fields from path and query parameters.
#pragma once

#include <google/protobuf/message.h>

#include <map>
#include <string>

#include "common/result.h"

namespace ignite::api {

// Parses a JSON body into `msg`. InvalidArgument naming the problem (unknown field, wrong type, bad JSON).
Status JsonToMessage(std::string_view json, google::protobuf::Message* msg);
// Serializes `msg` (fields at their default value are omitted, as pbjson does).
std::string MessageToJson(const google::protobuf::Message& msg);
// Sets scalar fields by proto name or JSON name (e.g. "app_name" / "appName", "limit"). InvalidArgument for
// an unknown field or a value that does not parse as the field's type.
Status SetFields(const std::map<std::string, std::string>& values, google::protobuf::Message* msg);

}  // namespace ignite::api
