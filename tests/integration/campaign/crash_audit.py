"""The verdict on a crash run: every host's reported outcome against the simulators' truth,
every workflow's history for failed workflow tasks, and every API answer for lies."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHistory

from tests.integration.campaign.chaos import Target
from tests.integration.campaign.crash_run import ChaosRun
from tests.integration.campaign.lab import HostTruth, Lab
from tests.integration.campaign.status_poll import OPEN_STATUSES, reported_outcomes

UNTOUCHED = "untouched"  # nothing changed: true for "failed" (before any change) or never started
MATCHES = {UNTOUCHED: {"failed", "not_started"}}


def true_outcome(before: HostTruth, after: HostTruth, target: str) -> str:
    """What the simulators say happened to one host, in HostStatus words."""
    flashes = after.bios_flashes - before.bios_flashes
    if after.in_maintenance:
        return "held"
    if before.bios == target and flashes == 0:
        return "compliant"
    if after.bios == target and flashes == 1:
        return "updated"
    if after.bios == before.bios and flashes == 0:
        return UNTOUCHED
    if after.bios == before.bios and flashes == 2:
        return "rolled_back"
    return f"inconsistent (BIOS {before.bios} -> {after.bios}, {flashes} flashes)"


@dataclass(frozen=True)
class HostCheck:
    tag: str
    true: str
    api: str | None  # the final API read's outcome
    store: str | None  # the store's per-host record (GET /campaigns/{id}/hosts)
    flashes: int

    def reported_truly(self, closed: bool) -> bool:
        """Both reports match the truth; while the campaign is open, a missing report (the
        live status unavailable, the host not finished) is no lie."""
        accepted = MATCHES.get(self.true, {self.true}) | (set() if closed else {None})
        return self.api in accepted and self.store in accepted


@dataclass
class CrashAudit:
    hosts: dict[str, HostCheck]
    expected_state: str  # the campaign's true result, from the hosts' truth
    final_status: str | None
    final_state: str | None
    false_outcomes: list[str] = field(default_factory=list)
    double_flashes: list[str] = field(default_factory=list)
    stranded: list[str] = field(default_factory=list)
    task_failures: list[str] = field(default_factory=list)
    unclosed: list[str] = field(default_factory=list)
    failed_by_crashes: list[str] = field(default_factory=list)  # no fault injected: all should pass
    invalid_answers: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        final = [
            f"final API status {self.final_status} / state {self.final_state}, "
            f"true result {self.expected_state}"
        ]
        wrong_final = self.final_status != self.expected_state or self.final_state not in (
            None,
            self.expected_state,
        )
        return [
            *(f"false outcome: {p}" for p in self.false_outcomes),
            *(f"double flash: {p}" for p in self.double_flashes),
            *(f"stranded: {p}" for p in self.stranded),
            *(f"failed by crashes alone: {p}" for p in self.failed_by_crashes),
            *(f"workflow task failed: {p}" for p in self.task_failures),
            *(f"not closed cleanly: {p}" for p in self.unclosed),
            *(f"invalid API answer: {p}" for p in self.invalid_answers),
            *(final if wrong_final else []),
        ]

    def outcome_table(self) -> dict[str, Counter[str]]:
        """true outcome -> Counter of (api / store) reports, for the summary."""
        table: dict[str, Counter[str]] = {}
        for check in self.hosts.values():
            table.setdefault(check.true, Counter())[f"{check.api}/{check.store}"] += 1
        return table


def check_hosts(
    run: ChaosRun,
    before: dict[str, HostTruth],
    after: dict[str, HostTruth],
    target: str,
    server_tags: dict[int, str],
) -> CrashAudit:
    api = reported_outcomes(run.final)
    store = {server_tags[row["server_id"]]: row for row in run.host_records}
    hosts = {
        tag: HostCheck(
            tag,
            true_outcome(before[tag], after[tag], target),
            api.get(tag),
            store[tag]["status"] if tag in store else None,
            after[tag].bios_flashes - before[tag].bios_flashes,
        )
        for tag in before
    }
    succeeded = all(c.true in ("updated", "compliant") for c in hosts.values())
    live = (run.final.get("live") or {}).get("status") or {}
    audit = CrashAudit(
        hosts,
        expected_state="completed" if succeeded else "finished_with_failures",
        final_status=run.final.get("status"),
        final_state=live.get("state"),
    )
    for tag, check in sorted(hosts.items()):
        truth = after[tag]
        row = store.get(tag) or {}
        reported = (
            f"reported {check.api} (API) / {check.store} (store, step {row.get('step')}: "
            f"{row.get('detail')}), truly {check.true}"
        )
        if not check.reported_truly(run.closed):
            audit.false_outcomes.append(f"{tag}: {reported}")
        if check.true not in ("updated", "compliant"):
            audit.failed_by_crashes.append(f"{tag}: {reported}")
        if check.flashes > (2 if check.true == "rolled_back" else 1):
            audit.double_flashes.append(f"{tag}: {check.flashes} BIOS flashes")
        if truth.in_maintenance and check.api != "held":
            audit.stranded.append(f"{tag}: in maintenance, reported {check.api}")
        if truth.power != "On" or truth.connection != "connected":
            audit.stranded.append(f"{tag}: power {truth.power}, vCenter {truth.connection}")
    return audit


@dataclass
class Histories:
    """Every run of every workflow of the campaign (campaign, clusters, hosts), keyed
    ``workflow-id/run-id``, with how each closed."""

    events: dict[str, WorkflowHistory]
    statuses: dict[str, WorkflowExecutionStatus | None]

    def end_s(self, part: str, default: float = 0.0) -> float:
        """When the last workflow whose key contains PART closed (epoch seconds)."""
        ends = [_at(h.events[-1]) for key, h in self.events.items() if part in key]
        return max(ends, default=default)


async def campaign_histories(client: Client, run: ChaosRun) -> Histories:
    histories = Histories({}, {})
    async for execution in client.list_workflows(f'CampaignId = "{run.campaign_id}"'):
        key = f"{execution.id}/{execution.run_id}"
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        histories.events[key] = await handle.fetch_history()
        histories.statuses[key] = execution.status
    return histories


def check_histories(audit: CrashAudit, histories: Histories) -> None:
    for key, history in sorted(histories.events.items()):
        for event in history.events:
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                failed = event.workflow_task_failed_event_attributes
                audit.task_failures.append(
                    f"{key} event {event.event_id} at {_clock(_at(event))}: "
                    f"{failed.failure.message[:300]}"
                )
    for key, status in sorted(histories.statuses.items()):
        if status not in (
            WorkflowExecutionStatus.COMPLETED,
            WorkflowExecutionStatus.CONTINUED_AS_NEW,
        ):
            audit.unclosed.append(f"{key}: {status.name if status else 'unknown'}")


def check_answers(audit: CrashAudit, run: ChaosRun, histories: Histories) -> None:
    """Never a final verdict while a host still ran, never 'completed' before the end, never
    open when asked after a final answer had come back; every answer an HTTP 200."""
    end = histories.end_s(f"{run.workflow_id}/")
    hosts_end = histories.end_s(f"{run.workflow_id}-host-", default=end)
    finals = [a.received_at for a in run.answers if a.http_status == 200 and a.says_final]
    first_final_seen = min(finals, default=float("inf"))
    for answer in run.answers:
        when = _clock(answer.sent_at)
        said = f"status {answer.status} / state {answer.live_state}"
        if answer.http_status != 200 or answer.status is None:
            audit.invalid_answers.append(f"{when}: HTTP {answer.http_status} ({answer.detail})")
            continue
        if answer.says_final:
            if answer.sent_at < hosts_end:
                audit.invalid_answers.append(f"{when}: {said} while hosts still ran")
            elif answer.status not in OPEN_STATUSES and answer.sent_at < end:
                audit.invalid_answers.append(f"{when}: {said} before the campaign closed")
        elif answer.sent_at > first_final_seen:  # asked after a final answer came back
            audit.invalid_answers.append(f"{when}: {said} after a final answer")


def _at(event: HistoryEvent) -> float:
    return event.event_time.seconds + event.event_time.nanos / 1e9


def _clock(epoch_s: float) -> str:
    return f"{datetime.fromtimestamp(epoch_s, UTC):%H:%M:%S.%f}"[:-3]


async def audit_run(
    client: Client, run: ChaosRun, lab: Lab, before: dict[str, HostTruth], target: str
) -> CrashAudit:
    """The whole verdict: hosts against the simulators, histories, API answers."""
    after = await asyncio.to_thread(lab.truth)
    server_tags = {server_id: tag for tag, server_id in lab.server_ids.items()}
    audit = check_hosts(run, before, after, target, server_tags)
    histories = await campaign_histories(client, run)
    check_histories(audit, histories)
    check_answers(audit, run, histories)
    return audit


def kills_per_step(run: ChaosRun) -> dict[str, int]:
    """Confirmed hits (the kill interrupted that step) per aimed step."""
    hits = Counter(kill.target.value for kill in run.kills if kill.confirmed and kill.target)
    return {target.value: hits[target.value] for target in Target}


def summary(run: ChaosRun, audit: CrashAudit) -> str:
    """A few lines for the log: what was killed where, and what was reported vs true."""
    near_misses = sum(not kill.confirmed for kill in run.kills)
    worker_down = [answer for answer in run.answers if not answer.worker_up]
    lines = [
        f"campaign {run.campaign_id}: closed={run.closed} in {run.makespan_s:.0f} s; "
        f"API final {audit.final_status} / {audit.final_state}, truly {audit.expected_state}",
        f"{len(run.kills)} worker kills ({near_misses} landed after the step ended), "
        f"{run.server_crashes} Temporal server crash, "
        f"{len(run.unplanned_exits)} worker exits on its own; kills held back for "
        f"{len(run.spared)} activities in their last retry attempt",
        "hits per step: " + ", ".join(f"{k} {v}" for k, v in kills_per_step(run).items()),
        f"{len(run.answers)} API answers ({len(worker_down)} while no worker ran)",
        "outcomes (true: api/store x hosts): "
        + "; ".join(
            f"{true}: " + ", ".join(f"{said} x{n}" for said, n in reports.items())
            for true, reports in sorted(audit.outcome_table().items())
        ),
        f"false outcomes {len(audit.false_outcomes)}, double flashes "
        f"{len(audit.double_flashes)}, stranded {len(audit.stranded)}, workflow task "
        f"failures {len(audit.task_failures)}, invalid answers {len(audit.invalid_answers)}",
    ]
    return "\n".join(lines)


def kill_log(run: ChaosRun) -> str:
    """One line per kill: when, which step of which workflow, and whether it interrupted it."""
    return "\n".join(
        f"  {kill.at_s:7.1f} s  {kill.target or 'exit':16} {kill.workflow_id or '-'}"
        f" {kill.activity_id or ''} attempt {kill.attempt}: "
        f"{'hit' if kill.confirmed else 'missed'} {kill.worker_age_s} s after the worker "
        f"started; restart after {kill.restart_delay_s} s"
        for kill in run.kills
    )
