// JSON Schema for app payloads (app config `input_schema` / `output_schema`, reference section 7), with
// valijson (draft 7; draft 4 when "$schema" names it).
//
// CompileJsonSchema checks a schema once (CreateApp, UpdateAppConfig, SaveDraft) and compiles it; the
// compiled schema is immutable and thread-safe, kept in the app's route so a payload is validated without
// re-parsing the schema (gateway::PayloadCheck). Remote "$ref"s are not fetched.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "gateway/payload_check.h"

namespace ignite::api {

class JsonSchema : public gateway::PayloadCheck {
 public:
  // The largest payload an app with an input schema accepts (the whole payload is parsed to check it).
  static constexpr size_t kMaxPayloadBytes = 6u << 20;

  ~JsonSchema() override;
  // OK when `payload` is JSON matching the schema; else InvalidArgument naming where and what failed, e.g.
  // `the payload does not match the app's input schema: at /name: missing required property "name"`.
  Status Check(std::string_view payload) const override;
  size_t max_bytes() const override { return kMaxPayloadBytes; }

 private:
  friend Result<std::shared_ptr<const JsonSchema>> CompileJsonSchema(std::string_view, std::string_view);
  struct Impl;
  JsonSchema(std::unique_ptr<Impl> impl, std::string what);
  std::unique_ptr<Impl> impl_;
  std::string what_;  // "input schema"
};

// Parses and compiles `schema` (a JSON object, or true/false). `field` names it in errors ("input_schema").
// InvalidArgument saying what is wrong: not JSON, not an object, or a keyword with an invalid value.
Result<std::shared_ptr<const JsonSchema>> CompileJsonSchema(std::string_view schema, std::string_view field);

// The compiled schema for an app's config value, nullptr when empty. Errors as CompileJsonSchema.
Result<std::shared_ptr<const JsonSchema>> CompileOptionalSchema(const std::string& schema, std::string_view field);

}  // namespace ignite::api
