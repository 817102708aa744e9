// The head of an HTTP message as bytes, through Beast's own serializer, so that it can go out in one write
// together with the first piece of the body (the server's streamed answers, the gateway's requests to
// instances). Header-only.
#pragma once

#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/serializer.hpp>

#include <string>

namespace ignite::http {

template <bool isRequest>
std::string SerializeHead(boost::beast::http::message<isRequest, boost::beast::http::empty_body>& head) {
  namespace beast = boost::beast;
  std::string out;
  beast::http::serializer<isRequest, beast::http::empty_body> sr(head);
  sr.split(true);
  beast::error_code ec;
  while (!sr.is_header_done() && !ec) {
    sr.next(ec, [&](beast::error_code&, const auto& buffers) {
      size_t n = 0;
      for (auto b : beast::buffers_range_ref(buffers)) {
        out.append(static_cast<const char*>(b.data()), b.size());
        n += b.size();
      }
      sr.consume(n);
    });
  }
  return out;
}

}  // namespace ignite::http
