"""`idrac-orch campaign ...` against the real API, PostgreSQL and the Temporal dev server.

CLI commands run through asyncio.to_thread so that the session event loop keeps running
the campaign worker (the documented stand-in) while the CLI waits for the API.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import Result
from pydantic import TypeAdapter
from sqlmodel import Session
from temporalio.client import Client
from temporalio.worker import Worker
from typer.testing import CliRunner

from cli.campaign import render_status
from cli.main import app
from domain.runbook import CampaignState, CampaignStatus, RolloutProblem
from store.db import make_engine
from store.models import HostUpdate
from tests.conftest import ROOT
from tests.integration.api.conftest import serve
from tests.integration.api.contract_workflow import SIGNAL_FINISH
from tests.integration.cli.conftest import COMPLIANT, CliApi
from tests.services.ports import free_port

EXAMPLE = ROOT / "examples" / "campaign-bios.yaml"
PLANNED = {"AMS0001", "AMS0003", "NYC0001", "NYC0002"}
FRIDAY_NOON = "2026-11-27T12:00:00+00:00"
DURATION = TypeAdapter(timedelta)


def cli(api: CliApi, *args: str, role: str | None = "operator", url: str | None = None) -> Result:
    env = {"IDRAC_ORCH_API_URL": url or api.url, "IDRAC_ORCH_API_TOKEN": ""}
    if role is not None:
        env["IDRAC_ORCH_API_TOKEN"] = api.tokens[role]
    return CliRunner().invoke(app, ["campaign", *args], env=env)


async def acli(api: CliApi, *args: str, role: str | None = "operator") -> Result:
    return await asyncio.to_thread(cli, api, *args, role=role)


def _ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def _campaign_file(tmp_path: Path, **spec_changes: object) -> Path:
    body = yaml.safe_load(EXAMPLE.read_text())
    body["spec"].update(spec_changes)
    path = tmp_path / "campaign.yaml"
    path.write_text(yaml.safe_dump(body))
    return path


async def test_start_pause_resume_abort_round_trip(
    cli_api: CliApi, campaign_worker: Worker, cli_temporal: Client
) -> None:
    started = await acli(cli_api, "start", str(EXAMPLE))
    campaign_id = int(_ok(started).strip())
    assert f"campaign {campaign_id} running as workflow campaign-{campaign_id}" in started.stderr
    handle = cli_temporal.get_workflow_handle(f"campaign-{campaign_id}")
    description = await handle.describe()
    assert (description.workflow_type, description.task_queue) == ("CampaignWorkflow", "campaigns")

    status = _ok(await acli(cli_api, "status", str(campaign_id)))
    assert f"campaign {campaign_id} 'BIOS 2.19.1 on ams-prod and two New York hosts': running" in (
        status
    )
    assert "created by token:cli-operator" in status
    assert f"temporal workflow campaign-{campaign_id}: RUNNING" in status
    assert "PROBLEM" not in status

    assert "paused" in _ok(await acli(cli_api, "pause", str(campaign_id)))
    assert "': paused\n" in _ok(await acli(cli_api, "status", str(campaign_id)))
    _ok(await acli(cli_api, "resume", str(campaign_id)))
    live = json.loads(_ok(await acli(cli_api, "status", str(campaign_id), "--json")))
    assert (live["status"], live["live"]["status"]["state"]) == ("running", "running")

    _ok(await acli(cli_api, "abort", str(campaign_id), "--reason", "vendor recalled the BIOS"))
    assert (await handle.result())["state"] == "aborted"
    aborted = "': aborted: aborted by an operator: vendor recalled the BIOS\n"
    final = _ok(await acli(cli_api, "status", str(campaign_id), "--watch", "--interval", "0.2"))
    assert f"campaign {campaign_id} " in final and aborted in final
    assert "abort reason: vendor recalled the BIOS" in final
    assert f"temporal workflow campaign-{campaign_id}: COMPLETED" in final
    for _ in range(2):  # it used to read "aborted" once, then "completed"
        assert aborted in _ok(await acli(cli_api, "status", str(campaign_id), role="viewer"))

    again = await acli(cli_api, "pause", str(campaign_id))
    assert again.exit_code == 1
    assert again.stderr.strip() == (
        f"error: conflict: campaign {campaign_id} has ended: "
        "aborted: aborted by an operator: vendor recalled the BIOS"
    )

    # The API, not the CLI, kept the record: every step is in its audit trail as the token.
    with cli_api.client() as admin:
        audit = admin.get("/audit", params={"actor": "token:cli-operator", "limit": 500}).json()
    actions = {entry["action"] for entry in audit["items"]}
    assert {
        "create_campaign",
        "start_campaign",
        "pause_campaign",
        "resume_campaign",
        "abort_campaign",
    } <= actions


async def test_watch_refreshes_until_the_campaign_ends(
    cli_api: CliApi, campaign_worker: Worker, cli_temporal: Client
) -> None:
    campaign_id = int(_ok(await acli(cli_api, "start", str(EXAMPLE))).strip())
    env = {
        **os.environ,
        "IDRAC_ORCH_API_URL": cli_api.url,
        "IDRAC_ORCH_API_TOKEN": cli_api.tokens["viewer"],
    }
    command = [str(Path(sys.executable).parent / "idrac-orch"), "campaign", "status"]
    watcher = subprocess.Popen(  # noqa: ASYNC220 (starting it does not block)
        [*command, str(campaign_id), "--watch", "--json", "--interval", "0.3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert watcher.stdout is not None
        first = json.loads(await asyncio.to_thread(watcher.stdout.readline))
        assert first["status"] == "running"
        # Ended in Temporal (as from its Web UI): no result of its own, never "completed".
        handle = cli_temporal.get_workflow_handle(f"campaign-{campaign_id}")
        await handle.terminate(reason="ops")
        out, err = await asyncio.to_thread(watcher.communicate, timeout=60)
    finally:
        watcher.kill()
    assert watcher.returncode == 0, err
    last = json.loads(out.splitlines()[-1])
    assert (last["status"], last["status_reason"]) == ("terminated", "ops")
    text = _ok(await acli(cli_api, "status", str(campaign_id)))
    assert f"campaign {campaign_id} 'BIOS 2.19.1 on ams-prod and two New York hosts': " in text
    assert "': terminated: ops\n" in text and "completed" not in text


async def test_status_lists_host_outcomes_from_the_store(
    cli_api: CliApi, campaign_worker: Worker
) -> None:
    campaign_id = int(_ok(await acli(cli_api, "start", str(EXAMPLE))).strip())
    # What the campaign's record_host_outcome activity writes when hosts finish.
    engine = make_engine(cli_api.settings.effective_database_url)
    began = datetime(2026, 11, 28, 21, 0, tzinfo=UTC)
    with Session(engine) as session:
        for tag, outcome, step, detail in (
            ("AMS0001", "updated", None, "ams-prod"),
            ("AMS0003", "held", "post_health", "ams-prod: health check failed"),
        ):
            bios = {"component_id": "159", "target": "2.19.1", "before": "2.10.0"}
            session.add(
                HostUpdate(
                    campaign_id=campaign_id,
                    server_id=cli_api.servers[tag],
                    status=outcome,
                    step=step,
                    detail=detail,
                    started_at=began,
                    finished_at=began + timedelta(minutes=40),
                    components=[{**bios, "after": "2.19.1", "status": outcome}],
                )
            )
        session.commit()
    engine.dispose()

    text = _ok(await acli(cli_api, "status", str(campaign_id), role="viewer"))
    assert "hosts finished: 2 (1 held, 1 updated)" in text
    assert "AMS0001  updated     2026-11-28 21:00 UTC -> 2026-11-28 21:40 UTC  ams-prod" in text
    assert "AMS0003  held" in text and "at post_health  ams-prod: health check failed" in text
    # Each host's components, before -> after, under it.
    assert "\n    159 2.10.0 -> 2.19.1 updated\n  AMS0003  held" in text
    assert text.rstrip().endswith("\n    159 2.10.0 -> 2.19.1 held")
    hosts = json.loads(_ok(await acli(cli_api, "status", str(campaign_id), "--json")))["hosts"]
    assert {(h["service_tag"], h["status"]) for h in hosts} == {
        ("AMS0001", "updated"),
        ("AMS0003", "held"),
    }
    _ok(await acli(cli_api, "abort", str(campaign_id), "--reason", "test done"))


def test_plan_is_a_dry_run_from_the_inventory(cli_api: CliApi) -> None:
    with cli_api.client() as admin:
        before = admin.get("/campaigns").json()["total"]

    text = _ok(cli(cli_api, "plan", str(EXAMPLE), "--now", FRIDAY_NOON, role="viewer"))
    assert text.startswith("Rollout plan (dry run, times in UTC)")
    assert "4 hosts to update in 2 clusters, 1 skipped, 0 blocked" in text
    assert f"skipped  esx-ams-02.lab.test [{COMPLIANT}]: compliant: BIOS (159) 2.19.1" in text
    assert "BIOS (159): 2.18.1 -> 2.19.1" in text
    assert "note: VM counts are not in the inventory" in text
    assert "window: weekly Sat, Sun 22:00 for 6 h (America/New_York)" in text
    assert "next opening: 2026-11-28 22:00 America/New_York = Sun 2026-11-29 03:00 UTC" in text

    result = json.loads(
        _ok(cli(cli_api, "plan", str(EXAMPLE), "--now", FRIDAY_NOON, "--json", role="viewer"))
    )
    hosts = [h for c in result["plan"]["clusters"] for h in c["hosts"]]
    assert {h["service_tag"] for h in hosts} == PLANNED
    # ams-prod has 3 hosts and min_hosts_online 2: one host at a time, so two waves.
    assert {c["name"]: c["max_concurrent"] for c in result["plan"]["clusters"]} == {
        "ams-prod": 1,
        "nyc-prod": 1,
    }
    # The window is each site's own Saturday 22:00: 21:00 UTC in Amsterdam, 03:00 UTC on
    # Sunday in New York; no host starts before its own site's opening.
    friday = datetime.fromisoformat(FRIDAY_NOON)
    opens = {
        "ams-prod": datetime(2026, 11, 28, 21, 0, tzinfo=UTC) - friday,
        "nyc-prod": datetime(2026, 11, 29, 3, 0, tzinfo=UTC) - friday,
    }
    for cluster in result["plan"]["clusters"]:
        starts = [DURATION.validate_python(h["start"]) for h in cluster["hosts"]]
        assert min(starts) == opens[cluster["name"]], cluster["name"]
    assert result["unresolved"] == []

    with cli_api.client() as admin:
        assert admin.get("/campaigns").json()["total"] == before


def test_plan_reports_targets_the_inventory_does_not_know(cli_api: CliApi, tmp_path: Path) -> None:
    path = _campaign_file(
        tmp_path, targets={"clusters": ["ams-prod", "lon-prod"], "service_tags": ["ZZZ9999"]}
    )
    text = _ok(cli(cli_api, "plan", str(path), "--now", FRIDAY_NOON))
    assert "unresolved target: cluster lon-prod: no servers in a cluster of that name" in text
    assert "unresolved target: service tag ZZZ9999: no server with that tag in a cluster" in text

    nothing = _campaign_file(tmp_path, targets={"clusters": ["lon-prod"]})
    result = cli(cli_api, "plan", str(nothing))
    assert result.exit_code == 1
    assert "error: no targeted server is in the inventory: cluster lon-prod" in result.stderr


def test_an_invalid_spec_is_refused_before_any_request(cli_api: CliApi, tmp_path: Path) -> None:
    path = _campaign_file(tmp_path, policy={"max_concurrent_per_cluster": 0})
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens: no request may be made
    for command in ("plan", "start"):
        result = cli(cli_api, command, str(path), url=nowhere)
        assert result.exit_code == 2, result.output
        assert result.stderr.strip() == (
            f"error: {path}: invalid spec.policy.max_concurrent_per_cluster: "
            "Input should be greater than or equal to 1"
        )


def test_api_refusals_are_one_clear_line(cli_api: CliApi, tmp_path: Path) -> None:
    cases = [
        (
            cli(cli_api, "status", "1", role=None),
            "error: not authenticated (authentication required: send Authorization: Bearer "
            "<token>): pass --token or set IDRAC_ORCH_API_TOKEN",
        ),
        (
            cli(cli_api, "start", str(EXAMPLE), role="viewer"),
            "error: permission denied: requires role operator or higher",
        ),
        (cli(cli_api, "status", "999999"), "error: not found: campaign 999999 does not exist"),
        (
            cli(cli_api, "start", str(_campaign_file(tmp_path, targets={"clusters": ["nope"]}))),
            "error: invalid spec.targets.clusters: unknown at position 0",
        ),
    ]
    for result, message in cases:
        assert (result.exit_code, result.stderr.strip()) == (1, message), result.output
        assert result.stdout == ""
        for token in cli_api.tokens.values():
            assert token not in result.output

    down = cli(cli_api, "status", "1", url=f"http://127.0.0.1:{free_port()}")
    assert down.exit_code == 1
    assert down.stderr.startswith("error: cannot reach the API at http://127.0.0.1:")


def test_bad_files_exit_2_naming_the_problem(cli_api: CliApi, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nspec: [unclosed\n")
    result = cli(cli_api, "start", str(broken))
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {broken}: not valid YAML or JSON at line 3"

    listing = tmp_path / "list.yaml"
    listing.write_text("- name: x\n")
    result = cli(cli_api, "plan", str(listing))
    assert result.exit_code == 2
    assert "expected a mapping with name and spec" in result.stderr

    both = cli(cli_api, "start", str(EXAMPLE), "--id", "1")
    assert both.exit_code == 2 and "either FILE or --id" in both.stderr


def test_yaml_clock_times_and_json_files_are_read_as_written(
    cli_api: CliApi, tmp_path: Path
) -> None:
    """Unquoted 22:00 is the base-60 integer 1320 in YAML 1.1; the CLI keeps it a time."""
    text = EXAMPLE.read_text().replace('start: "22:00"', "start: 22:00")
    assert "start: 22:00 " in text
    unquoted = tmp_path / "unquoted.yaml"
    unquoted.write_text(text)
    as_json = tmp_path / "campaign.json"
    as_json.write_text(json.dumps(yaml.safe_load(EXAMPLE.read_text())))
    plans = [
        _ok(cli(cli_api, "plan", str(path), "--now", FRIDAY_NOON, "--json"))
        for path in (EXAMPLE, unquoted, as_json)
    ]
    assert plans[0] == plans[1] == plans[2]


async def test_a_start_that_fails_after_create_says_how_to_retry(
    cli_api: CliApi, campaign_worker: Worker
) -> None:
    """The same database behind an API whose Temporal is down (nothing on that port)."""
    no_temporal = cli_api.settings.model_copy(
        update={"temporal_address": f"127.0.0.1:{free_port()}"}
    )
    with serve(no_temporal) as down_url:
        result = await asyncio.to_thread(cli, cli_api, "start", str(EXAMPLE), url=down_url)
    assert result.exit_code == 1 and result.stdout == ""
    campaign_id = int(result.stderr.split()[1])
    assert result.stderr.splitlines()[0] == f"campaign {campaign_id} created"
    reason = result.stderr.splitlines()[1]
    assert reason.startswith(
        f"error: campaign {campaign_id} not started: service unavailable: Temporal at "
    )
    assert reason.endswith(f"retry with `idrac-orch campaign start --id {campaign_id}`")

    retried = await acli(cli_api, "start", "--id", str(campaign_id))
    assert _ok(retried).strip() == str(campaign_id)
    _ok(await acli(cli_api, "abort", str(campaign_id), "--reason", "test done"))


def test_live_campaign_status_is_summarised() -> None:
    """The real workflow's status query shape (domain CampaignStatus), as the API relays it,
    with a rollout that cannot progress: its PROBLEM line comes right under the status."""
    live = CampaignStatus(
        campaign_id=7,
        state=CampaignState.PAUSED,
        stop_reason=None,
        clusters=["ams-prod", "nyc-prod"],
        hosts_in_flight=["AMS0003"],
        outcomes=[],
        unresolved=["service tag ZZZ9999: no server with that tag in a cluster"],
        problems=[
            RolloutProblem(
                cluster="nyc-prod",
                workflow_id="campaign-7-cluster-nyc-prod",
                detail="workflow task failing since 13:40 UTC (nondeterminism)",
            )
        ],
    )
    detail = {
        "id": 7,
        "name": "BIOS",
        "status": "paused",
        "status_reason": None,
        "created_by": "alice",
        "created_at": "2026-11-27T13:00:00Z",
        "started_at": None,
        "finished_at": None,
        "abort_reason": None,
        "workflow_id": "campaign-7",
        "problems": [p.model_dump(mode="json") for p in live.problems],
        "live": {
            "available": True,
            "temporal_status": "RUNNING",
            "status": live.model_dump(mode="json"),
            "detail": None,
        },
    }
    assert render_status(detail, []).splitlines() == [
        "campaign 7 'BIOS': paused",
        "PROBLEM: cluster nyc-prod cannot progress (workflow campaign-7-cluster-nyc-prod): "
        "workflow task failing since 13:40 UTC (nondeterminism)",
        "  created by alice at 2026-11-27 13:00 UTC, started -",
        "  temporal workflow campaign-7: RUNNING",
        "  clusters: ams-prod, nyc-prod",
        "  hosts in flight: AMS0003",
        "  unresolved target: service tag ZZZ9999: no server with that tag in a cluster",
        "hosts finished: 0",
    ]


@pytest.mark.parametrize(
    ("end", "stop_reason", "shown"),
    [
        (
            "halted",
            "3 failed host(s) reached the campaign threshold of 3",
            "halted: 3 failed host(s) reached the campaign threshold of 3",
        ),
        ("finished_with_failures", None, "completed with failures"),
    ],
)
async def test_an_ended_campaign_reads_its_own_result_every_time(
    cli_api: CliApi,
    campaign_worker: Worker,
    cli_temporal: Client,
    end: str,
    stop_reason: str | None,
    shown: str,
) -> None:
    """Its workflow completed (Temporal: COMPLETED); the campaign says how it ended."""
    campaign_id = int(_ok(await acli(cli_api, "start", str(EXAMPLE))).strip())
    handle = cli_temporal.get_workflow_handle(f"campaign-{campaign_id}")
    await handle.signal(SIGNAL_FINISH, args=[end, stop_reason])
    await handle.result()

    header = f"campaign {campaign_id} 'BIOS 2.19.1 on ams-prod and two New York hosts': {shown}"
    watched = _ok(await acli(cli_api, "status", str(campaign_id), "--watch", "--interval", "0.2"))
    assert watched.splitlines()[0] == header
    for _ in range(2):
        text = _ok(await acli(cli_api, "status", str(campaign_id), role="viewer"))
        assert text.splitlines()[0] == header
        assert f"temporal workflow campaign-{campaign_id}: COMPLETED" in text
        as_json = json.loads(_ok(await acli(cli_api, "status", str(campaign_id), "--json")))
        assert (as_json["status"], as_json["status_reason"]) == (end, stop_reason)
