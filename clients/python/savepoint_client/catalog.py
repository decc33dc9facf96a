"""The catalog (``/v1/catalog``): versioned game constants, read through an ETag cache.

Every answer is kept with its ``ETag``; the next read of the same URL sends ``If-None-Match``
and, on ``304 Not Modified``, returns the kept body. A client polling the catalog therefore
transfers each kind once per change, not once per read.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from typing import Any, cast

from ._transport import Transport, segment
from .types import CatalogKind, CatalogOverview

__all__ = ["Catalog"]


class Catalog:
    """``client.catalog``: the kinds, a kind's records, one record; cached by ETag.

    Each call returns a copy of the cached body, so callers may change what they get.
    ``max_entries`` bounds the cache (least recently used URLs are dropped first).
    """

    def __init__(self, transport: Transport, *, max_entries: int = 1024) -> None:
        self._http = transport
        self._max_entries = max_entries
        self._cache: OrderedDict[str, tuple[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def list(self) -> CatalogOverview:
        """The catalog version and its kinds: ``{version, kinds: [{kind, version, updatedAt, count}]}``."""
        return cast(CatalogOverview, self._get("/v1/catalog"))

    def kind(self, kind: str) -> CatalogKind:
        """Every record of a kind: ``{kind, version, updatedAt, data}``; raises :class:`NotFound`."""
        return cast(CatalogKind, self._get(f"/v1/catalog/{segment(kind)}"))

    def record(self, kind: str, record_id: str | int) -> dict[str, Any]:
        """One record of a kind, by id; raises :class:`NotFound`."""
        return cast("dict[str, Any]", self._get(f"/v1/catalog/{segment(kind)}/{segment(str(record_id))}"))

    def clear_cache(self) -> None:
        """Forgets every kept answer: the next reads fetch in full."""
        with self._lock:
            self._cache.clear()

    def _get(self, path: str) -> Any:
        with self._lock:
            kept = self._cache.get(path)
        headers = {"If-None-Match": kept[0]} if kept is not None else {}
        answer = self._http.request("GET", path, headers=headers)
        if answer.status == 304 and kept is not None:
            with self._lock:
                if path in self._cache:
                    self._cache.move_to_end(path)
            return copy.deepcopy(kept[1])
        etag = answer.headers.get("etag")
        if etag is not None:
            with self._lock:
                self._cache[path] = (etag, answer.body)
                self._cache.move_to_end(path)
                while len(self._cache) > self._max_entries:
                    self._cache.popitem(last=False)
        return copy.deepcopy(answer.body)
