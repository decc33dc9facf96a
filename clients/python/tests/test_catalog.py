"""client.catalog against a real server: reads, ETag revalidation, and a reseed seen through the cache."""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from pathlib import Path

from serve_fixture import MAIN, NODE, REPO_ROOT, ServerTestCase

from savepoint_client import Client, NotFound, Response


class CatalogTest(ServerTestCase):
    def setUp(self) -> None:
        self.answers: list[Response] = []
        # Public reads: no key needed.
        self.catalog_client = Client(self.server.url, on_response=self.answers.append)

    def statuses(self) -> list[int]:
        return [answer.status for answer in self.answers]

    def test_list_kind_and_record(self) -> None:
        overview = self.catalog_client.catalog.list()
        kinds = {kind["kind"]: kind for kind in overview["kinds"]}
        self.assertEqual((kinds["items"]["version"], kinds["items"]["count"]), ("1.0.0", 2))
        self.assertEqual(kinds["levels"]["version"], "2.1.0")
        items = self.catalog_client.catalog.kind("items")
        self.assertEqual((items["kind"], items["version"]), ("items", "1.0.0"))
        self.assertEqual([record["id"] for record in items["data"]], ["sword", "shield"])
        self.assertEqual(self.catalog_client.catalog.record("items", "sword"), {"id": "sword", "damage": 7})
        self.assertEqual(self.catalog_client.catalog.record("levels", 1)["name"], "meadow")
        with self.assertRaises(NotFound):
            self.catalog_client.catalog.record("items", "bow")
        with self.assertRaises(NotFound):
            self.catalog_client.catalog.kind("nothing-here")

    def test_a_second_read_sends_the_etag_and_serves_the_kept_body_on_304(self) -> None:
        first = self.catalog_client.catalog.kind("items")
        first["data"].clear()  # The caller's copy: the cache must not change with it.
        second = self.catalog_client.catalog.kind("items")
        self.assertEqual(self.statuses(), [200, 304])
        etag = self.answers[0].headers.get("etag")
        self.assertTrue(etag)
        self.assertEqual(self.answers[1].headers.get("etag"), etag)
        self.assertEqual(len(second["data"]), 2)
        self.assertEqual(self.catalog_client.catalog.record("items", "shield")["armor"], 3)
        self.assertEqual(self.catalog_client.catalog.record("items", "shield")["armor"], 3)
        self.assertEqual(self.statuses(), [200, 304, 200, 304])

    def test_clear_cache_reads_in_full_again(self) -> None:
        self.catalog_client.catalog.list()
        self.catalog_client.catalog.clear_cache()
        self.catalog_client.catalog.list()
        self.assertEqual(self.statuses(), [200, 200])

    def test_a_reseed_replaces_the_kept_body(self) -> None:
        with tempfile.TemporaryDirectory() as seed_dir:
            prices = Path(seed_dir) / "prices.json"

            def seed(version: str, gold: int) -> None:
                prices.write_text(
                    json.dumps(
                        {
                            "version": version,
                            "updated_at": "2026-02-01T00:00:00Z",
                            "data": [{"id": "gem", "gold": gold}],
                        }
                    )
                )
                subprocess.run(
                    [NODE, str(MAIN), "seed", seed_dir, "--data-dir", str(self.server.data_dir)],
                    cwd=REPO_ROOT,
                    check=True,
                    capture_output=True,
                )

            seed("1.0.0", 5)
            self.assertEqual(self.wait_for_price(5)["version"], "1.0.0")
            seed("1.1.0", 8)
            # Another process seeded: the server hears it through the change feed, within a second.
            self.assertEqual(self.wait_for_price(8)["version"], "1.1.0")
            self.assertEqual(self.catalog_client.catalog.kind("prices")["data"], [{"id": "gem", "gold": 8}])
            self.assertEqual(self.statuses()[-1], 304)

    def wait_for_price(self, gold: int) -> dict[str, object]:
        deadline = time.monotonic() + 10
        while True:
            try:
                kind = self.catalog_client.catalog.kind("prices")
                if kind["data"] == [{"id": "gem", "gold": gold}]:
                    return dict(kind)
            except NotFound:
                pass
            if time.monotonic() > deadline:
                self.fail(f"the catalog never showed gold={gold}")
            time.sleep(0.1)
