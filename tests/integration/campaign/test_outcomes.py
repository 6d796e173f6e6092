"""Honest outcomes, read as an operator reads them: campaigns started and read through the
real API (its payload codec, so the workers here connect as the API does), on the lab's
vcsim and iDRAC simulator. Per host and per component the API's store rows, its live
answer, `campaign status` and the audit trail say the same thing, and the simulators say
it is true."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr
from sqlmodel import Session, select
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.redfish_host import RedfishActivities
from api.campaign_status import FINAL
from api.security import hash_password
from cli.campaign import render_status
from common.settings import Settings
from common.temporal import connect
from domain.runbook import ComponentTarget, HostRef, RollbackRequest
from domain.temporal_names import host_workflow_id
from simulators.fleet import HostFaults
from store.models import AuditEvent
from tests.integration.api.conftest import _ensure_namespace, serve
from tests.integration.campaign.lab import BIOS_TARGET, Lab
from workers.main import running_workers

NAMESPACE = "campaign-outcomes"
PASSWORD = "outcomes-Admin-Pass-4711"
POLICY = {
    "max_concurrent_per_cluster": 1,
    "min_hosts_online": 1,
    "global_max_concurrent": 1,
    "cluster_failure_threshold": 1,
    "campaign_failure_threshold": 2,  # one failed host: finished with failures
    "reboot": {"mode": "graceful", "grace_period_s": 3},
}
CAMPAIGN_GUARD_S = 300  # a hang guard, not a timing assertion


@pytest.fixture(scope="module")
def settings(lab: Lab, temporal_env: WorkflowEnvironment) -> Settings:
    return lab.settings.model_copy(
        update={
            "temporal_address": temporal_env.client.service_client.config.target_host,
            "temporal_namespace": NAMESPACE,
            "breakglass_username": "breakglass",
            "breakglass_password_hash": SecretStr(hash_password(PASSWORD)),
        }
    )


@pytest_asyncio.fixture(scope="module")
async def workers(
    lab: Lab, settings: Settings, temporal_env: WorkflowEnvironment
) -> AsyncIterator[None]:
    """The production workers, connected as the API connects (payload codec included)."""
    await _ensure_namespace(temporal_env.client, NAMESPACE)
    async with running_workers(await connect(settings), lab.resources):
        yield


@pytest.fixture(scope="module")
def api(settings: Settings) -> Iterator[httpx.AsyncClient]:
    with serve(settings) as url:
        login = httpx.post(
            f"{url}/auth/login", json={"username": "breakglass", "password": PASSWORD}
        )
        token = login.raise_for_status().json()["access_token"]
        yield httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )


@dataclass(frozen=True)
class Read:
    """One finished campaign as the API, the CLI and the audit trail tell it."""

    detail: dict[str, Any]  # GET /campaigns/{id}
    row: dict[str, Any]  # GET /campaigns/{id}/hosts, the one host
    live: dict[str, Any]  # the host's outcome in the workflow's result
    cli: str  # `idrac-orch campaign status`
    audited: dict[str, AuditEvent]  # action -> entry, for this host in this campaign


async def _run(
    api: httpx.AsyncClient,
    lab: Lab,
    tag: str,
    on_failure: str,
    meanwhile: Callable[[int], Awaitable[None]] | None = None,
    **faults: Any,
) -> Read:
    """Update one host's BIOS to BIOS_TARGET with FAULTS injected (and MEANWHILE run with
    the campaign's id while it runs); read what everyone says."""
    spec = lab.bios_spec(
        {"service_tags": [tag]}, BIOS_TARGET, policy={**POLICY, "on_failure": on_failure}
    )
    lab.set_faults(tag, **faults)
    try:
        created = await api.post(
            "/campaigns", json={"name": f"outcome {tag}", "spec": spec.model_dump(mode="json")}
        )
        campaign_id = created.raise_for_status().json()["id"]
        (await api.post(f"/campaigns/{campaign_id}/start")).raise_for_status()
        side = asyncio.create_task(meanwhile(campaign_id)) if meanwhile else None
        deadline = time.monotonic() + CAMPAIGN_GUARD_S
        # The stored status is final a moment before the workflow closes: until then the
        # live part is the running workflow's status query, not its result.
        while not _ended(detail := (await api.get(f"/campaigns/{campaign_id}")).json()):
            assert time.monotonic() < deadline, f"campaign {campaign_id} never ended"
            await asyncio.sleep(0.5)
        if side is not None:
            await side
    finally:
        lab.set_faults(tag, **{fault: HostFaults.model_fields[fault].default for fault in faults})
    (row,) = (await api.get(f"/campaigns/{campaign_id}/hosts")).json()["items"]
    (live,) = (o for c in detail["live"]["status"]["clusters"] for o in c["outcomes"])
    return Read(
        detail=detail,
        row=row,
        live=live,
        cli=render_status(detail, [{**row, "service_tag": tag}]),
        audited={e.action: e for e in _audit_events(lab, campaign_id, tag)},
    )


def _ended(detail: dict[str, Any]) -> bool:
    return detail["status"] in FINAL and detail["live"]["temporal_status"] != "RUNNING"


def _audit_events(lab: Lab, campaign_id: int, tag: str) -> list[AuditEvent]:
    target = f"campaign:{campaign_id}/host:{tag}"
    with Session(lab.resources.engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.target == target)).all())


def _audited(lab: Lab, campaign_id: int, tag: str) -> Counter[str]:
    """How many entries of each action the host has in the campaign's audit trail."""
    return Counter(e.action for e in _audit_events(lab, campaign_id, tag))


def _host_ref(lab: Lab, tag: str) -> HostRef:
    dc, cluster, host = next(h for h in lab.fleet.hosts() if h[2].service_tag == tag)
    return HostRef(
        name=host.name,
        service_tag=tag,
        idrac_address=host.idrac_address or "",
        cluster=cluster.name,
        datacenter=dc.name,
        server_id=lab.server_ids[tag],
    )


def _says_the_same(read: Read, status: str, step: str, component: dict[str, Any]) -> None:
    """Store row, live result, CLI and audit trail: one status, one per-component story."""
    assert (read.row["status"], read.row["step"]) == (status, step)
    assert (read.live["status"], read.live["failed_step"]) == (status, step)
    assert read.row["components"] == read.live["components"] == [component]
    words = f"159 {component['before'] or '?'} -> {component['after'] or '?'} "
    words += component["status"]
    assert f"    {words}" in read.cli.splitlines()
    outcome = read.audited["host.outcome"]
    assert outcome.outcome == status
    assert outcome.detail is not None and outcome.detail.startswith(f"{status} at {step}: {words}")


@pytest.mark.usefixtures("workers")
async def test_a_job_that_fails_and_changes_nothing_is_a_failure_back_in_service(
    api: httpx.AsyncClient, lab: Lab
) -> None:
    tag = "BLAB001"
    before = lab.idrac_state(tag)
    read = await _run(api, lab, tag, "rollback", job_fails="RED007")

    bios = before["firmware"]["bios"]
    unchanged = {
        "component_id": "159",
        "target": BIOS_TARGET,
        "before": bios,
        "after": bios,
        "status": "unchanged",
    }
    _says_the_same(read, "failed", "stage_firmware", unchanged)
    assert "RED007" in read.live["reason"]
    assert read.detail["status"] == "finished_with_failures"
    # True: nothing flashed, nothing reverted, the host carries VMs again.
    after = lab.idrac_state(tag)
    assert (after["firmware"]["bios"], after["flashes"]) == (bios, before["flashes"])
    assert "esx-bravo-1.lab.test" not in lab.hosts_in_maintenance().get("bravo", set())
    assert {"host.maintenance.enter", "host.maintenance.exit"} <= set(read.audited)
    assert "host.firmware.rollback" not in read.audited


@pytest.mark.usefixtures("workers")
async def test_an_idrac_refusing_the_login_fails_at_preflight_untouched_never_held(
    api: httpx.AsyncClient, lab: Lab
) -> None:
    tag = "BLAB002"
    before = lab.idrac_state(tag)
    read = await _run(api, lab, tag, "hold", wrong_credentials=True)

    untouched = {
        "component_id": "159",
        "target": BIOS_TARGET,
        "before": None,  # the iDRAC could not be read
        "after": None,
        "status": "unchanged",
    }
    _says_the_same(read, "failed", "preflight", untouched)
    assert "host.alert" not in read.audited  # nobody is called to a held host
    assert set(read.audited) == {"host.outcome"}  # no maintenance, no flash
    after = lab.idrac_state(tag)
    assert (after["firmware"], after["update_jobs"]) == (before["firmware"], before["update_jobs"])
    assert lab.hosts_in_maintenance() == {}


@pytest.mark.usefixtures("workers")
async def test_rollback_policy_reverts_a_verified_update_the_host_cannot_live_with(
    api: httpx.AsyncClient, lab: Lab
) -> None:
    """The new BIOS verifies, then the host boots Critical with it: the previous BIOS goes
    back, the host is checked again (healthy without the bad release) and carries VMs."""
    tag = "ALAB001"
    bios = lab.idrac_state(tag)["firmware"]["bios"]
    read = await _run(api, lab, tag, "rollback", critical_with_version=BIOS_TARGET)

    reverted = {
        "component_id": "159",
        "target": BIOS_TARGET,
        "before": bios,
        "after": bios,
        "status": "reverted",
    }
    _says_the_same(read, "rolled_back", "post_health", reverted)
    assert "health Critical" in read.live["reason"]
    state = lab.idrac_state(tag)
    assert state["firmware"]["bios"] == bios and state["previous"]["bios"] == BIOS_TARGET
    assert read.audited["host.firmware.flash"].detail == f"159 {bios} -> {BIOS_TARGET}"
    assert read.audited["host.firmware.rollback"].detail.endswith(f"{BIOS_TARGET} -> {bios}")
    assert "host.maintenance.exit" in read.audited and "host.alert" not in read.audited
    assert lab.hosts_in_maintenance() == {}

    # A retry of the rollback, as after a worker died at its very end: it reverts nothing
    # more, and still reports (and audits once) the revert its predecessor finished.
    retry = ActivityEnvironment()
    retry.info = dataclasses.replace(
        retry.info, attempt=2, workflow_id=host_workflow_id(read.detail["id"], tag)
    )
    target = ComponentTarget(component_id="159", version=BIOS_TARGET, image_uri="unused")
    reading = await retry.run(
        RedfishActivities(lab.resources).rollback_firmware,
        RollbackRequest(host=_host_ref(lab, tag), targets=[target], before={"159": bios}),
    )
    assert (reading.versions, reading.reverted) == ({"159": bios}, ["159"])
    assert lab.idrac_state(tag)["flashes"] == state["flashes"]
    assert _audited(lab, read.detail["id"], tag)["host.firmware.rollback"] == 1


@pytest.mark.usefixtures("workers")
async def test_hold_policy_returns_a_host_the_run_never_changed_to_service(
    api: httpx.AsyncClient, lab: Lab
) -> None:
    """vCenter refuses maintenance mode while the BIOS job is already staged: under policy
    hold the host is still no case for a human, since nothing on it changed. Its staged
    job is cancelled (a later reboot must not flash it behind everyone's back) and it is
    reported failed at maintenance entry, untouched, never held (found by the 100-kill
    crash benchmark: held although out of maintenance)."""
    tag = "BLAB003"
    before = lab.idrac_state(tag)
    lab.vcsim.set_host_faults(tag, fail_task="enterMaintenanceMode")
    try:
        read = await _run(api, lab, tag, "hold")
    finally:
        lab.vcsim.set_host_faults(tag, fail_task=None)

    bios = before["firmware"]["bios"]
    unchanged = {
        "component_id": "159",
        "target": BIOS_TARGET,
        "before": bios,
        "after": bios,
        "status": "unchanged",
    }
    _says_the_same(read, "failed", "enter_maintenance", unchanged)
    after = lab.idrac_state(tag)
    assert (after["firmware"], after["flashes"]) == (before["firmware"], before["flashes"])
    assert after["update_jobs"] > before["update_jobs"]  # a BIOS job was staged ...
    assert "Scheduled" not in after["jobs"].values(), after["jobs"]  # ... and cancelled
    assert lab.hosts_in_maintenance() == {}
    # Never in maintenance, so no exit is recorded either; nobody is called.
    assert set(read.audited) == {"host.outcome"}


@pytest.mark.usefixtures("workers")
async def test_an_exit_that_works_on_its_second_try_leaves_an_updated_host(
    api: httpx.AsyncClient, lab: Lab, settings: Settings
) -> None:
    """Every attempt of the exit step fails, then vCenter recovers while the runbook
    unwinds: the undo's own exit succeeds, so the host is updated and in service, and says
    so (found by the crash benchmark: reported failed although updated)."""
    tag = "ALAB003"
    bios = lab.idrac_state(tag)["firmware"]["bios"]
    client = await connect(settings)

    async def recover_while_unwinding(campaign_id: int) -> None:
        runbook = client.get_workflow_handle(host_workflow_id(campaign_id, tag))
        deadline = time.monotonic() + CAMPAIGN_GUARD_S
        while not await _step_is(runbook, "compensate"):
            assert time.monotonic() < deadline, "the exit step never failed for good"
            await asyncio.sleep(0.2)
        lab.vcsim.set_host_faults(tag, fail_task=None)

    lab.vcsim.set_host_faults(tag, fail_task="exitMaintenanceMode")
    try:
        read = await _run(api, lab, tag, "rollback", meanwhile=recover_while_unwinding)
    finally:
        lab.vcsim.set_host_faults(tag, fail_task=None)

    assert (read.row["status"], read.row["step"]) == ("updated", None)
    assert (read.live["status"], read.live["failed_step"]) == ("updated", None)
    assert "exit_maintenance" in read.live["reason"]
    updated = {"component_id": "159", "target": BIOS_TARGET, "before": bios}
    assert read.live["components"] == [{**updated, "after": BIOS_TARGET, "status": "updated"}]
    assert lab.idrac_state(tag)["firmware"]["bios"] == BIOS_TARGET
    assert lab.hosts_in_maintenance() == {}
    assert read.audited["host.outcome"].outcome == "updated"
    assert "host.firmware.rollback" not in read.audited and "host.alert" not in read.audited


async def _step_is(runbook: WorkflowHandle[Any, Any], step: str) -> bool:
    try:
        return await runbook.query("current_step") == step
    except RPCError:  # not started yet
        return False


@pytest.mark.usefixtures("workers")
async def test_hold_policy_holds_a_verified_update_the_host_cannot_live_with(
    api: httpx.AsyncClient, lab: Lab
) -> None:
    """Last in this module: the host stays in maintenance."""
    tag = "ALAB002"
    bios = lab.idrac_state(tag)["firmware"]["bios"]
    read = await _run(api, lab, tag, "hold", critical_with_version=BIOS_TARGET)

    held = {
        "component_id": "159",
        "target": BIOS_TARGET,
        "before": bios,
        "after": BIOS_TARGET,
        "status": "held",
    }
    _says_the_same(read, "held", "post_health", held)
    assert lab.idrac_state(tag)["firmware"]["bios"] == BIOS_TARGET  # left for a human
    assert lab.hosts_in_maintenance() == {"alpha": {"esx-alpha-2.lab.test"}}
    assert "policy is hold" in (read.audited["host.alert"].detail or "")
    assert "host.firmware.rollback" not in read.audited
    assert "host.maintenance.exit" not in read.audited
