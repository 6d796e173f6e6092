"""Onboarding tries the iDRAC logins that apply, most specific first, records the one that
opened each iDRAC, and campaigns and sweeps then use that one (simulated iDRACs over HTTPS,
PostgreSQL, Temporal and the API; the lab's global profile is root / calvin)."""

from __future__ import annotations

import asyncio
import ipaddress
import json
from pathlib import Path
from typing import Any

from activities.resources import Resources
from tests.integration.onboarding.conftest import DELL_TAGS, Api, Lab
from tests.integration.onboarding.test_discovery import _discover, _findings
from tests.integration.onboarding.test_validation import _cli


def _profile(api: Api, **body: Any) -> int:
    with api.client() as client:
        created = client.post("/credential-profiles", json={"username": "root", **body})
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def _global_profile(api: Api) -> int:
    with api.client() as client:
        page = client.get("/credential-profiles", params={"scope": "global"}).json()
    (profile,) = page["items"]
    return int(profile["id"])


async def test_a_stale_specific_login_falls_back_to_the_next_and_the_opener_is_kept(
    lab: Lab, api: Api, worker: Resources
) -> None:
    address = lab.addresses[DELL_TAGS[0]]
    stale = _profile(api, name="rack-7", scope="cidr", cidr=f"{address}/32", password="old-pw")
    opener = _global_profile(api)

    code, out, err = await asyncio.to_thread(
        _discover, api, f"{address}/32", "--port", str(lab.simulator.port), "--validate"
    )
    assert code == 0, err
    run = json.loads(out)
    finding = _findings(api, run["id"])[address]
    assert (finding["credentials"], finding["credential_profile_id"]) == ("ok", opener)

    with api.client() as client:
        enrollments = client.get("/enrollments").json()["items"]
        (server,) = client.get("/servers", params={"service_tag": DELL_TAGS[0]}).json()["items"]
        explained = client.get(f"/servers/{server['id']}/credential").json()
    assert [e["credential_profile_id"] for e in enrollments if e["address"] == address] == [opener]
    assert server["credential_profile_id"] == opener
    # What every later iDRAC call uses: the opener, ahead of the stale, more specific range.
    assert explained["profile_id"] == opener
    assert explained["reason"] == "most specific match: it opened this iDRAC at onboarding"
    assert explained["considered"][1].startswith("rack-7 (cidr)") and stale != opener


async def test_at_most_two_logins_are_tried_so_ip_blocking_never_locks_us_out(
    lab: Lab, api: Api, worker: Resources
) -> None:
    address = lab.addresses[DELL_TAGS[1]]
    narrow = _profile(api, name="old-a", scope="cidr", cidr=f"{address}/32", password="x-1")
    pair = ipaddress.ip_network(f"{address}/31", strict=False)
    wide = _profile(api, name="old-b", scope="cidr", cidr=str(pair), password="x-2")

    code, out, err = await asyncio.to_thread(
        _discover, api, f"{address}/32", "--port", str(lab.simulator.port)
    )
    assert code == 0, err
    finding = _findings(api, json.loads(out)["id"])[address]
    assert finding["credentials"] == "rejected"
    # The global login would have opened it; a third failure could trip the iDRAC's
    # IP blocking, so it was not tried: the operator sees which ones were.
    assert finding["detail"] == f"the iDRAC rejected each login tried (profiles {narrow}, {wide})"
    with api.client() as client:
        (enrolled,) = [
            e for e in client.get("/enrollments").json()["items"] if e["address"] == address
        ]
    assert enrolled["credential_profile_id"] is None


async def test_validating_an_imported_idrac_tries_the_logins_in_order_too(
    lab: Lab, api: Api, worker: Resources, tmp_path: Path
) -> None:
    address = lab.addresses[DELL_TAGS[3]]
    _profile(api, name="rack-9", scope="cidr", cidr=f"{address}/32", password="old-pw")
    path = tmp_path / "fleet.csv"
    path.write_text(f"address\n{address}\n")
    assert (await asyncio.to_thread(_cli, api, "onboard", "import", str(path)))[0] == 0
    code, _, err = await asyncio.to_thread(_cli, api, "onboard", "validate")
    assert code == 0, err

    with api.client() as client:
        (server,) = client.get("/servers", params={"service_tag": DELL_TAGS[3]}).json()["items"]
        report = {r["address"]: r for r in client.get("/onboarding/report").json()}
    checks = {c["check"]: c for c in report[address]["checks"]}
    assert checks["credentials"]["ok"], checks["credentials"]
    assert server["credential_profile_id"] == _global_profile(api)
