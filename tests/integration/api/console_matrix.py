"""The console's cells of the role matrix. Its routes are pages, kept out of the OpenAPI
document, so they are listed from the app's routes instead; the same roles hold as in the
API: anonymous is sent to log in (pages) or refused with 401, every role reads (and dry-runs
a remediation), and pause, resume, abort, evaluating a baseline and creating its remediation
need an operator (403 for a viewer, with nothing changed)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from console.session import COOKIE

Make = Callable[[Any], Awaitable["Cell"]]


@dataclass
class Cell:
    method: str
    url: str
    form: dict[str, str] = field(default_factory=dict)
    stream: bool = False
    keeps: tuple[str, str] | None = None  # (API path, status) a refusal must leave as is


@dataclass(frozen=True)
class Rule:
    """Who may: ``public`` or a role; what each gets: allowed, and refused anonymous."""

    role: str
    ok: int
    anonymous: int
    make: Make


def console_routes(app: FastAPI) -> set[str]:
    return {
        f"{method} {context.path}" if method else f"MOUNT {context.path}"
        for context in iter_route_contexts(app.routes)
        if context.path and context.path.startswith("/ui")
        for method in sorted(getattr(context, "methods", None) or {""})
    }


def _get(url: str, stream: bool = False) -> Make:
    async def make(_: Any) -> Cell:
        return Cell("GET", url, stream=stream)

    return make


def _started(path: str, **form: str) -> Make:
    async def make(fixtures: Any) -> Cell:
        campaign_id = await fixtures.campaign(started=True)
        method, url = path.split()
        return Cell(
            method,
            url.format(campaign_id),
            dict(form),
            keeps=(f"/campaigns/{campaign_id}", "running"),
        )

    return make


def _server(path: str) -> Make:
    async def make(fixtures: Any) -> Cell:
        return Cell("GET", path.format(await fixtures.server()))

    return make


def _campaign(path: str, stream: bool = False) -> Make:
    async def make(fixtures: Any) -> Cell:
        return Cell("GET", path.format(await fixtures.campaign(started=True)), stream=stream)

    return make


async def _created(fixtures: Any) -> Cell:
    campaign_id = await fixtures.campaign()
    url = f"/ui/campaigns/{campaign_id}/start"
    return Cell("POST", url, keeps=(f"/campaigns/{campaign_id}", "created"))


def _baseline(path: str, factory: str, method: str = "GET") -> Make:
    """A page or action on a baseline the fixtures make (evaluated, or remediable)."""

    async def make(fixtures: Any) -> Cell:
        return Cell(method, path.format(await getattr(fixtures, factory)()))

    return make


async def _login(_: Any) -> Cell:
    # A name of its own each time: failures are throttled per name (and source).
    return Cell(
        "POST", "/ui/login", {"username": f"nobody-{uuid.uuid4().hex[:8]}", "password": "y"}
    )


async def _logout(_: Any) -> Cell:
    return Cell("POST", "/ui/logout")


CONSOLE: dict[str, Rule] = {
    "MOUNT /ui/static": Rule("public", 200, 200, _get("/ui/static/console.css")),
    "GET /ui": Rule("public", 303, 303, _get("/ui")),
    "GET /ui/login": Rule("public", 303, 200, _get("/ui/login")),  # logged in: on to the fleet
    "POST /ui/login": Rule("public", 401, 401, _login),
    "POST /ui/logout": Rule("viewer", 303, 303, _logout),
    "GET /ui/fleet": Rule("viewer", 200, 303, _get("/ui/fleet")),
    "GET /ui/hosts/{server_id}": Rule("viewer", 200, 303, _server("/ui/hosts/{}")),
    "GET /ui/campaigns": Rule("viewer", 200, 303, _get("/ui/campaigns")),
    "GET /ui/campaigns/{campaign_id}": Rule("viewer", 200, 303, _campaign("/ui/campaigns/{}")),
    "GET /ui/campaigns/{campaign_id}/events": Rule(
        "viewer", 200, 401, _campaign("/ui/campaigns/{}/events", stream=True)
    ),
    "POST /ui/campaigns/{campaign_id}/start": Rule("operator", 303, 401, _created),
    "POST /ui/campaigns/{campaign_id}/pause": Rule(
        "operator", 303, 401, _started("POST /ui/campaigns/{}/pause")
    ),
    "POST /ui/campaigns/{campaign_id}/resume": Rule(
        "operator", 303, 401, _started("POST /ui/campaigns/{}/resume")
    ),
    "POST /ui/campaigns/{campaign_id}/abort": Rule(
        "operator",
        303,
        401,
        _started("POST /ui/campaigns/{}/abort", reason="role matrix", confirm="yes"),
    ),
    "GET /ui/baselines/{baseline_id}": Rule(
        "viewer", 200, 303, _baseline("/ui/baselines/{}", "evaluated_baseline")
    ),
    "GET /ui/baselines/{baseline_id}/plan": Rule(
        "viewer", 200, 303, _baseline("/ui/baselines/{}/plan", "remediable_baseline")
    ),
    "POST /ui/baselines/{baseline_id}/evaluate": Rule(
        "operator", 303, 401, _baseline("/ui/baselines/{}/evaluate", "baseline", "POST")
    ),
    "POST /ui/baselines/{baseline_id}/remediation": Rule(
        "operator",
        303,
        401,
        _baseline("/ui/baselines/{}/remediation", "remediable_baseline", "POST"),
    ),
    # No role implies the approver right: every role's session is refused.
    "POST /ui/campaigns/{campaign_id}/approve": Rule(
        "approver", 303, 401, _started("POST /ui/campaigns/{}/approve")
    ),
    "POST /ui/campaigns/{campaign_id}/reject": Rule(
        "approver", 303, 401, _started("POST /ui/campaigns/{}/reject", reason="role matrix")
    ),
    "POST /ui/campaigns/{campaign_id}/clusters/{cluster}/approve": Rule(
        "approver", 303, 401, _started("POST /ui/campaigns/{}/clusters/alpha/approve")
    ),
    "POST /ui/campaigns/{campaign_id}/clusters/{cluster}/reject": Rule(
        "approver",
        303,
        401,
        _started("POST /ui/campaigns/{}/clusters/alpha/reject", reason="role matrix"),
    ),
}


async def _csrf(client: httpx.AsyncClient) -> str:
    """The form token, read from a page as the browser would."""
    page = await client.get("/ui/campaigns")
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    return found[1] if found else ""


async def send(client: httpx.AsyncClient, cell: Cell, logged_in: bool) -> int:
    if cell.stream:
        async with client.stream(cell.method, cell.url) as response:
            return response.status_code
    if cell.method == "GET":
        return (await client.get(cell.url)).status_code
    form = {**cell.form, "csrf": await _csrf(client)} if logged_in else cell.form
    return (await client.post(cell.url, data=form)).status_code


def console_client(url: str, token: str | None) -> httpx.AsyncClient:
    cookies = {COOKIE: token} if token else {}
    return httpx.AsyncClient(base_url=url, cookies=cookies, timeout=30)
