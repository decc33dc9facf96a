"""Real ``savepoint serve`` processes for the client's tests, and the base class that starts one.

The tests run against the built CLI (``dist/cli/main.js``; ``npm run build`` makes it), never a
mock, so every assertion is about what a real server answers. ``SAVEPOINT_NODE`` names the node
binary (default ``node``).
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import unittest
from pathlib import Path
from typing import ClassVar

CLIENT_ROOT = Path(__file__).resolve().parents[1]
REPO_ROOT = CLIENT_ROOT.parents[1]
#: The CLI to run; ``SAVEPOINT_CLI`` points the tests at another build.
MAIN = Path(os.environ.get("SAVEPOINT_CLI", REPO_ROOT / "dist" / "cli" / "main.js"))
NODE = os.environ.get("SAVEPOINT_NODE", "node")
START_TIMEOUT = 60.0

# The package is used from its source folder, as `PYTHONPATH=clients/python` would.
if str(CLIENT_ROOT) not in sys.path:
    sys.path.insert(0, str(CLIENT_ROOT))

from savepoint_client import Client  # noqa: E402

#: Every server process still running, so that none outlives the test run.
_running: set[subprocess.Popen[str]] = set()


def _terminated(signum: int, _frame: object) -> None:
    """On SIGTERM (a test runner's timeout) kill every server first: atexit would not run."""
    for process in list(_running):
        process.kill()
    os._exit(128 + signum)


signal.signal(signal.SIGTERM, _terminated)


class ServeProcess:
    """One ``savepoint serve`` on ``data_dir``; ``port=0`` takes a free port (kept on restarts)."""

    def __init__(self, data_dir: Path, *, port: int = 0, env: dict[str, str] | None = None) -> None:
        if not MAIN.exists():
            raise RuntimeError(f"{MAIN} is missing: run `npm run build` in {REPO_ROOT} first")
        self.data_dir = data_dir
        self.port = port
        self.env = env or {}
        self.url = ""
        self._process: subprocess.Popen[str] | None = None
        self._output: list[str] = []

    def start(self) -> ServeProcess:
        listening = threading.Event()
        found: list[str] = []
        env = {"PATH": os.environ.get("PATH", ""), **self.env}
        log = open(self.data_dir / "serve-stderr.log", "a")  # noqa: SIM115 (owned by the process)
        process = subprocess.Popen(
            [
                NODE,
                str(MAIN),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--data-dir",
                str(self.data_dir),
            ],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        log.close()
        self._process = process
        _running.add(process)

        def read() -> None:
            assert process.stdout is not None
            for line in process.stdout:  # Drained to the end, so the server never blocks on a full pipe.
                self._output.append(line)
                if line.startswith("listening on ") and not found:
                    found.append(line.split()[2])
                    listening.set()
            process.stdout.close()
            listening.set()

        threading.Thread(target=read, daemon=True).start()
        if not listening.wait(START_TIMEOUT) or not found:
            self.kill()
            raise RuntimeError(f"savepoint serve did not start:\n{''.join(self._output)}{self.stderr()}")
        self.url = found[0]
        self.port = int(self.url.rsplit(":", 1)[1])
        return self

    def stderr(self) -> str:
        path = self.data_dir / "serve-stderr.log"
        return path.read_text() if path.exists() else ""

    def kill(self) -> None:
        """``kill -9``: no shutdown hook runs."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
        if self._process is not None:
            self._process.wait(10)
            _running.discard(self._process)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited within 10 s."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(10)
        _running.discard(self._process)


def seed_catalog(seed_dir: Path) -> None:
    """Two catalog kinds, as ``<dir>/<kind>.json`` seed files."""
    seed_dir.mkdir(parents=True, exist_ok=True)
    (seed_dir / "items.json").write_text(
        '{"version": "1.0.0", "updated_at": "2026-01-01T00:00:00Z", "data": ['
        '{"id": "sword", "damage": 7}, {"id": "shield", "armor": 3}]}'
    )
    (seed_dir / "levels.json").write_text(
        '{"version": "2.1.0", "updated_at": "2026-01-02T00:00:00Z", "data": [{"id": 1, "name": "meadow"}]}'
    )


_shared: ServeProcess | None = None
_shared_key = secrets.token_hex(16)


def shared_server() -> tuple[ServeProcess, str]:
    """The server most test classes share, started on first use and stopped at exit; and its API key.

    One process for the whole run keeps the suite quick on a busy machine; tests use ids of their
    own (see :func:`unique`), so they do not see each other's records.
    """
    global _shared
    if _shared is None:
        root = Path(tempfile.mkdtemp(prefix="savepoint-py-"))
        (root / "data").mkdir()
        seed_catalog(root / "seed")
        server = ServeProcess(
            root / "data", env={"SAVEPOINT_API_KEY": _shared_key, "SAVEPOINT_SEED_DIR": str(root / "seed")}
        ).start()

        def stop() -> None:
            server.stop()
            shutil.rmtree(root, ignore_errors=True)

        atexit.register(stop)
        _shared = server
    return _shared, _shared_key


class ServerTestCase(unittest.TestCase):
    """A test class with ``self.client`` on the shared server (with its API key), and ``self.server``."""

    server: ClassVar[ServeProcess]
    api_key: ClassVar[str]
    client: ClassVar[Client]

    @classmethod
    def setUpClass(cls) -> None:
        cls.server, cls.api_key = shared_server()
        cls.client = Client(cls.server.url, api_key=cls.api_key, timeout=15)


def unique(prefix: str) -> str:
    """An id no other test uses."""
    return f"{prefix}-{secrets.token_hex(4)}"
