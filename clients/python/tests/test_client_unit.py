"""The client's own behaviour against a scripted server: error mapping, retries, SSE parsing and
resumption. (Everything else runs against a real server.)"""

from __future__ import annotations

import json
import threading
import unittest

import serve_fixture  # noqa: F401  (puts the package on sys.path)
from fake_server import FakeServer, Step, answer, drop, stream

from savepoint_client import (
    Client,
    InternalError,
    NotFound,
    RateLimited,
    SavepointConnectionError,
    SavepointError,
    StorageUnavailable,
    StreamEvent,
    TokenExpired,
    VersionConflict,
)
from savepoint_client.errors import error_for

CODES = {
    "INVALID_INPUT": 400,
    "OUT_OF_BOUNDS": 400,
    "UNAUTHORIZED": 401,
    "TOKEN_INVALID": 401,
    "TOKEN_EXPIRED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "VERSION_CONFLICT": 409,
    "SEAT_TAKEN": 409,
    "LEASE_HELD": 409,
    "LEASE_LOST": 409,
    "ALREADY_CLOSED": 409,
    "IDEMPOTENCY_IN_FLIGHT": 409,
    "IDEMPOTENCY_KEY_REUSED": 422,
    "GAME_COMPLETED": 410,
    "PAYLOAD_TOO_LARGE": 413,
    "CORRUPT_DATA": 422,
    "RATE_LIMITED": 429,
    "STORAGE_UNAVAILABLE": 503,
    "STORAGE_FULL": 507,
    "INTERNAL": 500,
}


def problem(status: int, code: str, detail: str = "what happened") -> bytes:
    return json.dumps(
        {"type": f"urn:savepoint:error:{code}", "title": "t", "status": status, "code": code, "detail": detail}
    ).encode()


class ScriptedTest(unittest.TestCase):
    def serve(self, *steps: Step) -> FakeServer:
        server = FakeServer(list(steps))
        self.addCleanup(server.close)
        return server


class Errors(ScriptedTest):
    def test_every_code_has_its_own_subclass(self) -> None:
        classes = set()
        for code, status in CODES.items():
            error = error_for(status, {"code": code, "detail": "d"})
            self.assertIsInstance(error, SavepointError)
            self.assertIsNot(type(error), SavepointError, code)
            self.assertEqual((error.CODE, error.code, error.status, error.detail), (code, code, status, "d"))
            classes.add(type(error))
        self.assertEqual(len(classes), len(CODES))

    def test_an_unknown_code_is_the_base_class(self) -> None:
        error = error_for(418, {"code": "TEAPOT", "detail": "short and stout"})
        self.assertIs(type(error), SavepointError)
        self.assertEqual(str(error), "418 TEAPOT: short and stout")

    def test_the_problem_document_rides_along(self) -> None:
        server = self.serve(answer(401, problem(401, "TOKEN_EXPIRED", "expired at noon"), "application/problem+json"))
        with self.assertRaises(TokenExpired) as caught:
            Client(server.url).games.reconnect("g", "ada", "t")
        self.assertEqual((caught.exception.status, caught.exception.detail), (401, "expired at noon"))
        self.assertEqual(caught.exception.problem["type"], "urn:savepoint:error:TOKEN_EXPIRED")

    def test_a_proxy_error_page_is_internal_with_its_status(self) -> None:
        server = self.serve(answer(502, b"<html>Bad Gateway</html>", "text/html"))
        with self.assertRaises(InternalError) as caught:
            Client(server.url).games.restore("g")
        self.assertEqual((caught.exception.status, caught.exception.code), (502, "INTERNAL"))
        self.assertIn("Bad Gateway", caught.exception.detail)

    def test_retry_after_is_read(self) -> None:
        server = self.serve(answer(429, problem(429, "RATE_LIMITED"), Retry_After="3"))
        with self.assertRaises(RateLimited) as caught:
            Client(server.url).games.reconnect("g", "ada", "t")
        self.assertEqual(caught.exception.retry_after, 3.0)


class Requests(ScriptedTest):
    def test_key_prefix_query_and_body_go_out_as_documented(self) -> None:
        server = self.serve(answer(200, b'{"items": [], "nextCursor": null}'), answer(200, b"{}"))
        client = Client(server.url + "/savepoint/", api_key="k1")
        client.sessions.list(status="active", limit=5)
        client.docs.put("c", "a:b", {"n": 1}, expected_version=4, idempotency_key="op-1")
        listed, put = server.seen
        self.assertEqual(listed.path, "/savepoint/v1/sessions?status=active&limit=5")
        self.assertEqual(listed.headers["authorization"], "Bearer k1")
        self.assertEqual((put.method, put.path), ("PUT", "/savepoint/v1/docs/c/a%3Ab"))
        self.assertEqual((put.headers["if-match"], put.headers["idempotency-key"]), ('"4"', "op-1"))
        self.assertEqual(json.loads(put.body), {"value": {"n": 1}})

    def test_a_write_with_an_idempotency_key_is_retried_with_the_same_key_after_a_lost_answer(self) -> None:
        server = self.serve(drop, drop, answer(200, b'{"success": true, "reconnectToken": "new"}'))
        client = Client(server.url, retry_backoff=0.01)
        result = client.games.reconnect("g", "ada", "old", idempotency_key="rc-1")
        self.assertEqual(result["reconnectToken"], "new")
        self.assertEqual([seen.headers.get("idempotency-key") for seen in server.seen], ["rc-1"] * 3)
        self.assertEqual(len({seen.body for seen in server.seen}), 1)

    def test_a_write_without_a_key_is_sent_once(self) -> None:
        server = self.serve(drop, answer(200, b"{}"))
        with self.assertRaises(SavepointConnectionError):
            Client(server.url, retry_backoff=0.01).games.append_events("g", [{"type": "x"}])
        self.assertEqual(len(server.seen), 1)

    def test_reads_are_retried_and_retries_run_out(self) -> None:
        server = self.serve(drop, answer(200, b'{"ok": 1}'))
        self.assertEqual(Client(server.url, retry_backoff=0.01).request("GET", "/x").body, {"ok": 1})
        server = self.serve(drop, drop, drop)
        with self.assertRaises(SavepointConnectionError):
            Client(server.url, retries=1, retry_backoff=0.01).request("GET", "/x")
        self.assertEqual(len(server.seen), 2)

    def test_a_key_still_in_flight_is_retried(self) -> None:
        server = self.serve(answer(409, problem(409, "IDEMPOTENCY_IN_FLIGHT")), answer(200, b'{"firstSeq": 1}'))
        answered = Client(server.url, retry_backoff=0.01).games.append_events("g", [{"type": "x"}], idempotency_key="k")
        self.assertEqual(answered["firstSeq"], 1)

    def test_a_conflict_is_not_retried(self) -> None:
        server = self.serve(answer(409, problem(409, "VERSION_CONFLICT")), answer(200, b"{}"))
        with self.assertRaises(VersionConflict):
            Client(server.url).games.append_events("g", [{"type": "x"}], idempotency_key="k")
        self.assertEqual(len(server.seen), 1)

    def test_a_server_that_does_not_answer_in_time_is_a_connection_error(self) -> None:
        release = threading.Event()
        self.addCleanup(release.set)
        server = self.serve(stream(then_hold=release))  # Headers, then silence.
        with self.assertRaises(SavepointConnectionError):
            Client(server.url, timeout=0.5, retries=0).request("GET", "/slow")
        self.assertEqual(len(server.seen), 1)

    def test_nan_is_refused_before_sending(self) -> None:
        server = self.serve()
        with self.assertRaises(ValueError):
            Client(server.url).stats.record("win", moves=float("nan"))
        self.assertEqual(server.seen, [])


class Stream(ScriptedTest):
    def test_resumes_with_last_event_id_skips_repeats_and_parses_every_line_ending(self) -> None:
        server = self.serve(
            # Two events, then a frame cut off by the dropped connection: it must not be yielded.
            stream(
                b': stream open\n\nid: 1\nevent: a\ndata: 1\n\nid: 2\nevent: b\ndata: {"x":\n',
                b"data: 2}\n\nid: 3\nevent: c\n",
            ),
            answer(503, problem(503, "STORAGE_UNAVAILABLE"), "application/problem+json", Retry_After="0"),
            # The replay repeats seq 2 (it must be skipped); CRLF and CR line endings; multi-line data.
            stream(
                b'id: 2\r\nevent: b\r\ndata: {"x": 2}\r\n\r\nid: 3\revent: c\rdata: [1,\rdata: 2]\r\r',
                b"id: 4\nevent: d\ndata: null\n\n",
            ),
        )
        events = Client(server.url, api_key="k").games.follow("g", retry_initial=0.01)
        got = [next(events) for _ in range(4)]
        events.close()
        self.assertEqual(
            got,
            [
                StreamEvent(1, "a", 1),
                StreamEvent(2, "b", {"x": 2}),
                StreamEvent(3, "c", [1, 2]),
                StreamEvent(4, "d", None),
            ],
        )
        self.assertEqual([seen.headers.get("last-event-id") for seen in server.seen], [None, "2", "2"])
        self.assertEqual([seen.path for seen in server.seen], ["/api/game/g/stream"] * 3)
        self.assertEqual(events.reconnects, 1)  # The 503 attempt did not open it.
        self.assertEqual(events.last_event_id, 4)

    def test_a_stalled_connection_is_dropped_after_idle_timeout(self) -> None:
        release = threading.Event()
        self.addCleanup(release.set)
        server = self.serve(
            stream(b"id: 7\nevent: a\ndata: 0\n\n", then_hold=release), stream(b"id: 8\nevent: b\ndata: 0\n\n")
        )
        events = Client(server.url).games.follow("g", last_event_id=6, idle_timeout=1.0, retry_initial=0.01)
        self.assertEqual([next(events).seq, next(events).seq], [7, 8])
        events.close()
        self.assertEqual([seen.headers.get("last-event-id") for seen in server.seen], ["6", "7"])

    def test_an_error_frame_is_raised_by_its_code(self) -> None:
        frame = b"event: error\ndata: " + problem(404, "NOT_FOUND", "gone") + b"\n\n"
        server = self.serve(stream(b"id: 1\nevent: a\ndata: 0\n\n" + frame))
        events = Client(server.url).games.follow("g")
        self.assertEqual(next(events).seq, 1)
        with self.assertRaises(NotFound):
            next(events)

    def test_max_retries_gives_up_with_the_last_error(self) -> None:
        unavailable = answer(503, problem(503, "STORAGE_UNAVAILABLE"), "application/problem+json")
        server = self.serve(unavailable, unavailable, unavailable, unavailable)
        with self.assertRaises(StorageUnavailable):
            next(Client(server.url).games.follow("g", retry_initial=0.01, max_retries=2))
        self.assertEqual(len(server.seen), 3)

    def test_close_before_iterating_ends_at_once(self) -> None:
        server = self.serve()
        events = Client(server.url).games.follow("g")
        events.close()
        self.assertEqual(list(events), [])
        self.assertEqual(server.seen, [])
