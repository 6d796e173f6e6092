"""Forwards the audit log to syslog: every entry, in ``seq`` order, at least once.

Runs in each worker process when IDRAC_ORCH_AUDIT_SYSLOG_HOST is set, or alone as
`idrac-orch audit forward`. Several may run: the cursor row lock lets one send at a time.
Delivery guarantees and their limits: docs/audit.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Sequence

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from common.logging import get_logger
from common.settings import Settings
from domain.audit_chain import StoredEntry
from domain.syslog import Facility, Origin, audit_message, octet_frame
from integrations.notify.errors import DeliveryError
from integrations.notify.syslog import SyslogSender, SyslogTarget
from store.audit_forwarding import forward_round

log = get_logger(__name__)
MAX_BACKOFF_S = 60.0


def target_of(settings: Settings) -> SyslogTarget | None:
    if settings.audit_syslog_host is None:
        return None
    return SyslogTarget(
        host=settings.audit_syslog_host,
        port=settings.audit_syslog_port,
        transport=settings.audit_syslog_transport,
        ca_file=settings.audit_syslog_ca_file,
        cert_file=settings.audit_syslog_cert_file,
        key_file=settings.audit_syslog_key_file,
        timeout_s=settings.audit_syslog_timeout_s,
    )


def origin_of(settings: Settings) -> Origin:
    return Origin(
        hostname=settings.audit_syslog_hostname or socket.getfqdn(),
        procid=str(os.getpid()),
        facility=Facility[settings.audit_syslog_facility.upper()],
        enterprise_id=settings.audit_syslog_enterprise_id,
    )


class AuditForwarder:
    def __init__(self, engine: Engine, settings: Settings, target: SyslogTarget) -> None:
        self.engine, self.settings, self.target = engine, settings, target
        self.origin = origin_of(settings)
        self.sender = SyslogSender(target)

    def _send(self, entries: Sequence[StoredEntry]) -> None:
        self.sender.send([octet_frame(audit_message(e, self.origin)) for e in entries])

    def round(self) -> int:
        """One batch (blocking: database and socket); the number of entries sent."""
        return forward_round(
            self.engine, self.target.address, self._send, self.settings.audit_syslog_batch_size
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Rounds until ``stop``: back to back while behind, every interval when caught
        up, backing off (doubling, at most a minute) while the receiver fails."""
        interval = self.settings.audit_syslog_interval_s
        wait = interval
        log.info("audit forwarding started", destination=self.target.address)
        try:
            while not stop.is_set():
                try:
                    sent = await asyncio.to_thread(self.round)
                    wait = 0.0 if sent == self.settings.audit_syslog_batch_size else interval
                except (DeliveryError, SQLAlchemyError) as exc:
                    # Never give up: an entry left behind is an entry the receiver lacks.
                    wait = min(max(wait * 2, interval), MAX_BACKOFF_S)
                    log.warning(
                        "audit forwarding failed",
                        error=str(exc).splitlines()[0],
                        retry_in_s=wait,
                        fixable_by_waiting=getattr(exc, "retryable", True),
                    )
                except Exception as exc:
                    # A bug or an error nobody foresaw: leaving would end run_workers and
                    # with it every task queue's worker. Only the type is logged (its text
                    # may hold anything), the connection is dropped, and the round retried.
                    self.sender.close()
                    wait = min(max(wait * 2, interval), MAX_BACKOFF_S)
                    log.error(
                        "audit forwarding failed unexpectedly",
                        error_type=type(exc).__name__,
                        retry_in_s=wait,
                    )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=wait)
        finally:
            self.sender.close()
            log.info("audit forwarding stopped")
