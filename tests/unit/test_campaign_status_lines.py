"""`idrac-orch campaign status` on a campaign approved per cluster: each cluster's gate."""

from __future__ import annotations

from cli.campaign import _live_lines


def test_each_clusters_approval_is_listed_with_who_approved_and_why_refused() -> None:
    status = {
        "campaign_id": 4,
        "state": "running",
        "stop_reason": None,
        "clusters": ["bravo"],
        "hosts_in_flight": [],
        "outcomes": [],
        "unresolved": [],
        "waiting_reason": "waiting for approval of cluster gamma (1 of 2)",
        "cluster_approvals": [
            {
                "cluster": "alpha",
                "state": "rejected",
                "required": 2,
                "reason": "rejected by erin: frozen",
            },
            {
                "cluster": "bravo",
                "state": "approved",
                "required": 2,
                "approved_by": ["erin", "frank"],
            },
            {"cluster": "gamma", "state": "waiting", "required": 2, "approved_by": ["erin"]},
        ],
    }
    assert _live_lines(status) == [
        "  waiting for approval of cluster gamma (1 of 2)",
        "  approval of cluster alpha: rejected (0 of 2): rejected by erin: frozen",
        "  approval of cluster bravo: approved (2 of 2, approved by erin, frank)",
        "  approval of cluster gamma: waiting (1 of 2, approved by erin)",
        "  clusters: bravo",
        "  hosts in flight: -",
    ]
