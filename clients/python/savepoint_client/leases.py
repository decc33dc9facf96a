"""Leases (``/v1/leases``): locks with a TTL and a fence, so a crashed holder blocks nobody for long."""

from __future__ import annotations

from typing import cast

from ._transport import Transport, segment, without_none
from .errors import NotFound
from .types import Lease

__all__ = ["Leases"]


class Leases:
    """``client.leases``: acquire, renew, release and read leases.

    ``fence`` increases every time a lease changes hands: pass it along with writes the lease
    guards, so that storage can refuse a holder that lost the lease without knowing it.
    Durations are strings such as ``"5s"`` (default TTL ``5s``, at most ``60s``).
    """

    def __init__(self, transport: Transport) -> None:
        self._http = transport

    @staticmethod
    def _path(name: str) -> str:
        return f"/v1/leases/{segment(name)}"

    def acquire(
        self,
        name: str,
        holder: str,
        *,
        ttl: str | None = None,
        wait: str | None = None,
        idempotency_key: str | None = None,
    ) -> Lease:
        """Takes the lease, waiting up to ``wait`` while another holder has it; then raises :class:`LeaseHeld`."""
        answer = self._http.request(
            "POST",
            self._path(name),
            body=without_none({"holder": holder, "ttl": ttl, "wait": wait}),
            idempotency_key=idempotency_key,
        )
        return cast(Lease, answer.body)

    def renew(
        self, name: str, holder: str, fence: int, *, ttl: str | None = None, idempotency_key: str | None = None
    ) -> Lease:
        """Extends the lease; raises :class:`LeaseLost` if it expired and someone else took it."""
        answer = self._http.request(
            "PUT",
            self._path(name),
            body=without_none({"holder": holder, "fence": fence, "ttl": ttl}),
            idempotency_key=idempotency_key,
        )
        return cast(Lease, answer.body)

    def release(self, name: str, holder: str, fence: int, *, idempotency_key: str | None = None) -> None:
        """Gives the lease up; raises :class:`LeaseLost` if it is not (any more) yours."""
        self._http.request(
            "DELETE",
            self._path(name),
            query={"holder": holder, "fence": fence},
            idempotency_key=idempotency_key,
        )

    def get(self, name: str) -> Lease | None:
        """The lease, or ``None`` when nobody holds it."""
        try:
            return cast(Lease, self._http.request("GET", self._path(name)).body)
        except NotFound:
            return None
