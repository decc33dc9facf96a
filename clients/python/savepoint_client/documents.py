"""Documents (``/v1/docs``, ``/v1/commit``): versioned JSON values by collection and key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, cast

from ._transport import Transport, condition_headers, segment
from .errors import NotFound
from .types import CommitAnswer, DocumentPage, DocumentRecord

__all__ = ["KEEP", "Documents"]


class _Keep:
    """The type of :data:`KEEP`."""

    def __repr__(self) -> str:
        return "KEEP"


#: ``ttl=KEEP`` on a patch leaves the document's expiry as it is (``None`` clears it).
KEEP: Final = _Keep()


class Documents:
    """``client.docs``: read, write, patch and delete documents, and commit several at once.

    ``expected_version`` is sent as ``If-Match: "<version>"``: when the document is at another
    version nothing is written and :class:`VersionConflict` is raised with status 412.
    ``create_only`` (``If-None-Match: *``) does the same when the document exists.
    """

    def __init__(self, transport: Transport) -> None:
        self._http = transport

    @staticmethod
    def _path(collection: str, key: str) -> str:
        return f"/v1/docs/{segment(collection)}/{segment(key)}"

    def get(self, collection: str, key: str) -> DocumentRecord | None:
        """The document (``{collection, key, value, version, ...}``), or ``None`` when there is none."""
        try:
            return cast(DocumentRecord, self._http.request("GET", self._path(collection, key)).body)
        except NotFound:
            return None

    def get_many(self, collection: str, keys: Sequence[str]) -> list[DocumentRecord]:
        """Up to 1,000 documents in one call, in the order asked; missing keys are left out."""
        if not keys:
            return []
        answer = self._http.request("GET", f"/v1/docs/{segment(collection)}", query={"keys": ",".join(keys)})
        return cast("list[DocumentRecord]", answer.body["items"])

    def list(
        self, collection: str, *, prefix: str | None = None, limit: int | None = None, cursor: str | None = None
    ) -> DocumentPage:
        """One page of a collection ascending by key; pass ``nextCursor`` as ``cursor`` for the next."""
        answer = self._http.request(
            "GET",
            f"/v1/docs/{segment(collection)}",
            query={"prefix": prefix, "limit": limit, "cursor": cursor},
        )
        return cast(DocumentPage, answer.body)

    def put(
        self,
        collection: str,
        key: str,
        value: Any,
        *,
        ttl: str | None = None,
        expected_version: int | None = None,
        create_only: bool = False,
        idempotency_key: str | None = None,
    ) -> DocumentRecord:
        """Creates or replaces the document; ``ttl`` (``"30s"``, ``"7d"``) makes it expire."""
        body: dict[str, Any] = {"value": value}  # None is a value here: JSON null.
        if ttl is not None:
            body["ttl"] = ttl
        answer = self._http.request(
            "PUT",
            self._path(collection, key),
            body=body,
            headers=condition_headers(expected_version, create_only),
            idempotency_key=idempotency_key,
        )
        return cast(DocumentRecord, answer.body)

    def patch(
        self,
        collection: str,
        key: str,
        patch: Mapping[str, Any],
        *,
        upsert: bool = False,
        ttl: str | None | _Keep = KEEP,
        expected_version: int | None = None,
        create_only: bool = False,
        idempotency_key: str | None = None,
    ) -> DocumentRecord:
        """Applies patch operators atomically: ``{"$inc": {"stats.wins": 1}, "$set": {...}}``.

        Operators (``$set``, ``$unset``, ``$inc``, ``$max``, ``$min``, ``$push``) take dot paths.
        A missing document raises :class:`NotFound` unless ``upsert``. ``ttl`` sets the expiry,
        ``None`` clears it, :data:`KEEP` leaves it.
        """
        body: dict[str, Any] = dict(patch)
        if upsert:
            body["upsert"] = True
        if not isinstance(ttl, _Keep):
            body["ttl"] = ttl
        answer = self._http.request(
            "PATCH",
            self._path(collection, key),
            body=body,
            headers=condition_headers(expected_version, create_only),
            idempotency_key=idempotency_key,
        )
        return cast(DocumentRecord, answer.body)

    def delete(
        self,
        collection: str,
        key: str,
        *,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> bool:
        """Deletes the document; ``False`` when there was none."""
        try:
            self._http.request(
                "DELETE",
                self._path(collection, key),
                headers=condition_headers(expected_version),
                idempotency_key=idempotency_key,
            )
        except NotFound:
            return False
        return True

    def commit(self, ops: Sequence[Mapping[str, Any]], *, idempotency_key: str | None = None) -> CommitAnswer:
        """Applies every op or none (``POST /v1/commit``).

        Ops are ``{"op": "put", "collection", "key", "value", "ttl"?}``,
        ``{"op": "patch", "collection", "key", "patch", "upsert"?}`` and
        ``{"op": "delete", "collection", "key"}``, each with an optional ``expectedVersion`` or
        ``mustNotExist``. A failed condition raises :class:`VersionConflict` whose
        ``problem["opIndex"]`` names the op; nothing is applied.
        """
        answer = self._http.request(
            "POST", "/v1/commit", body={"ops": [dict(op) for op in ops]}, idempotency_key=idempotency_key
        )
        return cast(CommitAnswer, answer.body)
