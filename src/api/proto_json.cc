#include "api/proto_json.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>

#include <charconv>

#include <fmt/format.h>

namespace ignite::api {

namespace gp = google::protobuf;

Status JsonToMessage(std::string_view json, gp::Message* msg) {
  gp::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = false;
  auto st = gp::util::JsonStringToMessage(gp::StringPiece(json.data(), json.size()), msg, opts);
  if (!st.ok()) {
    return InvalidArgument(fmt::format("request body is not a valid {} in JSON: {}", msg->GetDescriptor()->name(),
                                       std::string(st.message())));
  }
  return OkStatus();
}

std::string MessageToJson(const gp::Message& msg) {
  std::string out;
  gp::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = false;
  (void)gp::util::MessageToJsonString(msg, &out, opts);
  return out;
}

Status SetFields(const std::map<std::string, std::string>& values, gp::Message* msg) {
  const gp::Descriptor* d = msg->GetDescriptor();
  const gp::Reflection* r = msg->GetReflection();
  for (const auto& [name, value] : values) {
    const gp::FieldDescriptor* f = d->FindFieldByName(name);
    if (!f) f = d->FindFieldByCamelcaseName(name);
    if (!f || f->is_repeated()) return InvalidArgument(fmt::format("unknown parameter \"{}\"", name));
    auto bad = [&] { return InvalidArgument(fmt::format("parameter \"{}\": \"{}\" is not a valid {}", name, value, f->type_name())); };
    switch (f->cpp_type()) {
      case gp::FieldDescriptor::CPPTYPE_STRING: r->SetString(msg, f, value); break;
      case gp::FieldDescriptor::CPPTYPE_UINT32: {
        uint32_t v;
        auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
        if (ec != std::errc() || p != value.data() + value.size()) return bad();
        r->SetUInt32(msg, f, v);
        break;
      }
      case gp::FieldDescriptor::CPPTYPE_INT64: {
        int64_t v;
        auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
        if (ec != std::errc() || p != value.data() + value.size()) return bad();
        r->SetInt64(msg, f, v);
        break;
      }
      case gp::FieldDescriptor::CPPTYPE_BOOL:
        if (value != "true" && value != "false") return bad();
        r->SetBool(msg, f, value == "true");
        break;
      default: return InvalidArgument(fmt::format("parameter \"{}\" cannot be set from the URL", name));
    }
  }
  return OkStatus();
}

}  // namespace ignite::api
