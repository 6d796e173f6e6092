"""The campaign as an operator sees it: started and read through the real API, every answer
kept with the moment it was asked, so a crash run can judge what the API said meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from domain.campaign_spec import CampaignSpec

# The API's campaign statuses that are not an end: anything else is a final verdict.
# A campaign's status (and its workflow's own state) while it may still change.
OPEN_STATUSES = frozenset({"created", "planning", "running", "paused", "aborting"})


@dataclass(frozen=True)
class Answer:
    """One GET /campaigns/{id}: what it said, when (wall clock, as Temporal's event times),
    and what was down while it was asked."""

    sent_at: float
    received_at: float
    http_status: int
    status: str | None  # the campaign's status field
    live_state: str | None  # live.status.state: the workflow's own state, when it answered
    detail: str | None
    worker_up: bool
    temporal_up: bool

    @property
    def says_final(self) -> bool:
        return (self.status is not None and self.status not in OPEN_STATUSES) or (
            self.live_state is not None and self.live_state not in OPEN_STATUSES
        )


def _answer(
    response: httpx.Response | None,
    sent_at: float,
    up: tuple[bool, bool],
    failure: str = "no answer",
) -> Answer:
    body: dict[str, Any] = {}
    if response is not None and response.headers.get("content-type", "").startswith(
        "application/json"
    ):
        body = response.json()
    live = body.get("live") or {}
    live_status = live.get("status") or {}
    return Answer(
        sent_at=sent_at,
        received_at=time.time(),
        http_status=response.status_code if response is not None else 0,
        status=body.get("status"),
        live_state=live_status.get("state"),
        detail=live.get("detail") or (None if response is not None else failure),
        worker_up=up[0],
        temporal_up=up[1],
    )


def reported_outcomes(detail: dict[str, Any]) -> dict[str, str]:
    """service tag -> status, from a campaign read: the final result's per-cluster outcomes
    (and hosts never started), or the running workflow's outcome list."""
    status = (detail.get("live") or {}).get("status") or {}
    found: dict[str, str] = {}
    for cluster in status.get("clusters") or []:
        if isinstance(cluster, dict):
            for outcome in cluster.get("outcomes") or []:
                found[outcome["service_tag"]] = outcome["status"]
            for tag in cluster.get("not_started") or []:
                found.setdefault(tag, "not_started")
    for outcome in status.get("outcomes") or []:
        found.setdefault(outcome["service_tag"], outcome["status"])
    return found


class CampaignApi:
    """An operator's client of the campaign endpoints (bearer token of the lab's API)."""

    def __init__(self, url: str, token: str) -> None:
        self.http = httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def start(self, name: str, spec: CampaignSpec) -> int:
        created = await self.http.post(
            "/campaigns", json={"name": name, "spec": spec.model_dump(mode="json")}
        )
        campaign_id = int(created.raise_for_status().json()["id"])
        (await self.http.post(f"/campaigns/{campaign_id}/start")).raise_for_status()
        return campaign_id

    async def detail(self, campaign_id: int) -> dict[str, Any]:
        return dict((await self.http.get(f"/campaigns/{campaign_id}")).raise_for_status().json())

    async def host_records(self, campaign_id: int) -> list[dict[str, Any]]:
        """The store's per-host rows (GET /campaigns/{id}/hosts), every page."""
        rows: list[dict[str, Any]] = []
        while True:
            page = await self.http.get(
                f"/campaigns/{campaign_id}/hosts", params={"limit": 100, "offset": len(rows)}
            )
            body = page.raise_for_status().json()
            rows += body["items"]
            if len(rows) >= body["total"] or not body["items"]:
                return rows


class StatusPoller:
    """GET /campaigns/{id} every ``every_s`` until stopped, whatever is down meanwhile."""

    def __init__(
        self,
        api: CampaignApi,
        campaign_id: int,
        up: Callable[[], tuple[bool, bool]],
        every_s: float = 0.5,
    ) -> None:
        self.api = api
        self.campaign_id = campaign_id
        self.up = up  # (worker up, Temporal up) at the moment of asking
        self.every_s = every_s
        self.answers: list[Answer] = []

    async def run(self, stop: asyncio.Event) -> None:
        """One request at a time, the next ``every_s`` after the last was sent (or at once
        if it took longer: the API may wait seconds for a query no worker answers)."""
        while not stop.is_set():
            sent_at = time.time()
            await self._ask()
            wait = self.every_s - (time.time() - sent_at)
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=wait)

    async def _ask(self) -> None:
        sent_at, up = time.time(), self.up()
        try:
            response = await self.api.http.get(f"/campaigns/{self.campaign_id}")
        except httpx.HTTPError as error:
            self.answers.append(
                _answer(None, sent_at, up, f"no answer ({type(error).__name__}: {error})")
            )
            return
        self.answers.append(_answer(response, sent_at, up))
