"""plan_campaign against the PostgreSQL inventory: who is targeted, what is unknown, and
how long each host is expected to take (from its components, then from past runs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session
from temporalio.testing import ActivityEnvironment

from activities.campaign_plan import CampaignPlanActivities
from domain.campaign_spec import CampaignStartInput
from domain.components import classify
from domain.estimates import estimate_host
from domain.site_windows import no_window_applies
from domain.windows import parse_windows, wait_reason
from store.models import Campaign, Datacenter, HostUpdate, Server
from tests.integration.campaign.lab import BIOS_TARGET, Lab


def _start(lab: Lab, targets: dict[str, list[str]]) -> CampaignStartInput:
    spec = lab.bios_spec(targets, BIOS_TARGET)
    return CampaignStartInput(campaign_id=lab.new_campaign("plan"), spec=spec)


def test_targets_resolve_and_unknown_names_are_reported(lab: Lab) -> None:
    start = _start(
        lab,
        {
            "clusters": ["alpha", "nowhere"],
            "hosts": ["ghost.lab.test"],
            "service_tags": ["BLAB001"],
        },
    )
    plan = ActivityEnvironment().run(CampaignPlanActivities(lab.resources).plan_campaign, start)
    hosts = {c.cluster: [j.host.service_tag for j in c.hosts] for c in plan.clusters}
    assert hosts == {"alpha": ["ALAB001", "ALAB002", "ALAB003", "ALAB004"], "bravo": ["BLAB001"]}
    assert plan.unresolved == [
        "cluster nowhere: no servers in a cluster of that name",
        "host ghost.lab.test: no server with that ESXi host name in a cluster",
    ]
    job = plan.clusters[0].hosts[0]
    assert job.targets[0].image_uri.endswith("/BIOS_8MRPC_WN64_2.11.2.EXE")
    assert job.targets[0].needs_host_reboot is True


def test_estimates_learn_from_past_runs_of_the_same_model_and_components(lab: Lab) -> None:
    plan = CampaignPlanActivities(lab.resources)
    start = _start(lab, {"service_tags": ["ALAB001"]})
    before = ActivityEnvironment().run(plan.plan_campaign, start)
    before_s = before.clusters[0].hosts[0].estimated_duration_s
    assert before_s == int(estimate_host([classify("159")], 0).total.total_seconds())

    past = [timedelta(minutes=m) for m in (55, 60, 65)]  # slower than the component model
    t0 = datetime(2026, 11, 1, 22, 0, tzinfo=UTC)
    with Session(lab.resources.engine) as session:
        earlier = Campaign(
            name="earlier", spec=start.spec.model_dump(mode="json"), created_by="tests"
        )
        session.add(earlier)
        session.commit()
        for tag, took in zip(["ALAB002", "ALAB003", "ALAB004"], past, strict=True):
            session.add(
                HostUpdate(
                    campaign_id=earlier.id,
                    server_id=lab.server_ids[tag],
                    status="updated",
                    started_at=t0,
                    finished_at=t0 + took,
                )
            )
        session.commit()

    after = ActivityEnvironment().run(plan.plan_campaign, start)
    after_s = after.clusters[0].hosts[0].estimated_duration_s
    assert after_s == int(estimate_host([classify("159")], 0, past).total.total_seconds())
    assert after_s > before_s


SATURDAY_NIGHT = {"kind": "weekly", "weekdays": [5], "start": "22:00", "duration_minutes": 360}


def test_each_cluster_is_gated_only_by_the_windows_of_its_site(lab: Lab) -> None:
    """The New York case: an Amsterdam window must never let a New York host start at 16:00
    New York time; a site-time window opens at 22:00 local at every site."""
    with Session(lab.resources.engine) as session:
        new_york = Datacenter(name="dc-newyork", timezone="America/New_York")
        session.add(new_york)
        session.commit()
        bravo = [lab.server_ids[tag] for tag in ("BLAB001", "BLAB002", "BLAB003")]
        moved = [session.get(Server, server_id) for server_id in bravo]
        before = {s.id: s.datacenter_id for s in moved if s}
        for server in moved:
            assert server is not None
            server.datacenter_id = new_york.id
            session.add(server)
        session.commit()
    try:
        plan = CampaignPlanActivities(lab.resources)
        amsterdam_only = {**SATURDAY_NIGHT, "timezone": "Europe/Amsterdam"}
        amsterdam_only["datacenters"] = ["dc-lab"]
        scoped = ActivityEnvironment().run(plan.plan_campaign, _windowed(lab, [amsterdam_only]))
        assert [c.cluster for c in scoped.clusters] == ["alpha"]
        assert scoped.unresolved == [no_window_applies("dc-newyork", "bravo")]

        local = ActivityEnvironment().run(
            plan.plan_campaign, _windowed(lab, [{**SATURDAY_NIGHT, "timezone": "site"}])
        )
        gates = {c.cluster: parse_windows(c.windows) for c in local.clusters}
        # Saturday 2026-12-05 21:30 UTC: 22:30 in Amsterdam, 16:30 in New York.
        saturday = datetime(2026, 12, 5, 21, 30, tzinfo=UTC)
        host = timedelta(hours=1)
        assert wait_reason(gates["alpha"], saturday, host).ready
        new_york_wait = wait_reason(gates["bravo"], saturday, host)
        assert not new_york_wait.ready
        assert new_york_wait.wake_at == datetime(2026, 12, 6, 3, 0, tzinfo=UTC)  # 22:00 EST
    finally:
        with Session(lab.resources.engine) as session:
            for server_id, datacenter_id in before.items():
                server = session.get(Server, server_id)
                assert server is not None
                server.datacenter_id = datacenter_id
                session.add(server)
            session.commit()


def _windowed(lab: Lab, windows: list[dict[str, object]]) -> CampaignStartInput:
    spec = lab.bios_spec({"clusters": ["alpha", "bravo"]}, BIOS_TARGET, windows=windows)
    return CampaignStartInput(campaign_id=lab.new_campaign("sites"), spec=spec)
