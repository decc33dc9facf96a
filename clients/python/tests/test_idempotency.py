"""Idempotency keys against a real server: a reconnect whose answer is lost, retried with the same
key, gets the same answer (new token included) instead of losing the seat.

These need a server that stores and replays answers by ``Idempotency-Key``. A probe asks the
server first; without that support the class is skipped, saying why, unless
``SAVEPOINT_REQUIRE_IDEMPOTENCY=1``, which makes the missing support a failure.
"""

from __future__ import annotations

import os
import secrets
import unittest

from fake_server import FakeServer, forward
from serve_fixture import ServerTestCase, unique

from savepoint_client import Client


def replays_idempotent_requests(client: Client) -> bool:
    """True when a repeated write with the same key is answered from the store (``Idempotent-Replayed: true``)."""
    key = f"probe-{secrets.token_hex(8)}"
    collection = unique("idempotency-probe")
    first = client.request("PUT", f"/v1/docs/{collection}/probe", body={"value": 1}, idempotency_key=key)
    again = client.request("PUT", f"/v1/docs/{collection}/probe", body={"value": 1}, idempotency_key=key)
    client.docs.delete(collection, "probe")
    return first.headers.get("idempotent-replayed") is None and again.headers.get("idempotent-replayed") == "true"


class ReconnectRetry(ServerTestCase):
    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        if not replays_idempotent_requests(cls.client):
            message = "the server does not replay Idempotency-Key requests (no Idempotent-Replayed: true)"
            if os.environ.get("SAVEPOINT_REQUIRE_IDEMPOTENCY") == "1":
                raise AssertionError(message)
            raise unittest.SkipTest(message)

    def setUp(self) -> None:
        self.game = unique("idem")
        self.client.games.persist(self.game, {"turn": 1}, players=["ada"])
        self.client.games.append_events(self.game, [{"type": "deal"}])
        self.token = self.client.games.connection_token(self.game, "ada")["token"]

    def test_a_reconnect_whose_answer_is_lost_is_retried_and_gets_the_same_new_token(self) -> None:
        # The first attempt reaches the server (the token is spent, a new one issued), but its
        # answer never reaches the client; the client sends it again with the same key.
        proxy = FakeServer([forward(self.server.url, lose_answer=True), forward(self.server.url, lose_answer=False)])
        self.addCleanup(proxy.close)
        player = Client(proxy.url, retry_backoff=0.01)
        answer = player.games.reconnect(self.game, "ada", self.token, idempotency_key="reconnect-ada-1")
        self.assertEqual([seen.headers["idempotency-key"] for seen in proxy.seen], ["reconnect-ada-1"] * 2)
        self.assertEqual([event["type"] for event in answer["missedEvents"]], ["deal"])
        # The token in the replayed answer is the live one: it reconnects (and nothing else does).
        again = Client(self.server.url).games.reconnect(self.game, "ada", answer["reconnectToken"])
        self.assertTrue(again["success"])

    def test_a_repeat_with_the_same_key_gets_the_same_answer(self) -> None:
        player = Client(self.server.url)
        first = player.games.reconnect(self.game, "ada", self.token, idempotency_key="reconnect-ada-2")
        raw = player.request(
            "POST",
            f"/api/game/{self.game}/reconnect",
            body={"gameId": self.game, "playerId": "ada", "reconnectToken": self.token},
            idempotency_key="reconnect-ada-2",
        )
        self.assertEqual(raw.headers.get("idempotent-replayed"), "true")
        self.assertEqual(raw.body["reconnectToken"], first["reconnectToken"])
