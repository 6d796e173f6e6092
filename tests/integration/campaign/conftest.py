"""Each campaign test module gets its own lab: simulators, vcsim and a fresh database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.campaign.lab import Lab, running_lab
from tests.services.postgres import fresh_database


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with fresh_database() as url, running_lab(url, tmp_path_factory.mktemp("lab")) as running:
        yield running
