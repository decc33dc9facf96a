"""The example of docs/python.md runs as written against a real server and prints what the page says."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from serve_fixture import CLIENT_ROOT, REPO_ROOT, ServeProcess

DOC = REPO_ROOT / "docs" / "python.md"


def example_and_output(markdown: str) -> tuple[str, str]:
    """The page's ```python block and the ```text block that follows it."""
    found = re.search(r"```python\n(.*?)```.*?```text\n(.*?)```", markdown, re.DOTALL)
    if found is None:
        raise AssertionError(f"{DOC} has no ```python block followed by a ```text block")
    return found.group(1), found.group(2)


class DocsExample(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="savepoint-py-doc-"))
        # No SAVEPOINT_API_KEY: the server generates one into <data dir>/api-key, as on a first start.
        self.server = ServeProcess(self.tmp).start()

    def tearDown(self) -> None:
        self.server.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_the_example_prints_what_the_page_shows(self) -> None:
        code, expected = example_and_output(DOC.read_text())
        key = (self.tmp / "api-key").read_text().strip()
        self.assertGreaterEqual(len(key), 32)
        script = self.tmp / "example.py"
        script.write_text(code)
        env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(CLIENT_ROOT),
            "SAVEPOINT_URL": self.server.url,
            "SAVEPOINT_API_KEY": key,
        }
        run = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(run.stdout, expected)
