"""Queue semantics of a cluster rollout, on the lab's real parts: a host is preflighted
while it waits for its turn, a host found compliant or blocked never takes a campaign slot
or starts a runbook, and a host vCenter refuses mid-flight goes back to the queue instead
of failing."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, ExitStack
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
from sqlmodel import Session, select
from temporalio import activity
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.names import Redfish, Vcenter
from domain.runbook import CampaignResult, CampaignState, Evacuation, HostStatus, MaintenanceRequest
from domain.temporal_names import TaskQueue, host_workflow_id
from store.models import AuditEvent
from tests.integration.campaign.lab import BIOS_TARGET, Lab
from workers.main import build_worker
from workers.registry import QueueSpec, queue_specs

POLICY = {
    "max_concurrent_per_cluster": 1,
    "min_hosts_online": 1,
    "global_max_concurrent": 1,
    "cluster_failure_threshold": 2,
    "campaign_failure_threshold": 3,
    "on_failure": "rollback",
    "reboot": {"mode": "graceful", "grace_period_s": 3},
}


class HostDownAtEntry:
    """Another host of the cluster drops out of vCenter exactly while one host is being
    put into maintenance, once: vCenter's real check then refuses the entry. No timing
    of the test's own could hit that moment reliably, so the real activity is wrapped;
    the refusal itself is the product's code against vcsim. ``after`` (a host name) makes
    the entry wait until that host is in maintenance, so the refusal does not depend on
    which of two hosts started at once got there first."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.armed: tuple[str, str, str | None] | None = None  # entering, dropping, after
        self.lock = threading.Lock()

    def arm(self, entering: str, dropping: str, after: str | None = None) -> None:
        self.armed = (entering, dropping, after)

    def wrap(self, real: Callable[[MaintenanceRequest], Evacuation]) -> Callable[..., Any]:
        @activity.defn(name=Vcenter.ENTER_MAINTENANCE)
        def enter_maintenance(request: MaintenanceRequest) -> Evacuation:
            with self.lock:
                armed = self.armed
                if armed is not None and armed[0] == request.host.service_tag:
                    self.armed = None
                else:
                    armed = None
            if armed is None:
                return real(request)
            _, dropping, after = armed
            if after is not None:
                self.wait_in_maintenance(after)
            self.lab.vcsim.set_connection(dropping, "notResponding")
            try:
                return real(request)
            finally:
                self.lab.vcsim.set_connection(dropping, "connected")

        return enter_maintenance

    def wait_in_maintenance(self, host: str) -> None:
        for _ in range(600):
            if any(host in names for names in self.lab.hosts_in_maintenance().values()):
                return
            time.sleep(0.1)
        raise AssertionError(f"{host} never entered maintenance")


@pytest.fixture(scope="module")
def host_down(lab: Lab) -> HostDownAtEntry:
    return HostDownAtEntry(lab)


def _with_wrapped_entry(spec: QueueSpec, host_down: HostDownAtEntry) -> QueueSpec:
    if spec.queue is not TaskQueue.VCENTER:
        return spec
    activities = [
        host_down.wrap(a) if getattr(a, "__name__", "") == "enter_maintenance" else a
        for a in spec.activities
    ]
    return dataclasses.replace(spec, activities=activities)


@pytest_asyncio.fixture(scope="module")
async def workers(
    temporal_env: WorkflowEnvironment, lab: Lab, host_down: HostDownAtEntry
) -> AsyncIterator[None]:
    with ExitStack() as pools:
        pools.callback(lab.resources.vcenter_sessions.close)
        async with AsyncExitStack() as stack:
            for spec in queue_specs(lab.resources, temporal_env.client):
                worker = build_worker(
                    temporal_env.client, _with_wrapped_entry(spec, host_down), pools
                )
                await stack.enter_async_context(worker)
            yield


async def _campaign(env: WorkflowEnvironment, lab: Lab, tags: list[str], **policy: Any) -> Any:
    spec = lab.bios_spec({"service_tags": tags}, BIOS_TARGET, policy={**POLICY, **policy})
    return await lab.start_campaign(env.client, spec, "queue", timedelta(minutes=5))


def _outcomes(result: CampaignResult) -> dict[str, HostStatus]:
    return {o.service_tag: o.status for c in result.clusters for o in c.outcomes}


async def _events(client: Client, workflow_id: str) -> list[Any]:
    return [e async for e in client.get_workflow_handle(workflow_id).fetch_history_events()]


def _activities(events: list[Any]) -> list[tuple[int, str]]:
    return [
        (e.event_id, e.activity_task_scheduled_event_attributes.activity_type.name)
        for e in events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]


async def _slots_requested(client: Client, campaign_workflow_id: str) -> list[str]:
    """Service tags the campaign was asked a host slot for, from its history."""
    return [
        json.loads(attrs.input.payloads[0].data)["service_tag"]
        for e in await _events(client, campaign_workflow_id)
        if e.HasField("workflow_execution_signaled_event_attributes")
        and (attrs := e.workflow_execution_signaled_event_attributes).signal_name == "request_slot"
    ]


async def _runbooks_started(client: Client, campaign_id: int, cluster: str) -> set[str]:
    """Service tags the cluster's rollout started a runbook for, from its own history: a
    workflow id alone may name an earlier test module's campaign of the same number."""
    prefix = host_workflow_id(campaign_id, "")
    return {
        attrs.workflow_id.removeprefix(prefix)
        for e in await _events(client, f"campaign-{campaign_id}-cluster-{cluster}")
        if e.HasField("start_child_workflow_execution_initiated_event_attributes")
        and (attrs := e.start_child_workflow_execution_initiated_event_attributes)
    }


@pytest_asyncio.fixture(scope="module")
async def two_updated(
    temporal_env: WorkflowEnvironment, lab: Lab, workers: None
) -> tuple[int, CampaignResult]:
    """ALAB001 and ALAB002 brought to the target, one at a time."""
    handle = await _campaign(temporal_env, lab, ["ALAB001", "ALAB002"])
    return int(handle.id.rsplit("-", 1)[1]), await handle.result()


async def test_the_next_host_is_preflighted_while_the_one_before_it_updates(
    temporal_env: WorkflowEnvironment, two_updated: tuple[int, CampaignResult]
) -> None:
    campaign_id, result = two_updated
    assert _outcomes(result) == {"ALAB001": HostStatus.UPDATED, "ALAB002": HostStatus.UPDATED}, [
        c.outcomes for c in result.clusters
    ]
    rollout = await _events(temporal_env.client, f"campaign-{campaign_id}-cluster-alpha")
    preflights = [i for i, name in _activities(rollout) if name == Redfish.PREFLIGHT]
    first_done = min(
        e.event_id
        for e in rollout
        if e.HasField("child_workflow_execution_completed_event_attributes")
    )
    assert len(preflights) == 2
    assert preflights[1] < first_done, "ALAB002 was read only after ALAB001 finished"
    for tag in ("ALAB001", "ALAB002"):  # each runbook trusted the queue's reading
        runbook = await _events(temporal_env.client, host_workflow_id(campaign_id, tag))
        names = {name for _, name in _activities(runbook)}
        assert Redfish.PREFLIGHT.value not in names and Vcenter.PREFLIGHT.value not in names


async def test_hosts_found_compliant_or_blocked_take_no_slot_and_start_no_runbook(
    temporal_env: WorkflowEnvironment, lab: Lab, two_updated: tuple[int, CampaignResult]
) -> None:
    lab.set_faults("ALAB003", wrong_credentials=True)
    try:
        handle = await _campaign(temporal_env, lab, ["ALAB001", "ALAB002", "ALAB003", "ALAB004"])
        result = await handle.result()
    finally:
        lab.set_faults("ALAB003", wrong_credentials=False)
    campaign_id = int(handle.id.rsplit("-", 1)[1])
    assert _outcomes(result) == {
        "ALAB001": HostStatus.COMPLIANT,
        "ALAB002": HostStatus.COMPLIANT,
        "ALAB003": HostStatus.FAILED,
        "ALAB004": HostStatus.UPDATED,
    }
    blocked = next(o for c in result.clusters for o in c.outcomes if o.service_tag == "ALAB003")
    assert blocked.failed_step == "preflight"
    assert await _slots_requested(temporal_env.client, handle.id) == ["ALAB004"]
    assert await _runbooks_started(temporal_env.client, campaign_id, "alpha") == {"ALAB004"}


async def test_a_host_refused_maintenance_mid_flight_goes_back_to_the_queue(
    temporal_env: WorkflowEnvironment, lab: Lab, host_down: HostDownAtEntry, workers: None
) -> None:
    """BLAB003 drops out of vCenter just as BLAB001 enters maintenance: with two hosts of
    three to stay online, vCenter refuses. BLAB001 waits behind BLAB002, then updates."""
    flashes = {
        tag: lab.idrac_state(tag)["flashes"].get("bios", 0) for tag in ("BLAB001", "BLAB002")
    }
    host_down.arm("BLAB001", "BLAB003")
    handle = await _campaign(temporal_env, lab, ["BLAB001", "BLAB002"], min_hosts_online=2)
    result = await handle.result()
    campaign_id = int(handle.id.rsplit("-", 1)[1])

    assert host_down.armed is None, "the refusal was never provoked"
    assert result.state is CampaignState.COMPLETED
    (bravo,) = result.clusters
    assert [(o.service_tag, o.status) for o in bravo.outcomes] == [
        ("BLAB002", HostStatus.UPDATED),  # the refused host went to the back of the queue
        ("BLAB001", HostStatus.UPDATED),
    ]
    after = {tag: lab.idrac_state(tag)["flashes"].get("bios", 0) for tag in flashes}
    assert after == {tag: n + 1 for tag, n in flashes.items()}  # flashed once each
    assert lab.hosts_in_maintenance() == {}
    with Session(lab.resources.engine) as session:
        requeued = session.exec(
            select(AuditEvent).where(
                AuditEvent.action == "host.requeued",
                AuditEvent.target == f"campaign:{campaign_id}/host:BLAB001",
            )
        ).all()
    (entry,) = requeued
    assert entry.detail is not None
    assert "1 already in maintenance or not connected" in entry.detail, entry.detail
    assert "try 2 of 4" in entry.detail


async def test_the_last_host_refused_while_another_runs_is_not_left_behind(
    temporal_env: WorkflowEnvironment, lab: Lab, host_down: HostDownAtEntry, workers: None
) -> None:
    """Both hosts start at once, so the queue is empty when vCenter refuses BLAB002
    (BLAB001 in maintenance, BLAB003 dropping out): BLAB002 must go again once BLAB001 is
    back, not end the rollout unstarted."""
    host_down.arm("BLAB002", "BLAB003", after="esx-bravo-1.lab.test")
    spec = lab.bios_spec(
        {"service_tags": ["BLAB001", "BLAB002"]},
        "2.12.0",
        policy={**POLICY, "max_concurrent_per_cluster": 2, "global_max_concurrent": 2},
    )
    handle = await lab.start_campaign(temporal_env.client, spec, "queue", timedelta(minutes=5))
    result = await handle.result()

    assert host_down.armed is None, "the refusal was never provoked"
    (bravo,) = result.clusters
    assert (bravo.not_started, _outcomes(result)) == (
        [],
        {"BLAB001": HostStatus.UPDATED, "BLAB002": HostStatus.UPDATED},
    ), bravo
    assert {tag: lab.idrac_state(tag)["firmware"]["bios"] for tag in ("BLAB001", "BLAB002")} == {
        "BLAB001": "2.12.0",
        "BLAB002": "2.12.0",
    }
    assert lab.hosts_in_maintenance() == {}
