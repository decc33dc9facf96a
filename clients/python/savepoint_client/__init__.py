"""A Python client for Savepoint, the durable memory of a game backend.

    from savepoint_client import Client, VersionConflict

    client = Client("http://127.0.0.1:8787", api_key=os.environ["SAVEPOINT_API_KEY"])
    client.games.persist("table-1", {"pot": 40}, players=["ada", "grace"])
    for event in client.games.follow("table-1"):
        ...

Standard library only. See ``docs/python.md`` in the Savepoint repository.
"""

from ._transport import VERSION, Response
from .client import Client
from .documents import KEEP
from .errors import (
    AlreadyClosed,
    CorruptData,
    Forbidden,
    GameCompleted,
    IdempotencyInFlight,
    IdempotencyKeyReused,
    InternalError,
    InvalidInput,
    LeaseHeld,
    LeaseLost,
    NotFound,
    OutOfBounds,
    PayloadTooLarge,
    RateLimited,
    SavepointConnectionError,
    SavepointError,
    SeatTaken,
    StorageFull,
    StorageUnavailable,
    TokenExpired,
    TokenInvalid,
    Unauthorized,
    VersionConflict,
)
from .stream import EventStream, StreamEvent

__version__ = VERSION

__all__ = [
    "KEEP",
    "AlreadyClosed",
    "Client",
    "CorruptData",
    "EventStream",
    "Forbidden",
    "GameCompleted",
    "IdempotencyInFlight",
    "IdempotencyKeyReused",
    "InternalError",
    "InvalidInput",
    "LeaseHeld",
    "LeaseLost",
    "NotFound",
    "OutOfBounds",
    "PayloadTooLarge",
    "RateLimited",
    "Response",
    "SavepointConnectionError",
    "SavepointError",
    "SeatTaken",
    "StorageFull",
    "StorageUnavailable",
    "StreamEvent",
    "TokenExpired",
    "TokenInvalid",
    "Unauthorized",
    "VersionConflict",
    "__version__",
]
