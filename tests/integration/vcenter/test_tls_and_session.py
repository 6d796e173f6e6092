"""TLS verification, login errors and session expiry against vcsim on 127.0.0.2."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import SecretStr
from pyVmomi import vim, vmodl

from integrations.vcenter import VCenterClient, VCenterConnectionError, read_inventory
from integrations.vcenter.bulk import _invoke
from simulators.vcsim.harness import VcsimProcess
from tests.integration.vcenter.conftest import settings_for


def test_certificate_is_verified_by_default(scenario_vcsim: VcsimProcess) -> None:
    with pytest.raises(VCenterConnectionError, match="TLS certificate not trusted"):
        VCenterClient(settings_for(scenario_vcsim, None)).connect()


def test_ca_bundle_is_trusted(scenario_vcsim: VcsimProcess, ca_bundle: tuple[Path, ...]) -> None:
    with VCenterClient(settings_for(scenario_vcsim, ca_bundle[0])) as client:
        assert read_inventory(client).cluster("session") is not None


def test_insecure_is_an_explicit_opt_in(scenario_vcsim: VcsimProcess) -> None:
    with VCenterClient(settings_for(scenario_vcsim, None, insecure=True)) as client:
        assert read_inventory(client).cluster("session") is not None


def test_wrong_password_is_named_without_the_password(
    scenario_vcsim: VcsimProcess, ca_bundle: tuple[Path, ...]
) -> None:
    settings = settings_for(scenario_vcsim, ca_bundle[0])
    wrong = dataclasses.replace(settings, password=SecretStr("hunter2-wrong"))
    with pytest.raises(VCenterConnectionError) as caught:
        VCenterClient(wrong).connect()
    assert "refused the login of user 'administrator@vsphere.local'" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_expired_session_logs_in_again(
    vcenter: VCenterClient, scenario_vcsim: VcsimProcess, ca_bundle: tuple[Path, ...]
) -> None:
    """An administrator (second connection) terminates our session, as expiry would."""
    first_key = vcenter.session_key()
    with VCenterClient(settings_for(scenario_vcsim, ca_bundle[0])) as admin:
        admin.content.sessionManager.TerminateSession([first_key])
    with pytest.raises(vim.fault.NotAuthenticated):  # proves the session really is gone
        vcenter.content.sessionManager.SessionIsActive(first_key, "administrator@vsphere.local")

    inventory = read_inventory(vcenter)

    assert inventory.cluster("session") is not None
    assert vcenter.session_key() != first_key


def test_scalar_reader_raises_vcenter_faults(vcenter: VCenterClient) -> None:
    """A fault answer (HTTP 500) is raised as pyvmomi's fault, so re-login still works."""
    stub = vcenter._service_instance._stub
    missing = vim.HostSystem("host-does-not-exist", stub)
    with pytest.raises(vmodl.fault.ManagedObjectNotFound):
        _invoke(stub, missing, "ExitMaintenanceMode", [0])


def test_one_client_per_thread_works_concurrently(
    scenario_vcsim: VcsimProcess, ca_bundle: tuple[Path, ...]
) -> None:
    """How thread-pool activities use it: each thread its own session."""

    def read_once(_: int) -> int:
        with VCenterClient(settings_for(scenario_vcsim, ca_bundle[0])) as client:
            return len(read_inventory(client).hosts())

    with ThreadPoolExecutor(max_workers=4) as pool:
        counts = list(pool.map(read_once, range(8)))
    assert counts == [len(scenario_vcsim.fleet.hosts())] * 8
