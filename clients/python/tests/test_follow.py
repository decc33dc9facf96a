"""client.games.follow: the SSE stream, live events, player tokens, close(), and a server restart."""

from __future__ import annotations

import queue
import shutil
import tempfile
import threading
from pathlib import Path

from serve_fixture import ServeProcess, ServerTestCase, unique

from savepoint_client import Client, EventStream, InvalidInput, NotFound, StreamEvent, TokenInvalid, Unauthorized

#: How long a test waits for an event before failing (a deadline, not a measurement).
WAIT = 30.0


class Consumer:
    """Iterates a stream on a thread, so the test can wait for events with a deadline."""

    def __init__(self, stream: EventStream) -> None:
        self.stream = stream
        self.events: queue.Queue[StreamEvent] = queue.Queue()
        self.error: BaseException | None = None
        self.finished = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for event in self.stream:
                self.events.put(event)
        except BaseException as error:  # noqa: BLE001 (handed to the test)
            self.error = error
        finally:
            self.finished.set()

    def take(self, count: int) -> list[StreamEvent]:
        taken = []
        for _ in range(count):
            try:
                taken.append(self.events.get(timeout=WAIT))
            except queue.Empty:
                raise AssertionError(f"no event within {WAIT}s after {taken} (error: {self.error!r})") from None
        return taken

    def stop(self) -> None:
        self.stream.close()
        if not self.finished.wait(WAIT):
            raise AssertionError("the stream did not stop after close()")


def seqs(events: list[StreamEvent]) -> list[int]:
    return [event.seq for event in events]


class FollowTest(ServerTestCase):
    def setUp(self) -> None:
        self.game = unique("follow")
        self.client.games.persist(self.game, {}, players=["ada"])

    def append(self, *types: str) -> None:
        self.client.games.append_events(self.game, [{"type": kind, "data": {"t": kind}} for kind in types])

    def test_replays_then_streams_live_events_in_order(self) -> None:
        self.append("deal", "bet")
        consumer = Consumer(self.client.games.follow(self.game))
        try:
            first = consumer.take(2)
            self.assertEqual(first, [StreamEvent(1, "deal", {"t": "deal"}), StreamEvent(2, "bet", {"t": "bet"})])
            self.append("call", "fold")
            self.assertEqual([(e.seq, e.type) for e in consumer.take(2)], [(3, "call"), (4, "fold")])
            self.assertEqual(consumer.stream.last_event_id, 4)
        finally:
            consumer.stop()
        self.assertIsNone(consumer.error)

    def test_starts_after_last_event_id(self) -> None:
        self.append("a", "b", "c")
        with self.client.games.follow(self.game, last_event_id=2) as stream:
            self.assertEqual(next(stream).seq, 3)

    def test_a_player_token_opens_the_stream_without_the_key(self) -> None:
        self.append("a")
        token = self.client.games.connection_token(self.game, "ada")["token"]
        player = Client(self.server.url)
        with player.games.follow(self.game, player_id="ada", token=token) as stream:
            self.assertEqual(next(stream).type, "a")
        # Checked, not spent: the token still reconnects.
        self.assertTrue(player.games.reconnect(self.game, "ada", token)["success"])

    def test_refusals_are_raised_not_retried(self) -> None:
        with self.assertRaises(NotFound):
            next(self.client.games.follow(unique("nogame")))
        with self.assertRaises(Unauthorized):
            next(Client(self.server.url).games.follow(self.game))
        with self.assertRaises(TokenInvalid):
            next(Client(self.server.url).games.follow(self.game, player_id="ada", token="not-a-real-token-00000"))
        with self.assertRaises(InvalidInput):
            next(self.client.games.follow(self.game, last_event_id=99))
        with self.assertRaises(ValueError):
            self.client.games.follow(self.game, player_id="ada")

    def test_close_from_another_thread_ends_a_waiting_iteration(self) -> None:
        consumer = Consumer(self.client.games.follow(self.game))
        self.append("only")
        consumer.take(1)
        consumer.stop()  # The consumer is blocked waiting for the next event.
        self.assertIsNone(consumer.error)
        self.assertTrue(consumer.stream.closed)

    def test_deleting_the_game_ends_the_stream_with_not_found(self) -> None:
        self.append("a")
        consumer = Consumer(self.client.games.follow(self.game, retry_initial=0.05))
        consumer.take(1)
        self.client.games.delete(self.game)
        self.assertTrue(consumer.finished.wait(WAIT))
        self.assertIsInstance(consumer.error, NotFound)


class FollowAcrossRestart(ServerTestCase):
    """``kill -9`` the server mid-stream and start it again on the same data dir and port."""

    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="savepoint-py-restart-"))
        self.key = "restart-key-0123456789"
        self.own = ServeProcess(self.tmp, env={"SAVEPOINT_API_KEY": self.key}).start()
        self.own_client = Client(self.own.url, api_key=self.key, timeout=15)

    def tearDown(self) -> None:
        self.own.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_the_iterator_resumes_after_a_restart_without_losing_or_repeating_events(self) -> None:
        games = self.own_client.games
        game = unique("restart")
        games.persist(game, {}, players=["ada"])
        games.append_events(game, [{"type": "e", "data": n} for n in (1, 2, 3)])
        consumer = Consumer(games.follow(game, retry_initial=0.05, retry_max=0.5))
        try:
            before = consumer.take(3)
            self.assertEqual(seqs(before), [1, 2, 3])

            self.own.kill()
            # Same data dir and port: the stream reconnects to the new process by itself.
            self.own = ServeProcess(self.tmp, port=self.own.port, env={"SAVEPOINT_API_KEY": self.key}).start()
            games.append_events(game, [{"type": "e", "data": n} for n in (4, 5)])
            after = consumer.take(2)
            self.assertEqual(seqs(after), [4, 5])
            self.assertEqual([event.data for event in before + after], [1, 2, 3, 4, 5])
            self.assertGreaterEqual(consumer.stream.reconnects, 1)

            # Nothing repeated: the next event is the next seq, not a replay of one already seen.
            games.append_events(game, [{"type": "e", "data": 6}])
            self.assertEqual(seqs(consumer.take(1)), [6])
            self.assertTrue(consumer.events.empty())
        finally:
            consumer.stop()
        self.assertIsNone(consumer.error)

    def test_a_new_stream_from_last_event_id_gets_what_was_written_in_between(self) -> None:
        games = self.own_client.games
        game = unique("resume")
        games.persist(game, {})
        games.append_events(game, [{"type": "e", "data": 1}, {"type": "e", "data": 2}])
        with games.follow(game) as stream:
            self.assertEqual([next(stream).seq, next(stream).seq], [1, 2])
            resume_from = stream.last_event_id
        self.own.kill()
        self.own = ServeProcess(self.tmp, port=self.own.port, env={"SAVEPOINT_API_KEY": self.key}).start()
        games.append_events(game, [{"type": "e", "data": n} for n in (3, 4)])
        with games.follow(game, last_event_id=resume_from) as stream:
            self.assertEqual([(event.seq, event.data) for event in (next(stream), next(stream))], [(3, 3), (4, 4)])
