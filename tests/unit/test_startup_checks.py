"""The worker refuses a package address that real iDRACs cannot reach."""

from __future__ import annotations

from pathlib import Path

import pytest

from store.db import make_engine
from store.migrate import upgrade
from workers.startup_checks import (
    StartupCheckError,
    check_package_address,
    inventory_idrac_addresses,
    is_loopback,
)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.23.4.5", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("10.1.2.3", False),
        ("idrac-r01.example.com", False),
    ],
)
def test_loopback_detection(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_loopback_package_address_is_refused_for_real_idracs() -> None:
    with pytest.raises(StartupCheckError, match=r"10\.1\.2\.3"):
        check_package_address("http://127.0.0.1:8000", ["127.0.0.5", "10.1.2.3"])
    with pytest.raises(StartupCheckError, match="loopback"):
        check_package_address("http://localhost:8000", ["idrac-r01.example.com"])


def test_reachable_or_simulated_setups_start() -> None:
    check_package_address("https://orch.example.com", ["10.1.2.3"])
    check_package_address("http://127.0.0.1:8000", ["127.23.0.1", "127.23.0.2"])  # simulators
    check_package_address("http://127.0.0.1:8000", [])  # empty inventory: nothing to refuse


def test_an_address_without_a_host_is_refused() -> None:
    with pytest.raises(StartupCheckError, match="no host"):
        check_package_address("orch.example.com/repo", [])


def test_inventory_of_a_fresh_or_migrated_database_is_read(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    assert inventory_idrac_addresses(engine) == []  # the API has not migrated it yet
    upgrade(url)
    assert inventory_idrac_addresses(engine) == []
    engine.dispose()
