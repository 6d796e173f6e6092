"""Onboarding validation activities: which enrollments, then a batch of iDRAC reads.

Logins are resolved and decrypted here, per batch; the workflow carries enrollment ids.
"""

from __future__ import annotations

import asyncio

from sqlmodel import Session
from temporalio import activity

from activities.discovery import open_login
from activities.names import Onboarding
from activities.resources import Resources
from domain.discovery import DEFAULT_ADDRESS_TIMEOUT_S, DEFAULT_CONNECT_TIMEOUT_S
from domain.onboarding import IdracFacts, ValidationBatch, ValidationRequest, ValidationSummary
from integrations.discovery.inspect import inspect
from integrations.discovery.scanner import Login, ScanOptions
from store.validation import Target, enrollment_ids, record, targets

CONCURRENCY = 64  # iDRACs read at once by one batch


class OnboardingActivities:
    def __init__(self, resources: Resources) -> None:
        self.resources = resources

    @activity.defn(name=Onboarding.LIST_ENROLLMENTS)
    def list_enrollments(self, request: ValidationRequest) -> list[int]:
        return enrollment_ids(
            self.resources.engine, request.enrollment_ids, request.discovery_run_id
        )

    @activity.defn(name=Onboarding.VALIDATE_BATCH)
    async def validate_batch(self, batch: ValidationBatch) -> ValidationSummary:
        """Read each iDRAC and record its verdict; one unreachable iDRAC is a verdict too."""
        logins = await asyncio.to_thread(self._logins, batch.enrollment_ids)
        options = ScanOptions(
            port=self.resources.settings.idrac_port,
            concurrency=1,
            connect_timeout_s=DEFAULT_CONNECT_TIMEOUT_S,
            address_timeout_s=DEFAULT_ADDRESS_TIMEOUT_S,
            trust=self.resources.redfish_options,
        )
        slots = asyncio.Semaphore(CONCURRENCY)

        async def one(target: Target, logins: list[Login]) -> bool:
            async with slots:
                facts: IdracFacts = await inspect(target.address, logins, options)
            activity.heartbeat()
            return await asyncio.to_thread(
                record, self.resources.engine, target.enrollment_id, facts
            )

        verdicts = await asyncio.gather(*(one(t, candidates) for t, candidates in logins))
        passed = sum(verdicts)
        return ValidationSummary(
            validated=len(verdicts), passed=passed, failed=len(verdicts) - passed
        )

    def _logins(self, ids: list[int]) -> list[tuple[Target, list[Login]]]:
        """Each enrollment with its logins to try, each profile decrypted once per batch."""
        with Session(self.resources.engine) as session:
            found = targets(session, ids)
            logins = {
                p: open_login(session, self.resources.secrets, p)
                for p in {p for t in found for p in t.profile_ids}
            }
        return [(t, [logins[p] for p in t.profile_ids]) for t in found]

    def storing(self) -> list[object]:
        return [self.list_enrollments]

    def reading(self) -> list[object]:
        return [self.validate_batch]
