#include "cli/yaml_output.h"

#include <algorithm>
#include <cctype>

#include <yaml-cpp/yaml.h>

namespace ignite::cli {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

void EmitString(YAML::Emitter& out, const std::string& text) {
  if (YamlPlainScalarIsAmbiguous(text)) out << YAML::DoubleQuoted;
  out << text;
}

void Emit(YAML::Emitter& out, const nlohmann::ordered_json& value) {
  switch (value.type()) {
    case nlohmann::ordered_json::value_t::object:
      if (value.empty()) {
        out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
        return;
      }
      out << YAML::BeginMap;
      for (const auto& [key, item] : value.items()) {
        out << YAML::Key;
        EmitString(out, key);
        out << YAML::Value;
        Emit(out, item);
      }
      out << YAML::EndMap;
      return;
    case nlohmann::ordered_json::value_t::array:
      if (value.empty()) {
        out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
        return;
      }
      out << YAML::BeginSeq;
      for (const auto& item : value) Emit(out, item);
      out << YAML::EndSeq;
      return;
    case nlohmann::ordered_json::value_t::string:
      EmitString(out, value.get<std::string>());
      return;
    case nlohmann::ordered_json::value_t::boolean:
      out << (value.get<bool>() ? "true" : "false");
      return;
    case nlohmann::ordered_json::value_t::number_integer:
      out << value.get<int64_t>();
      return;
    case nlohmann::ordered_json::value_t::number_unsigned:
      out << value.get<uint64_t>();
      return;
    case nlohmann::ordered_json::value_t::number_float:
      out << value.dump();  // JSON's shortest round-trip form, also a valid YAML float
      return;
    case nlohmann::ordered_json::value_t::null:
    case nlohmann::ordered_json::value_t::discarded:
    case nlohmann::ordered_json::value_t::binary:
      out << YAML::Null;
      return;
  }
}

}  // namespace

bool YamlPlainScalarIsAmbiguous(std::string_view text) {
  if (text.empty()) return true;
  static const char* const kWords[] = {"null", "~",   "true", "false", "yes", "no", "on",
                                       "off",  "y",   "n",    ".inf",  "+.inf", "-.inf", ".nan",
                                       "<<",   "="};
  std::string lower = Lower(text);
  for (const char* word : kWords) {
    if (lower == word) return true;
  }
  // Anything that starts like a number (ints, floats, 0x/0o, sexagesimal, timestamps) is quoted: simpler
  // than matching each YAML version's number grammar, and never wrong.
  size_t i = (text[0] == '-' || text[0] == '+') ? 1 : 0;
  if (i < text.size() && text[i] == '.') ++i;
  return i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]));
}

std::string JsonToYaml(const nlohmann::ordered_json& value) {
  YAML::Emitter out;
  out.SetIndent(2);
  out.SetSeqFormat(YAML::Block);
  Emit(out, value);
  std::string text = out.c_str();
  if (text.empty() || text.back() != '\n') text += '\n';
  return text;
}

std::string JsonTextToYaml(std::string_view json_text) {
  nlohmann::ordered_json value = nlohmann::ordered_json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) value = std::string(json_text);
  return JsonToYaml(value);
}

}  // namespace ignite::cli
