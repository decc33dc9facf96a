"""A scripted HTTP server for the cases a real Savepoint will not produce on demand: answers lost
mid-way, proxies' HTML error pages, streams that stall. Each request is answered by the next
script step; every request is recorded."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Seen:
    """One request as the server received it (header names in lower case)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


#: Answers one request.
Step = Callable[[BaseHTTPRequestHandler, Seen], None]


class FakeServer:
    def __init__(self, steps: list[Step]) -> None:
        self.steps = list(steps)
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base's name)
                pass

            def handle_any(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                step: Step = drop
                with fake._lock:
                    fake.seen.append(seen)
                    if fake.steps:
                        step = fake.steps.pop(0)
                step(self, seen)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any  # noqa: N815

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def drop(handler: BaseHTTPRequestHandler, _seen: Seen | None = None) -> None:
    """Closes the connection without an answer."""
    handler.close_connection = True
    handler.connection.close()


def answer(status: int, body: bytes, content_type: str = "application/json", **headers: str) -> Step:
    """A complete answer; ``Retry_After="3"`` sends ``Retry-After: 3``."""

    def step(handler: BaseHTTPRequestHandler, _seen: Seen) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            handler.send_header(name.replace("_", "-"), value)
        handler.end_headers()
        handler.wfile.write(body)

    return step


def stream(*chunks: bytes, then_hold: threading.Event | None = None) -> Step:
    """An SSE answer writing ``chunks`` (no length: it ends with the connection), then waiting for
    ``then_hold`` (if given) before closing."""

    def step(handler: BaseHTTPRequestHandler, _seen: Seen) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Connection", "close")
        handler.end_headers()
        for chunk in chunks:
            handler.wfile.write(chunk)
            handler.wfile.flush()
        if then_hold is not None:
            then_hold.wait(30)
        handler.close_connection = True

    return step


def forward(upstream: str, *, lose_answer: bool) -> Step:
    """Passes the request to ``upstream`` and waits for its answer; then relays it, or (``lose_answer``)
    drops the connection: the server applied the request, the client never hears of it."""
    host, port = upstream.removeprefix("http://").split(":")

    def step(handler: BaseHTTPRequestHandler, seen: Seen) -> None:
        headers = {k: v for k, v in seen.headers.items() if k not in ("host", "connection", "content-length")}
        connection = http.client.HTTPConnection(host, int(port), timeout=15)
        connection.request(seen.method, seen.path, body=seen.body or None, headers=headers)
        upstream_answer = connection.getresponse()
        body = upstream_answer.read()
        connection.close()
        if lose_answer:
            drop(handler)
            return
        handler.send_response(upstream_answer.status)
        for name, value in upstream_answer.getheaders():
            if name.lower() not in (
                "connection",
                "transfer-encoding",
                "content-length",
                "keep-alive",
                "date",
                "server",
            ):
                handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return step
