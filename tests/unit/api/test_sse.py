"""The shared server-sent-events loop: frames in order, keepalives while quiet, no wait
while a poll has more, an end when the poll or the client says so."""

from __future__ import annotations

import time

import anyio

from api import sse


class _Request:
    def __init__(self, gone_after: int = 10**6) -> None:
        self.checks, self.gone_after = 0, gone_after

    async def is_disconnected(self) -> bool:
        self.checks += 1
        return self.checks > self.gone_after


def _run(
    request: _Request, answers: list[tuple[list[str], sse.Next]], **timing: float
) -> list[str]:
    script = iter(answers)

    async def poll() -> tuple[list[str], sse.Next]:
        return next(script)

    async def collect() -> list[str]:
        return [f async for f in sse.polled(request, poll, **timing)]  # type: ignore[arg-type]

    return anyio.run(collect)


def test_frame_format() -> None:
    assert sse.frame({"a": 1}, "audit", 7) == 'id: 7\nevent: audit\ndata: {"a": 1}\n\n'
    assert sse.frame([], "snapshot") == "event: snapshot\ndata: []\n\n"


def test_keepalive_while_quiet_and_end_when_done() -> None:
    answers: list[tuple[list[str], sse.Next]] = [(["a"], "wait")]
    answers += [([], "wait")] * 4 + [(["b"], "done")]
    got = _run(_Request(), answers, poll_s=0.01, keepalive_s=0.02)
    assert got[0] == "a" and got[-1] == "b"
    assert got[1:-1] == [": keepalive\n\n"] * 2


def test_again_polls_at_once_and_a_gone_client_ends_it() -> None:
    answers: list[tuple[list[str], sse.Next]] = [(["a"], "again"), (["b"], "again")]
    answers += [(["c"], "wait")] * 5
    started = time.monotonic()
    got = _run(_Request(gone_after=2), answers, poll_s=5.0)
    assert got == ["a", "b", "c"]
    assert time.monotonic() - started < 2.5  # never slept a poll interval
