"""Sessions (``/v1/sessions``): game sessions with a state, options and a status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from ._transport import Transport, condition_headers, segment, without_none
from .errors import NotFound
from .types import Session, SessionPage, SessionStatus

__all__ = ["Sessions"]


class Sessions:
    """``client.sessions``: create, get, update, delete and list sessions."""

    def __init__(self, transport: Transport) -> None:
        self._http = transport

    def create(
        self,
        state: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> Session:
        """A new active session with a fresh UUID ``sessionId`` and version 1."""
        body = without_none({"state": state, "options": options})
        return cast(
            Session, self._http.request("POST", "/v1/sessions", body=body, idempotency_key=idempotency_key).body
        )

    def get(self, session_id: str) -> Session | None:
        """The session, or ``None`` when there is none."""
        try:
            return cast(Session, self._http.request("GET", f"/v1/sessions/{segment(session_id)}").body)
        except NotFound:
            return None

    def update(
        self,
        session_id: str,
        state: Mapping[str, Any],
        *,
        status: SessionStatus | None = None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Session:
        """Replaces the state (and the status, when given).

        ``expected_version`` is sent as ``If-Match``: another version raises
        :class:`VersionConflict` (412). A missing session raises :class:`NotFound`.
        """
        answer = self._http.request(
            "PUT",
            f"/v1/sessions/{segment(session_id)}",
            body=without_none({"state": state, "status": status}),
            headers=condition_headers(expected_version),
            idempotency_key=idempotency_key,
        )
        return cast(Session, answer.body)

    def delete(
        self, session_id: str, *, expected_version: int | None = None, idempotency_key: str | None = None
    ) -> bool:
        """Deletes the session; ``False`` when there was none."""
        try:
            self._http.request(
                "DELETE",
                f"/v1/sessions/{segment(session_id)}",
                headers=condition_headers(expected_version),
                idempotency_key=idempotency_key,
            )
        except NotFound:
            return False
        return True

    def list(
        self, *, status: SessionStatus | None = None, limit: int | None = None, cursor: str | None = None
    ) -> SessionPage:
        """One page of sessions ascending by id; pass ``nextCursor`` as ``cursor`` for the next."""
        answer = self._http.request("GET", "/v1/sessions", query={"status": status, "limit": limit, "cursor": cursor})
        return cast(SessionPage, answer.body)
