"""Errors raised by the client.

Every error answer of a Savepoint server is an RFC 9457 problem document
(``application/problem+json``) with a stable ``code``. It is raised as a
:class:`SavepointError`, or as the subclass named after its code (``NOT_FOUND``
raises :class:`NotFound`), so callers can catch either the family or one case.
Branch on the class or on ``code``; ``detail`` is for people and may change.

A request that got no answer at all (refused, reset, timed out) raises
:class:`SavepointConnectionError` instead: there is no status to report.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

__all__ = [
    "AlreadyClosed",
    "CorruptData",
    "Forbidden",
    "GameCompleted",
    "IdempotencyInFlight",
    "IdempotencyKeyReused",
    "InternalError",
    "InvalidInput",
    "LeaseHeld",
    "LeaseLost",
    "NotFound",
    "OutOfBounds",
    "PayloadTooLarge",
    "RateLimited",
    "SavepointConnectionError",
    "SavepointError",
    "SeatTaken",
    "StorageFull",
    "StorageUnavailable",
    "TokenExpired",
    "TokenInvalid",
    "Unauthorized",
    "VersionConflict",
    "error_for",
]


class SavepointError(Exception):
    """An error answer from the server.

    Attributes:
        status: the HTTP status (``409``).
        code: the stable error code (``"VERSION_CONFLICT"``); ``"INTERNAL"`` when
            the answer was not a problem document (a proxy's error page).
        detail: the human-readable explanation.
        problem: the whole problem document, extension members included
            (``opIndex``, ``expected``, ``actual``, ``errors``...).
        retry_after: seconds to wait before retrying, from ``Retry-After``, when sent.
    """

    #: The code this class stands for; ``None`` on the base class.
    CODE: ClassVar[str | None] = None

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        problem: Mapping[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.problem: dict[str, Any] = dict(problem) if problem is not None else {}
        self.retry_after = retry_after

    @property
    def title(self) -> str:
        """The problem's short title (``"Version conflict"``), or ``""``."""
        title = self.problem.get("title")
        return title if isinstance(title, str) else ""


class SavepointConnectionError(ConnectionError):
    """The server could not be reached, or the connection broke before the answer arrived.

    When the request was a write, it may or may not have been applied: retry it with the
    same ``idempotency_key`` to get its answer without applying it twice.
    """


class InvalidInput(SavepointError):
    """``400 INVALID_INPUT``: a malformed body, field, id, duration or header."""

    CODE = "INVALID_INPUT"


class OutOfBounds(SavepointError):
    """``400 OUT_OF_BOUNDS``: a number outside its configured range."""

    CODE = "OUT_OF_BOUNDS"


class Unauthorized(SavepointError):
    """``401 UNAUTHORIZED``: the API key is missing or wrong."""

    CODE = "UNAUTHORIZED"


class TokenInvalid(SavepointError):
    """``401 TOKEN_INVALID``: a reconnect token that is unknown, for another seat, or already used."""

    CODE = "TOKEN_INVALID"


class TokenExpired(SavepointError):
    """``401 TOKEN_EXPIRED``: a reconnect token past its expiry."""

    CODE = "TOKEN_EXPIRED"


class Forbidden(SavepointError):
    """``403 FORBIDDEN``: not a player of the game, or a collection a module owns."""

    CODE = "FORBIDDEN"


class NotFound(SavepointError):
    """``404 NOT_FOUND``: no such record."""

    CODE = "NOT_FOUND"


class VersionConflict(SavepointError):
    """``409`` (body ``expectedVersion``) or ``412`` (If-Match / If-None-Match) ``VERSION_CONFLICT``."""

    CODE = "VERSION_CONFLICT"


class SeatTaken(SavepointError):
    """``409 SEAT_TAKEN``: a concurrent reconnect for the seat won."""

    CODE = "SEAT_TAKEN"


class LeaseHeld(SavepointError):
    """``409 LEASE_HELD``: another holder has the lease (``problem`` names it)."""

    CODE = "LEASE_HELD"


class LeaseLost(SavepointError):
    """``409 LEASE_LOST``: the lease expired and someone else took it, or was never yours."""

    CODE = "LEASE_LOST"


class AlreadyClosed(SavepointError):
    """``409 ALREADY_CLOSED``: the round already has a winner."""

    CODE = "ALREADY_CLOSED"


class IdempotencyInFlight(SavepointError):
    """``409 IDEMPOTENCY_IN_FLIGHT``: the first request with this key is still running."""

    CODE = "IDEMPOTENCY_IN_FLIGHT"


class IdempotencyKeyReused(SavepointError):
    """``422 IDEMPOTENCY_KEY_REUSED``: the key was used with another method, path or body."""

    CODE = "IDEMPOTENCY_KEY_REUSED"


class GameCompleted(SavepointError):
    """``410 GAME_COMPLETED``: the game is over; it takes no events, tokens or reconnects."""

    CODE = "GAME_COMPLETED"


class PayloadTooLarge(SavepointError):
    """``413 PAYLOAD_TOO_LARGE``: the body is over the server's limit."""

    CODE = "PAYLOAD_TOO_LARGE"


class CorruptData(SavepointError):
    """``422 CORRUPT_DATA``: the stored record cannot be read."""

    CODE = "CORRUPT_DATA"


class RateLimited(SavepointError):
    """``429 RATE_LIMITED``: too many failures; ``retry_after`` says when to try again."""

    CODE = "RATE_LIMITED"


class InternalError(SavepointError):
    """``500 INTERNAL``, or an answer that was not a problem document."""

    CODE = "INTERNAL"


class StorageUnavailable(SavepointError):
    """``503 STORAGE_UNAVAILABLE``: the storage does not answer; ``retry_after`` says when to retry."""

    CODE = "STORAGE_UNAVAILABLE"


class StorageFull(SavepointError):
    """``507 STORAGE_FULL``: the storage has no room left."""

    CODE = "STORAGE_FULL"


_BY_CODE: dict[str, type[SavepointError]] = {
    cls.CODE: cls
    for cls in (
        InvalidInput,
        OutOfBounds,
        Unauthorized,
        TokenInvalid,
        TokenExpired,
        Forbidden,
        NotFound,
        VersionConflict,
        SeatTaken,
        LeaseHeld,
        LeaseLost,
        AlreadyClosed,
        IdempotencyInFlight,
        IdempotencyKeyReused,
        GameCompleted,
        PayloadTooLarge,
        CorruptData,
        RateLimited,
        InternalError,
        StorageUnavailable,
        StorageFull,
    )
    if cls.CODE is not None
}


def error_for(
    status: int,
    problem: Mapping[str, Any],
    retry_after: float | None = None,
) -> SavepointError:
    """The error for a problem document: the subclass for its ``code``, else :class:`SavepointError`."""
    code = problem.get("code")
    detail = problem.get("detail")
    code_text = code if isinstance(code, str) else "INTERNAL"
    detail_text = detail if isinstance(detail, str) else ""
    cls = _BY_CODE.get(code_text, SavepointError)
    return cls(status, code_text, detail_text, problem, retry_after)
