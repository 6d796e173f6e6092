"""The operator console: server-rendered pages under /ui, served by the API process.

Pages call the same services the API's routers use (often the route functions themselves,
which are plain functions), so roles, validation, audit and errors are the API's own.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from console.routes import router

STATIC_DIR = Path(__file__).parent / "static"


def install_console(app: FastAPI) -> None:
    """Add the console's routes and its own assets (no CDN: it must work air-gapped)."""
    app.include_router(router)
    app.mount("/ui/static", StaticFiles(directory=STATIC_DIR), name="console-static")
