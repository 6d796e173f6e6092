"""The worker's vCenter session pool against vcsim: reuse, isolation, logout."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from integrations.vcenter import VCenterClient, VCenterSettings
from integrations.vcenter.pool import SessionPool
from simulators.vcsim.harness import VcsimProcess
from tests.integration.vcenter.conftest import settings_for


@pytest.fixture
def settings(scenario_vcsim: VcsimProcess, ca_bundle: tuple[Path, ...]) -> VCenterSettings:
    return settings_for(scenario_vcsim, ca_bundle[0])


@pytest.fixture
def pool() -> Iterator[SessionPool]:
    pool = SessionPool()
    yield pool
    pool.close()


def is_active(admin: VCenterClient, key: str) -> bool:
    return bool(admin.content.sessionManager.SessionIsActive(key, admin.settings.username))


def test_a_returned_session_is_reused_without_a_new_login(
    pool: SessionPool, settings: VCenterSettings
) -> None:
    with pool.session(settings) as first:
        key = first.session_key()
    with pool.session(settings) as second:
        assert second.session_key() == key
    assert pool.logins == 1


def test_concurrent_borrowers_each_get_their_own_session(
    pool: SessionPool, settings: VCenterSettings
) -> None:
    together = threading.Barrier(4)

    def borrow(_: int) -> str:
        with pool.session(settings) as client:
            together.wait(timeout=30)  # all four hold a session at the same time
            return client.session_key()

    with ThreadPoolExecutor(max_workers=4) as threads:
        keys = set(threads.map(borrow, range(4)))
    assert len(keys) == 4
    assert pool.logins == 4


def test_a_session_that_saw_an_error_is_logged_out_not_reused(
    pool: SessionPool, settings: VCenterSettings, vcenter: VCenterClient
) -> None:
    with pytest.raises(RuntimeError), pool.session(settings) as client:
        key = client.session_key()
        raise RuntimeError("the activity failed half-way")
    assert not is_active(vcenter, key)
    with pool.session(settings) as fresh:
        assert fresh.session_key() != key
    assert pool.logins == 2


def test_other_settings_get_another_session(
    pool: SessionPool, settings: VCenterSettings, scenario_vcsim: VcsimProcess
) -> None:
    """The key is the whole login (URL, user, password, TLS): a rotated password or a
    changed TLS option never borrows a session made with the old one."""
    with pool.session(settings) as verified:
        first = verified.session_key()
    with pool.session(settings_for(scenario_vcsim, None, insecure=True)) as insecure:
        assert insecure.session_key() != first
    assert pool.logins == 2


def test_a_session_idle_too_long_is_logged_out_and_replaced(
    settings: VCenterSettings, vcenter: VCenterClient
) -> None:
    pool = SessionPool(max_idle_s=0.0)
    with pool.session(settings) as client:
        key = client.session_key()
    with pool.session(settings) as client:
        assert client.session_key() != key
    assert not is_active(vcenter, key)
    pool.close()


def test_close_logs_out_every_idle_session(
    pool: SessionPool, settings: VCenterSettings, vcenter: VCenterClient
) -> None:
    with pool.session(settings) as client:
        key = client.session_key()
    assert is_active(vcenter, key)
    pool.close()
    assert not is_active(vcenter, key)
