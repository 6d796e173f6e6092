"""Crash safety: kill -9 the worker at random moments of a running campaign, restart it,
and restart the Temporal server once; every host still ends updated exactly once and
none is left in maintenance."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import Client

from common.temporal import connect
from domain.runbook import CampaignState, HostStatus
from tests.integration.campaign.lab import Lab
from tests.services.temporal import TemporalDevServer
from workflows.campaign import CampaignWorkflow

KILLS = 10
TARGET = "2.13.0"


class WorkerProcess:
    """`idrac-orch worker`, configured for the lab through its environment, as in production."""

    def __init__(self, lab: Lab, temporal: TemporalDevServer, log: Path) -> None:
        settings = lab.settings
        self.env = {
            **os.environ,
            "IDRAC_ORCH_TEMPORAL_ADDRESS": temporal.address,
            "IDRAC_ORCH_DATABASE_URL": settings.effective_database_url,
            "IDRAC_ORCH_SECRET_KEY": settings.secret_key.get_secret_value(),  # type: ignore[union-attr]
            "IDRAC_ORCH_PACKAGE_REPOSITORY_URL": settings.effective_package_repository_url,
            "IDRAC_ORCH_IDRAC_PORT": str(settings.idrac_port),
            "IDRAC_ORCH_IDRAC_CA_BUNDLE": str(lab.idrac.ca_path),
            "IDRAC_ORCH_IDRAC_POLL_INTERVAL_S": "0.05",
            "IDRAC_ORCH_VCENTER_INSECURE": "true",
            "IDRAC_ORCH_VCENTER_POLL_INTERVAL_S": "0.2",
            "IDRAC_ORCH_ACTIVITY_HEARTBEAT_TIMEOUT_S": "3",
            "IDRAC_ORCH_LOG_LEVEL": "WARNING",
        }
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.kills = 0

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cli.main", "worker"], env=self.env, stdout=out, stderr=out
            )

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.kills += 1

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)


@pytest.fixture
def temporal(tmp_path: Path) -> Iterator[TemporalDevServer]:
    server = TemporalDevServer(tmp_path / "temporal")
    server.start()
    yield server
    server.stop()


async def _client(lab: Lab, temporal: TemporalDevServer) -> Client:
    """A client with the worker's payload codec (the lab's secret key), so it reads results."""
    return await connect(lab.settings.model_copy(update={"temporal_address": temporal.address}))


async def test_kill_nine_and_server_restart_never_reflash_or_strand(
    lab: Lab, temporal: TemporalDevServer, tmp_path: Path
) -> None:
    seed = int(os.environ.get("CRASH_SEED", random.randrange(1_000_000)))
    chaos = random.Random(seed)
    hosts = [h.service_tag for _, _, h in lab.fleet.hosts()]
    jobs_before = {tag: lab.idrac_state(tag)["update_jobs"] for tag in hosts}
    spec = lab.bios_spec(
        {"clusters": ["alpha", "bravo"]},
        TARGET,
        policy={
            "max_concurrent_per_cluster": 2,
            "min_hosts_online": 1,
            "global_max_concurrent": 3,
            "reboot": {"mode": "graceful", "grace_period_s": 3},
        },
    )
    worker = WorkerProcess(lab, temporal, tmp_path / "worker.log")
    worker.start()
    client = await _client(lab, temporal)
    handle = await lab.start_campaign(client, spec, "crash", timedelta(minutes=10))
    try:
        while worker.kills < KILLS:
            await asyncio.sleep(chaos.uniform(0.5, 2.5))
            worker.kill()
            if worker.kills == KILLS // 2:  # once, mid-campaign: the server goes down too
                temporal.stop()
                temporal.start()
                client = await _client(lab, temporal)
                handle = client.get_workflow_handle_for(CampaignWorkflow.run, handle.id)
            worker.start()
        result = await handle.result()
    finally:
        worker.stop()

    context = f"seed {seed}; worker log {worker.log}"
    assert worker.kills == KILLS
    assert result.state is CampaignState.COMPLETED, context
    outcomes = {o.service_tag: o.status for c in result.clusters for o in c.outcomes}
    assert outcomes == {tag: HostStatus.UPDATED for tag in hosts}, context
    for tag in hosts:
        state = lab.idrac_state(tag)
        assert state["firmware"]["bios"] == TARGET, (tag, context)
        assert state["update_jobs"] - jobs_before[tag] == 1, (
            tag,
            "flashed more than once",
            context,
        )
    assert lab.hosts_in_maintenance() == {}, context
    # Retried activities found their first attempt's audit entry: one of each per host.
    audited = lab.audited_host_actions(result.campaign_id)
    once = ["host.firmware.flash", "host.maintenance.enter", "host.maintenance.exit"]
    assert {tag: sorted(e.action for e in audited[tag]) for tag in hosts} == dict.fromkeys(
        hosts, once
    ), context
    assert lab.audit_chain_ok(), context
