"""Server-sent events: the frame format and the polling loop behind every stream the API
and the console serve (a campaign's timeline, the audit log)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Literal

import anyio
from fastapi import Request
from fastapi.responses import StreamingResponse

KEEPALIVE_S = 15.0  # proxies close connections idle for longer (nginx: 60 s by default)
HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
# One poll's result: the frames to send, then whether to poll again after ``poll_s``
# ("wait"), at once (``again``: more is ready, a client catching up) or never ("done").
Next = Literal["wait", "again", "done"]
Poll = Callable[[], Awaitable[tuple[list[str], Next]]]


def frame(data: object, event: str, event_id: int | None = None) -> str:
    """One event; ``event_id`` is what a reconnecting client sends back as Last-Event-ID."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, default=str)}\n\n"


async def polled(
    request: Request, poll: Poll, poll_s: float, keepalive_s: float = KEEPALIVE_S
) -> AsyncIterator[str]:
    """``poll`` (every ``poll_s`` unless it has more at once) and pass on its frames; a
    comment line after ``keepalive_s`` without any; stop when ``poll`` says so or the client
    went away."""
    quiet = 0.0
    while True:
        frames, then = await poll()
        if frames:
            quiet = 0.0
            for item in frames:
                yield item
        elif quiet >= keepalive_s:
            quiet = 0.0
            yield ": keepalive\n\n"
        if then == "done" or await request.is_disconnected():
            return
        if then == "wait":
            await anyio.sleep(poll_s)
            quiet += poll_s


def response(frames: AsyncIterator[str]) -> StreamingResponse:
    return StreamingResponse(frames, media_type="text/event-stream", headers=HEADERS)
