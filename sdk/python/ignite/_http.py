"""The HTTP/1.1 subset instances speak (docs/instance-protocol.md): reading requests, framing answers.

Why not http.server: its import (email, socketserver, html, mimetypes, ...) costs more than the rest of a
cold start, and the platform is the only client that matters: it sends well-formed HTTP/1.1 with
Content-Length or chunked bodies over reused connections. The reader still validates what it relies on:
a request it cannot frame safely is refused with 400 (BadRequest) and the connection closed.

Contracts:
  - Bodies: Content-Length (one value, or repeats of the same), or Transfer-Encoding: chunked, whose chunk
    extensions and trailers are read and ignored. Any other transfer coding is refused. With both, chunked
    wins and the connection closes after the answer (a request smuggling guard).
  - A connection that ends mid-request (the platform cuts off a chunked body over the app's limit) raises
    Disconnected: the request must not reach the handler and gets no answer.
  - Keep-alive: HTTP/1.1 connections stay open unless the request says "Connection: close"; HTTP/1.0
    ones close after one answer.
  - Expect is ignored (the platform strips it; a local client simply sends its body after its own wait).
"""

import io

from ignite._headers import Headers

MAX_LINE = 64 * 1024  # request line, header line, chunk size line
MAX_HEADER_BYTES = 1024 * 1024  # the whole header section (Go's http.DefaultMaxHeaderBytes)
_READ_PIECE = 1024 * 1024  # bodies are read in pieces: a declared size is never allocated before it arrives
_HEX = b"0123456789abcdefABCDEF"
# RFC 9110 5.6.2 tchar: what field names and methods consist of.
_TOKEN = b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

REASONS = {200: b"OK", 400: b"Bad Request", 500: b"Internal Server Error"}


class BadRequest(Exception):
    """The request is malformed: answer 400 with the message and close the connection."""


class Disconnected(Exception):
    """The connection ended before the request was complete: close it without answering."""


class Request:
    """A complete request. keep_alive: the client allows another request on this connection."""

    __slots__ = ("method", "target", "headers", "body", "chunked", "keep_alive")

    def __init__(self, method, target, headers, body, chunked, keep_alive):
        self.method = method  # str, e.g. "POST"
        self.target = target  # str, the request target as sent ("/path?query")
        self.headers = headers  # Headers
        self.body = body  # bytes, the whole body
        self.chunked = chunked  # the body came chunked (so it was not declared empty)
        self.keep_alive = keep_alive

    def is_probe(self):
        """The platform's readiness probe: GET or HEAD of "/" (any query) declaring no body."""
        if self.method != "GET" and self.method != "HEAD":
            return False
        if self.chunked or self.body:
            return False
        path = self.target
        if path.startswith(("http://", "https://")):  # absolute form: "http://host/path"
            slash = path.find("/", path.find("//") + 2)
            path = "/" if slash < 0 else path[slash:]
        return path == "/" or path.startswith("/?")


class _SocketRaw(io.RawIOBase):
    """The raw stream under a connection's BufferedReader: recv_into on the socket (blocking)."""

    def __init__(self, sock):
        super().__init__()
        self._sock = sock

    def readable(self):
        return True

    def readinto(self, buffer):
        return self._sock.recv_into(buffer)


def reader(sock):
    """A buffered reader of the connected socket: readline and read run in C, not per byte in Python."""
    return io.BufferedReader(_SocketRaw(sock), 64 * 1024)


def read_request_line(rfile):
    """Waits for the next request; returns its request line, or None when the connection ends first.
    Empty lines before it are skipped (RFC 9112 2.2: some clients send a CRLF after a body)."""
    for _ in range(8):
        line = rfile.readline(MAX_LINE + 1)
        if line == b"\r\n" or line == b"\n":
            continue
        if not line:
            return None
        if len(line) > MAX_LINE:
            raise BadRequest("request line too long")
        if not line.endswith(b"\n"):
            raise Disconnected()
        return line
    raise BadRequest("empty lines instead of a request")


def read_request(rfile, line):
    """Reads the rest of the request that starts with line (from read_request_line), body included."""
    parts = line.rstrip(b"\r\n").split(b" ")
    if len(parts) != 3 or not _is_token(parts[0]) or not parts[1]:
        raise BadRequest("malformed request line")
    method, target, version = parts
    if version == b"HTTP/1.1":
        keep_alive = True
    elif version == b"HTTP/1.0":
        keep_alive = False
    else:
        raise BadRequest("unsupported HTTP version")
    headers = _read_headers(rfile)

    # HTTP/1.0 clients always get their connection closed after the answer (keep-alive was an extension
    # there; the platform speaks 1.1).
    if keep_alive and "close" in _tokens(headers.get_all("connection")):
        keep_alive = False

    codings = _tokens(headers.get_all("transfer-encoding"))
    if codings:
        if codings != ["chunked"]:
            raise BadRequest("unsupported Transfer-Encoding (only chunked is)")
        body = _read_chunked(rfile)
        chunked = True
        if "content-length" in headers:
            keep_alive = False
    else:
        length = _content_length(headers.get_all("content-length"))
        body = _read_exact(rfile, length) if length else b""
        chunked = False
    return Request(method.decode("latin-1"), target.decode("latin-1"), headers, body, chunked, keep_alive)


def response_head(status, content_type, length, close):
    """The status line and headers of an answer with a body of length bytes (bytes, ending in CRLF CRLF)."""
    connection = b"Connection: close\r\n" if close else b""
    reason = REASONS.get(status, b"Status")
    return b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s\r\n" % (
        status, reason, content_type, length, connection)


def _field_lines(rfile, too_large):
    """The field lines of a header or trailer section, up to (not with) the empty line that ends it. Raises
    BadRequest(too_large) past MAX_LINE per line or MAX_HEADER_BYTES in all, Disconnected when the client
    hangs up first."""
    total = 0
    while True:
        line = rfile.readline(MAX_LINE + 1)
        total += len(line)
        if len(line) > MAX_LINE or total > MAX_HEADER_BYTES:
            raise BadRequest(too_large)
        if not line.endswith(b"\n"):
            raise Disconnected()
        if line == b"\r\n" or line == b"\n":
            return
        yield line


def _read_headers(rfile):
    fields = []
    for line in _field_lines(rfile, "request header too large"):
        if line[0] in b" \t":  # would otherwise be taken for a malformed name
            raise BadRequest("obsolete header line folding")
        colon = line.find(b":")
        if colon <= 0 or not _is_token(line[:colon]):
            raise BadRequest("malformed header line")
        fields.append((line[:colon].decode("latin-1"), line[colon + 1 :].strip().decode("latin-1")))
    return Headers(fields)


def _is_token(text):
    return bool(text) and not text.translate(None, _TOKEN)


def _tokens(values):
    """The lower-case comma-separated tokens of a list field's values (None: no field)."""
    if not values:
        return []
    return [t for t in (t.strip().lower() for v in values for t in v.split(",")) if t]


def _content_length(values):
    if not values:
        return 0
    first = values[0].strip()
    if not first.isascii() or not first.isdigit() or any(v.strip() != first for v in values):
        raise BadRequest("invalid Content-Length")
    return int(first)


def _read_exact(rfile, size):
    """size bytes of body, read piece by piece; Disconnected when the connection ends first."""
    if size <= _READ_PIECE:
        data = rfile.read(size)
        if len(data) < size:
            raise Disconnected()
        return data
    pieces = []
    while size > 0:
        piece = rfile.read(min(size, _READ_PIECE))
        if not piece:
            raise Disconnected()
        pieces.append(piece)
        size -= len(piece)
    return b"".join(pieces)


def _read_chunked(rfile):
    """A chunked body (RFC 9112 7.1): hex size lines, data, CRLF; a zero size; trailers; an empty line."""
    pieces = []
    while True:
        line = rfile.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise BadRequest("chunk size line too long")
        if not line.endswith(b"\n"):
            raise Disconnected()
        size_text = line.split(b";", 1)[0].strip()  # chunk extensions are ignored
        # Only hex digits: int() would also take "0x", "+", "_" and spaces, which other parsers may not.
        if not size_text or len(size_text) > 16 or size_text.strip(_HEX):
            raise BadRequest("malformed chunked body: bad chunk size")
        size = int(size_text, 16)
        if size == 0:
            break
        pieces.append(_read_exact(rfile, size))
        end = rfile.read(2)
        if end != b"\r\n":
            if len(end) < 2 and b"\r\n".startswith(end):
                raise Disconnected()
            raise BadRequest("malformed chunked body: chunk data not followed by CRLF")
    for _ in _field_lines(rfile, "chunked body trailer too large"):
        pass  # trailer fields are ignored
    return b"".join(pieces)
