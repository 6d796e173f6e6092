"""Every console route, under /ui (kept out of the OpenAPI document: pages, not API)."""

from __future__ import annotations

from fastapi import APIRouter

from console import baselines, campaign, login, pages

router = APIRouter()
for module in (login, pages, campaign, baselines):
    router.include_router(module.router)
