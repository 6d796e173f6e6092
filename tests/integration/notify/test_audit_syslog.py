"""The audit log forwarded to real syslog receivers on loopback (TCP, and TLS with a client
certificate) from PostgreSQL: every entry once and in order, a failing receiver recorded,
and a forwarder killed with SIGKILL mid-batch losing nothing when it comes back."""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select

from common.settings import Settings
from domain.syslog import audit_message
from integrations.notify.errors import DeliveryError
from simulators.loopback_tls import loopback_certificate
from store.audit import AuditKeys, AuditRecord, append, stored_entry
from store.audit_forwarding import status
from store.db import make_engine
from store.migrate import upgrade
from store.models import AuditEvent
from tests.services.postgres import ADMIN_DSN, fresh_database
from tests.services.syslog_receiver import SyslogReceiver, parse, syslog_receiver
from workers.audit_forwarder import AuditForwarder, origin_of, target_of

ROOT = Path(__file__).resolve().parents[3]
KEYS = AuditKeys.from_settings(Settings(secret_key="syslog-tests-key-0b7e"))


@pytest.fixture
def database() -> Iterator[tuple[str, Engine]]:
    with fresh_database("idrac_orch_syslog") as url:
        # Thousands of audit commits; their durability is not under test (the cursor's is,
        # and a killed client process does not lose committed transactions either way).
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(
                f'ALTER DATABASE "{make_url(url).database}" SET synchronous_commit TO off'
            )
        upgrade(url)
        engine = make_engine(url)
        yield url, engine
        engine.dispose()


def write(engine: Engine, count: int, start: int = 0, wide: bool = False) -> None:
    """Entries through the store's writer; ``wide``: every field near its size limit and
    full of the characters SD-PARAM values must escape."""
    for n in range(start, start + count):
        append(
            engine,
            AuditRecord(
                actor=('ca"rol]\\' * 30)[:250] if wide else f"user{n % 3}",
                action="update_server" if n % 2 else "login",
                target=("PUT /x]" * 73)[:510] if wide else f"PUT /servers/{n}",
                outcome=("success", "denied", "error")[n % 3],
                role="admin" if n % 2 else None,
                source="127.0.0.1",
                detail=(f"entry {n} \u00e9 " * 100)[:1000] if wide else f"HTTP {200 + n % 3}",
            ),
            keys=KEYS,
        )


def settings_for(url: str, receiver: SyslogReceiver, **extra: object) -> Settings:
    values: dict[str, object] = {
        "database_url": url,
        "audit_syslog_host": "127.0.0.1",
        "audit_syslog_port": receiver.port,
        "audit_syslog_transport": "tcp",
        "audit_syslog_hostname": "orch-test",
        "audit_syslog_batch_size": 7,
        "audit_syslog_timeout_s": 5.0,
    }
    values.update(extra)
    return Settings(**values)  # type: ignore[arg-type]


def forwarder(engine: Engine, settings: Settings) -> AuditForwarder:
    target = target_of(settings)
    assert target is not None
    return AuditForwarder(engine, settings, target)


def drain(forward: AuditForwarder) -> int:
    rounds = 0
    while forward.round():
        rounds += 1
    return rounds


def expected_frames(engine: Engine, settings: Settings) -> list[bytes]:
    origin = origin_of(settings)
    with Session(engine) as session:
        events = session.exec(select(AuditEvent).order_by(col(AuditEvent.seq))).all()
        return [audit_message(stored_entry(e), origin) for e in events]


def test_tcp_every_entry_once_in_order(database: tuple[str, Engine]) -> None:
    url, engine = database
    write(engine, 20)
    with syslog_receiver() as receiver:
        settings = settings_for(url, receiver)
        forward = forwarder(engine, settings)
        assert drain(forward) == 3  # 7 + 7 + 6
        write(engine, 4, start=20)  # written after a round: picked up by the next
        assert drain(forward) == 1
        forward.sender.close()
        frames = receiver.wait_for(24)
        time.sleep(0.2)
    assert frames == receiver.frames == expected_frames(engine, settings)
    assert SyslogReceiver.ids(frames) == list(range(1, 25))
    first = parse(frames[0])
    assert (first.hostname, first.app_name, first.msgid, first.pri) == (
        "orch-test",
        "idrac-orch",
        "login",
        10 * 8 + 6,
    )
    assert first.params["actor"] == "user0" and first.msg == b"\xef\xbb\xbfHTTP 200"
    assert len(receiver.connections) == 1  # one connection kept for every round
    now = status(engine)
    assert (now.cursor_seq, now.head_seq, now.pending, now.last_error) == (24, 24, 0, None)
    assert now.destination == f"tcp://127.0.0.1:{receiver.port}"


def test_two_forwarders_send_each_entry_once(database: tuple[str, Engine]) -> None:
    """One per worker: the cursor row lock (SKIP LOCKED) lets one send at a time."""
    url, engine = database
    write(engine, 300)
    with syslog_receiver() as receiver:
        settings = settings_for(url, receiver, audit_syslog_batch_size=5)
        pair = [forwarder(engine, settings) for _ in range(2)]
        rounds = [0, 0]

        def run(index: int) -> None:
            while status(engine).cursor_seq < 300:
                rounds[index] += pair[index].round() > 0

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        receiver.wait_for(300)
        for each in pair:
            each.sender.close()
        time.sleep(0.2)
    assert sorted(SyslogReceiver.ids(receiver.frames)) == list(range(1, 301))
    assert all(rounds), f"both forwarders sent batches: {rounds}"
    for connection in receiver.connections:  # each in order
        assert SyslogReceiver.ids(connection) == sorted(SyslogReceiver.ids(connection))


def _tls_server(directory: Path, client_cert: Path) -> ssl.SSLContext:
    cert, key = loopback_certificate(directory)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    context.verify_mode = ssl.CERT_REQUIRED  # mutual TLS: our client certificate is checked
    context.load_verify_locations(client_cert)
    return context


def test_tls_with_client_certificate(database: tuple[str, Engine], tmp_path: Path) -> None:
    url, engine = database
    (tmp_path / "client").mkdir()
    (tmp_path / "server").mkdir()
    client_cert, client_key = loopback_certificate(tmp_path / "client")
    write(engine, 10, wide=True)
    with syslog_receiver(_tls_server(tmp_path / "server", client_cert)) as receiver:
        settings = settings_for(
            url,
            receiver,
            audit_syslog_transport="tls",
            audit_syslog_ca_file=tmp_path / "server" / "loopback-cert.pem",
            audit_syslog_cert_file=client_cert,
            audit_syslog_key_file=client_key,
        )
        forward = forwarder(engine, settings)
        drain(forward)
        frames = receiver.wait_for(10)
        forward.sender.close()
    assert frames == expected_frames(engine, settings)
    with Session(engine) as session:
        actor = session.exec(select(AuditEvent.actor)).first()
    assert parse(frames[0]).params["actor"] == actor  # escaped and unescaped faithfully
    assert status(engine).cursor_seq == 10


def test_an_untrusted_receiver_gets_nothing_and_the_error_shows(
    database: tuple[str, Engine], tmp_path: Path
) -> None:
    url, engine = database
    (tmp_path / "other").mkdir()
    stranger, _ = loopback_certificate(tmp_path / "other")
    write(engine, 3)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*loopback_certificate(tmp_path))
    with syslog_receiver(context) as receiver:
        settings = settings_for(
            url, receiver, audit_syslog_transport="tls", audit_syslog_ca_file=stranger
        )
        forward = forwarder(engine, settings)
        with pytest.raises(DeliveryError) as refused:
            forward.round()
        assert not refused.value.retryable
        assert receiver.frames == []
    now = status(engine)
    assert (now.cursor_seq, now.pending) == (0, 3)
    assert now.last_error is not None and "certificate not trusted" in now.last_error
    assert now.last_error_at is not None


def _start_forwarder(url: str, receiver: SyslogReceiver) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "IDRAC_ORCH_DATABASE_URL": url,
        "IDRAC_ORCH_AUDIT_SYSLOG_HOST": "127.0.0.1",
        "IDRAC_ORCH_AUDIT_SYSLOG_PORT": str(receiver.port),
        "IDRAC_ORCH_AUDIT_SYSLOG_TRANSPORT": "tcp",
        "IDRAC_ORCH_AUDIT_SYSLOG_BATCH_SIZE": "5000",
        "IDRAC_ORCH_AUDIT_SYSLOG_INTERVAL_S": "0.2",
    }
    command = [sys.executable, "-m", "cli.main", "audit", "forward"]
    return subprocess.Popen(command, env=env, cwd=ROOT, stderr=subprocess.DEVNULL)


def _wait(condition: object, what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.05)


def test_killed_mid_batch_loses_nothing(database: tuple[str, Engine]) -> None:
    url, engine = database
    total = 2000  # about 6 MB of frames: more than the socket buffers hold
    write(engine, total, wide=True)
    with syslog_receiver(stall_after=50) as receiver:
        first = _start_forwarder(url, receiver)
        try:
            _wait(lambda: len(receiver.frames) >= 50, "the first frames")
            time.sleep(1.0)  # the forwarder's write blocks on the stalled receiver
            assert status(engine).cursor_seq == 0, "the batch must still be in flight"
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        finally:
            first.kill()
        receiver.resume.set()  # what the dead forwarder's kernel still had goes out
        _wait(lambda: len(receiver.connections) == 1, "the first connection")
        second = _start_forwarder(url, receiver)
        try:
            _wait(lambda: status(engine).cursor_seq == total, "the cursor at the head")
            _wait(
                lambda: len(receiver.connections) == 2 and len(receiver.connections[1]) == total,
                "the resent batch",
            )
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=30) == 0
    killed, resumed = (SyslogReceiver.ids(c) for c in receiver.connections)
    assert killed == list(range(1, len(killed) + 1))  # a prefix of the batch, in order
    assert 50 <= len(killed) < total
    assert resumed == list(range(1, total + 1))  # the whole batch again: nothing lost


class _FailsFirst:
    """The sender's ``send`` raising an error none of the handled kinds (DeliveryError,
    SQLAlchemyError) before it works: a stand-in for a bug or an error nobody foresaw,
    which no real receiver or database can be made to produce on purpose."""

    def __init__(self, send: Callable[[Sequence[bytes]], None], failures: int) -> None:
        self.send, self.failures, self.calls = send, failures, 0

    def __call__(self, frames: Sequence[bytes]) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError(f"injected fault {self.calls} {SECRET_LOOKING}")
        self.send(frames)


SECRET_LOOKING = "pw=forwarder-Fault-Text-8841"


async def test_an_unexpected_error_does_not_stop_the_forwarder(
    database: tuple[str, Engine],
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """It used to leave run() and with it the worker process's every task queue."""
    url, engine = database
    write(engine, 10)
    with syslog_receiver() as receiver:
        settings = settings_for(url, receiver, audit_syslog_interval_s=0.05)
        forward = forwarder(engine, settings)
        fault = _FailsFirst(forward.sender.send, failures=2)
        forward.sender.send = fault  # type: ignore[method-assign]
        stop = asyncio.Event()
        running = asyncio.create_task(forward.run(stop))
        try:
            deadline = time.monotonic() + 30
            while status(engine).cursor_seq < 10:
                assert not running.done(), "the forwarder stopped"
                assert time.monotonic() < deadline, "nothing delivered after the faults"
                await asyncio.sleep(0.05)
            write(engine, 3, start=10)  # and it goes on with new entries
            while status(engine).cursor_seq < 13:
                assert not running.done(), "the forwarder stopped"
                assert time.monotonic() < deadline, "new entries not delivered"
                await asyncio.sleep(0.05)
        finally:
            stop.set()
            await asyncio.wait_for(running, timeout=10)
        frames = await asyncio.to_thread(receiver.wait_for, 13)
    assert fault.calls >= 3
    assert SyslogReceiver.ids(frames) == list(range(1, 14))
    assert status(engine).last_error is None
    captured = capfd.readouterr()
    logged = captured.out + captured.err + caplog.text
    assert "audit forwarding failed unexpectedly" in logged and "RuntimeError" in logged
    assert SECRET_LOOKING not in logged  # the error's text is not logged, only its type


def test_a_connection_on_a_descriptor_above_1024(database: tuple[str, Engine]) -> None:
    """The check for a receiver's close used select.select, which raises ValueError for a
    descriptor >= 1024 (a worker with many connections open gets there). The sender's
    connection is put on such a descriptor by dup2: opening a thousand sockets first
    would test the same thing, slower."""
    url, engine = database
    write(engine, 5)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2048:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(2048, hard), hard))
    try:
        with syslog_receiver() as receiver:
            forward = forwarder(engine, settings_for(url, receiver))
            low = socket.create_connection(("127.0.0.1", receiver.port), timeout=5)
            high = socket.socket(fileno=os.dup2(low.fileno(), 1500))
            low.close()
            assert high.fileno() >= 1024
            forward.sender._sock = high  # the kept connection the next send checks first
            assert drain(forward) == 1
            forward.sender.close()
            frames = receiver.wait_for(5)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert SyslogReceiver.ids(frames) == list(range(1, 6))
    assert len(receiver.connections) == 1  # the high descriptor's connection, kept
