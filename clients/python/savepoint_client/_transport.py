"""HTTP plumbing shared by every area of the client: URLs, headers, JSON, errors, retries.

One connection per request keeps the client safe to share between threads without a pool;
Savepoint answers are small, so the extra TCP handshake is the cheaper trade.
"""

from __future__ import annotations

import http.client
import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote, urlencode, urlsplit

from .errors import IdempotencyInFlight, SavepointConnectionError, SavepointError, error_for

__all__ = ["QueryValue", "Response", "Transport", "condition_headers", "segment", "without_none"]

VERSION: Final = "0.1.0"

#: A query parameter's value; ``None`` leaves the parameter out.
QueryValue = str | int | float | bool | None

_JSON_TYPES: Final = ("application/json", "application/problem+json")
_SAFE_METHODS: Final = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class Response:
    """One answer: status, headers (case-insensitive ``headers.get("etag")``) and the parsed body.

    ``body`` is the decoded JSON, the text of a non-JSON answer, or ``None`` when empty (204, 304).
    """

    status: int
    headers: http.client.HTTPMessage
    body: Any


def segment(value: str) -> str:
    """One path segment, percent-encoded (ids are checked by the server, not here)."""
    return quote(value, safe="")


def without_none(fields: Mapping[str, Any]) -> dict[str, Any]:
    """``fields`` without the ``None`` values: absent body fields keep the server's defaults."""
    return {name: value for name, value in fields.items() if value is not None}


def condition_headers(if_match: int | None, create_only: bool = False) -> dict[str, str]:
    """``If-Match: "<version>"`` (write only at that version) and ``If-None-Match: *`` (create only)."""
    headers: dict[str, str] = {}
    if if_match is not None:
        headers["If-Match"] = f'"{if_match}"'
    if create_only:
        headers["If-None-Match"] = "*"
    return headers


def _query_text(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _retry_after(headers: http.client.HTTPMessage) -> float | None:
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        return None  # An HTTP-date: rare from Savepoint, and a delay in seconds is what callers use.
    return seconds if seconds >= 0 else None


def _decode(raw: bytes, headers: http.client.HTTPMessage) -> Any:
    if raw == b"":
        return None
    content_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
    text = raw.decode("utf-8", errors="replace")
    if content_type in _JSON_TYPES:
        return json.loads(text)
    return text


def error_from_answer(status: int, reason: str, raw: bytes, headers: http.client.HTTPMessage) -> SavepointError:
    """The error for an error answer: its problem document, or a generic one for a foreign page."""
    text = raw.decode("utf-8", errors="replace")
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and isinstance(parsed.get("code"), str):
        return error_for(status, {**parsed, "status": status}, _retry_after(headers))
    problem = {
        "type": "about:blank",
        "title": reason,
        "status": status,
        "code": "INTERNAL",
        "detail": text[:500] or reason,
    }
    return error_for(status, problem, _retry_after(headers))


class Transport:
    """Sends requests to one Savepoint server; see :class:`savepoint_client.Client` for the options."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None,
        timeout: float,
        retries: int,
        retry_backoff: float,
        on_response: Callable[[Response], None] | None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"base_url must be an http:// or https:// URL, not {base_url!r}")
        if retries < 0:
            raise ValueError("retries must be >= 0")
        self.base_url = base_url.rstrip("/")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        # A path prefix is kept, for servers mounted under one (https://example.com/savepoint).
        self._prefix = parts.path.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.retries = retries
        self.retry_backoff = retry_backoff
        self.on_response = on_response

    def url_path(self, path: str, query: Mapping[str, QueryValue] | None = None) -> str:
        """The request target: prefix, path and the query without its ``None`` values."""
        target = self._prefix + path
        pairs = [(name, _query_text(value)) for name, value in (query or {}).items() if value is not None]
        return f"{target}?{urlencode(pairs)}" if pairs else target

    def headers(self, extra: Mapping[str, str] | None = None, has_body: bool = False) -> dict[str, str]:
        """The headers every request carries (key, accept, user agent), plus ``extra``."""
        headers = {
            "Accept": "application/json, application/problem+json",
            "User-Agent": f"savepoint-client-python/{VERSION}",
        }
        if self.api_key is not None:
            headers["Authorization"] = f"Bearer {self.api_key}"
        if has_body:
            headers["Content-Type"] = "application/json"
        headers.update(extra or {})
        return headers

    def connect(self, timeout: float | None) -> http.client.HTTPConnection:
        if self._https:
            return http.client.HTTPSConnection(self._host, self._port, timeout=timeout)
        return http.client.HTTPConnection(self._host, self._port, timeout=timeout)

    def open(
        self,
        method: str,
        target: str,
        *,
        body: bytes | None,
        headers: Mapping[str, str],
        timeout: float | None,
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """Sends one request and returns once the status and headers arrived; the body is unread.

        Raises :class:`SavepointConnectionError` when no answer arrived.
        """
        connection = self.connect(timeout)
        try:
            connection.request(method, target, body=body, headers=dict(headers))
            return connection, connection.getresponse()
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            raise SavepointConnectionError(f"{method} {target}: {error}") from error

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, QueryValue] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Response:
        """Sends a request with a JSON body (``None``: no body) and returns the answer.

        Error answers (4xx, 5xx) raise the :class:`~savepoint_client.SavepointError` for their
        code; ``304 Not Modified`` is returned. Reads, and writes that carry an
        ``idempotency_key``, are retried (``retries`` times, with jittered backoff) when the
        connection fails or the server says the same key is still in flight, since repeating
        them cannot apply anything twice.
        """
        method = method.upper()
        payload = None if body is None else json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
        sent = self.headers(headers, payload is not None)
        if idempotency_key is not None:
            sent["Idempotency-Key"] = idempotency_key
        target = self.url_path(path, query)
        repeatable = method in _SAFE_METHODS or idempotency_key is not None
        attempts = 1 + (self.retries if repeatable else 0)
        for attempt in range(attempts):
            try:
                return self._exchange(method, target, payload, sent)
            except (SavepointConnectionError, IdempotencyInFlight):
                if attempt + 1 >= attempts:
                    raise
                time.sleep(random.uniform(0.5, 1.0) * self.retry_backoff * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _exchange(self, method: str, target: str, payload: bytes | None, headers: Mapping[str, str]) -> Response:
        connection, answer = self.open(method, target, body=payload, headers=headers, timeout=self.timeout)
        try:
            raw = answer.read()
        except (OSError, http.client.HTTPException) as broken:
            raise SavepointConnectionError(f"{method} {target}: the answer broke off: {broken}") from broken
        finally:
            connection.close()
        if answer.status >= 400:
            error = error_from_answer(answer.status, answer.reason, raw, answer.headers)
            if self.on_response is not None:
                self.on_response(Response(answer.status, answer.headers, error.problem))
            raise error
        response = Response(answer.status, answer.headers, _decode(raw, answer.headers))
        if self.on_response is not None:
            self.on_response(response)
        return response
