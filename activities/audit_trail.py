"""Audit entries written by the activities that change a host: maintenance mode entered and
left, VMs the orchestrator moved brought back, firmware flashed (once verification proved
it) and rolled back.

Each is one entry per host per campaign, written with ``append_once`` so a retried activity
(Temporal retries after a worker crash) finds the first attempt's entry and adds none. The
store is synchronous: async callers make one thread hop for the whole write.
"""

from __future__ import annotations

from temporalio import activity

from activities.resources import Resources
from domain.temporal_names import campaign_of_host_workflow
from store.audit import AuditKeys, AuditRecord, append_once

ACTOR = "orchestrator"
MAINTENANCE_ENTER = "host.maintenance.enter"
MAINTENANCE_EXIT = "host.maintenance.exit"
VMS_RETURN = "host.vms.return"
FIRMWARE_FLASH = "host.firmware.flash"
FIRMWARE_ROLLBACK = "host.firmware.rollback"


def audit(
    resources: Resources,
    action: str,
    target: str,
    outcome: str,
    detail: str | None = None,
    *,
    same_detail: bool = True,
) -> None:
    """One orchestrator entry, unless the same one is already there (see ``append_once``)."""
    append_once(
        resources.engine,
        AuditRecord(actor=ACTOR, action=action, target=target, outcome=outcome, detail=detail),
        keys=AuditKeys.from_settings(resources.settings),
        same_detail=same_detail,
    )


def host_target(service_tag: str) -> str:
    """``campaign:<id>/host:<tag>``; the campaign id comes from the host workflow running
    this activity (requests carry none). Outside a campaign's host workflow: ``host:<tag>``."""
    campaign_id = campaign_of_host_workflow(activity.info().workflow_id or "")
    host = f"host:{service_tag}"
    return host if campaign_id is None else f"campaign:{campaign_id}/{host}"


def audit_host_action(resources: Resources, action: str, service_tag: str, detail: str) -> None:
    """A host action of the runbook: at most one per host and campaign, whatever a retry's
    detail says (it may see the host after the change: nothing left to roll back)."""
    audit(resources, action, host_target(service_tag), "success", detail, same_detail=False)
