"""Games: snapshots, event logs, reconnect tokens and the live event stream (``/api/game/{gameId}/…``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from ._transport import Transport, condition_headers, segment, without_none
from .errors import NotFound
from .stream import EventStream
from .types import AppendAnswer, ConnectionToken, GameEvent, GameRecord, GameStatus, PersistAnswer, ReconnectAnswer

__all__ = ["Games"]


class Games:
    """``client.games``: persist, restore and reconnect games, and follow their events."""

    def __init__(self, transport: Transport) -> None:
        self._http = transport

    @staticmethod
    def _path(game_id: str, action: str) -> str:
        return f"/api/game/{segment(game_id)}/{action}"

    def persist(
        self,
        game_id: str,
        state: Mapping[str, Any],
        *,
        players: Sequence[str] | None = None,
        phase: str | None = None,
        status: GameStatus | None = None,
        expected_version: int | None = None,
        force_overwrite: bool | None = None,
        if_match: int | None = None,
        create_only: bool = False,
        idempotency_key: str | None = None,
    ) -> PersistAnswer:
        """Creates the game or replaces its snapshot.

        ``players``, ``phase`` and ``status`` keep their stored values when left out.
        ``expected_version`` (``0``: create only) raises :class:`VersionConflict` (409) when
        stale, unless ``force_overwrite``; ``if_match`` and ``create_only`` are sent as headers
        and raise it with status 412.
        """
        body = without_none(
            {
                "state": state,
                "players": list(players) if players is not None else None,
                "phase": phase,
                "status": status,
                "expectedVersion": expected_version,
                "forceOverwrite": force_overwrite,
            }
        )
        answer = self._http.request(
            "POST",
            self._path(game_id, "persist"),
            body=body,
            headers=condition_headers(if_match, create_only),
            idempotency_key=idempotency_key,
        )
        return cast(PersistAnswer, answer.body)

    def append_events(
        self,
        game_id: str,
        events: Sequence[Mapping[str, Any]],
        *,
        state: Mapping[str, Any] | None = None,
        phase: str | None = None,
        expected_seq: int | None = None,
        idempotency_key: str | None = None,
    ) -> AppendAnswer:
        """Appends ``events`` (``{"type": ..., "data": ...}``) and the optional snapshot in one commit.

        ``expected_seq`` is the last seq the caller knows of (``0`` for none); when it is not the
        current one nothing is written and :class:`VersionConflict` is raised.
        """
        body = without_none(
            {
                "events": [dict(event) for event in events],
                "state": state,
                "phase": phase,
                "expectedSeq": expected_seq,
            }
        )
        answer = self._http.request("POST", self._path(game_id, "events"), body=body, idempotency_key=idempotency_key)
        return cast(AppendAnswer, answer.body)

    def events(self, game_id: str, *, after: int = 0, limit: int | None = None) -> list[GameEvent]:
        """One page of events with ``seq > after``, ascending (``limit`` 1-1000, default 100)."""
        answer = self._http.request("GET", self._path(game_id, "events"), query={"after": after, "limit": limit})
        return cast("list[GameEvent]", answer.body["events"])

    def restore(self, game_id: str) -> GameRecord:
        """The last snapshot and the last event seq it reflects; raises :class:`NotFound`."""
        return cast(GameRecord, self._http.request("GET", self._path(game_id, "restore")).body)

    def connection_token(self, game_id: str, player_id: str) -> ConnectionToken:
        """A new reconnect token for a seated player, replacing the previous one.

        Raises :class:`Forbidden` if the player is not seated, :class:`GameCompleted` for a
        finished game.
        """
        answer = self._http.request("GET", self._path(game_id, "connection-token"), query={"playerId": player_id})
        return cast(ConnectionToken, answer.body)

    def reconnect(
        self,
        game_id: str,
        player_id: str,
        token: str,
        last_event_seq: int | None = None,
        idempotency_key: str | None = None,
    ) -> ReconnectAnswer:
        """Reclaims a seat with its reconnect token (no API key needed: the token is the credential).

        The answer carries the game, the events after ``last_event_seq`` (all when ``None``) and
        a new ``reconnectToken``: keep it, the one sent is spent. With an ``idempotency_key``, a
        retry after a lost answer gets that same answer, new token included, instead of
        :class:`SeatTaken` or :class:`TokenInvalid`; the client retries a broken connection itself.
        """
        body = without_none(
            {"gameId": game_id, "playerId": player_id, "reconnectToken": token, "lastEventSeq": last_event_seq}
        )
        answer = self._http.request(
            "POST", self._path(game_id, "reconnect"), body=body, idempotency_key=idempotency_key
        )
        return cast(ReconnectAnswer, answer.body)

    def delete(self, game_id: str, *, idempotency_key: str | None = None) -> bool:
        """Removes the game, its events and tokens; ``False`` when there was no such game."""
        try:
            self._http.request("DELETE", self._path(game_id, "persist"), idempotency_key=idempotency_key)
        except NotFound:
            return False
        return True

    def follow(
        self,
        game_id: str,
        last_event_id: int | None = None,
        *,
        player_id: str | None = None,
        token: str | None = None,
        idle_timeout: float = 45.0,
        retry_initial: float = 0.5,
        retry_max: float = 15.0,
        max_retries: int | None = None,
    ) -> EventStream:
        """Iterates over the game's events: those after ``last_event_id`` (all when ``None``), then live ones.

        It reconnects by itself after a dropped connection or a server restart and resumes after
        the last event it yielded, so no event is lost or repeated; see :class:`EventStream` for
        the backoff and for ``close()``. It authenticates with the API key, or with
        ``player_id`` and ``token`` (a player's reconnect token, checked but not spent).

        Example::

            with client.games.follow("table-1") as stream:
                for event in stream:
                    print(event.seq, event.type, event.data)
        """
        if (player_id is None) != (token is None):
            raise ValueError("pass player_id and token together, or neither")
        return EventStream(
            self._http,
            self._path(game_id, "stream"),
            last_event_id=last_event_id,
            query={"playerId": player_id, "token": token},
            idle_timeout=idle_timeout,
            retry_initial=retry_initial,
            retry_max=retry_max,
            max_retries=max_retries,
        )
