"""Leaderboards (``/v1/leaderboards``): ranked scores, optionally per UTC day, week or month."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, cast

from ._transport import Transport, segment, without_none
from .types import Leaderboard, LeaderboardPage, LeaderboardStanding, SubmitAnswer

__all__ = ["Leaderboards"]


class Leaderboards:
    """``client.leaderboards``: define boards, submit scores, read the top and a member's standing.

    ``period`` names a period of a periodic board (``2026-12-01``, ``2026-W49``, ``2026-12``);
    the current one by default.
    """

    def __init__(self, transport: Transport) -> None:
        self._http = transport

    @staticmethod
    def _path(board: str) -> str:
        return f"/v1/leaderboards/{segment(board)}"

    def define(
        self,
        board: str,
        *,
        order: Literal["desc", "asc"] = "desc",
        operator: Literal["best", "set", "incr"] = "best",
        period: Literal["none", "daily", "weekly", "monthly"] = "none",
        keep_periods: int | None = None,
        idempotency_key: str | None = None,
    ) -> Leaderboard:
        """Defines the board (idempotent). Changing the order, operator or period of an existing
        board raises :class:`VersionConflict`. A board written before it is defined is
        ``desc``/``best``/``none``."""
        body = without_none({"order": order, "operator": operator, "period": period, "keepPeriods": keep_periods})
        answer = self._http.request("PUT", self._path(board), body=body, idempotency_key=idempotency_key)
        return cast(Leaderboard, answer.body)

    def submit(
        self,
        board: str,
        member: str,
        score: float,
        *,
        metadata: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> SubmitAnswer:
        """Writes a score by the board's operator; answers the member's score and rank after it."""
        body = without_none({"member": member, "score": score, "metadata": metadata})
        answer = self._http.request("POST", f"{self._path(board)}/scores", body=body, idempotency_key=idempotency_key)
        return cast(SubmitAnswer, answer.body)

    def top(
        self, board: str, *, limit: int | None = None, offset: int | None = None, period: str | None = None
    ) -> LeaderboardPage:
        """A page of the board in rank order (``limit`` 1-1000, default 100)."""
        answer = self._http.request(
            "GET", self._path(board), query={"limit": limit, "offset": offset, "period": period}
        )
        return cast(LeaderboardPage, answer.body)

    def member(
        self, board: str, member: str, *, around: int | None = None, period: str | None = None
    ) -> LeaderboardStanding:
        """The member's score and rank, with ``around`` entries on each side; raises :class:`NotFound`."""
        answer = self._http.request(
            "GET", f"{self._path(board)}/members/{segment(member)}", query={"around": around, "period": period}
        )
        return cast(LeaderboardStanding, answer.body)

    def remove(self, board: str, member: str, *, period: str | None = None, idempotency_key: str | None = None) -> None:
        """Removes the member from the board (that period), whether or not it was there; an undefined
        board raises :class:`NotFound`."""
        self._http.request(
            "DELETE",
            f"{self._path(board)}/members/{segment(member)}",
            query={"period": period},
            idempotency_key=idempotency_key,
        )
