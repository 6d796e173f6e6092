"""Campaigns on clusters whose DRS is manual or off, end to end on real parts: the
runbook has the orchestrator move the VMs off each host, updates it, and by policy
brings the VMs back (or leaves them)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest
import pytest_asyncio
from pyVmomi import vim
from temporalio.testing import WorkflowEnvironment

from domain.runbook import CampaignState, HostStatus
from simulators.fleet import ClusterSpec, DatacenterSpec, DrsSpec, Fleet, HaSpec, HostSpec
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
