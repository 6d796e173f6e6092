"""The remediation dry run per host: the baseline's packages and install order, joined
with what the campaign planner (:func:`domain.rollout.plan_rollout`) says of the host's
duration, reboots and window fit. The planner is not repeated here: one schedule, one
estimate, whether a campaign is planned by hand or from a baseline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from domain.remediation import HostPlan, Step
from domain.rollout import RolloutPlan


class HostPreview(BaseModel):
    model_config = ConfigDict(frozen=True)

    service_tag: str
    name: str
    cluster: str | None
    packages: list[str]
    steps: list[Step]
    host_reboot: bool | None
    idrac_reset: bool | None
    duration: timedelta | None
    fits: bool
    start: datetime | None
    end: datetime | None
    note: str


def preview(
    hosts: Sequence[HostPlan], rollout: RolloutPlan | None, why_none: str
) -> list[HostPreview]:
    """One row per host of a remediation campaign; ``why_none`` explains a host the planner
    did not place (its cluster gated by no window, say), or a missing plan."""
    planned = {h.service_tag: h for h in rollout.hosts} if rollout else {}
    blocked = {b.service_tag: b for b in rollout.blocked} if rollout else {}
    skipped = {s.service_tag: s for s in rollout.skipped} if rollout else {}
    rows = []
    for host in hosts:
        base = {
            "service_tag": host.service_tag,
            "name": host.name,
            "cluster": host.cluster,
            "packages": [
                f"{c.name or c.component_id} ({c.component_id}): "
                f"{', '.join(c.installed)} -> {c.target}"
                for c in host.changes
            ],
            "steps": host.steps,
        }
        if host.service_tag in planned and rollout is not None:
            p = planned[host.service_tag]
            rows.append(
                HostPreview(
                    **base,
                    host_reboot=p.estimate.host_reboot,
                    idrac_reset=p.estimate.idrac_reset,
                    duration=p.estimate.total,
                    fits=True,
                    start=rollout.now + p.start,
                    end=rollout.now + p.end,
                    note=f"wave {p.wave}; {p.estimate.basis}",
                )
            )
        elif host.service_tag in blocked:
            b = blocked[host.service_tag]
            rows.append(
                HostPreview(
                    **base,
                    host_reboot=b.estimate.host_reboot,
                    idrac_reset=b.estimate.idrac_reset,
                    duration=b.estimate.total,
                    fits=False,
                    start=None,
                    end=None,
                    note=b.reason,
                )
            )
        else:
            note = skipped[host.service_tag].reason if host.service_tag in skipped else why_none
            rows.append(
                HostPreview(
                    **base,
                    host_reboot=None,
                    idrac_reset=None,
                    duration=None,
                    fits=False,
                    start=None,
                    end=None,
                    note=note,
                )
            )
    return rows
