"""Following a game's event log over server-sent events, across dropped connections.

The server replays every event after ``Last-Event-ID`` and then streams live ones, so a client
that reconnects with the last seq it handed out misses nothing. :class:`EventStream` does that
reconnecting, with jittered exponential backoff, and drops any event it has already yielded, so
the caller sees every seq exactly once, in order, whatever happens to the connection.
"""

from __future__ import annotations

import codecs
import http.client
import json
import random
import socket
import threading
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from ._transport import QueryValue, Transport, error_from_answer
from .errors import SavepointConnectionError, SavepointError, error_for

__all__ = ["EventStream", "StreamEvent"]


def _worth_waiting_out(error: SavepointError) -> bool:
    """5xx: the server, its storage or a proxy in front is briefly away. 429: asked to slow down."""
    return error.status >= 500 or error.status == 429


@dataclass(frozen=True)
class StreamEvent:
    """One event of a game's log, as the stream delivers it."""

    seq: int
    type: str
    data: Any


@dataclass
class _Frame:
    id: str | None = None
    event: str | None = None
    data: list[str] | None = None

    def add_data(self, value: str) -> None:
        if self.data is None:
            self.data = []
        self.data.append(value)


class _FrameParser:
    """The ``text/event-stream`` format (WHATWG HTML §9.2): fields, comments, blank-line dispatch."""

    def __init__(self) -> None:
        self._buffer = ""
        self._frame = _Frame()
        #: The last ``retry:`` value, in seconds.
        self.retry: float | None = None

    def feed(self, text: str) -> list[_Frame]:
        self._buffer += text
        frames: list[_Frame] = []
        while True:
            cut = _line_end(self._buffer)
            if cut is None:
                return frames
            line, end = cut
            self._buffer = self._buffer[end:]
            if line == "":
                if self._frame.data is not None or self._frame.id is not None:
                    frames.append(self._frame)
                self._frame = _Frame()
            elif not line.startswith(":"):
                self._field(line)

    def _field(self, line: str) -> None:
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "id" and "\0" not in value:
            self._frame.id = value
        elif name == "event":
            self._frame.event = value
        elif name == "data":
            self._frame.add_data(value)
        elif name == "retry" and value.isdigit():
            self.retry = int(value) / 1000


def _line_end(buffer: str) -> tuple[str, int] | None:
    """The first complete line and where the next one starts; lines end in CRLF, LF or CR."""
    for index, char in enumerate(buffer):
        if char == "\n":
            return buffer[:index], index + 1
        if char == "\r":
            if index + 1 == len(buffer):
                return None  # Maybe the CR of a CRLF split across reads: wait for the next byte.
            return buffer[:index], index + (2 if buffer[index + 1] == "\n" else 1)
    return None


class EventStream(Iterator[StreamEvent]):
    """An iterator over a game's events that survives dropped connections.

    Iterating blocks until the next event. When the connection drops (the server restarts, a
    proxy times out, the network blips, or nothing, not even a heartbeat, arrived for
    ``idle_timeout`` seconds), it reconnects with ``Last-Event-ID`` set to the last seq it
    yielded, waiting ``retry_initial`` seconds doubled per consecutive failure up to
    ``retry_max``, with jitter. A ``503``, ``429`` or ``5xx`` answer is waited out the same way
    (at least its ``Retry-After``); any other error answer (``404`` once the game is deleted,
    ``401``, ``400``) is raised. After ``max_retries`` consecutive failed attempts the last error
    is raised; ``None`` keeps trying.

    :meth:`close` stops it from any thread: iteration then ends (``StopIteration``). It is also
    a context manager that closes on exit.
    """

    def __init__(
        self,
        transport: Transport,
        path: str,
        *,
        last_event_id: int | None,
        query: Mapping[str, QueryValue],
        idle_timeout: float,
        retry_initial: float,
        retry_max: float,
        max_retries: int | None,
    ) -> None:
        self._transport = transport
        self._path = path
        self._query = dict(query)
        self._last_seq = last_event_id
        self.idle_timeout = idle_timeout
        self.retry_initial = retry_initial
        self.retry_max = retry_max
        self.max_retries = max_retries
        #: How many times the stream was opened again (successfully) after the first time.
        self.reconnects = 0
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._events = self._run()

    @property
    def last_event_id(self) -> int | None:
        """The seq of the last event yielded (or the one it started after): resume a new stream from it."""
        return self._last_seq

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def __iter__(self) -> EventStream:
        return self

    def __next__(self) -> StreamEvent:
        return next(self._events)

    def close(self) -> None:
        """Stops the stream; safe from any thread, and more than once."""
        self._closed.set()
        with self._lock:
            sock = self._socket
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # Wakes a read blocked in another thread.
            except OSError:
                pass
        try:
            # Runs the generator's cleanup (closing the connection) now rather than when collected.
            self._events.close()
        except ValueError:
            pass  # Iterating in another thread: that thread sees the flag and cleans up itself.

    def __enter__(self) -> EventStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _run(self) -> Generator[StreamEvent, None, None]:
        failures = 0
        opened_before = False
        while not self._closed.is_set():
            try:
                connection, answer = self._open()
            except SavepointConnectionError as error:
                failures = self._pause(failures, error, None)
                continue
            except SavepointError as error:
                if not _worth_waiting_out(error):
                    raise
                failures = self._pause(failures, error, error.retry_after)
                continue
            if opened_before:
                self.reconnects += 1
            opened_before = True
            try:
                for frame_or_beat in self._frames(answer):
                    # Any frame (even the ": stream open" comment) shows the server is serving again.
                    failures = 0
                    if frame_or_beat is None:
                        continue
                    event = self._event_of(frame_or_beat)
                    if event is not None:
                        yield event
            except (OSError, http.client.HTTPException) as error:
                dropped: Exception = SavepointConnectionError(f"the event stream dropped: {error}")
            except SavepointError as error:
                if not _worth_waiting_out(error):
                    raise
                dropped = error
            else:
                dropped = SavepointConnectionError("the server ended the event stream")
            finally:
                with self._lock:
                    self._socket = None
                connection.close()
            if self._closed.is_set():
                return
            failures = self._pause(failures, dropped, getattr(dropped, "retry_after", None))

    def _open(self) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        headers = self._transport.headers({"Accept": "text/event-stream", "Cache-Control": "no-cache"})
        if self._last_seq is not None:
            headers["Last-Event-ID"] = str(self._last_seq)
        target = self._transport.url_path(self._path, self._query)
        connection = self._transport.connect(self.idle_timeout)
        try:
            connection.connect()
            with self._lock:
                self._socket = connection.sock
            connection.request("GET", target, headers=headers)
            answer = connection.getresponse()
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            with self._lock:
                self._socket = None
            raise SavepointConnectionError(f"GET {target}: {error}") from error
        if answer.status != 200:
            raw = answer.read()
            connection.close()
            raise error_from_answer(answer.status, answer.reason, raw, answer.headers)
        return connection, answer

    def _frames(self, answer: http.client.HTTPResponse) -> Iterator[_Frame | None]:
        """Frames as they complete; ``None`` for bytes that completed none (comments, heartbeats)."""
        parser = _FrameParser()
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        while not self._closed.is_set():
            chunk = answer.read1(65536)
            if chunk == b"":
                return
            frames = parser.feed(decoder.decode(chunk))
            if parser.retry is not None:
                self.retry_initial = parser.retry
            if not frames:
                yield None
            yield from frames

    def _event_of(self, frame: _Frame) -> StreamEvent | None:
        data = "\n".join(frame.data or [])
        if frame.id is None:
            if frame.event == "error":
                # The stream was open when the server failed: it tells the problem as a frame.
                problem = json.loads(data)
                if not isinstance(problem, dict):
                    problem = {"code": "INTERNAL", "detail": data}
                status = problem.get("status")
                raise error_for(status if isinstance(status, int) else 500, problem)
            return None
        if not frame.id.isdigit():
            return None
        seq = int(frame.id)
        if self._last_seq is not None and seq <= self._last_seq:
            return None  # Already yielded before a reconnect.
        self._last_seq = seq
        return StreamEvent(seq=seq, type=frame.event or "message", data=json.loads(data) if data else None)

    def _pause(self, failures: int, error: Exception, retry_after: float | None) -> int:
        """Waits before the next attempt; raises ``error`` when out of attempts. Returns the new failure count."""
        failures += 1
        if self.max_retries is not None and failures > self.max_retries:
            raise error
        delay = min(self.retry_max, self.retry_initial * 2 ** (failures - 1)) * random.uniform(0.5, 1.0)
        if retry_after is not None:
            delay = max(delay, retry_after)
        self._closed.wait(delay)
        return failures
