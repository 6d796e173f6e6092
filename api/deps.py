"""FastAPI dependencies: settings, database sessions and the Temporal client.

Trivial dependencies are ``async def``: FastAPI runs a plain ``def`` dependency in the
thread pool, and each such hop costs more than the work it does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlmodel import Session

from api.state import AppState


async def get_state(request: Request) -> AppState:
    return request.app.state.orch


StateDep = Annotated[AppState, Depends(get_state)]


async def get_engine(state: StateDep) -> Engine:
    return state.engine


# Closing a session returns its connection to the pool. It must never queue behind
# endpoints that are themselves waiting for a connection (they hold the default thread
# pool's tokens): under load that deadlocks until the pool times out. So closes get
# threads of their own.
_closers = anyio.CapacityLimiter(8)


async def get_db(engine: Annotated[Engine, Depends(get_engine)]) -> AsyncIterator[Session]:
    """Opening a session does no I/O; closing does (a ROLLBACK), so it runs in a thread."""
    session = Session(engine)
    try:
        yield session
    finally:
        await anyio.to_thread.run_sync(session.close, limiter=_closers)


SessionDep = Annotated[Session, Depends(get_db)]
