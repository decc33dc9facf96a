"""The Client itself against a real server: health, raw requests, the answer hook, sharing between threads."""

from __future__ import annotations

import threading

from serve_fixture import ServerTestCase, unique

from savepoint_client import Client, NotFound, Response


class ClientTest(ServerTestCase):
    def test_health(self) -> None:
        health = self.client.health()
        self.assertEqual((health["status"], health["driver"]), ("ok", "sqlite"))
        self.assertTrue(health["storage"]["ok"])

    def test_request_reaches_endpoints_without_a_method_here(self) -> None:
        user = unique("player")
        lifetime = self.client.request("GET", f"/v1/players/{user}/lifetime")
        self.assertEqual(lifetime.status, 200)
        self.assertEqual(lifetime.body, {"user": user, "totalWins": 0, "matchesPlayed": 0, "trophies": []})
        saved = self.client.request("PUT", f"/v1/players/{user}/saves/1", body={"state": {"level": 3}})
        self.assertEqual(saved.headers.get("etag"), '"1"')
        with self.assertRaises(NotFound):
            self.client.request("GET", f"/v1/players/{user}/saves/2")

    def test_on_response_sees_every_answer_errors_included(self) -> None:
        seen: list[Response] = []
        client = Client(self.server.url, api_key=self.api_key, on_response=seen.append)
        client.docs.put(unique("hook"), "k", 1)
        self.assertIsNone(client.docs.get(unique("hook"), "k"))
        self.assertEqual([answer.status for answer in seen], [201, 404])
        self.assertEqual(seen[1].body["code"], "NOT_FOUND")

    def test_one_client_shared_by_threads(self) -> None:
        collection = unique("shared")
        self.client.docs.put(collection, "counter", {"n": 0})
        errors: list[BaseException] = []

        def bump() -> None:
            try:
                for _ in range(10):
                    self.client.docs.patch(collection, "counter", {"$inc": {"n": 1}})
            except BaseException as error:  # noqa: BLE001 (reported below)
                errors.append(error)

        threads = [threading.Thread(target=bump) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        self.assertEqual(errors, [])
        counter = self.client.docs.get(collection, "counter")
        assert counter is not None
        self.assertEqual((counter["value"], counter["version"]), ({"n": 60}, 61))
