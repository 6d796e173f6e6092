"""Watching a demo campaign through the API: each host's outcome as it lands, the
rollouts that cannot progress, and the per-host results as the activities stored them."""

from __future__ import annotations

import time
from typing import Any

import httpx
import typer

from api.campaign_status import FINAL, status_text
from cli.campaign import component_lines, problem_line
from domain.runbook import RolloutProblem

CAMPAIGN_TIMEOUT_S = 600


def print_outcome(
    tag: str, status: str, reason: str | None, components: list[dict[str, Any]] | None
) -> None:
    typer.echo(f"  {status:<12} {tag}" + (f"  ({reason})" if reason else ""))
    for line in component_lines(components):
        typer.echo(f"               {line}")


def follow(api: httpx.Client, campaign_id: int) -> tuple[set[str], str]:
    """Print each host's outcome as it lands and any rollout that cannot progress, until
    the campaign ends; return who printed and the campaign's final status."""
    seen: set[str] = set()
    waiting: dict[str, str | None] = {}
    problems: set[str] = set()
    deadline = time.monotonic() + CAMPAIGN_TIMEOUT_S
    while time.monotonic() < deadline:
        detail = api.get(f"/campaigns/{campaign_id}").raise_for_status().json()
        for problem in detail["problems"]:
            line = problem_line(RolloutProblem.model_validate(problem))
            if line not in problems:
                problems.add(line)
                typer.echo(line)
        live = detail.get("live") or {}
        status = live.get("status") or {}
        for cluster in live.get("clusters") or []:
            reason = cluster.get("waiting_reason")
            if reason and waiting.get(cluster["cluster"]) != reason:
                typer.echo(f"  {cluster['cluster']:<12} waits: {reason}")
            waiting[cluster["cluster"]] = reason
        for outcome in status.get("outcomes", []):
            if outcome["service_tag"] not in seen:
                seen.add(outcome["service_tag"])
                print_outcome(
                    outcome["service_tag"],
                    outcome["status"],
                    outcome.get("reason"),
                    outcome.get("components"),
                )
        if detail["status"] in FINAL:
            shown = status_text(detail["status"], detail["status_reason"])
            typer.echo(f"Campaign {campaign_id} ended: {shown}")
            return seen, detail["status"]
        time.sleep(1)
    raise RuntimeError(f"campaign {campaign_id} still running after {CAMPAIGN_TIMEOUT_S}s")


def recorded_outcomes(api: httpx.Client, campaign_id: int) -> dict[str, dict[str, Any]]:
    """Per-host results as the activities stored them: service tag -> the API's row."""
    servers = api.get("/servers", params={"limit": 500}).raise_for_status().json()["items"]
    tag_of = {s["id"]: s["service_tag"] for s in servers}
    records = api.get(f"/campaigns/{campaign_id}/hosts", params={"limit": 500}).raise_for_status()
    return {tag_of[r["server_id"]]: r for r in records.json()["items"]}


def report_outcomes(api: httpx.Client, campaign_id: int) -> tuple[dict[str, str], str]:
    """Follow the campaign to its end, print the hosts the live view missed, and return
    each host's recorded status and the campaign's final status."""
    seen, ended = follow(api, campaign_id)
    final = recorded_outcomes(api, campaign_id)
    for tag, row in sorted(final.items()):
        if tag not in seen:  # finished in the last second, after the live view closed
            print_outcome(tag, row["status"], row["detail"], row.get("components"))
    return {tag: row["status"] for tag, row in final.items()}, ended
