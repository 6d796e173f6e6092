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
from store.models import Campaign, HostUpdate
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
