// `-o yaml`: the JSON a command prints for `-o json`, written as YAML with the same meaning (maps, lists,
// strings, numbers, booleans and nulls map one to one; key order is kept), so that a YAML parser reading the
// YAML gets exactly what a JSON parser reads from the JSON.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ignite::cli {

// Block-style YAML for `value`, ending in '\n'. Strings that a YAML 1.1 or 1.2 parser would read as
// something else (numbers such as the protobuf mapping's 64-bit "1716900000000", true/yes/on, null/~, the
// empty string, .inf) are double-quoted; so are strings yaml-cpp cannot write plain. Empty maps and lists
// are written `{}` and `[]`.
std::string JsonToYaml(const nlohmann::ordered_json& value);

// JsonToYaml of a JSON text; text that is not valid JSON is returned as a YAML string scalar.
std::string JsonTextToYaml(std::string_view json_text);

// Whether a plain (unquoted) YAML scalar with this text would be read as a non-string.
bool YamlPlainScalarIsAmbiguous(std::string_view text);

}  // namespace ignite::cli
