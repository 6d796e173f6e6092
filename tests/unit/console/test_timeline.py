"""The timeline's layout, from status answers shaped as the workflows give them and step
bars as history gives them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.campaign_history import Bar, CampaignHistory
from api.campaign_live import Observation
from api.campaign_schemas import LiveStatus
from api.security import Principal
from console.render import templates
from console.timeline import TimelineContext, snapshot
from domain.roles import Role
from store.models import Campaign

T0 = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
CONTEXT = TimelineContext("http://temporal.example.test", "prod ns")
NO_HISTORY = CampaignHistory({}, {}, {}, {}, {})


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _campaign(status: str = "running") -> Campaign:
    return Campaign(
        id=7,
        name="BIOS",
        spec={},
        status=status,
        created_by="alice",
        workflow_id="campaign-7",
        started_at=T0,
    )


def test_snapshot_shows_running_pending_finished_hosts_and_the_wait() -> None:
    live = LiveStatus(
        available=True,
        temporal_status="RUNNING",
        status={
            "outcomes": [
                {
                    "service_tag": "A1",
                    "status": "updated",
                    "reason": "",
                    "started_at": at(0).isoformat(),
                    "finished_at": at(40).isoformat(),
                }
            ]
        },
        detail=None,
        clusters=[
            {
                "cluster": "alpha",
                "state": "running",
                "waiting_reason": "cluster capacity: 2 of 2 online",
                "running": {"A2": "enter_maintenance + stage_firmware"},
                "pending": ["A3"],
                "outcomes": [],
            }
        ],
    )
    history = CampaignHistory(
        bars={
            "A1": [Bar("preflight", at(0), at(2)), Bar("reboot", at(2), at(40))],
            "A2": [
                Bar("enter_maintenance", at(45), None, 0, 2),
                Bar("stage_firmware", at(45), None, 1, 2),
            ],
        },
        started={"A1": at(0), "A2": at(45)},
        estimates={},
        rollouts={},
        current={},
    )
    campaign = _campaign()
    campaign.spec = {"policy": {"max_concurrent_per_cluster": 2, "min_hosts_online": 3}}
    data = snapshot(campaign, Observation(live), [], {"A1": "alpha"}, history, CONTEXT, at(50))
    hosts = {h["tag"]: h for h in data["hosts"]}
    assert [h["tag"] for h in data["hosts"]] == ["A1", "A2", "A3"]
    assert hosts["A1"]["state"] == "updated"
    assert [s["step"] for s in hosts["A1"]["segments"]] == ["preflight", "reboot"]
    assert hosts["A1"]["actual_end"] == at(40).isoformat()
    assert hosts["A2"]["state"] == "running"
    assert [(s["step"], s["track"], s["tracks"]) for s in hosts["A2"]["segments"]] == [
        ("enter_maintenance", 0, 2),
        ("stage_firmware", 1, 2),
    ]
    assert hosts["A3"]["state"] == "pending" and hosts["A3"]["segments"] == []
    assert data["clusters"] == [
        {
            "name": "alpha",
            "state": "running",
            "waiting_reason": "cluster capacity: 2 of 2 online",
            "updating": 1,
            "allowed": 2,
            "min_online": 3,
        }
    ]
    assert hosts["A2"]["workflow_url"] == (
        "http://temporal.example.test/namespaces/prod%20ns/workflows/campaign-7-host-A2"
    )
    assert data["campaign"]["final"] is False


def test_snapshot_of_an_ended_campaign_temporal_forgot_comes_from_the_stored_results() -> None:
    stored = [
        {
            "service_tag": "B1",
            "status": "rolled_back",
            "reason": "verify failed",
            "started_at": T0,
            "finished_at": at(60),
        }
    ]
    campaign = _campaign("finished_with_failures")
    data = snapshot(campaign, None, stored, {"B1": "bravo"}, NO_HISTORY, CONTEXT, at(90))
    assert data["campaign"]["final"] is True
    assert data["campaign"]["status_text"] == "completed with failures"
    (host,) = data["hosts"]
    assert (host["tag"], host["cluster"], host["state"], host["detail"]) == (
        "B1",
        "bravo",
        "rolled_back",
        "verify failed",
    )
    # Temporal forgot it: one bar for its whole run, from the stored result.
    assert [(s["step"], s["end"]) for s in host["segments"]] == [
        ("rolled_back", at(60).isoformat())
    ]


def test_a_campaign_waiting_for_approval_says_how_many_approvals_it_has() -> None:
    live = LiveStatus(
        available=True,
        temporal_status="RUNNING",
        status={"state": "awaiting_approval", "waiting_reason": "waiting for approval (1 of 2)"},
        detail=None,
    )
    campaign = _campaign("awaiting_approval")
    data = snapshot(campaign, Observation(live), [], {}, NO_HISTORY, CONTEXT, at(5))
    assert data["campaign"]["status_text"] == "waiting for approval (1 of 2)"
    assert data["hosts"] == []


def test_an_approver_sees_approve_and_reject_for_each_cluster_still_waiting() -> None:
    gates = [
        {"cluster": "alpha", "state": "waiting", "required": 2, "approved_by": ["erin"]},
        {"cluster": "bravo", "state": "rejected", "required": 2, "approved_by": []},
    ]
    live = LiveStatus(
        available=True,
        temporal_status="RUNNING",
        status={"state": "running", "cluster_approvals": gates},
        detail=None,
    )
    data = snapshot(_campaign(), Observation(live), [], {}, NO_HISTORY, CONTEXT, at(5))
    assert data["approvals"] == gates
    template = templates.env.get_template("campaign.html")

    def render(approver: bool) -> str:
        principal = Principal("frank", Role.VIEWER, "ldap", approver=approver)
        return template.render(data=data, principal=principal, csrf="c0ffee", may_operate=False)

    html = render(approver=True)
    assert "Cluster <strong>alpha</strong> waits for approval (1 of 2, approved by erin)" in html
    assert 'action="/ui/campaigns/7/clusters/alpha/approve"' in html
    assert 'action="/ui/campaigns/7/clusters/alpha/reject"' in html
    assert "/clusters/bravo/" not in html  # decided: nothing left to approve
    assert "/clusters/alpha/" not in render(approver=False)
