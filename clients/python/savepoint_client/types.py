"""Shapes of the JSON answers, as :class:`typing.TypedDict` for editors and type checkers.

They are plain ``dict`` objects at run time. Times are ISO-8601 UTC strings.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

__all__ = [
    "AppendAnswer",
    "CatalogKind",
    "CatalogKindSummary",
    "CatalogOverview",
    "CommitAnswer",
    "ConnectionToken",
    "DocumentPage",
    "DocumentRecord",
    "GameEvent",
    "GameRecord",
    "GameStatus",
    "Lease",
    "Leaderboard",
    "LeaderboardEntry",
    "LeaderboardPage",
    "LeaderboardStanding",
    "PersistAnswer",
    "ReconnectAnswer",
    "Session",
    "SessionPage",
    "SessionStatus",
    "StatsSummary",
    "SubmitAnswer",
]

GameStatus = Literal["active", "completed"]
SessionStatus = Literal["active", "completed"]


class PersistAnswer(TypedDict):
    success: bool
    persistedAt: str
    version: int


class AppendAnswer(TypedDict):
    firstSeq: int
    lastSeq: int
    version: int


class GameEvent(TypedDict):
    """One event of a game's log; ``seq`` starts at 1 with no gaps."""

    seq: int
    type: str
    data: Any
    at: str


class GameRecord(TypedDict):
    gameId: str
    state: dict[str, Any]
    players: list[str]
    phase: str | None
    status: GameStatus
    version: int
    persistedAt: str
    lastSeq: int


class ConnectionToken(TypedDict):
    token: str
    expiresAt: str
    playerId: str


class ReconnectAnswer(TypedDict):
    success: bool
    gameState: GameRecord
    reconnectedAt: str
    missedEvents: list[GameEvent]
    reconnectToken: str
    tokenExpiresAt: str


class Session(TypedDict):
    sessionId: str
    state: dict[str, Any]
    options: dict[str, Any]
    status: SessionStatus
    version: int
    createdAt: str
    updatedAt: str


class SessionPage(TypedDict):
    items: list[Session]
    nextCursor: str | None


class MetricSummary(TypedDict):
    count: int
    mean: float
    min: float
    max: float
    ema: float


class SessionCounts(TypedDict):
    created: int
    active: int
    completed: int


class StatsSummary(TypedDict):
    gamesRecorded: int
    outcomes: dict[str, int]
    metrics: dict[str, MetricSummary]
    sessions: SessionCounts


class SubmitAnswer(TypedDict):
    member: str
    score: float
    rank: int | None
    period: str | None
    changed: bool


class LeaderboardEntry(TypedDict):
    rank: int
    member: str
    score: float
    metadata: dict[str, Any] | None


class LeaderboardPage(TypedDict):
    board: str
    period: str | None
    total: int
    entries: list[LeaderboardEntry]


class LeaderboardStanding(LeaderboardEntry):
    period: str | None
    around: list[LeaderboardEntry]


class CatalogKindSummary(TypedDict):
    kind: str
    version: str
    updatedAt: str
    count: int


class CatalogOverview(TypedDict):
    version: int
    kinds: list[CatalogKindSummary]


class CatalogKind(TypedDict):
    kind: str
    version: str
    updatedAt: str
    data: list[dict[str, Any]]


class DocumentRecord(TypedDict):
    collection: str
    key: str
    value: Any
    version: int
    createdAt: str
    updatedAt: str
    expiresAt: str | None


class DocumentPage(TypedDict):
    items: list[DocumentRecord]
    nextCursor: str | None


class CommitAnswer(TypedDict):
    at: str
    results: list[dict[str, Any]]


class Lease(TypedDict):
    name: str
    holder: str
    fence: int
    expiresAt: str


class Leaderboard(TypedDict):
    board: str
    order: Literal["desc", "asc"]
    operator: Literal["best", "set", "incr"]
    period: Literal["none", "daily", "weekly", "monthly"]
    keepPeriods: int | None
