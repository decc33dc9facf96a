"""client.sessions and client.stats against a real server."""

from __future__ import annotations

from serve_fixture import ServerTestCase

from savepoint_client import InvalidInput, NotFound, VersionConflict


class SessionsTest(ServerTestCase):
    def test_create_get_update_delete(self) -> None:
        created = self.client.sessions.create({"board": [0, 0]}, {"mode": "ranked"})
        session_id = created["sessionId"]
        self.assertEqual(len(session_id), 36)  # A UUID.
        self.assertEqual((created["status"], created["version"]), ("active", 1))
        self.assertEqual((created["state"], created["options"]), ({"board": [0, 0]}, {"mode": "ranked"}))
        self.assertEqual(self.client.sessions.get(session_id), created)

        updated = self.client.sessions.update(session_id, {"board": [1, 0]}, expected_version=1)
        self.assertEqual((updated["version"], updated["state"]), (2, {"board": [1, 0]}))
        with self.assertRaises(VersionConflict) as caught:
            self.client.sessions.update(session_id, {"board": [9, 9]}, expected_version=1)
        self.assertEqual(caught.exception.status, 412)
        done = self.client.sessions.update(session_id, {"board": [1, 1]}, status="completed")
        self.assertEqual((done["status"], done["version"]), ("completed", 3))

        self.assertTrue(self.client.sessions.delete(session_id, expected_version=3))
        self.assertIsNone(self.client.sessions.get(session_id))
        self.assertFalse(self.client.sessions.delete(session_id))

    def test_create_with_nothing_and_update_a_missing_one(self) -> None:
        created = self.client.sessions.create()
        self.assertEqual((created["state"], created["options"]), ({}, {}))
        with self.assertRaises(NotFound):
            self.client.sessions.update("00000000-0000-4000-8000-000000000000", {"x": 1})

    def test_list_pages_through_sessions_by_status(self) -> None:
        ids = {self.client.sessions.create({"i": i})["sessionId"] for i in range(3)}
        finished = self.client.sessions.create({"done": True})["sessionId"]
        self.client.sessions.update(finished, {"done": True}, status="completed")
        seen: list[str] = []
        cursor = None
        while True:
            page = self.client.sessions.list(status="active", limit=2, cursor=cursor)
            self.assertLessEqual(len(page["items"]), 2)
            self.assertTrue(all(item["status"] == "active" for item in page["items"]))
            seen.extend(item["sessionId"] for item in page["items"])
            cursor = page["nextCursor"]
            if cursor is None:
                break
        self.assertTrue(ids <= set(seen))
        self.assertNotIn(finished, seen)
        self.assertEqual(seen, sorted(seen))
        completed = self.client.sessions.list(status="completed", limit=1000)
        self.assertIn(finished, [item["sessionId"] for item in completed["items"]])


class StatsTest(ServerTestCase):
    def test_record_summary_reset(self) -> None:
        self.client.stats.reset()
        session = self.client.sessions.create()["sessionId"]
        self.client.stats.record("win", session_id=session, moves=10, duration_ms=1000, metrics={"score": 5})
        self.client.stats.record("win", moves=20, metrics={"score": 15})
        self.client.stats.record("loss", moves=30)
        summary = self.client.stats.summary()
        self.assertEqual(summary["gamesRecorded"], 3)
        self.assertEqual(summary["outcomes"], {"win": 2, "loss": 1})
        moves = summary["metrics"]["moves"]
        self.assertEqual((moves["count"], moves["mean"], moves["min"], moves["max"]), (3, 20, 10, 30))
        self.assertEqual(summary["metrics"]["score"]["count"], 2)
        self.assertEqual(summary["metrics"]["durationMs"]["max"], 1000)
        self.assertGreaterEqual(summary["sessions"]["created"], 1)

        self.client.stats.reset()
        after = self.client.stats.summary()
        self.assertEqual((after["gamesRecorded"], after["outcomes"], after["metrics"]), (0, {}, {}))

    def test_a_bad_record_is_invalid_input_and_counts_nothing(self) -> None:
        before = self.client.stats.summary()["gamesRecorded"]
        with self.assertRaises(InvalidInput):
            self.client.stats.record("", moves=1)
        self.assertEqual(self.client.stats.summary()["gamesRecorded"], before)
