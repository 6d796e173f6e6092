"""The timeline's ends from the plan the rollouts recorded: planned from the start,
predicted from now, a finished host's start plus its estimate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from api.campaign_history import CampaignHistory
from console.forecast import HostState, ends
from domain.campaign_spec import Policy
from domain.runbook import ClusterRollout, ComponentTarget, HostJob, HostRef

T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def job(tag: str, estimate_s: int) -> HostJob:
    return HostJob(
        campaign_id=1,
        host=HostRef(
            name=f"esx-{tag}",
            service_tag=tag,
            idrac_address="127.0.0.9",
            cluster="alpha",
            datacenter="dc",
        ),
        targets=[ComponentTarget(component_id="159", version="2.0", image_uri="x")],
        policy=Policy(max_concurrent_per_cluster=1),
        estimated_duration_s=estimate_s,
    )


def history(windows: list[dict[str, Any]] | None = None) -> CampaignHistory:
    rollout = ClusterRollout(
        campaign_id=1,
        cluster="alpha",
        datacenter="dc",
        vcenter_id=None,
        hosts=[job("H1", 600), job("H2", 600), job("H3", 600)],
        windows=windows or [],
        policy=Policy(max_concurrent_per_cluster=1),
    )
    return CampaignHistory(
        bars={},
        started={"H1": at(0), "H2": at(500)},
        estimates={t: timedelta(seconds=600) for t in ("H1", "H2", "H3")},
        rollouts={"alpha": rollout},
        current={"alpha": rollout},
    )


HOSTS = [
    HostState("H1", "alpha", "updated", at(0), at(500)),
    HostState("H2", "alpha", "running"),
    HostState("H3", "alpha", "pending"),
]
LIVE = [{"cluster": "alpha", "state": "running", "pending": ["H3"]}]


def test_planned_predicted_and_actual_ends_of_a_running_campaign() -> None:
    campaign, hosts = ends(history(), HOSTS, LIVE, {}, at(0), None, at(600))
    assert hosts == {
        "H1": {"predicted": at(600).isoformat(), "actual": at(500).isoformat()},
        "H2": {"predicted": at(1100).isoformat(), "actual": None},
        "H3": {"predicted": at(1700).isoformat(), "actual": None},
    }
    assert campaign == {
        "planned_end": at(1800).isoformat(),
        "predicted_end": at(1700).isoformat(),
        "actual_end": None,
        "never": [],
    }


def test_a_queued_host_no_window_can_hold_has_no_end_and_is_named() -> None:
    # A daily window of 5 minutes can never hold a 10-minute host: H3 never starts.
    short = {
        "kind": "weekly",
        "timezone": "UTC",
        "weekdays": list(range(7)),
        "start": "10:00",
        "duration_minutes": 5,
    }
    campaign, hosts = ends(history([short]), HOSTS, LIVE, {}, at(0), None, at(600))
    assert hosts["H3"]["predicted"] is None
    assert campaign["never"] == ["H3"]
    assert campaign["predicted_end"] == at(1100).isoformat()  # H2, still running


def test_an_ended_campaign_shows_its_actual_end_and_predicts_nothing() -> None:
    done = [
        HostState(t, "alpha", "updated", at(n * 600), at(n * 600 + 550))
        for n, t in enumerate(("H1", "H2", "H3"))
    ]
    campaign, hosts = ends(history(), done, [], {}, at(0), at(1700), at(5000))
    assert campaign == {
        "planned_end": at(1800).isoformat(),
        "predicted_end": None,
        "actual_end": at(1700).isoformat(),
        "never": [],
    }
    assert hosts["H3"] == {"predicted": at(1800).isoformat(), "actual": at(1750).isoformat()}


def test_predictions_move_by_the_minute_not_by_the_poll() -> None:
    overdue = [HostState("H1", "alpha", "running"), HostState("H2", "alpha", "pending")]
    live = [{"cluster": "alpha", "state": "running", "pending": ["H2"]}]
    seen = {
        ends(history(), overdue, live, {}, at(0), None, at(s))[0]["predicted_end"]
        for s in (901, 930, 960)
    }
    assert seen == {at(960 + 600).isoformat()}  # H1 overdue: ends "now" (10:16), H2 after it
