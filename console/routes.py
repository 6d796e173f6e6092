"""Every console route, under /ui (kept out of the OpenAPI document: pages, not API)."""

from __future__ import annotations

from fastapi import APIRouter

from console import campaign, login, pages

router = APIRouter()
for module in (login, pages, campaign):
    router.include_router(module.router)
