"""A Temporal dev server per test, persisted to its own SQLite file: the deploy tests
read that file, bind their own workers and must not meet the session's other workflows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services.temporal import TemporalDevServer


@pytest.fixture
def temporal(tmp_path: Path) -> Iterator[TemporalDevServer]:
    server = TemporalDevServer(tmp_path / "temporal")
    server.start()
    try:
        yield server
    finally:
        server.stop()
