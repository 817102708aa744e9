#include "api/json_schema.h"

// valijson reports an invalid schema by throwing only with this set; otherwise it aborts the process.
#define VALIJSON_USE_EXCEPTIONS 1

#include <exception>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

namespace ignite::api {

struct JsonSchema::Impl {
  valijson::Schema schema;
};

JsonSchema::JsonSchema(std::unique_ptr<Impl> impl, std::string what) : impl_(std::move(impl)), what_(std::move(what)) {}
JsonSchema::~JsonSchema() = default;

namespace {

// valijson's context ("<root>", "[items]", "[0]") as a JSON pointer ("/items/0"); "/" for the root.
std::string Pointer(const std::vector<std::string>& context) {
  std::string out;
  for (const auto& part : context) {
    if (part == "<root>") continue;
    std::string_view p = part;
    if (p.size() >= 2 && p.front() == '[' && p.back() == ']') p = p.substr(1, p.size() - 2);
    if (p.size() >= 2 && p.front() == '"' && p.back() == '"') p = p.substr(1, p.size() - 2);
    out += "/";
    out += p;
  }
  return out.empty() ? "/" : out;
}

}  // namespace

Status JsonSchema::Check(std::string_view payload) const {
  nlohmann::json doc = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return InvalidArgument(fmt::format("the payload does not match the app's {}: it is not valid JSON", what_));
  }
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(doc);
  if (validator.validate(impl_->schema, target, &results)) return OkStatus();
  // The most specific error is usually the last one reported for the deepest path.
  valijson::ValidationResults::Error best, e;
  bool have = false;
  while (results.popError(e)) {
    if (!have || e.context.size() > best.context.size()) best = e, have = true;
  }
  return InvalidArgument(fmt::format("the payload does not match the app's {}: at {}: {}", what_,
                                     Pointer(best.context), have ? best.description : "validation failed"));
}

Result<std::shared_ptr<const JsonSchema>> CompileJsonSchema(std::string_view schema, std::string_view field) {
  nlohmann::json doc = nlohmann::json::parse(schema, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return InvalidArgument(fmt::format("{} is not valid JSON: give a JSON Schema object such as "
                                       "{{\"type\":\"object\",\"required\":[\"name\"]}}",
                                       field));
  }
  if (!doc.is_object() && !doc.is_boolean()) {
    return InvalidArgument(fmt::format("{} must be a JSON Schema object (or true/false), not {}", field,
                                       doc.type_name()));
  }
  auto impl = std::make_unique<JsonSchema::Impl>();
  try {
    auto version = valijson::SchemaParser::kDraft7;
    if (doc.is_object()) {
      auto it = doc.find("$schema");
      if (it != doc.end() && it->is_string() && it->get<std::string>().find("draft-04") != std::string::npos) {
        version = valijson::SchemaParser::kDraft4;
      }
    }
    valijson::SchemaParser parser(version);
    valijson::adapters::NlohmannJsonAdapter adapter(doc);
    parser.populateSchema(adapter, impl->schema);
  } catch (const std::exception& ex) {
    return InvalidArgument(fmt::format("{} is not a valid JSON Schema: {}", field, ex.what()));
  }
  std::string what = field == "output_schema" ? "output schema" : "input schema";
  return std::shared_ptr<const JsonSchema>(new JsonSchema(std::move(impl), std::move(what)));
}

Result<std::shared_ptr<const JsonSchema>> CompileOptionalSchema(const std::string& schema, std::string_view field) {
  if (schema.empty()) return std::shared_ptr<const JsonSchema>();
  return CompileJsonSchema(schema, field);
}

}  // namespace ignite::api
