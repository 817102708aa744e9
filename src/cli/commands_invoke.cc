// `invoke`: run the app's active version with a raw payload and print exactly what it returned (reference 3.7).
// `draft test` and `version test` run the same code (RunInvocation) against their own routes.
//
// Output rules: with -o table (the default) the response body's bytes are written to stdout as they arrive,
// unchanged, and nothing else is; with -o json one JSON object describes the whole response. A non-2xx
// answer from the function still prints its body, then fails with exit 1.
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/errors.h"
#include "cli/invoke_stream.h"
#include "cli/output.h"

namespace ignite::cli {
namespace {

Result<std::string> ReadPayload(CommandContext& ctx, const InvokeOptions& opts) {
  if (opts.payload_file.empty()) return opts.payload;
  if (opts.payload_file == "-") {
    std::istream& in = ctx.in();
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (!ctx.fs().IsRegularFile(opts.payload_file)) {
    return LocalError(fmt::format("payload file {} does not exist", opts.payload_file));
  }
  std::optional<std::string> content = ctx.fs().ReadFile(opts.payload_file);
  if (!content) return LocalError(fmt::format("cannot read payload file {}", opts.payload_file));
  return std::move(*content);
}

Result<http::Headers> ParseHeaderFlags(const std::vector<std::string>& flags) {
  http::Headers headers;
  for (const std::string& flag : flags) {
    size_t colon = flag.find(':');
    std::string name = flag.substr(0, colon);
    bool valid_name = colon != std::string::npos && !name.empty() &&
                      name.find_first_of(" \t\r\n") == std::string::npos;
    if (!valid_name) return LocalError(fmt::format("-H \"{}\": write headers as \"Name: value\"", flag));
    std::string value = flag.substr(colon + 1);
    size_t begin = value.find_first_not_of(" \t");
    value = begin == std::string::npos ? "" : value.substr(begin);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
    if (value.find_first_of("\r\n") != std::string::npos) {
      return LocalError(fmt::format("-H \"{}\": header values cannot contain line breaks", flag));
    }
    headers.emplace_back(std::move(name), std::move(value));
  }
  return headers;
}

}  // namespace

Status RunInvocation(CommandContext& ctx, const InvokeOptions& opts, const InvokeCall& call) {
  IGNITE_ASSIGN_OR_RETURN(AppRef ref, ctx.ResolveApp(opts.id));
  IGNITE_ASSIGN_OR_RETURN(OutputFormat format, ctx.Format());
  IGNITE_ASSIGN_OR_RETURN(std::string payload, ReadPayload(ctx, opts));
  IGNITE_ASSIGN_OR_RETURN(http::Headers headers, ParseHeaderFlags(opts.headers));
  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());

  v1::InvokeHead head;
  v1::InvokeTrailer trailer;
  std::string body;  // -o json only
  InvokeStreamDecoder::Handlers handlers;
  handlers.on_head = [&](const v1::InvokeHead& h) { head = h; };
  handlers.on_data = [&](std::string_view data) {
    if (IsStructured(format)) {
      body.append(data);
    } else {
      ctx.out().write(data.data(), static_cast<std::streamsize>(data.size()));
      ctx.out().flush();
    }
  };
  handlers.on_trailer = [&](const v1::InvokeTrailer& t) { trailer = t; };
  InvokeStreamDecoder decoder(std::move(handlers));

  IGNITE_RETURN_IF_ERROR(call(*client, ref, payload, headers, decoder));

  if (IsStructured(format)) {
    nlohmann::ordered_json out;
    out["executionId"] = head.execution_id();
    out["functionId"] = head.function_id();
    out["status"] = head.status();
    if (IsValidUtf8(body)) {
      out["body"] = body;
    } else {
      out["bodyBase64"] = Base64Encode(body);
    }
    out["durationMs"] = trailer.duration_ms();
    out["coldStart"] = trailer.cold_start();
    if (head.version() > 0) out["version"] = head.version();
    if (!trailer.error().empty()) out["error"] = trailer.error();
    ctx.out() << RenderStructured(format, out.dump(2));
    ctx.out().flush();
  }
  // The trailer's error is the platform's own account (the instance died, timed out or never became ready):
  // it says more than the status.
  if (!trailer.error().empty()) {
    return Status(StatusCode::kUnknown, fmt::format("the invocation failed with HTTP {}: {}", head.status(),
                                                    trailer.error()));
  }
  if (head.status() < 200 || head.status() >= 300) {
    return Status(StatusCode::kUnknown,
                  fmt::format("the function returned HTTP {} (execution {})", head.status(), head.execution_id()));
  }
  return OkStatus();
}

namespace {

// `invoke --async`: the execution id on stdout (table) or the InvokeAsyncResponse (-o json).
Status RunAsyncInvocation(CommandContext& ctx, const InvokeOptions& opts) {
  IGNITE_ASSIGN_OR_RETURN(AppRef ref, ctx.ResolveApp(opts.id));
  IGNITE_ASSIGN_OR_RETURN(OutputFormat format, ctx.Format());
  IGNITE_ASSIGN_OR_RETURN(std::string payload, ReadPayload(ctx, opts));
  IGNITE_ASSIGN_OR_RETURN(http::Headers headers, ParseHeaderFlags(opts.headers));
  IGNITE_ASSIGN_OR_RETURN(ApiClient * client, ctx.Client());
  IGNITE_ASSIGN_OR_RETURN(v1::InvokeAsyncResponse response, client->InvokeAsync(ref, payload, headers));
  if (IsStructured(format)) {
    ctx.out() << RenderStructured(format, MessageToPrettyJson(response));
  } else {
    ctx.out() << response.execution_id() << "\n";
    ctx.err() << fmt::format("Follow it with `execution watch {}`.\n", response.execution_id());
  }
  ctx.out().flush();
  return OkStatus();
}

}  // namespace

void AddPayloadFlags(CLI::App& cmd, InvokeOptions& opts) {
  CLI::Option* payload = cmd.add_option("-p,--payload", opts.payload, "Request body, sent as is (default empty)");
  CLI::Option* file =
      cmd.add_option("--payload-file", opts.payload_file, "Read the request body from a file (- for stdin)");
  payload->excludes(file);
  cmd.add_option("-H,--header", opts.headers, "Extra request header \"Name: value\" (repeatable)")
      ->allow_extra_args(false);
}

void AddInvokeCommand(CLI::App& parent, CommandContext& ctx) {
  auto opts = std::make_shared<InvokeOptions>();
  CLI::App* cmd = AddCommand(parent, ctx, "invoke", "Invoke an app's active version and print its response body",
                             [&ctx, opts] {
                               if (opts->async) return RunAsyncInvocation(ctx, *opts);
                               return RunInvocation(ctx, *opts,
                                                    [](ApiClient& client, const AppRef& app, std::string_view payload,
                                                       const http::Headers& headers, InvokeStreamDecoder& decoder) {
                                                      return client.Invoke(app, payload, headers, decoder);
                                                    });
                             });
  cmd->add_option("id", opts->id, kAppIdHelp)->required();
  AddPayloadFlags(*cmd, *opts);
  cmd->add_flag("--async", opts->async,
                "Start an asynchronous execution and print its id at once (see `execution get|watch|logs`)");
  cmd->footer(
      "The response body is written to stdout byte for byte (nothing else is). A non-2xx status from the\n"
      "function still prints its body, then exits 1. With --async only the execution id is printed; the\n"
      "answer (up to 6 MiB) is kept with the execution for 7 days.\n\n"
      "Examples:\n"
      "  invoke org:hello -p '{\"name\": \"world\"}'\n"
      "  invoke hello --payload-file ./input.json\n"
      "  invoke hello -o json\n"
      "  invoke hello --async -p '{}'");
}

}  // namespace ignite::cli
