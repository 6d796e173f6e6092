"""A workflow module for test_sandbox.py: imports the domain modules the way workflows will.

The sandbox re-executes this module's top level under its restrictions when it validates the
workflow, so the calls at the bottom run the window math, an estimate and a plan inside the
sandbox: a wall-clock read or a restricted import anywhere in them fails validation.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from temporalio import workflow

from domain.components import ComponentKind
from domain.estimates import estimate_host
from domain.rollout import (
    ClusterInventory,
    HostInventory,
    InstalledComponent,
    PlanRequest,
    plan_rollout,
)
from domain.windows import WeeklyWindow, wait_reason


@workflow.defn(sandboxed=True)
class DomainProbeWorkflow:
    @workflow.run
    async def run(self) -> str:
        return PROBE


NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
_WINDOW = WeeklyWindow(
    timezone="Europe/Amsterdam", weekdays=[5], start="02:00", duration_minutes=240
)
_PLAN = plan_rollout(
    PlanRequest(
        clusters=[
            ClusterInventory(
                name="c",
                max_concurrent=1,
                hosts=[
                    HostInventory(
                        name="h",
                        service_tag="ABC1234",
                        components=[InstalledComponent(component_id="159", version="1")],
                    )
                ],
            )
        ],
        target={"159": "2"},
        global_max_concurrent=1,
    ),
    NOW,
)
PROBE = "\n".join(
    [
        wait_reason(
            [_WINDOW], datetime(2026, 11, 27, 12, tzinfo=UTC), timedelta(minutes=55)
        ).reason,
        str(estimate_host([ComponentKind.BIOS], 3).total),
        _PLAN.render_text(),
    ]
)
