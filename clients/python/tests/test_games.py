"""client.games against a real server: persist, events, restore, tokens, reconnect, delete."""

from __future__ import annotations

from serve_fixture import ServerTestCase, unique

from savepoint_client import (
    Client,
    Forbidden,
    GameCompleted,
    InvalidInput,
    NotFound,
    SavepointError,
    SeatTaken,
    TokenInvalid,
    Unauthorized,
    VersionConflict,
)


class PersistAndRestore(ServerTestCase):
    def test_persist_creates_then_replaces_and_restore_reads_it_back(self) -> None:
        game = unique("persist")
        first = self.client.games.persist(game, {"pot": 40}, players=["ada", "grace"], phase="flop")
        self.assertEqual((first["success"], first["version"]), (True, 1))
        second = self.client.games.persist(game, {"pot": 60}, expected_version=1)
        self.assertEqual(second["version"], 2)
        record = self.client.games.restore(game)
        self.assertEqual(record["gameId"], game)
        self.assertEqual(record["state"], {"pot": 60})
        self.assertEqual(record["players"], ["ada", "grace"])  # Kept: not sent the second time.
        self.assertEqual(record["phase"], "flop")
        self.assertEqual((record["status"], record["version"], record["lastSeq"]), ("active", 2, 0))

    def test_a_stale_expected_version_is_a_409_conflict_and_force_overwrite_writes(self) -> None:
        game = unique("stale")
        self.client.games.persist(game, {"n": 1})
        self.client.games.persist(game, {"n": 2})
        with self.assertRaises(VersionConflict) as caught:
            self.client.games.persist(game, {"n": 3}, expected_version=1)
        self.assertEqual((caught.exception.status, caught.exception.code), (409, "VERSION_CONFLICT"))
        self.assertEqual(self.client.games.restore(game)["state"], {"n": 2})
        forced = self.client.games.persist(game, {"n": 3}, expected_version=1, force_overwrite=True)
        self.assertEqual(forced["version"], 3)

    def test_if_match_and_create_only_are_headers_answering_412(self) -> None:
        game = unique("headers")
        self.client.games.persist(game, {"n": 1}, create_only=True)
        with self.assertRaises(VersionConflict) as again:
            self.client.games.persist(game, {"n": 2}, create_only=True)
        self.assertEqual(again.exception.status, 412)
        with self.assertRaises(VersionConflict) as stale:
            self.client.games.persist(game, {"n": 2}, if_match=5)
        self.assertEqual(stale.exception.status, 412)
        self.assertEqual(self.client.games.persist(game, {"n": 2}, if_match=1)["version"], 2)

    def test_restore_of_a_missing_game_raises_not_found_with_the_problem(self) -> None:
        with self.assertRaises(NotFound) as caught:
            self.client.games.restore(unique("missing"))
        error = caught.exception
        self.assertIsInstance(error, SavepointError)
        self.assertEqual((error.status, error.code), (404, "NOT_FOUND"))
        self.assertTrue(error.detail)
        self.assertEqual(error.problem["type"], "urn:savepoint:error:NOT_FOUND")
        self.assertEqual(error.title, "Not found")

    def test_delete_removes_the_game_and_says_whether_there_was_one(self) -> None:
        game = unique("delete")
        self.client.games.persist(game, {"n": 1})
        self.assertTrue(self.client.games.delete(game))
        self.assertFalse(self.client.games.delete(game))
        with self.assertRaises(NotFound):
            self.client.games.restore(game)


class Events(ServerTestCase):
    def test_append_events_with_a_snapshot_then_read_them_in_pages(self) -> None:
        game = unique("events")
        self.client.games.persist(game, {"pot": 0}, players=["ada"])
        appended = self.client.games.append_events(
            game,
            [{"type": "bet", "data": {"chips": 10}}, {"type": "fold"}],
            state={"pot": 10},
            phase="turn",
            expected_seq=0,
        )
        self.assertEqual((appended["firstSeq"], appended["lastSeq"], appended["version"]), (1, 2, 2))
        more = self.client.games.append_events(game, [{"type": "check", "data": None}], expected_seq=2)
        self.assertEqual((more["firstSeq"], more["lastSeq"]), (3, 3))
        events = self.client.games.events(game)
        self.assertEqual(
            [(e["seq"], e["type"], e["data"]) for e in events],
            [
                (1, "bet", {"chips": 10}),
                (2, "fold", None),
                (3, "check", None),
            ],
        )
        self.assertTrue(all(isinstance(e["at"], str) for e in events))
        self.assertEqual([e["seq"] for e in self.client.games.events(game, after=1, limit=1)], [2])
        record = self.client.games.restore(game)
        self.assertEqual((record["state"], record["phase"], record["lastSeq"]), ({"pot": 10}, "turn", 3))

    def test_a_stale_expected_seq_writes_nothing(self) -> None:
        game = unique("seq")
        self.client.games.persist(game, {})
        self.client.games.append_events(game, [{"type": "a"}])
        with self.assertRaises(VersionConflict) as caught:
            self.client.games.append_events(game, [{"type": "b"}], expected_seq=0)
        self.assertEqual(caught.exception.status, 409)
        self.assertEqual([e["type"] for e in self.client.games.events(game)], ["a"])


class Reconnect(ServerTestCase):
    def setUp(self) -> None:
        self.game = unique("seat")
        self.client.games.persist(self.game, {"turn": "ada"}, players=["ada", "grace"])
        self.client.games.append_events(self.game, [{"type": "deal"}, {"type": "bet", "data": 5}])

    def test_connection_token_then_reconnect_rotates_the_token_and_replays_missed_events(self) -> None:
        issued = self.client.games.connection_token(self.game, "ada")
        self.assertEqual(issued["playerId"], "ada")
        self.assertGreaterEqual(len(issued["token"]), 22)  # At least 128 bits, encoded.
        # The token is the credential: a client without the API key can reconnect.
        player = Client(self.server.url)
        answer = player.games.reconnect(self.game, "ada", issued["token"], last_event_seq=1)
        self.assertTrue(answer["success"])
        self.assertEqual(answer["gameState"]["state"], {"turn": "ada"})
        self.assertEqual([(e["seq"], e["type"], e["data"]) for e in answer["missedEvents"]], [(2, "bet", 5)])
        self.assertNotEqual(answer["reconnectToken"], issued["token"])
        everything = player.games.reconnect(self.game, "ada", answer["reconnectToken"])
        self.assertEqual([e["seq"] for e in everything["missedEvents"]], [1, 2])

    def test_the_spent_token_loses_the_seat(self) -> None:
        issued = self.client.games.connection_token(self.game, "grace")
        self.client.games.reconnect(self.game, "grace", issued["token"])
        # Within the seat-race window (2 s) the old token counts as a concurrent claim that lost
        # (409 SEAT_TAKEN); after it, as spent (401 TOKEN_INVALID). A slow machine may see either.
        with self.assertRaises((SeatTaken, TokenInvalid)) as caught:
            self.client.games.reconnect(self.game, "grace", issued["token"])
        expected = {SeatTaken: (409, "SEAT_TAKEN"), TokenInvalid: (401, "TOKEN_INVALID")}
        error = caught.exception
        self.assertEqual((error.status, error.code), expected[type(error)])

    def test_an_unknown_token_is_token_invalid(self) -> None:
        with self.assertRaises(TokenInvalid) as caught:
            self.client.games.reconnect(self.game, "ada", "not-a-token-at-all-0123456789")
        self.assertEqual((caught.exception.status, caught.exception.code), (401, "TOKEN_INVALID"))

    def test_a_token_for_someone_not_seated_is_forbidden(self) -> None:
        with self.assertRaises(Forbidden) as caught:
            self.client.games.connection_token(self.game, "mallory")
        self.assertEqual((caught.exception.status, caught.exception.code), (403, "FORBIDDEN"))

    def test_a_completed_game_gives_no_tokens(self) -> None:
        self.client.games.persist(self.game, {"winner": "ada"}, status="completed")
        with self.assertRaises(GameCompleted) as caught:
            self.client.games.connection_token(self.game, "ada")
        self.assertEqual((caught.exception.status, caught.exception.code), (410, "GAME_COMPLETED"))
        with self.assertRaises(GameCompleted):
            self.client.games.append_events(self.game, [{"type": "late"}])


class Authentication(ServerTestCase):
    def test_a_call_without_the_key_is_unauthorized(self) -> None:
        with self.assertRaises(Unauthorized) as caught:
            Client(self.server.url).games.persist(unique("nokey"), {})
        self.assertEqual((caught.exception.status, caught.exception.code), (401, "UNAUTHORIZED"))

    def test_a_wrong_key_is_unauthorized(self) -> None:
        with self.assertRaises(Unauthorized):
            Client(self.server.url, api_key="wrong").games.restore(unique("wrongkey"))

    def test_an_invalid_game_id_is_invalid_input(self) -> None:
        with self.assertRaises(InvalidInput) as caught:
            self.client.games.persist("no spaces allowed", {})
        self.assertEqual((caught.exception.status, caught.exception.code), (400, "INVALID_INPUT"))
        self.assertIn("gameId", caught.exception.detail + str(caught.exception.problem.get("errors")))
