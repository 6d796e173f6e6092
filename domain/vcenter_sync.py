"""vCenter synchronisation: what a sync run reports and how it is named in Temporal.

A sync imports a registered vCenter's datacenters, clusters and hosts and links each host
to its server by Dell service tag (never by a typed name). What changed since the last
sync is reported: hosts new to it, moved between clusters, removed, and hosts no server
matches. Nothing is dropped silently: a removed host keeps its server and is named with
the open campaigns that target it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

WORKFLOW_NAME = "VcenterSyncWorkflow"
SCHEDULE_ID = "vcenter-sync"


def sync_workflow_id(run_id: int) -> str:
    return f"vcenter-sync-{run_id}"


class _Io(BaseModel):
    model_config = ConfigDict(frozen=True)


class SyncStart(_Io):
    """One run (started through the API) or, with none, every registered vCenter."""

    run_id: int | None = None


class SeenHost(_Io):
    """One ESXi host as vCenter shows it."""

    moid: str
    name: str
    service_tag: str | None
    datacenter: str | None
    cluster: str | None = Field(description="None: a standalone host")


class HostEntry(_Io):
    name: str
    service_tag: str | None
    cluster: str | None
    server_id: int | None = None


class HostChange(HostEntry):
    open_campaigns: list[int] = Field(
        default_factory=list,
        description="open campaigns that targeted the host as it was: it stays in them",
    )


class HostMove(HostChange):
    from_cluster: str | None


class HostRemoved(HostChange):
    pass


class SyncReport(_Io):
    """What one sync found: counts of the topology and what changed since the last sync."""

    datacenters: int = 0
    clusters: int = 0
    hosts: int = 0
    linked: int = Field(default=0, description="hosts linked to a server by service tag")
    new: list[HostEntry] = Field(default_factory=list)
    moved: list[HostMove] = Field(default_factory=list)
    removed: list[HostRemoved] = Field(default_factory=list)
    unmatched: list[HostEntry] = Field(
        default_factory=list, description="hosts with no server of their service tag (or none)"
    )


class SyncOutcome(_Io):
    run_id: int
    status: str
    error: str | None = None


def host_changes(
    known: dict[str, SeenHost], seen: dict[str, SeenHost]
) -> tuple[list[SeenHost], list[tuple[SeenHost, str | None]], list[SeenHost]]:
    """(new, moved with the cluster they left, removed), by vCenter's managed object id:
    stable across renames and moves, unlike a host's name."""
    new = [host for moid, host in seen.items() if moid not in known]
    moved = [
        (host, known[moid].cluster)
        for moid, host in seen.items()
        if moid in known and known[moid].cluster != host.cluster
    ]
    removed = [host for moid, host in known.items() if moid not in seen]
    return new, moved, removed
