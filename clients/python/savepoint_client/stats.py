"""Stats (``/v1/stats``): counts of finished games, by outcome, with running figures per metric."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from ._transport import Transport, without_none
from .types import StatsSummary

__all__ = ["Stats"]


class Stats:
    """``client.stats``: record finished games, read the summary, reset the counters."""

    def __init__(self, transport: Transport) -> None:
        self._http = transport

    def record(
        self,
        outcome: str,
        *,
        session_id: str | None = None,
        moves: float | None = None,
        duration_ms: float | None = None,
        metrics: Mapping[str, float] | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Counts one finished game atomically; ``moves`` and ``duration_ms`` become metrics."""
        body = without_none(
            {
                "sessionId": session_id,
                "outcome": outcome,
                "moves": moves,
                "durationMs": duration_ms,
                "metrics": dict(metrics) if metrics is not None else None,
            }
        )
        answer = self._http.request("POST", "/v1/stats/games", body=body, idempotency_key=idempotency_key)
        return cast("dict[str, Any]", answer.body)

    def summary(self) -> StatsSummary:
        """Games by outcome, ``{count, mean, min, max, ema}`` per metric, and session counts."""
        return cast(StatsSummary, self._http.request("GET", "/v1/stats/summary").body)

    def reset(self, *, idempotency_key: str | None = None) -> None:
        """Zeroes the game counts and metrics (the counts of stored sessions are kept)."""
        self._http.request("DELETE", "/v1/stats", idempotency_key=idempotency_key)
