"""Campaigns on clusters whose DRS is manual or off, end to end on real parts: the
runbook has the orchestrator move the VMs off each host, updates it, and by policy
brings the VMs back (or leaves them)."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest
import pytest_asyncio
from pyVim.task import WaitForTask
from pyVmomi import vim
from sqlmodel import Session, select
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.vcenter_host import VcenterActivities
from domain.runbook import (
    CampaignState,
    HostRef,
    HostRequest,
    HostStatus,
    MaintenanceRequest,
    ReturnVmsRequest,
)
from simulators.fleet import ClusterSpec, DatacenterSpec, DrsSpec, Fleet, HaSpec, HostSpec
from store.models import Vcenter
from tests.integration.campaign.lab import BIOS_TARGET, Lab, running_lab
from tests.services.postgres import fresh_database
from workers.main import running_workers

POLICY = {"min_hosts_online": 2, "reboot": {"mode": "graceful", "grace_period_s": 3}}


def _fleet(base: str) -> Fleet:
    def cluster(name: str, drs: DrsSpec, first_octet: int) -> ClusterSpec:
        hosts = [
            HostSpec(
                name=f"esx-{name}-{i}.lab.test",
                service_tag=f"{name[:1].upper()}LAB{i:03d}",
                idrac_address=f"{base}.{first_octet + i}",
            )
            for i in range(1, 4)
        ]
        return ClusterSpec(
            name=name, drs=drs, ha=HaSpec(enabled=False), vms_per_host=2, hosts=hosts
        )

    manual = cluster("manual", DrsSpec(enabled=True, automation="manual"), 0)
    off = cluster("off", DrsSpec(enabled=False), 10)
    return Fleet(datacenters=[DatacenterSpec(name="dc-lab", clusters=[manual, off])])


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    fleet = _fleet(f"127.24.{random.randint(0, 250)}")
    with (
        fresh_database() as url,
        running_lab(url, tmp_path_factory.mktemp("lab"), fleet) as running,
    ):
        yield running


@pytest_asyncio.fixture(scope="module")
async def workers(temporal_env: WorkflowEnvironment, lab: Lab) -> AsyncIterator[None]:
    async with running_workers(temporal_env.client, lab.resources):
        yield


def _placement(lab: Lab) -> dict[str, str]:
    """VM -> the host it runs on, as vCenter shows it."""
    with lab.vcenter() as content:
        view = content.viewManager.CreateContainerView(
            content.rootFolder, [vim.VirtualMachine], True
        )
        return {vm.name: vm.runtime.host.name for vm in view.view}


async def _activities(env: WorkflowEnvironment, workflow_id: str) -> list[str]:
    handle = env.client.get_workflow_handle(workflow_id)
    return [
        event.activity_task_scheduled_event_attributes.activity_type.name
        async for event in handle.fetch_history_events()
        if event.HasField("activity_task_scheduled_event_attributes")
    ]


@pytest.mark.usefixtures("workers")
async def test_drs_manual_and_off_are_evacuated_by_the_worker_and_get_their_vms_back(
    temporal_env: WorkflowEnvironment, lab: Lab
) -> None:
    before = _placement(lab)
    spec = lab.bios_spec({"clusters": ["manual", "off"]}, BIOS_TARGET, policy=POLICY)
    handle = await lab.start_campaign(temporal_env.client, spec, "evac", timedelta(minutes=5))
    result = await handle.result()

    assert result.state is CampaignState.COMPLETED
    outcomes = {o.service_tag: o.status for c in result.clusters for o in c.outcomes}
    assert outcomes == {h.service_tag: HostStatus.UPDATED for _, _, h in lab.fleet.hosts()}
    assert _placement(lab) == before  # every VM back where it ran
    assert lab.hosts_in_maintenance() == {}

    audited = lab.audited_host_actions(result.campaign_id)
    for _, cluster, host in lab.fleet.hosts():
        entries = {e.action: e.detail for e in audited[host.service_tag]}
        assert set(entries) == {
            "host.maintenance.enter",
            "host.firmware.flash",
            "host.maintenance.exit",
            "host.vms.return",
            "host.outcome",
        }
        vms = [vm.name for vm in cluster.vms_of(host)]
        assert "2 VM(s)" in entries["host.maintenance.enter"]
        assert all(vm in entries["host.maintenance.enter"] for vm in vms)
        assert entries["host.vms.return"] == f"2 VM(s) back on {host.name}"
        runbook = f"campaign-{result.campaign_id}-host-{host.service_tag}"
        steps = await _activities(temporal_env, runbook)
        assert steps.index("return_vms") > steps.index("exit_maintenance")


@pytest.mark.usefixtures("workers")
async def test_policy_stay_leaves_the_vms_where_they_went(
    temporal_env: WorkflowEnvironment, lab: Lab
) -> None:
    before = _placement(lab)
    spec = lab.bios_spec(
        {"service_tags": ["OLAB001"]},
        "2.12.0",  # the first test brought every host to BIOS_TARGET
        policy={**POLICY, "migrated_vms": "stay"},
    )
    handle = await lab.start_campaign(temporal_env.client, spec, "stay", timedelta(minutes=5))
    result = await handle.result()

    assert result.state is CampaignState.COMPLETED
    after = _placement(lab)
    moved = {vm for vm, host in before.items() if after[vm] != host}
    assert moved == {"esx-off-1.lab.test-vm00", "esx-off-1.lab.test-vm01"}
    assert all(after[vm] != "esx-off-1.lab.test" for vm in moved)
    steps = await _activities(temporal_env, f"campaign-{result.campaign_id}-host-OLAB001")
    assert "return_vms" not in steps


def _relocate(lab: Lab, vm_name: str, host_name: str) -> None:
    with lab.vcenter() as content:
        view = content.viewManager.CreateContainerView(
            content.rootFolder, [vim.VirtualMachine, vim.HostSystem], True
        )
        found = {o.name: o for o in view.view}
        spec = vim.vm.RelocateSpec(host=found[host_name])
        WaitForTask(found[vm_name].RelocateVM_Task(spec))


def _host_ref(lab: Lab, tag: str) -> HostRef:
    (_, cluster, host) = next(h for h in lab.fleet.hosts() if h[2].service_tag == tag)
    with Session(lab.resources.engine) as session:
        vcenter = session.exec(select(Vcenter)).one()
    return HostRef(
        name=host.name,
        service_tag=tag,
        idrac_address=host.idrac_address or "",
        cluster=cluster.name,
        datacenter="dc-lab",
        vcenter_id=vcenter.id,
        server_id=lab.server_ids[tag],
    )


def test_a_retried_evacuation_starts_from_the_progress_its_crashed_attempt_recorded(
    lab: Lab,
) -> None:
    """The enter step as Temporal retries it after a worker died mid-evacuation: the
    earlier attempt moved vm00 and heartbeated that, then died. The retry sees vm00
    gone, moves the rest, and its result still names vm00 so it comes back later.
    (Temporal's ActivityEnvironment stands in for the server: it hands the activity the
    earlier attempt's heartbeat details, as a retry gets them, and records the beats.)"""
    host, elsewhere = "esx-manual-2.lab.test", "esx-manual-3.lab.test"
    earlier = {f"{host}-vm00": elsewhere}
    _relocate(lab, f"{host}-vm00", elsewhere)
    env = ActivityEnvironment()
    env.info = dataclasses.replace(
        env.info, attempt=2, heartbeat_details=[earlier], heartbeat_timeout=timedelta(seconds=30)
    )
    beats: list[tuple[object, ...]] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    vcenter = VcenterActivities(lab.resources)
    ref = _host_ref(lab, "MLAB002")
    request = MaintenanceRequest(host=ref, timeout_s=60, max_concurrent=1, min_hosts_online=1)

    evacuation = env.run(vcenter.enter_maintenance, request)

    assert set(evacuation.moves) == {f"{host}-vm00", f"{host}-vm01"}
    assert evacuation.moves[f"{host}-vm00"] == elsewhere
    assert beats[-1] == (evacuation.moves,)  # progress, never an empty beat over it
    assert _placement(lab)[f"{host}-vm01"] == evacuation.moves[f"{host}-vm01"]

    env.info = dataclasses.replace(env.info, attempt=1, heartbeat_details=[])
    env.run(vcenter.exit_maintenance, HostRequest(host=ref))
    env.run(vcenter.return_vms, ReturnVmsRequest(host=ref, moves=evacuation.moves, timeout_s=60))
    placement = _placement(lab)
    assert [placement[vm] for vm in evacuation.moves] == [host, host]
