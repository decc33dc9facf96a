"""The entry point: :class:`Client`, one object per Savepoint server."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, cast

from ._transport import QueryValue, Response, Transport
from .catalog import Catalog
from .documents import Documents
from .games import Games
from .leaderboards import Leaderboards
from .leases import Leases
from .sessions import Sessions
from .stats import Stats

__all__ = ["Client"]


class Client:
    """A client for one Savepoint server (``savepoint serve``).

    Args:
        base_url: ``http://127.0.0.1:8787``; a path prefix is kept (``https://example.com/savepoint``).
        api_key: sent as ``Authorization: Bearer <key>``. Without it only public reads (catalog,
            leaderboards, health) and player calls (reconnect, a stream with a player token) work.
        timeout: seconds to wait for the server on each call (connect, and each read).
        retries: how many times a read, or a write carrying an ``idempotency_key``, is sent again
            when the connection fails before the answer arrives (or the server reports the same
            key in flight). Other writes are never repeated by the client, since their first
            attempt may have been applied.
        retry_backoff: the first wait between those attempts, in seconds; it doubles, with jitter.
        on_response: called with every answer (errors included) before it is returned or raised;
            for logging and metrics.

    The areas are attributes: :attr:`games`, :attr:`sessions`, :attr:`stats`,
    :attr:`leaderboards`, :attr:`catalog`, :attr:`docs`, :attr:`leases`. Error answers raise
    :class:`~savepoint_client.SavepointError` subclasses named after their code. Reads named
    ``get`` return ``None`` for a missing record; other reads raise
    :class:`~savepoint_client.NotFound`; ``delete`` calls return whether something was deleted.
    A client holds no connection between calls and may be shared between threads.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        retries: int = 2,
        retry_backoff: float = 0.2,
        on_response: Callable[[Response], None] | None = None,
    ) -> None:
        self._transport = Transport(
            base_url,
            api_key=api_key,
            timeout=timeout,
            retries=retries,
            retry_backoff=retry_backoff,
            on_response=on_response,
        )
        self.games = Games(self._transport)
        self.sessions = Sessions(self._transport)
        self.stats = Stats(self._transport)
        self.leaderboards = Leaderboards(self._transport)
        self.catalog = Catalog(self._transport)
        self.docs = Documents(self._transport)
        self.leases = Leases(self._transport)

    @property
    def base_url(self) -> str:
        return self._transport.base_url

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
        """Any call (``client.request("GET", "/v1/matches/m1")``): JSON in, :class:`Response` out.

        For endpoints without a method here. Error answers raise as everywhere else.
        """
        return self._transport.request(
            method, path, query=query, body=body, headers=headers, idempotency_key=idempotency_key
        )

    def health(self) -> dict[str, Any]:
        """``GET /health``: ``{status, driver, version, uptimeSeconds, storage, ...}``."""
        return cast("dict[str, Any]", self._transport.request("GET", "/health").body)

    def close(self) -> None:
        """Nothing to release (no connection is kept); present so a client can be used in ``with``."""

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({self.base_url!r})"
