"""client.leaderboards against a real server."""

from __future__ import annotations

from serve_fixture import ServerTestCase, unique

from savepoint_client import Client, NotFound, VersionConflict


class LeaderboardsTest(ServerTestCase):
    def test_define_submit_top_member_remove(self) -> None:
        board = unique("board")
        defined = self.client.leaderboards.define(board, order="desc", operator="best")
        self.assertEqual((defined["board"], defined["order"], defined["operator"]), (board, "desc", "best"))
        self.assertEqual(self.client.leaderboards.define(board, order="desc", operator="best"), defined)

        first = self.client.leaderboards.submit(board, "ada", 50, metadata={"deck": "red"})
        self.assertEqual((first["member"], first["score"], first["rank"]), ("ada", 50, 1))
        self.client.leaderboards.submit(board, "grace", 70)
        self.client.leaderboards.submit(board, "linus", 10)
        worse = self.client.leaderboards.submit(board, "ada", 20)  # best keeps 50
        self.assertEqual((worse["score"], worse["rank"]), (50, 2))

        top = self.client.leaderboards.top(board, limit=2)
        self.assertEqual(top["total"], 3)
        self.assertEqual(
            [(e["rank"], e["member"], e["score"]) for e in top["entries"]], [(1, "grace", 70), (2, "ada", 50)]
        )
        self.assertEqual(top["entries"][1]["metadata"], {"deck": "red"})
        self.assertEqual([e["member"] for e in self.client.leaderboards.top(board, offset=2)["entries"]], ["linus"])

        standing = self.client.leaderboards.member(board, "ada", around=1)
        self.assertEqual((standing["rank"], standing["score"]), (2, 50))
        self.assertEqual([e["member"] for e in standing["around"]], ["grace", "ada", "linus"])

        self.client.leaderboards.remove(board, "linus")
        with self.assertRaises(NotFound):
            self.client.leaderboards.member(board, "linus")

    def test_redefining_the_order_is_a_conflict(self) -> None:
        board = unique("fixed")
        self.client.leaderboards.define(board, order="asc", operator="set")
        with self.assertRaises(VersionConflict) as caught:
            self.client.leaderboards.define(board, order="desc", operator="set")
        self.assertEqual(caught.exception.status, 409)

    def test_daily_boards_name_their_period_and_reads_are_public(self) -> None:
        board = unique("daily")
        self.client.leaderboards.define(board, period="daily", operator="incr")
        self.client.leaderboards.submit(board, "ada", 3)
        answer = self.client.leaderboards.submit(board, "ada", 4)
        self.assertEqual(answer["score"], 7)
        period = answer["period"]
        assert period is not None
        self.assertRegex(period, r"^\d{4}-\d{2}-\d{2}$")
        public = Client(self.server.url)  # No key: leaderboard reads are public by default.
        self.assertEqual(public.leaderboards.top(board, period=period)["entries"][0]["score"], 7)
        self.assertEqual(public.leaderboards.top(board, period="2000-01-01")["total"], 0)
