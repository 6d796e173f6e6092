"""Discovery activities: scan one chunk of addresses, then diff, record and enroll.

Secrets are resolved here, per chunk, from the store: the workflow carries the request
(ranges and at most a credential profile id), never a password.
"""

from __future__ import annotations

import asyncio

from sqlmodel import Session
from temporalio import activity

from activities.names import Discovery
from activities.resources import Resources
from domain.credential_scope import LoginFor, Scope, ServerFacts, resolve
from domain.discovery import (
    ChunkResult,
    DiscoveryRequest,
    DiscoveryStart,
    DiscoverySummary,
    ScanChunk,
    chunk_addresses,
)
from domain.onboarding import ValidationSummary
from integrations.discovery.scanner import Login, LoginLookup, ScanOptions, scan
from integrations.redfish.models import Credentials
from store.credentials import all_scopes, reveal
from store.crypto import SecretBox
from store.discovery import fail_run, finish_run, record_validation, save_findings


def open_login(session: Session, secrets: SecretBox, profile_id: int) -> Login:
    """A profile's login, decrypted for an outbound call (never returned to a workflow)."""
    credential = reveal(session, secrets, profile_id)
    return Login(
        profile_id, Credentials(username=credential.username, password=credential.password)
    )


class DiscoveryActivities:
    def __init__(self, resources: Resources) -> None:
        self.resources = resources

    @activity.defn(name=Discovery.SCAN)
    async def scan_chunk(self, chunk: ScanChunk) -> ChunkResult:
        request = chunk.request
        addresses = chunk_addresses(request, chunk.index)
        logins = await asyncio.to_thread(self._logins, request)
        options = ScanOptions(
            port=request.port,
            concurrency=request.concurrency,
            connect_timeout_s=request.connect_timeout_s,
            address_timeout_s=request.address_timeout_s,
            trust=self.resources.redfish_options,
        )
        found = await scan(addresses, options, logins, progress=lambda _: activity.heartbeat())
        await asyncio.to_thread(
            save_findings, self.resources.engine, chunk.run_id, addresses, found
        )
        return ChunkResult(scanned=len(addresses), answered=len(found))

    def _logins(self, request: DiscoveryRequest) -> LoginLookup:
        """Address -> the logins to try: the request's profile, else the global and CIDR
        iDRAC profiles covering the address, most specific first (each decrypted once per
        chunk)."""
        with Session(self.resources.engine) as session:
            if request.credential_profile_id is not None:
                login = open_login(session, self.resources.secrets, request.credential_profile_id)
                return lambda _address: [login]
            scopes = [
                s
                for s in all_scopes(session)
                if s.scope in (Scope.GLOBAL, Scope.CIDR) and s.login_for is LoginFor.IDRAC
            ]
            logins = {
                s.profile_id: open_login(session, self.resources.secrets, s.profile_id)
                for s in scopes
            }

        def lookup(address: str) -> list[Login]:
            candidates = resolve(scopes, ServerFacts(0, address, None)).candidates
            return [logins[p] for p in candidates]

        return lookup

    @activity.defn(name=Discovery.FINISH)
    def finish(self, start: DiscoveryStart) -> DiscoverySummary:
        return finish_run(self.resources.engine, start.run_id)

    @activity.defn(name=Discovery.VALIDATED)
    def validated(self, run_id: int, summary: ValidationSummary) -> None:
        record_validation(self.resources.engine, run_id, summary.validated, summary.passed)

    @activity.defn(name=Discovery.FAIL)
    def fail(self, run_id: int, reason: str) -> None:
        fail_run(self.resources.engine, run_id, reason)

    def scanning(self) -> list[object]:
        """Async activities for the ``redfish`` queue."""
        return [self.scan_chunk]

    def storing(self) -> list[object]:
        """Sync store activities for the ``campaigns`` queue."""
        return [self.finish, self.validated, self.fail]
