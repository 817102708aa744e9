"""The SDK's pieces in this process: header mapping, request parsing, line writer, helpers."""

import io
import os
import unittest

from ignite import _context, _http, _invoke, _logs, _process
from ignite._headers import Headers


class HeadersTest(unittest.TestCase):
    def setUp(self):
        self.h = Headers([("Content-Type", "text/plain"), ("X-Multi", "a"), ("x-multi", "b")])

    def test_lookups_ignore_case(self):
        self.assertEqual(self.h["content-type"], "text/plain")
        self.assertEqual(self.h.get("CONTENT-TYPE"), "text/plain")
        self.assertEqual(self.h.get_all("X-MULTI"), ["a", "b"])
        self.assertIn("x-Multi", self.h)
        self.assertNotIn("absent", self.h)
        self.assertNotIn(42, self.h)

    def test_missing_fields(self):
        self.assertIsNone(self.h.get("absent"))
        self.assertEqual(self.h.get("absent", "d"), "d")
        self.assertIsNone(self.h.get_all("absent"))
        self.assertEqual(self.h.get_all("absent", []), [])
        with self.assertRaises(KeyError):
            self.h["absent"]

    def test_names_once_as_first_received_and_read_only(self):
        self.assertEqual(list(self.h), ["Content-Type", "X-Multi"])
        self.assertEqual(len(self.h), 2)
        self.assertEqual(dict(self.h), {"Content-Type": "text/plain", "X-Multi": "a"})
        with self.assertRaises(TypeError):
            self.h["X-New"] = "v"
        self.h.get_all("x-multi").append("c")  # a copy: the mapping does not change
        self.assertEqual(self.h.get_all("x-multi"), ["a", "b"])


def parse(raw):
    rfile = io.BufferedReader(io.BytesIO(raw))
    line = _http.read_request_line(rfile)
    return _http.read_request(rfile, line), rfile


class RequestParsingTest(unittest.TestCase):
    def test_content_length_and_pipelining(self):
        request, rfile = parse(b"POST /p?q HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\n\r\n")
        self.assertEqual((request.method, request.target, request.body, request.keep_alive),
                         ("POST", "/p?q", b"abc", True))
        self.assertFalse(request.is_probe())
        following = _http.read_request(rfile, _http.read_request_line(rfile))
        self.assertTrue(following.is_probe())

    def test_chunked(self):
        request, _ = parse(b"PUT / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n"
                           b"3;a=b\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT: 1\r\n\r\n")
        self.assertEqual(request.body, b"abc0123456789abcdef")
        self.assertTrue(request.chunked)
        request, _ = parse(b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        self.assertFalse(request.is_probe())  # chunked: a body was announced, even if empty

    def test_chunked_with_content_length_closes(self):
        request, _ = parse(b"POST / HTTP/1.1\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n"
                           b"1\r\nx\r\n0\r\n\r\n")
        self.assertEqual((request.body, request.keep_alive), (b"x", False))

    def test_malformed(self):
        for raw in (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1_0\r\n",
                    b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n 0x1\r\n",
                    b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n11111111111111111\r\n",
                    b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
                    b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
                    b"POST / HTTP/1.1\r\nContent-Length: \xb2\r\n\r\n",
                    b"POST / HTTP/1.1\r\n folded\r\n\r\n",
                    b"POST / HTTP/1.1\r\nName : v\r\n\r\n",
                    b"P(ST / HTTP/1.1\r\n\r\n",
                    b"POST / HTTP/1.1\r\n" + b"X-Big: " + b"v" * (_http.MAX_LINE + 1) + b"\r\n\r\n"):
            with self.subTest(raw[:80]), self.assertRaises(_http.BadRequest):
                parse(raw)

    def test_cut_off(self):
        for raw in (b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab",
                    b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
                    b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r",
                    b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
                    b"POST / HTTP/1.1\r\nHost: x"):
            with self.subTest(raw), self.assertRaises(_http.Disconnected):
                parse(raw)

    def test_clean_end_and_response_head(self):
        self.assertIsNone(_http.read_request_line(io.BufferedReader(io.BytesIO(b"\r\n"))))
        self.assertEqual(_http.response_head(500, b"application/json", 7, True),
                         b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 7\r\nConnection: close\r\n\r\n")


class LineWriterTest(unittest.TestCase):
    def setUp(self):
        self.r, w = os.pipe()
        self.writer = _logs.LineWriter(w)
        self.addCleanup(os.close, w)
        self.addCleanup(os.close, self.r)

    def read(self):
        return os.read(self.r, 65536)

    def test_partial_lines_wait_for_their_newline(self):
        self.writer.write(b"par")
        self.writer.write(b"tial")
        self.writer.write(b" line\nnext")
        self.assertEqual(self.read(), b"partial line\n")
        self.writer.flush_thread()
        self.assertEqual(self.read(), b"next\n")

    def test_every_line_is_tagged_in_an_invocation(self):
        token = _context.enter(_context.Invocation("01JUNIT", Headers(), tag_logs=True))
        try:
            self.writer.write(b"one\ntwo\n")
        finally:
            _context.leave(token)
        self.writer.write(b"three\n")
        self.assertEqual(self.read(), b"\x1eexec=01JUNIT\x1eone\n\x1eexec=01JUNIT\x1etwo\nthree\n")

    def test_no_tag_for_local_runs_or_unusable_ids(self):
        for invocation in (_context.Invocation("local", Headers(), tag_logs=False),
                           _context.Invocation("x" * 65, Headers(), tag_logs=True),
                           _context.Invocation("bad\x1eid", Headers(), tag_logs=True)):
            self.assertEqual(invocation.tag, b"")

    def test_text_stream(self):
        stream = _logs.TextStream(self.writer, "<test>")
        print("h\u00e9", "\udcff", file=stream)
        self.assertEqual(self.read(), "h\u00e9 ".encode() + b"\\udcff\n")
        self.assertEqual(stream.write("x"), 1)
        with self.assertRaises(TypeError):
            stream.write(b"bytes")


class HelpersTest(unittest.TestCase):
    def test_is_coroutine_function(self):
        import functools

        async def coro(payload, ctx):
            pass

        class Callable:
            async def __call__(self, payload, ctx):
                pass

            async def method(self, payload, ctx):
                pass

        for fn in (coro, functools.partial(coro, b""), Callable(), Callable().method):
            self.assertTrue(_invoke.is_coroutine_function(fn), fn)
        for fn in (len, lambda p, c: p, functools.partial(print)):
            self.assertFalse(_invoke.is_coroutine_function(fn), fn)

    def test_encode(self):
        self.assertEqual(_invoke.encode(memoryview(b"abcd")[1:3]), (_invoke.OCTET_STREAM, b"bc"))
        self.assertEqual(_invoke.encode("\u20ac"), (_invoke.TEXT, b"\xe2\x82\xac"))
        self.assertEqual(_invoke.encode((1, "a")), (_invoke.JSON, b'[1, "a"]'))
        with self.assertRaises(TypeError):
            _invoke.encode(object())

    def test_describe_wait_status(self):
        self.assertEqual(_process.describe_wait_status(2 << 8), "exit status 2")
        self.assertEqual(_process.describe_wait_status(9), "killed by signal 9 (Killed)")
        self.assertEqual(_process.describe_wait_status(11 | 0x80),
                         "killed by signal 11 (Segmentation fault) (core dumped)")


if __name__ == "__main__":
    unittest.main()
