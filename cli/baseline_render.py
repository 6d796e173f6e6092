"""Text an operator reads for a compliance report, its drift and a remediation dry run
(the API's JSON in, lines out)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.remediation_preview import HostPreview
from domain.windows import format_duration

STATES = ("compliant", "upgrade", "downgrade", "not_applicable", "unknown")


def _counts(states: dict[str, int]) -> str:
    return ", ".join(f"{states[s]} {s.replace('_', ' ')}" for s in STATES if states.get(s))


def _when(value: str | datetime | None) -> str:
    if value is None:
        return "-"
    instant = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return f"{instant:%Y-%m-%d %H:%M} UTC"


def render_report(report: dict[str, Any], detail: bool = True) -> str:
    run, fleet = report["run"], report["fleet"]
    lines = [
        f"baseline {run['baseline_id']}, evaluation {run['id']} at {_when(run['evaluated_at'])} "
        f"(catalog {run['catalog_id']}, by {run['evaluated_by']})",
        f"  fleet: {fleet['hosts']} hosts, {fleet['compliant_pct']}% compliant "
        f"({_counts(fleet['host_states']) or 'none'})",
    ]
    for cluster in report["clusters"]:
        lines.append(
            f"  cluster {cluster['cluster'] or '(none)'}: {cluster['hosts']} hosts, "
            f"{cluster['compliant_pct']}% compliant ({_counts(cluster['host_states'])})"
        )
    if not detail:
        return "\n".join(lines)
    for host in report["hosts"]:
        lines.append(f"{host['state']:<15} {host['name']} [{host['service_tag']}] {host['reason']}")
        for c in host["components"]:
            if c["state"] in ("upgrade", "downgrade"):
                lines.append(
                    f"    {c['state']:<10} {c['name'] or c['component_id']} "
                    f"({c['component_id']}): {c['reason']}"
                )
    return "\n".join(lines)


def render_drift(drift: dict[str, Any]) -> str:
    lines = [f"{len(drift['hosts'])} host(s) off the baseline at evaluation {drift['run']['id']}"]
    for host in drift["hosts"]:
        lines.append(
            f"  {host['name']} [{host['service_tag']}] {host['state']} since "
            f"{_when(host['off_since'])}"
        )
        for c in host["changes"]:
            before, now = (", ".join(c[k]) or "-" for k in ("installed_before", "installed_now"))
            lines.append(
                f"    {c['name'] or c['component_id']} ({c['component_id']}): installed "
                f"{before} -> {now}, baseline {c['target_before'] or '-'} -> "
                f"{c['target_now'] or '-'}"
            )
    return "\n".join(lines)


def _host_line(row: HostPreview) -> list[str]:
    reboots = [
        r for r, on in (("host reboot", row.host_reboot), ("iDRAC reset", row.idrac_reset)) if on
    ]
    duration = format_duration(row.duration, up=True) if row.duration else "?"
    fit = (
        f"fits: {_when(row.start)} -> {_when(row.end)}" if row.fits else f"does not fit: {row.note}"
    )
    lines = [
        f"  {row.name} [{row.service_tag}] cluster {row.cluster or '-'}: {duration}, "
        f"{', '.join(reboots) or 'no reboot'}; {fit}"
    ]
    for n, step in enumerate(row.steps, start=1):
        lines.append(f"    step {n}: {', '.join(step.components)} ({step.text})")
    lines += [f"      {package}" for package in row.packages]
    return lines


def render_dry_run(result: dict[str, Any]) -> str:
    lines = [f"Remediation of baseline {result['baseline_id']} (dry run, nothing created)"]
    for item in result["campaigns"]:
        draft = item["campaign"]
        makespan = item["makespan"]
        lines += [
            "",
            f"campaign '{draft['name']}': SystemID {draft['system_id']}, "
            f"{len(draft['service_tags'])} host(s)"
            + (f", makespan {format_duration(makespan, up=True)}" if makespan else ""),
        ]
        if draft["missing_packages"]:
            lines.append(
                "  missing from the package repository: " + "; ".join(draft["missing_packages"])
            )
        for row in item["hosts"]:
            lines += _host_line(row)
        lines += [f"  note: {note}" for note in item["notes"]]
    lines += [f"skipped {s['name']} [{s['service_tag']}]: {s['reason']}" for s in result["skipped"]]
    return "\n".join(lines)
