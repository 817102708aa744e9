#include "cli/invoke_stream.h"

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

namespace ignite::cli {
namespace {

namespace v1 = dodil::ignite::v1;

std::string ResultLine(const v1::InvokeResponse& response) {
  std::string json;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(response, &json).ok());
  return "{\"result\":" + json + "}\n";
}

std::string HeadLine(int status, const std::string& execution_id) {
  v1::InvokeResponse r;
  r.mutable_head()->set_status(status);
  r.mutable_head()->set_execution_id(execution_id);
  r.mutable_head()->set_function_id("org/hello");
  (*r.mutable_head()->mutable_headers())["content-type"] = "application/octet-stream";
  return ResultLine(r);
}

std::string ChunkLine(const std::string& data) {
  v1::InvokeResponse r;
  r.mutable_chunk()->set_data(data);
  return ResultLine(r);
}

std::string TrailerLine(int64_t duration_ms, bool cold) {
  v1::InvokeResponse r;
  r.mutable_trailer()->set_duration_ms(duration_ms);
  r.mutable_trailer()->set_cold_start(cold);
  return ResultLine(r);
}

struct Collected {
  v1::InvokeHead head;
  v1::InvokeTrailer trailer;
  std::string data;
  int heads = 0;
  int trailers = 0;

  InvokeStreamDecoder::Handlers Handlers() {
    return {[this](const v1::InvokeHead& h) {
              head = h;
              ++heads;
            },
            [this](std::string_view d) { data.append(d); },
            [this](const v1::InvokeTrailer& t) {
              trailer = t;
              ++trailers;
            }};
  }
};

// Binary bytes, a newline and non-UTF-8 in the body must come out exactly.
const std::string kPart1 = "{\"execution_id\":\"01J\",\"greeting\":\"Hello, world!\"}";
const std::string kPart2("\n\x00\xff\xfe binary", 11);

std::string FullStream() {
  return HeadLine(200, "01HEXEC") + ChunkLine(kPart1) + ChunkLine(kPart2) + TrailerLine(12, true);
}

TEST(InvokeStreamDecoder, DecodesWholeStream) {
  Collected c;
  InvokeStreamDecoder decoder(c.Handlers());
  ASSERT_TRUE(decoder.Feed(FullStream()).ok());
  ASSERT_TRUE(decoder.Finish().ok());
  EXPECT_EQ(c.heads, 1);
  EXPECT_EQ(c.head.status(), 200u);
  EXPECT_EQ(c.head.execution_id(), "01HEXEC");
  EXPECT_EQ(c.head.function_id(), "org/hello");
  EXPECT_EQ(c.data, kPart1 + kPart2);
  EXPECT_EQ(c.trailers, 1);
  EXPECT_EQ(c.trailer.duration_ms(), 12);
  EXPECT_TRUE(c.trailer.cold_start());
}

TEST(InvokeStreamDecoder, AnySplitGivesTheSameBytes) {
  const std::string stream = FullStream();
  for (size_t piece : {1u, 2u, 3u, 5u, 17u, 64u}) {
    Collected c;
    InvokeStreamDecoder decoder(c.Handlers());
    for (size_t i = 0; i < stream.size(); i += piece) {
      ASSERT_TRUE(decoder.Feed(stream.substr(i, piece)).ok()) << "piece " << piece;
    }
    ASSERT_TRUE(decoder.Finish().ok());
    EXPECT_EQ(c.data, kPart1 + kPart2) << "piece " << piece;
    EXPECT_EQ(c.head.execution_id(), "01HEXEC");
    EXPECT_EQ(c.trailers, 1);
  }
  // Every single split point into two pieces.
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    Collected c;
    InvokeStreamDecoder decoder(c.Handlers());
    ASSERT_TRUE(decoder.Feed(stream.substr(0, cut)).ok());
    ASSERT_TRUE(decoder.Feed(stream.substr(cut)).ok());
    ASSERT_TRUE(decoder.Finish().ok());
    ASSERT_EQ(c.data, kPart1 + kPart2) << "cut " << cut;
  }
}

TEST(InvokeStreamDecoder, DataIsDeliveredBeforeTheStreamEnds) {
  Collected c;
  InvokeStreamDecoder decoder(c.Handlers());
  ASSERT_TRUE(decoder.Feed(HeadLine(200, "x") + ChunkLine("first")).ok());
  EXPECT_EQ(c.data, "first");
}

TEST(InvokeStreamDecoder, LastLineWithoutNewlineAndCrLf) {
  std::string stream = HeadLine(200, "x") + ChunkLine("a");
  stream.insert(stream.size() - 1, "\r");  // CRLF on the chunk line
  std::string trailer = TrailerLine(1, false);
  trailer.pop_back();  // no final newline
  Collected c;
  InvokeStreamDecoder decoder(c.Handlers());
  ASSERT_TRUE(decoder.Feed(stream + "\n" + trailer).ok());
  ASSERT_TRUE(decoder.Finish().ok());
  EXPECT_EQ(c.data, "a");
  EXPECT_EQ(c.trailers, 1);
}

TEST(InvokeStreamDecoder, ErrorLineCarriesTheServerCode) {
  Collected c;
  InvokeStreamDecoder decoder(c.Handlers());
  Status status = decoder.Feed(HeadLine(200, "x") + ChunkLine("partial") +
                               "{\"error\":{\"code\":14,\"message\":\"instance crashed\",\"details\":[]}}\n");
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(status.message(), "instance crashed");
  EXPECT_EQ(ExitCodeFor(status.code()), 9);
  EXPECT_EQ(c.data, "partial");
  // Sticky.
  EXPECT_EQ(decoder.Feed(ChunkLine("more")).code(), StatusCode::kUnavailable);
  EXPECT_EQ(decoder.Finish().code(), StatusCode::kUnavailable);
  EXPECT_EQ(c.data, "partial");
}

TEST(InvokeStreamDecoder, CutShortStreamIsAnError) {
  Collected c;
  InvokeStreamDecoder decoder(c.Handlers());
  ASSERT_TRUE(decoder.Feed(HeadLine(200, "x") + ChunkLine("a")).ok());
  Status status = decoder.Finish();
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(ExitCodeFor(status.code()), 1);
}

TEST(InvokeStreamDecoder, MalformedFramesAreRejected) {
  {
    InvokeStreamDecoder decoder({});
    EXPECT_EQ(decoder.Feed("not json\n").code(), StatusCode::kInternal);
  }
  {
    InvokeStreamDecoder decoder({});
    EXPECT_EQ(decoder.Feed("{\"other\":1}\n").code(), StatusCode::kInternal);
  }
  {
    InvokeStreamDecoder decoder({});
    EXPECT_EQ(decoder.Feed(ChunkLine("early")).code(), StatusCode::kInternal);
  }
  {
    InvokeStreamDecoder decoder({});
    EXPECT_EQ(decoder.Feed(TrailerLine(1, false)).code(), StatusCode::kInternal);
  }
  {
    InvokeStreamDecoder decoder({});
    EXPECT_EQ(decoder.Feed("{\"result\":{\"chunk\":{\"data\":\"%%%\"}}}\n").code(), StatusCode::kInternal);
  }
}

TEST(InvokeStreamDecoder, UnknownFieldsAndBlankLinesAreIgnored) {
  Collected c;
  InvokeStreamDecoder decoder(c.Handlers());
  ASSERT_TRUE(decoder
                  .Feed("\n{\"result\":{\"head\":{\"status\":201,\"future\":true}}}\n\n" +
                        std::string("{\"result\":{\"trailer\":{\"durationMs\":\"3\"}},\"extra\":1}\n"))
                  .ok());
  ASSERT_TRUE(decoder.Finish().ok());
  EXPECT_EQ(c.head.status(), 201u);
  EXPECT_EQ(c.trailer.duration_ms(), 3);
}

}  // namespace
}  // namespace ignite::cli
