"""What `idrac-orch discover` prints for a finished run."""

from __future__ import annotations

from cli.discover import render


def test_render_names_each_difference_and_the_totals() -> None:
    run = {
        "id": 7,
        "status": "completed",
        "scanned": 254,
        "answered": 5,
        "error": None,
        "diff": {
            "new": ["10.0.0.9"],
            "gone": ["10.0.0.4"],
            "changed": [{"address": "10.0.0.3", "fields": {"credentials": ["ok", "rejected"]}}],
            "unchanged": 3,
            "enrolled": 1,
        },
    }
    assert render(run).splitlines() == [
        "discovery 7: completed, 254 addresses scanned, 5 Redfish services answered",
        "new: 10.0.0.9",
        "gone: 10.0.0.4",
        "changed: 10.0.0.3: credentials ok -> rejected",
        "1 new, 1 gone, 1 changed, 3 unchanged, 1 enrolled",
    ]
    failed = {**run, "status": "failed", "diff": None, "error": "scan: worker lost"}
    assert render(failed).splitlines()[1] == "error: scan: worker lost"
