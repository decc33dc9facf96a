"""client.docs and client.leases against a real server."""

from __future__ import annotations

from serve_fixture import ServerTestCase, unique

from savepoint_client import KEEP, Forbidden, LeaseHeld, LeaseLost, NotFound, VersionConflict


class DocumentsTest(ServerTestCase):
    def test_put_get_patch_delete_with_versions(self) -> None:
        collection, key = unique("profiles"), "p1"
        created = self.client.docs.put(collection, key, {"name": "Ada", "logins": 0})
        self.assertEqual(
            (created["version"], created["value"], created["expiresAt"]), (1, {"name": "Ada", "logins": 0}, None)
        )
        self.assertEqual(self.client.docs.get(collection, key), created)

        patched = self.client.docs.patch(
            collection,
            key,
            {"$inc": {"logins": 1}, "$set": {"stats.wins": 2}, "$push": {"tags": "new"}},
            expected_version=1,
        )
        self.assertEqual(patched["version"], 2)
        self.assertEqual(patched["value"], {"name": "Ada", "logins": 1, "stats": {"wins": 2}, "tags": ["new"]})

        with self.assertRaises(VersionConflict) as stale:
            self.client.docs.put(collection, key, {"name": "Eve"}, expected_version=1)
        self.assertEqual((stale.exception.status, stale.exception.code), (412, "VERSION_CONFLICT"))
        with self.assertRaises(VersionConflict):
            self.client.docs.put(collection, key, {"name": "Eve"}, create_only=True)
        replaced = self.client.docs.put(collection, key, {"name": "Ada L."}, expected_version=2)
        self.assertEqual(replaced["version"], 3)

        with self.assertRaises(VersionConflict):
            self.client.docs.delete(collection, key, expected_version=2)
        self.assertTrue(self.client.docs.delete(collection, key, expected_version=3))
        self.assertIsNone(self.client.docs.get(collection, key))
        self.assertFalse(self.client.docs.delete(collection, key))

    def test_json_null_is_a_value_and_ttls_set_keep_and_clear(self) -> None:
        collection = unique("ttl")
        self.assertIsNone(self.client.docs.put(collection, "nothing", None)["value"])
        expiring = self.client.docs.put(collection, "k", {"n": 1}, ttl="1h")
        self.assertIsNotNone(expiring["expiresAt"])
        kept = self.client.docs.patch(collection, "k", {"$inc": {"n": 1}}, ttl=KEEP)
        self.assertEqual(kept["expiresAt"], expiring["expiresAt"])
        cleared = self.client.docs.patch(collection, "k", {"$inc": {"n": 1}}, ttl=None)
        self.assertIsNone(cleared["expiresAt"])

    def test_patch_needs_upsert_for_a_missing_document(self) -> None:
        collection = unique("upsert")
        with self.assertRaises(NotFound):
            self.client.docs.patch(collection, "k", {"$inc": {"n": 1}})
        self.assertEqual(self.client.docs.patch(collection, "k", {"$inc": {"n": 1}}, upsert=True)["value"], {"n": 1})

    def test_list_and_get_many(self) -> None:
        collection = unique("list")
        for key in ("a1", "a2", "a3", "b1"):
            self.client.docs.put(collection, key, {"key": key})
        page = self.client.docs.list(collection, prefix="a", limit=2)
        self.assertEqual([item["key"] for item in page["items"]], ["a1", "a2"])
        assert page["nextCursor"] is not None
        rest = self.client.docs.list(collection, prefix="a", cursor=page["nextCursor"])
        self.assertEqual(([item["key"] for item in rest["items"]], rest["nextCursor"]), (["a3"], None))
        many = self.client.docs.get_many(collection, ["b1", "missing", "a2"])
        self.assertEqual([item["key"] for item in many], ["b1", "a2"])
        self.assertEqual(self.client.docs.get_many(collection, []), [])

    def test_commit_is_all_or_nothing(self) -> None:
        collection = unique("commit")
        answer = self.client.docs.commit(
            [
                {"op": "put", "collection": collection, "key": "x", "value": {"n": 1}},
                {"op": "patch", "collection": collection, "key": "y", "patch": {"$inc": {"n": 2}}, "upsert": True},
            ]
        )
        self.assertEqual([result["op"] for result in answer["results"]], ["put", "patch"])
        with self.assertRaises(VersionConflict) as caught:
            self.client.docs.commit(
                [
                    {"op": "put", "collection": collection, "key": "z", "value": 1},
                    {"op": "delete", "collection": collection, "key": "x", "expectedVersion": 7},
                ]
            )
        self.assertEqual((caught.exception.status, caught.exception.problem.get("opIndex")), (409, 1))
        self.assertIsNone(self.client.docs.get(collection, "z"))
        self.assertIsNotNone(self.client.docs.get(collection, "x"))

    def test_a_collection_a_module_owns_is_forbidden(self) -> None:
        with self.assertRaises(Forbidden) as caught:
            self.client.docs.put("session", "anything", {})
        self.assertEqual(caught.exception.status, 403)


class LeasesTest(ServerTestCase):
    def test_acquire_renew_release_get(self) -> None:
        name = unique("lease")
        self.assertIsNone(self.client.leases.get(name))
        lease = self.client.leases.acquire(name, "worker-1", ttl="10s")
        self.assertEqual((lease["name"], lease["holder"]), (name, "worker-1"))
        self.assertGreaterEqual(lease["fence"], 1)
        self.assertEqual(self.client.leases.get(name), lease)

        with self.assertRaises(LeaseHeld) as held:
            self.client.leases.acquire(name, "worker-2")
        self.assertEqual((held.exception.status, held.exception.code), (409, "LEASE_HELD"))

        renewed = self.client.leases.renew(name, "worker-1", lease["fence"], ttl="20s")
        self.assertEqual(renewed["fence"], lease["fence"])
        self.assertGreater(renewed["expiresAt"], lease["expiresAt"])

        with self.assertRaises(LeaseLost):
            self.client.leases.release(name, "worker-2", lease["fence"])
        self.client.leases.release(name, "worker-1", lease["fence"])
        self.assertIsNone(self.client.leases.get(name))
        again = self.client.leases.acquire(name, "worker-2")
        self.assertGreater(again["fence"], lease["fence"])
        with self.assertRaises(LeaseLost):
            self.client.leases.renew(name, "worker-1", lease["fence"])
